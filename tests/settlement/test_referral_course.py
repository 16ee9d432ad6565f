"""A referral for one course of treatment, checked against the stays settled under it
(domain.md §2.2: Daxinganling, one course of at most 60 days; a longer one needs an extension)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from filings.models import Filing, FilingParameters
from hospitals.models import Hospital
from portal.models import AuditEvent, Notification
from settlement import services
from settlement.messages import FLAGS

pytestmark = pytest.mark.django_db
ZHANG = ("232721197811200177", "张伟")  # referral to H23010300001, approved 5 days ago
RECEIVING = "H23010300001"
BILL = [{"code": "X1", "name": "住院费", "class": "A", "amount": "10000.00"}]


def _days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def _settle(admitted: datetime.date, discharged: datetime.date, key: str = ""):
    return services.settle(
        hospital_id=Hospital.objects.get(code=RECEIVING).pk,
        api_key_id=None,
        idempotency_key=key,
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


def _referral() -> Filing:
    return Filing.objects.get(person__name="张伟", type="referral")


def _started(days_ago: int, **extra) -> Filing:
    """张伟's referral as if treatment had started `days_ago` days ago (one course of 60)."""
    filing = _referral()
    start = _days(-days_ago)
    Filing.objects.filter(pk=filing.pk).update(
        valid_from=start - datetime.timedelta(days=5),
        treatment_started_on=start,
        course_days=60,
        valid_until=start + datetime.timedelta(days=59),
        **extra,
    )
    return _referral()


def test_rule_2_2_the_first_stay_settled_under_a_referral_starts_its_one_course(demo):
    filing = _referral()
    assert filing.treatment_started_on is None  # the receiving hospital did not mark it
    settlement = _settle(_days(-3), _days(0))
    assert (settlement.category, settlement.status) == ("referral", "settled")
    assert "referral_course_exceeded" not in settlement.flags
    filing.refresh_from_db()
    # The stay's admission day started the course: the start window's expiry no longer
    # applies, and the course's last day is the validity's end.
    assert filing.treatment_started_on == _days(-3)
    assert filing.course_days == 60
    assert filing.valid_until == _days(-3) + datetime.timedelta(days=59)
    event = AuditEvent.objects.get(object_id=str(filing.pk), action="referral.start_treatment")
    assert RECEIVING in event.reason and event.actor is None
    assert Notification.objects.filter(user=filing.person.user, notice="treatment_started").exists()


def test_rule_2_2_a_second_stay_within_the_course_leaves_the_start_alone(demo):
    _settle(_days(-4), _days(-3), key="first")
    second = _settle(_days(-1), _days(0), key="second")
    assert second.status == "settled"
    filing = _referral()
    assert filing.treatment_started_on == _days(-4)
    assert (
        AuditEvent.objects.filter(
            object_id=str(filing.pk), action="referral.start_treatment"
        ).count()
        == 1
    )


def test_rule_2_2_a_stay_running_past_the_course_is_held_for_the_agency(demo):
    # Treatment started 70 days ago: the 60-day course ended 11 days ago.
    _started(70)
    settlement = _settle(_days(-65), _days(0))
    assert settlement.status == "held_for_review"
    assert "referral_course_exceeded" in settlement.flags
    assert str(FLAGS["referral_course_exceeded"])
    # The amounts are computed as usual; the reviewer decides on the days beyond the course.
    assert settlement.fund_pay + settlement.person_pay == settlement.total == Decimal("10000.00")


def test_rule_2_2_bills_settled_out_of_order_make_one_course_from_the_earliest_stay(demo):
    """The course's start was whichever bill committed first: a later stay settled first
    started it, and an earlier stay settled after it was paid outside the recorded course.
    A start that a settlement recorded now moves back to the earlier admission, so the one
    course runs from the earliest stay whatever the order of the bills."""
    later = _settle(_days(-4), _days(-1), key="later")
    assert later.status == "settled"
    assert _referral().treatment_started_on == _days(-4)
    earlier = _settle(_days(-4), _days(-3), key="earlier")
    assert earlier.status == "settled" and earlier.category == "referral"
    assert not {"referral_before_course", "referral_course_exceeded"} & set(earlier.flags)
    filing = _referral()
    assert filing.treatment_started_on == _days(-4) >= filing.valid_from
    assert filing.valid_until == _days(-4) + datetime.timedelta(days=59)
    later.refresh_from_db()
    assert later.status == "settled"  # paid, and within the course from the earliest stay


