"""A referral the nightly job closed because its start window passed, for a stay admitted
inside that window (domain.md §2.2, Daxinganling: start within 1 month, one course of at most
60 days): the stay still starts the one course and is judged against it, and the receiving
hospital may still record a start inside the window."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from filings import jobs, services
from filings.models import Filing, Status
from filings.rules import RuleError
from hospitals.models import Hospital
from portal.models import AuditEvent
from settlement import services as settlement_services

pytestmark = pytest.mark.django_db
ZHANG = ("232721197811200177", "张伟")
RECEIVING = "H23010300001"
BILL = [{"code": "X1", "name": "住院费", "class": "A", "amount": "10000.00"}]
DAY = datetime.timedelta(days=1)


def _at(day: datetime.date, hour: int = 10):
    tz = ZoneInfo(settings.TIME_ZONE)
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(hour), tzinfo=tz))


def _referral() -> Filing:
    return Filing.objects.get(person__name="张伟", type="referral")


def _expired_by_its_window() -> Filing:
    """张伟's referral, never started, closed by the nightly run the day after its window."""
    referral = _referral()
    assert referral.treatment_started_on is None and referral.course_days == 60
    after = referral.valid_until + DAY
    with _at(after, 1):
        jobs.run_nightly(after)
    referral.refresh_from_db()
    assert referral.status == Status.EXPIRED
    return referral


def _settle(admitted: datetime.date, discharged: datetime.date):
    with _at(discharged + DAY):
        return settlement_services.settle(
            hospital_id=Hospital.objects.get(code=RECEIVING).pk,
            api_key_id=None,
            idempotency_key="",
            payload={
                "id_number": ZHANG[0],
                "name": ZHANG[1],
                "visit": {
                    "care_type": "inpatient",
                    "admitted_on": admitted,
                    "discharged_on": discharged,
                },
                "items": BILL,
            },
        ).settlement


def test_rule_2_2_a_stay_inside_a_closed_window_is_held_past_its_60_day_course(demo):
    referral = _expired_by_its_window()
    admitted = referral.valid_until - datetime.timedelta(days=3)
    settlement = _settle(admitted, admitted + datetime.timedelta(days=70))
    assert settlement.category == "referral"
    assert settlement.status == "held_for_review"
    assert "referral_course_exceeded" in settlement.flags


def test_rule_2_2_a_stay_inside_a_closed_window_starts_the_course(demo):
    referral = _expired_by_its_window()
    admitted = referral.valid_until - datetime.timedelta(days=3)
    settlement = _settle(admitted, admitted + datetime.timedelta(days=20))
    assert (settlement.category, settlement.status) == ("referral", "settled")
    referral.refresh_from_db()
    # Used within its window after all: approved again, with its one course from the stay.
    assert referral.status == Status.APPROVED
    assert referral.treatment_started_on == admitted
    assert referral.valid_until == admitted + datetime.timedelta(days=59)


def test_rule_2_2_the_hospital_records_a_start_inside_the_closed_window(client, demo):
    referral = _expired_by_its_window()
    started = referral.valid_until - datetime.timedelta(days=2)
    with _at(referral.valid_until + 3 * DAY):
        client.force_login(demo["hosp_h23010300001"])
        page = client.get(reverse("referrals")).content.decode()
        assert referral.number in page and "window-closed" in page
        response = client.post(
            reverse("referral-start-treatment", args=[referral.number]),
            {"started_on": started.isoformat()},
        )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == Status.APPROVED
    assert referral.treatment_started_on == started
    assert referral.valid_until == started + datetime.timedelta(days=59)
    event = AuditEvent.objects.filter(
        object_id=str(referral.pk), action="referral.start_treatment"
    ).get()
    assert (event.from_state, event.to_state) == (Status.EXPIRED, Status.APPROVED)


def test_rule_2_2_a_start_after_the_closed_window_is_refused(demo):
    referral = _expired_by_its_window()
    with _at(referral.valid_until + 3 * DAY), pytest.raises(RuleError) as refused:
        services.referral_start_treatment(
            filing=referral, actor=demo["agency_dxal"], started_on=referral.valid_until + DAY
        )
    assert refused.value.code == "not_an_open_referral"
    referral.refresh_from_db()
    assert referral.status == Status.EXPIRED and referral.treatment_started_on is None


def test_rule_2_2_a_cancelled_referral_is_not_reopened(demo):
    referral = _referral()
    Filing.objects.filter(pk=referral.pk).update(status=Status.CANCELLED)
    with pytest.raises(RuleError) as refused:
        services.referral_start_treatment(
            filing=referral, actor=demo["agency_dxal"], started_on=referral.valid_from
        )
    assert refused.value.code == "not_an_open_referral"
    assert (
        services.referral_course_for_stay(
            number=referral.number,
            admitted_on=referral.valid_from,
            discharged_on=referral.valid_from + datetime.timedelta(days=70),
            hospital=RECEIVING,
        )
        is None
    )


def test_rule_2_2_the_agency_is_offered_the_start_of_a_referral_closed_by_its_window(demo):
    from filings.admin import FilingAdmin

    referral = _expired_by_its_window()
    assert FilingAdmin.decision_names(None, referral) == ["start_treatment"]  # type: ignore[arg-type]
    Filing.objects.filter(pk=referral.pk).update(status=Status.CANCELLED)
    referral.refresh_from_db()
    assert FilingAdmin.decision_names(None, referral) == []  # type: ignore[arg-type]
