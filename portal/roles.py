"""The roles of the portal and how to tell which one a user has."""

from __future__ import annotations

INSURED = "insured"
AGENCY = "agency"
HOSPITAL = "hospital"
ADMIN = "admin"


def role_of(user) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    if user.is_superuser:
        return ADMIN
    if hasattr(user, "agency_staff"):
        return AGENCY
    if hasattr(user, "hospital_staff"):
        return HOSPITAL
    if hasattr(user, "insured"):
        return INSURED
    return None


def agency_region(user):
    """The region an agency staff member works for, or None."""
    staff = getattr(user, "agency_staff", None)
    return staff.agency.region if staff else None
