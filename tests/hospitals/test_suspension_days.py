"""A hospital's suspension history dates a suspension whose audit state carries no date (written
before it did) by the day it was recorded in China, not by its UTC date."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine

from hospitals.models import Hospital
from hospitals.selectors import suspension_history
from hospitals.services import SUSPEND
from portal import audit

pytestmark = pytest.mark.django_db


def test_a_suspension_without_a_date_is_dated_by_chinas_day(demo):
    hospital = Hospital.objects.get(code="H23270000002")
    first = datetime.date(2026, 12, 1)
    at = datetime.datetime(2026, 12, 1, 0, 30, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(at, tick=False):  # 16:30 on 30 November in UTC
        audit.record(
            action=SUSPEND,
            actor=demo["agency_dxal"],
            obj=hospital,
            region=hospital.region,
            from_state="active",
            to_state="suspended",
            reason="违规结算",
        )
    (suspension,) = suspension_history(hospital)
    assert suspension.suspended_on == first
