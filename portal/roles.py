"""The roles of the portal and how to tell which one a user has."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

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


def clerk(request):
    """The hospital staff record of the clerk making `request`. A hospital's pages do not exist
    for anyone else (404)."""
    staff = getattr(request.user, "hospital_staff", None)
    if staff is None:
        raise Http404
    return staff


def clerk_hospital(request):
    """The hospital of the clerk making `request` (404 for anyone else)."""
    return clerk(request).hospital


def agency_region(user):
    """The region an agency staff member works for, or None."""
    staff = getattr(user, "agency_staff", None)
    return staff.agency.region if staff else None


def in_own_region(user, qs, where):
    """`qs` as `user` may see it: all of it for a superuser, none for a user who is not agency
    staff, and for agency staff the rows `where(region)` (a Q of their region) selects."""
    if getattr(user, "is_superuser", False):
        return qs
    region = agency_region(user)
    return qs.filter(where(region)) if region is not None else qs.none()


def check_agency_region(actor, *region_ids: int) -> None:
    """Agency staff act on their own region's rows only: raises PermissionDenied when `actor`
    is agency staff of a region other than `region_ids`. The admin's querysets already keep
    other regions' rows out of reach; services check again, so that no other path (a script, a
    future view) can act across regions. Superusers, the system (no actor), persons and hospital
    staff pass: what they may reach is checked where they reach it."""
    if actor is None or getattr(actor, "is_superuser", False):
        return
    region = agency_region(actor)
    if region is not None and region.pk not in region_ids:
        raise PermissionDenied("agency staff act on their own region's rows only")
