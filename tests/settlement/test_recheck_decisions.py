"""A re-check after a policy correction (services.recheck) keeps the agency's decisions and
splits each bill against the year to date as it is now, in the order the engine counted the
bills in: it never undoes an approval, and the year never pays past its cap or takes the
outpatient deductible twice."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from settlement import services
from settlement.models import AnnualAccumulation, BenefitPolicy, Settlement
from tests.settling import settle_today

pytestmark = pytest.mark.django_db
D = Decimal
CHEN = ("210103198512010131", "陈明")  # Shenyang employee: tertiary 1,000 / 85 %, cap 300,000
SHENYANG = "H21010000001"
CAP = D("300000.00")


def _bill(days_ago: int, amount: str, care_type: str = "inpatient") -> Settlement:
    """陈明's one-day stay `days_ago` at his own region's tertiary hospital."""
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return settle_today(
        amount,
        hospital=SHENYANG,
        who=CHEN,
        admitted_on=day,
        discharged_on=day,
        care_type=care_type,
    )


def _policy():
    return BenefitPolicy.objects.filter(
        region__code="210100", scheme="employee", year=timezone.localdate().year, level=3
    )


def _year() -> AnnualAccumulation:
    return AnnualAccumulation.objects.get(person__name="陈明", year=timezone.localdate().year)


def _agency(demo):
    return demo["agency_shenyang"]


def test_a_settlement_approved_on_review_keeps_the_approval(demo):
    # Both held (above the review threshold). The second is split after the first took the
    # year's outpatient deductible.
    first = _bill(6, "100000.01", "general_outpatient")
    second = _bill(4, "150000.00", "general_outpatient")
    assert (first.status, second.status) == ("held_for_review", "held_for_review")
    assert D(second.breakdown["deductible"]) == 0 and second.fund_pay == D("127500.00")
    # The first is rejected: the second, approved as computed, takes the deductible itself.
    services.settlement_reject(settlement=first, actor=_agency(demo), reason="非本人就医")
    approved = services.settlement_approve(settlement=second, actor=_agency(demo))
    assert approved.fund_pay == D("126650.00")  # (150,000 - 1,000) x 85 %
    year = _year()

    assert services.recheck(year=timezone.localdate().year) == {"checked": 0, "changed": 0}

    approved.refresh_from_db()
    assert approved.fund_pay == D("126650.00") and approved.breakdown["deductible"] == "1000.00"
    assert "rechecked_changed" not in approved.flags
    assert (_year().fund_paid, _year().outpatient_deductible_paid) == (
        year.fund_paid,
        year.outpatient_deductible_paid,
    )
    # A policy correction afterwards leaves the decision as it is too.
    _policy().update(ratio=D("0.900"))
    assert services.recheck(year=timezone.localdate().year)["changed"] == 0
    approved.refresh_from_db()
    assert approved.fund_pay == D("126650.00")


def test_rule_3_2_3_a_recheck_never_pays_past_the_annual_cap(demo):
    # Made in this order (the engine counted them so), discharged in another.
    bills = [_bill(days, "100000.00") for days in (2, 4, 6, 8)]
    assert [b.fund_pay for b in bills] == [D("84150.00")] * 3 + [D("47550.00")]  # the cap
    left_alone = _year().fund_paid - sum(b.fund_pay for b in bills)
    assert left_alone + sum(b.fund_pay for b in bills) == CAP
    # A policy correction: 90 % instead of 85 %.
    _policy().update(ratio=D("0.900"))

    assert services.recheck(year=timezone.localdate().year) == {"checked": 4, "changed": 4}

    for bill in bills:
        bill.refresh_from_db()
        assert bill.fund_pay + bill.person_pay == bill.total
    assert [b.fund_pay for b in bills[:3]] == [D("89100.00")] * 3  # 99,000 x 90 %
    # The last one made is split against the year as the first three left it.
    assert bills[3].fund_pay == CAP - left_alone - 3 * D("89100.00") == D("32700.00")
    assert bills[3].breakdown["over_cap"] == "56400.00"
    assert _year().fund_paid == CAP
    # A rerun finds nothing to change.
    assert services.recheck(year=timezone.localdate().year)["changed"] == 0
    assert _year().fund_paid == CAP


def test_rule_3_2_2_a_recheck_takes_the_outpatient_deductible_once_a_year(demo):
    first = _bill(4, "1100.00", "general_outpatient")
    second = _bill(2, "1500.00", "general_outpatient")
    assert (first.breakdown["deductible"], first.fund_pay) == ("1000.00", D("85.00"))
    assert (second.breakdown["deductible"], second.fund_pay) == ("0.00", D("1275.00"))
    deductible_before = _year().outpatient_deductible_paid
    # A policy correction raises the deductible to 1,200: the first visit takes 1,100 of it,
    # the second the 100 left.
    _policy().update(deductible=D("1200.00"))

    assert services.recheck(year=timezone.localdate().year)["changed"] == 2

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.breakdown["deductible"], first.fund_pay) == ("1100.00", D("0.00"))
    assert (second.breakdown["deductible"], second.fund_pay) == ("100.00", D("1190.00"))
    # 1,100 + 100: the year's deductible, taken once.
    assert _year().outpatient_deductible_paid == deductible_before + D("200.00")


def test_a_recheck_counts_a_decided_settlement_in_the_year_first(demo):
    """A reviewer's adjusted amount stands and counts against the cap before the bills the
    re-check recomputes."""
    held = _bill(10, "150000.00")
    services.settlement_approve(
        settlement=held, actor=_agency(demo), fund_pay=D("140000.00"), reason="按协议结算"
    )
    later = [_bill(days, "100000.00") for days in (8, 6)]
    assert [b.fund_pay for b in later] == [D("84150.00"), D("75850.00")]  # the cap
    _policy().update(ratio=D("0.900"))

    services.recheck(year=timezone.localdate().year)

    held.refresh_from_db()
    assert held.fund_pay == D("140000.00")
    for bill in later:
        bill.refresh_from_db()
    assert [b.fund_pay for b in later] == [D("89100.00"), D("70900.00")]
    assert _year().fund_paid == CAP
