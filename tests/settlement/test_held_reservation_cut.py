"""A held bill reserves part of the annual cap until it is decided (domain.md §3.2.3). A later
bill that the reservation alone pushes over the cap is held too, and decided after it, rather
than paid at 0.00 for good when the held bill is returned or rejected."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from hospitals.models import Hospital
from settlement import services
from settlement.models import AnnualAccumulation

pytestmark = pytest.mark.django_db
D = Decimal
LIU = ("210202199004150481", "刘芳")


def _settle(amount: str, days_ago: int):
    today = datetime.date.today()
    return services.settle(
        hospital_id=Hospital.objects.get(code="H23010300001").pk,
        api_key_id=None,
        payload={
            "id_number": LIU[0],
            "name": LIU[1],
            "visit": {
                "care_type": "inpatient",
                "admitted_on": today - datetime.timedelta(days=days_ago + 1),
                "discharged_on": today - datetime.timedelta(days=days_ago),
            },
            "items": [{"code": "X1", "name": "住院费", "class": "A", "amount": amount}],
        },
    ).settlement


def _superuser():
    return get_user_model().objects.filter(is_superuser=True).first()


def _ytd() -> Decimal:
    return AnnualAccumulation.objects.get(
        person__name="刘芳", year=datetime.date.today().year
    ).fund_paid


@pytest.mark.parametrize("decide", [services.settlement_return, services.settlement_reject])
def test_rule_3_2_a_bill_cut_by_a_held_bills_reservation_is_held_and_paid_once_it_is_freed(
    demo, decide
):
    big = _settle("480000.00", days_ago=20)
    assert big.status == "held_for_review" and big.fund_pay == D("300000.00")

    small = _settle("10000.00", days_ago=2)

    assert small.status == "held_for_review"
    assert "cap_reserved_by_held" in small.flags
    assert small.fund_pay == D("0.00")

    decide(settlement=big, actor=_superuser(), reason="费用明细有误")
    assert _ytd() == D("0.00")
    approved = services.settlement_approve(settlement=small, actor=_superuser())
    # Temporary filing: deductible 1,000.00 × 1.5, ratio 85% − 20 points.
    assert approved.status == "settled" and approved.fund_pay == D("5525.00")
    assert approved.fund_pay + approved.person_pay == approved.total
    assert _ytd() == D("5525.00")


def test_rule_3_2_a_bill_over_the_cap_by_paid_bills_alone_is_settled(demo):
    first = _settle("480000.00", days_ago=20)
    services.settlement_approve(settlement=first, actor=_superuser())
    small = _settle("10000.00", days_ago=2)
    assert small.status == "settled"
    assert small.fund_pay == D("0.00") and "over_annual_cap" in small.flags
    assert "cap_reserved_by_held" not in small.flags
