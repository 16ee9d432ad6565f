"""Edges of the filing dates (domain.md §2.1–2.3, §3.4): month ends, 29 February, renewal
chains, reminders and China's day, mostly as properties over any date."""

from __future__ import annotations

import datetime
import zoneinfo

import holidays
import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from filings import jobs, rules, services
from filings.models import Filing
from filings.selectors import is_working_day_function
from tests.filings import test_jobs as job_tests
from tests.filings.test_rules import DAXINGANLING

D = datetime.date
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
world, make_filing = job_tests.world, job_tests.make_filing  # the job tests' fixture
days = st.dates(min_value=D(2000, 1, 1), max_value=D(2099, 12, 31))


def _months_end(start: datetime.date, months: int) -> datetime.date:
    """The last day of `months` months that begin on `start` (start counted): the day before
    the same day `months` later or, when that month has no such day, that month's last day."""
    same_day = start + relativedelta(months=months)
    return same_day if same_day.day != start.day else same_day - datetime.timedelta(days=1)


# --- periods of months ending at a month end --------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(days, st.integers(1, 24))
@example(D(2024, 2, 28), 12)  # valid from 29 Feb 2024: until 28 Feb 2025 (not 27 Feb)
@example(D(2025, 1, 30), 1)  # valid from 31 Jan 2025 for a month: until 28 Feb
def test_rule_2_1_property_a_validity_of_n_months_ends_on_the_last_day_of_the_nth_month(
    approved_on, months
):
    """domain.md §2.1 (Daxinganling: benefits from the day after approval, valid 12 months).
    A long-term filing ends on the day before the same day N months later or, where that month
    has no such day, on its last day: one valid from 29 Feb 2024 ends on 28 Feb 2025, not on
    27 Feb 2025 (the end of one valid from 28 Feb 2024), which left 28 Feb 2025 covered by
    neither it nor a renewal starting the day after."""
    params = rules.Parameters(**{**DAXINGANLING.__dict__, "long_term_validity_months": months})
    start, until = rules.validity("long_term", params, approved_on)
    assert start == approved_on + datetime.timedelta(days=1)
    assert until == _months_end(start, months)


def test_rule_2_2_the_treatment_cycle_begun_on_29_february_lasts_until_28_february():
    """domain.md §2.2 (Daxinganling): follow-ups "within one treatment cycle (≤ 1 year)". The cycle
    of a course started 29 Feb 2024 ends 28 Feb 2025: a readmission notice that day is still
    within it."""
    assert rules.follow_up_cycle_end(D(2024, 2, 29)) == D(2025, 2, 28)
    rules.check_follow_up(
        status="approved", course_days=60, first_started_on=D(2024, 2, 29), today=D(2025, 2, 28)
    )


# --- renewals, locks, reminders, working days, China's day ---------------------------------


@settings(max_examples=300, deadline=None)
@given(days, st.lists(st.integers(0, rules.RENEWAL_WINDOW_DAYS), min_size=1, max_size=6))
def test_rule_2_1_property_a_chain_of_renewals_covers_every_day_once(approved_on, approvals):
    """domain.md §2.1 ("12 months, then re-file") and §2.6 (one effective long-term filing at
    a time): renewals approved anywhere in the renewal window (60 days before the end, up to
    the last day) take effect the day after the filing they renew ends: no gap, no overlap,
    each a year long."""
    _start, until = rules.validity("long_term", DAXINGANLING, approved_on)
    for before_end in approvals:
        today = until - datetime.timedelta(days=before_end)
        rules.check_renewal(
            filing_type="long_term", status="approved", valid_until=until, today=today
        )
        next_start, next_until = rules.validity(
            "long_term", DAXINGANLING, today, rules.renewal_start(until)
        )
        assert next_start == until + datetime.timedelta(days=1)
        assert (next_until - next_start).days + 1 >= 365
        until = next_until


