"""Reads of the directory: one filtered, sorted queryset for the page and the API alike, a
hospital's suspension history, and the clerks a hospital's messages go to."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from hospitals.models import CareType, Hospital, HospitalStaff
from hospitals.services import RESUME, SUSPEND
from portal.models import AuditEvent

SORTS = {"code": "code", "name": "pinyin", "level": "-level", "region": "region__code"}


def active_clerks(hospital_ids: Iterable[int]) -> QuerySet[HospitalStaff]:
    """The staff rows, with their accounts, of the active clerks of these hospitals: whom a
    message to a hospital reaches."""
    return HospitalStaff.objects.filter(
        hospital_id__in=list(hospital_ids), user__is_active=True
    ).select_related("user")


def directory(params) -> QuerySet[Hospital]:
    qs = Hospital.objects.select_related("region", "province")
    if any(
        "\x00" in str(params.get(key) or "")
        for key in ("q", "region", "province", "kind", "ownership")
    ):
        # No hospital matches a NUL character, and PostgreSQL refuses one in a query.
        return qs.none().order_by("code")
    q = (params.get("q") or "").strip()
    if q:
        lowered = q.lower().replace(" ", "")
        match = Q(name__icontains=q) | Q(name_en__icontains=q) | Q(code__iexact=q)
        if lowered.isascii() and lowered.isalpha():
            # Full pinyin anywhere; initials from the start of the name, one letter per character
            # (`hebykdx`) or one per word (`hyd`, 哈医大: 哈尔滨|医科|大学). Never scattered
            # letters: `hyd` must not find 黑龙江中医药大学 (h…y…d) as well.
            match |= (
                Q(pinyin__contains=lowered)
                | Q(initials__startswith=lowered)
                | Q(initials__contains=" " + lowered)
            )
        qs = qs.filter(match)
    if params.get("region"):
        qs = qs.filter(region__code=params["region"])
    if params.get("province"):
        value = params["province"]
        qs = qs.filter(Q(province__code=value) | Q(province__name=value))
    if str(params.get("level") or "") in {"1", "2", "3"}:
        qs = qs.filter(level=int(params["level"]))
    if params.get("kind"):
        qs = qs.filter(kind=params["kind"])
    if params.get("ownership"):
        qs = qs.filter(ownership=params["ownership"])
    if params.get("service") in CareType.values:
        qs = qs.filter(**{params["service"]: True})
    if params.get("resettlement") in {"1", "true", "on"}:
        qs = qs.filter(resettlement_designated=True)
    return qs.order_by(SORTS.get(params.get("sort") or "", "code"), "code")


@dataclass(frozen=True)
class Suspension:
    """One suspension from direct settlement, from its audit events."""

    suspended_on: datetime.date
    reason: str
    decided_at: datetime.datetime
    decided_by: str
    resumed_at: datetime.datetime | None = None
    resumed_by: str = ""
    resume_reason: str = ""


def suspension_history(hospital: Hospital) -> list[Suspension]:
    """Every suspension of `hospital`, newest first, the current one (if any) unresumed.

    Built from the `hospital.suspend` / `hospital.resume` audit events in one query, so resuming
    a hospital never loses a past suspension.
    """
    events = (
        AuditEvent.objects.filter(
            object_type=Hospital._meta.label_lower,
            object_id=str(hospital.pk),
            action__in=[SUSPEND, RESUME],
        )
        .select_related("actor")
        .order_by("created_at", "id")
    )
    periods: list[Suspension] = []
    for event in events:
        who = event.actor.get_username() if event.actor else ""
        if event.action == SUSPEND:
            try:
                effective = datetime.date.fromisoformat(event.to_state.partition(":")[2])
            except ValueError:
                effective = timezone.localdate(event.created_at)  # China's day, not UTC's
            periods.append(Suspension(effective, event.reason, event.created_at, who))
        elif periods and periods[-1].resumed_at is None:
            last = periods[-1]
            periods[-1] = Suspension(
                last.suspended_on,
                last.reason,
                last.decided_at,
                last.decided_by,
                resumed_at=event.created_at,
                resumed_by=who,
                resume_reason=event.reason,
            )
    return periods[::-1]