def test_rule_2_2_a_stay_before_the_referral_took_effect_starts_its_course_on_that_day(demo):
    """A stay admitted before the referral's approval, settled under it (a filing made before
    discharge settlement), started the course on its admission: the course's last day, and so
    the referral's validity, could fall before the referral even took effect."""
    filing = _referral()
    admitted = filing.valid_from - datetime.timedelta(days=10)
    first = _settle(admitted, filing.valid_from + datetime.timedelta(days=1), key="before")
    assert first.status == "settled" and first.category == "referral"
    filing.refresh_from_db()
    assert filing.treatment_started_on == filing.valid_from
    assert filing.valid_until == filing.valid_from + datetime.timedelta(days=59)


def test_rule_2_2_a_stay_longer_than_a_course_is_held_and_leaves_the_referral_as_it_was(demo):
    """A 61-day stay held as past the course used to start the course on its admission: the
    referral's validity shrank to before the day it took effect, and even once the agency
    rejected that bill, the patient's ordinary bills were refused as "expired"."""
    filing = _referral()
    before = (filing.treatment_started_on, filing.valid_until, filing.course_days)
    long_stay = _settle(_days(-65), _days(-5), key="long")
    assert long_stay.status == "held_for_review"
    assert "referral_course_exceeded" in long_stay.flags
    filing.refresh_from_db()
    assert (filing.treatment_started_on, filing.valid_until, filing.course_days) == before
    ordinary = _settle(_days(-2), _days(0), key="ordinary")
    assert (ordinary.status, ordinary.category) == ("settled", "referral")


def test_rule_2_2_a_stay_before_the_start_the_hospital_recorded_is_held(demo):
    """The receiving hospital recorded the day treatment started: a stay admitted before it is
    not moved into the course but held for the agency, which knows which is right."""
    _started(3)  # as recorded by the hospital's clerk (no settlement started it)
    earlier = _settle(_days(-5), _days(-4), key="recorded")
    assert earlier.status == "held_for_review"
    assert "referral_before_course" in earlier.flags
    assert str(FLAGS["referral_before_course"]) != "referral_before_course"
    assert earlier.fund_pay + earlier.person_pay == earlier.total == Decimal("10000.00")
    assert _referral().treatment_started_on == _days(-3)  # the recorded start stands


def test_rule_2_2_a_stay_within_an_extended_course_is_settled(demo):
    _started(70, extended_until=_days(10))
    settlement = _settle(_days(-65), _days(0))
    assert settlement.status == "settled"
    assert "referral_course_exceeded" not in settlement.flags


def test_rule_2_2_a_stay_ending_on_the_courses_last_day_is_within_it(demo):
    filing = _started(59)  # the course's last day is today
    assert filing.valid_until == _days(0)
    settlement = _settle(_days(-2), _days(0))
    assert "referral_course_exceeded" not in settlement.flags
    assert settlement.status == "settled"


def test_rule_2_2_a_referral_for_all_care_is_not_started_by_a_stay(demo):
    # Liaoning's referral (no course length) covers all care for its validity: a stay neither
    # starts a course nor is held for its length.
    filing = _referral()
    FilingParameters.objects.filter(region=filing.insured_region).update(referral_course_days=None)
    settlement = _settle(_days(-3), _days(0))
    assert settlement.status == "settled"
    filing.refresh_from_db()
    assert filing.treatment_started_on is None
    assert not AuditEvent.objects.filter(
        object_id=str(filing.pk), action="referral.start_treatment"
    ).exists()