@settings(max_examples=300, deadline=None)
@given(days, st.integers(1, 24), days)
def test_rule_2_1_property_the_lock_lifts_on_the_day_n_months_after_taking_effect(
    valid_from, months, today
):
    """domain.md §2.1: no change or cancellation within N months after the filing takes effect;
    before it takes effect nothing is locked; the refusal names the day it becomes possible
    (or, when the lock outlasts the validity, says so)."""
    params = rules.Parameters(lock_months=months)
    allowed = rules.last_day_of_months(valid_from, months) + datetime.timedelta(days=1)
    refusal = rules.lock_refusal(valid_from, None, params, today)
    if today < valid_from or today >= allowed:
        assert refusal is None
    else:
        assert refusal.code == "locked" and refusal.params["allowed_from"] == allowed
        assert allowed > today
    bounded = rules.lock_refusal(valid_from, allowed - datetime.timedelta(days=1), params, today)
    assert (bounded is None) == (refusal is None)
    if bounded is not None:
        assert bounded.code == "locked_while_valid"


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=D(2001, 1, 1), max_value=D(2098, 12, 31)))
@example(D(2028, 3, 1))
@example(D(2027, 12, 31))
def test_rule_3_4_property_claim_reminder_window_is_exactly_the_deadlines_30_days_ahead(today):
    """domain.md §3.4 (12 months after discharge): the discharge dates the claim reminder reads
    are exactly those whose deadline falls from today to 30 days ahead, any year."""
    from settlement.rules import CLAIM_REMINDER_DAYS, claim_deadline

    first, last = jobs.claim_discharges_due(today)
    ahead = today + datetime.timedelta(days=CLAIM_REMINDER_DAYS)
    for day in (first - datetime.timedelta(days=1), first, last, last + datetime.timedelta(days=1)):
        assert (today <= claim_deadline(day) <= ahead) == (first <= day <= last), day


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dates(min_value=D(2025, 1, 1), max_value=D(2027, 12, 31)),
    st.lists(st.dates(min_value=D(2025, 1, 1), max_value=D(2028, 1, 31)), max_size=3),
)
@example(D(2026, 12, 31), [])
@example(D(2027, 12, 30), [])
@example(D(2026, 9, 30), [])
def test_rule_2_3_property_the_emergency_deadline_is_the_third_working_day_after(
    transfer, corrections
):
    """domain.md §2.3: 3 working days after the transfer, weekends and statutory holidays not
    counted, make-up days counted, agency corrections on top; a December transfer into a year
    whose make-up days are not published yet still has a deadline."""
    from filings.models import WorkingDayCorrection

    with transaction.atomic():
        for day in corrections:
            WorkingDayCorrection.objects.update_or_create(
                date=day, defaults={"is_working_day": day.weekday() >= 5}
            )
        is_working_day = is_working_day_function()
        deadline = rules.emergency_deadline(transfer, is_working_day)
        between = [
            transfer + datetime.timedelta(days=k) for k in range(1, (deadline - transfer).days + 1)
        ]
        assert is_working_day(deadline)
        assert sum(is_working_day(d) for d in between) == rules.EMERGENCY_WORKING_DAYS
        cn = holidays.country_holidays("CN", years=[transfer.year, transfer.year + 1])
        for d in between:
            if d not in corrections and d.weekday() < 5 and d not in cn:
                assert is_working_day(d)
        transaction.set_rollback(True)


@pytest.mark.django_db
@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.integers(0, 40))
@example(30)  # each reminder's own day, the day before it and the deadline itself
@example(29)
@example(7)
@example(1)
@example(0)
def test_rule_2_1_property_commitment_reminders_30_7_1_each_once_whatever_the_start(world, ahead):
    """domain.md §2.1 (commitment period) with the 30/7/1-day reminders: run daily from a day
    `ahead` days before the deadline to the day after it, a filing gets exactly the reminders
    whose window it enters (a late start catches up only the current one), each once, and the
    day after the deadline it is revoked."""
    with transaction.atomic():
        today = D(2026, 11, 22)
        deadline = today + datetime.timedelta(days=ahead)
        filing = make_filing(
            world, type="long_term", basis="commitment", commitment_deadline=deadline
        )
        sent = []
        for k in range(ahead + 2):
            day = today + datetime.timedelta(days=k)
            result = jobs.send_commitment_reminders(day)
            sent += [kind for kind, n in result.items() for _ in range(n)]
            jobs.apply_changes(day)
            state = Filing.objects.get(pk=filing.pk).status
            assert state == ("revoked" if day > deadline else "approved")
        expected = [f"commitment_{d}" for d, lower in ((30, 7), (7, 1), (1, 0)) if ahead > lower]
        assert sent == expected
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_approved_at_00_30_china_time_takes_effect_on_chinas_day(demo):
    """domain.md §2.1 (Liaoning: benefits start on approval). At 00:30 in Shanghai, 16:30 UTC of
    the day before, an approval takes effect on China's day, with the commitment deadline 6
    months from it; a temporary filing whose last day was China's yesterday expires in that
    night's run, one whose last day is today does not."""
    today = timezone.localdate()
    night = datetime.datetime.combine(today, datetime.time(0, 30), tzinfo=SHANGHAI)
    assert night.astimezone(datetime.UTC).date() == today - datetime.timedelta(days=1)
    filing = Filing.objects.get(number="BA210100000002")  # 孙国强, submitted
    last = Filing.objects.filter(type="temporary", status="approved").first()
    Filing.objects.filter(pk=last.pk).update(valid_until=today - datetime.timedelta(days=1))
    still = Filing.objects.get(person__name="王秀兰", type="long_term")
    with time_machine.travel(night, tick=False):
        approved = services.filing_approve(filing=filing, actor=demo["agency_shenyang"])
        jobs.apply_changes()
    assert approved.valid_from == today
    assert Filing.objects.get(pk=last.pk).status == "expired"
    assert Filing.objects.get(pk=still.pk).status == "approved"
