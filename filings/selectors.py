"""Reads of the filings app, scoped to whoever asks."""

from __future__ import annotations

import datetime
import functools

import holidays
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from filings import rules
from filings.models import Filing, FilingParameters, Material, Status, WorkingDayCorrection
from portal.models import AuditEvent, Region

PARAMETER_FIELDS = [f for f in rules.Parameters.__dataclass_fields__]


def parameters_for(region: Region, on_date: datetime.date | None = None) -> rules.Parameters:
    """The region's parameters in force on `on_date` (latest effective_from ≤ date)."""
    on_date = on_date or timezone.localdate()
    row = (
        FilingParameters.objects.filter(region=region, effective_from__lte=on_date)
        .order_by("-effective_from")
        .values(*PARAMETER_FIELDS)
        .first()
    )
    if row is None:
        defaults = rules.Parameters()
        if region.measures == Region.Measures.DAXINGANLING:
            defaults = rules.Parameters(
                benefits_start="day_after",
                lock_months=12,
                long_term_validity_months=12,
                max_hospitals=3,
                referral_validity_months=None,
                referral_start_window_months=1,
                referral_course_days=60,
            )
        return defaults
    return rules.Parameters(**row)


@functools.lru_cache(maxsize=64)
def _library_year(year: int):
    return holidays.country_holidays("CN", years=[year - 1, year, year + 1])


def is_working_day_function():
    """China's calendar from the `holidays` library (make-up working days included), with the
    agency administrators' corrections on top."""
    corrections = dict(WorkingDayCorrection.objects.values_list("date", "is_working_day"))

    def is_working_day(day: datetime.date) -> bool:
        if day in corrections:
            return corrections[day]
        return _library_year(day.year).is_working_day(day)

    return is_working_day


# What the agency does not see yet, as the person is told when they upload (views.
# _uploaded_message): a draft and its files, and the files added to a returned filing before it
# is submitted again (uploaded after its last submission). The agency's admin lists, a filing's
# materials there and the file views leave them out; a superuser sees everything.
AGENCY_UNSEEN_FILINGS = Q(status=Status.DRAFT)
AGENCY_UNSEEN_MATERIALS = Q(filing__status=Status.DRAFT) | Q(
    filing__status=Status.RETURNED, uploaded_at__gt=F("filing__submitted_at")
)


def agency_sees_material(material: Material, filing: Filing) -> bool:
    """`AGENCY_UNSEEN_MATERIALS` for one material of `filing`."""
    if filing.status == Status.DRAFT:
        return False
    if filing.status == Status.RETURNED and filing.submitted_at is not None:
        return material.uploaded_at <= filing.submitted_at
    return True


def filings_of(user) -> QuerySet[Filing]:
    person = getattr(user, "insured", None)
    if person is None:
        return Filing.objects.none()
    return Filing.objects.filter(person=person).select_related(
        "place_region", "place_province", "receiving_hospital"
    )


def timeline(filing: Filing) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        object_type="filings.filing", object_id=str(filing.pk)
    ).order_by("created_at", "id")
