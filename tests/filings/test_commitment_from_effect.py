"""domain.md §2.1, filing by commitment: the materials follow within 6 months; a renewal
approved ahead of its start counts them from the day it takes effect, so it is not revoked
months into its validity for a period that mostly ran before it was in force."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from dateutil.relativedelta import relativedelta

from filings import rules, services
from filings.models import Filing

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_rule_2_1_a_renewals_commitment_period_runs_from_the_day_it_takes_effect(demo):
    old = Filing.objects.select_related("person__user").get(number="BA232700000001")  # 王秀兰
    user = old.person.user
    on = old.valid_until - datetime.timedelta(days=48)
    with time_machine.travel(datetime.datetime.combine(on, datetime.time(10), tzinfo=SHANGHAI)):
        renewal = services.filing_renew(filing=old, actor=user)
        services.filing_update(filing=renewal, actor=user, basis="commitment")
        services.filing_submit(filing=renewal, actor=user)
        renewal = services.filing_approve(filing=renewal, actor=demo["agency_dxal"])
    assert renewal.valid_from == old.valid_until + datetime.timedelta(days=1)
    assert renewal.commitment_deadline == renewal.valid_from + relativedelta(months=6)


def test_rule_2_1_commitment_deadline_counts_from_the_first_day_in_force():
    params = rules.Parameters(commitment_months=6)
    assert rules.commitment_deadline(datetime.date(2027, 8, 18), params) == datetime.date(
        2028, 2, 18
    )
