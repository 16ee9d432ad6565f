"""domain.md §3: a stay is paid once, by direct settlement or by a reimbursement claim, never
by both (the fund paid 刘芳's stay twice)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model

from hospitals.models import Hospital
from settlement import rules, services
from settlement.messages import message
from tests.settlement.test_claims import (
    _documents,
    _person,
    _policies_of_the_travelled_year,
)

pytestmark = pytest.mark.django_db
D = Decimal
LIU = ("210202199004150481", "刘芳")
NINE_THOUSAND_A = [{"code": "X1", "name": "住院费", "class": "A", "amount": "9000.00"}]
TODAY = datetime.datetime(2026, 11, 24, 10, 0)


def _claim(admitted, discharged, hospital="H23010300001", care_type="inpatient"):
    person = _person("刘芳")
    return services.claim_submit(
        person=person,
        actor=person.user,
        hospital=Hospital.objects.get(code=hospital),
        care_type=care_type,
        admitted_on=admitted,
        discharged_on=discharged,
        items=NINE_THOUSAND_A,
        documents=_documents(),
        different_bill=True,
    )


def _settle(admitted, discharged, hospital="H23010300001"):
    return services.settle(
        hospital_id=Hospital.objects.get(code=hospital).pk,
        api_key_id=None,
        payload={
            "id_number": LIU[0],
            "name": LIU[1],
            "visit": {
                "care_type": "inpatient",
                "admitted_on": admitted,
                "discharged_on": discharged,
            },
            "items": NINE_THOUSAND_A,
        },
    ).settlement


def _staff_of_liu():
    """The demo has no Dalian agency staff: a superuser decides 刘芳's (Dalian) bills."""
    return get_user_model().objects.filter(is_superuser=True).first()


@time_machine.travel(TODAY, tick=False)
def test_rule_3_a_stay_claimed_and_approved_is_held_when_the_hospital_settles_it(demo):
    _policies_of_the_travelled_year()
    claim = _claim(datetime.date(2026, 11, 15), datetime.date(2026, 11, 20))
    assert claim.estimated_fund_pay == D("4875.00")
    services.claim_approve(claim=claim, actor=_staff_of_liu())

    settlement = _settle(datetime.date(2026, 11, 15), datetime.date(2026, 11, 20))

    assert settlement.status == "held_for_review"
    assert "overlapping_claim" in settlement.flags
    assert "overlapping_claim" in services.as_dict(settlement)["flags"]
    # The agency cannot pay it too while the claim stands approved.
    with pytest.raises(rules.RuleError) as refused:
        services.settlement_approve(settlement=settlement, actor=_staff_of_liu())
    assert refused.value.code == "stay_paid_already"
    assert claim.number in message(refused.value)
    settlement.refresh_from_db()
    assert settlement.status == "held_for_review"


@time_machine.travel(TODAY, tick=False)
def test_rule_3_a_stay_with_a_submitted_claim_is_held_too(demo):
    _policies_of_the_travelled_year()
    _claim(datetime.date(2026, 11, 15), datetime.date(2026, 11, 20))
    settlement = _settle(datetime.date(2026, 11, 16), datetime.date(2026, 11, 22))
    assert settlement.status == "held_for_review"
    assert "overlapping_claim" in settlement.flags


@time_machine.travel(TODAY, tick=False)
def test_rule_3_a_stay_whose_claim_was_rejected_settles(demo):
    _policies_of_the_travelled_year()
    claim = _claim(datetime.date(2026, 11, 15), datetime.date(2026, 11, 20))
    services.claim_reject(claim=claim, actor=_staff_of_liu(), reason="票据不全")
    settlement = _settle(datetime.date(2026, 11, 15), datetime.date(2026, 11, 20))
    assert settlement.status == "settled"
    assert "overlapping_claim" not in settlement.flags


@pytest.mark.parametrize(
    "admitted, discharged",
    [((11, 3), (11, 10)), ((11, 2), (11, 11)), ((11, 2), (11, 10)), ((11, 5), (11, 5))],
)
@time_machine.travel(TODAY, tick=False)
def test_rule_3_a_claim_overlapping_a_direct_settlement_is_flagged_and_not_approved(
    demo, admitted, discharged
):
    _policies_of_the_travelled_year()
    settlement = _settle(datetime.date(2026, 11, 2), datetime.date(2026, 11, 10))
    assert settlement.status == "settled"

    claim = _claim(datetime.date(2026, *admitted), datetime.date(2026, *discharged))

    assert "duplicate_bill" in claim.flags
    assert not rules.is_clean(claim.flags)
    with pytest.raises(rules.RuleError) as refused:
        services.claim_approve(claim=claim, actor=_staff_of_liu())
    assert refused.value.code == "stay_paid_already"
    text = message(refused.value)
    assert settlement.number in text and "2026-11-02" in text and "2026-11-10" in text
    claim.refresh_from_db()
    assert claim.status == "submitted" and claim.approved_fund_pay is None


@time_machine.travel(TODAY, tick=False)
def test_rule_3_overlapping_nights_at_another_hospital_are_flagged(demo):
    _policies_of_the_travelled_year()
    _settle(datetime.date(2026, 11, 2), datetime.date(2026, 11, 10))
    claim = _claim(datetime.date(2026, 11, 8), datetime.date(2026, 11, 12), hospital="H23010300002")
    assert "duplicate_bill" in claim.flags


@time_machine.travel(TODAY, tick=False)
def test_rule_3_a_transfer_on_the_day_of_discharge_is_not_a_duplicate(demo):
    """Discharged from one hospital and admitted to another on the same day: two stays."""
    _policies_of_the_travelled_year()
    _settle(datetime.date(2026, 11, 2), datetime.date(2026, 11, 10))
    claim = _claim(
        datetime.date(2026, 11, 10), datetime.date(2026, 11, 14), hospital="H23010300002"
    )
    assert "duplicate_bill" not in claim.flags
    approved = services.claim_approve(claim=claim, actor=_staff_of_liu())
    assert approved.status == "approved"


@time_machine.travel(TODAY, tick=False)
def test_rule_3_a_claim_overlapping_another_approved_claim_is_not_approved(demo):
    _policies_of_the_travelled_year()
    first = _claim(datetime.date(2026, 11, 15), datetime.date(2026, 11, 20))
    second = _claim(datetime.date(2026, 11, 14), datetime.date(2026, 11, 18))
    assert "duplicate_bill" in second.flags
    services.claim_approve(claim=first, actor=_staff_of_liu())
    with pytest.raises(rules.RuleError) as refused:
        services.claim_approve(claim=second, actor=_staff_of_liu())
    assert first.number in message(refused.value)
