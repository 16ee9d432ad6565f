"""An approval with an adjusted amount keeps the breakdown adding up to the person's share
(domain.md §3.2.4–5: fund + person = total, and the parts of the person's share are it)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from settlement import engine, services
from tests.settlement.test_claims import _held_settlement, _staff, _submit

D = Decimal
POLICY = engine.Policy(deductible=D("1000"), ratio=D("0.85"), annual_cap=D("300000"))


def _parts(breakdown: dict) -> Decimal:
    return sum((D(v) for v in breakdown.values()), start=D("0"))


def test_rule_3_2_an_adjusted_fund_payment_is_an_adjustment_part_of_the_person_share():
    split = engine.split(policy=POLICY, items=[engine.Item(amount=D("20000.00"), cls="A")])
    assert split.fund_pay == D("16150.00")
    assert "adjustment" not in split.breakdown()
    assert "adjustment" not in split.breakdown(fund_pay=split.fund_pay)
    for approved in (D("16025.00"), D("0.00"), D("16150.01")):
        parts = split.breakdown(fund_pay=approved)
        assert parts["adjustment"] == f"{split.fund_pay - approved:.2f}"
        assert _parts(parts) == split.total - approved


@pytest.mark.django_db
def test_rule_3_2_a_held_settlement_approved_at_an_adjusted_amount_has_a_breakdown_that_adds_up(
    demo,
):
    settlement = _held_settlement()
    engine_amount = settlement.fund_pay
    approved = services.settlement_approve(
        settlement=settlement, actor=_staff(), fund_pay=engine_amount - D("125"), reason="核减"
    )
    approved.refresh_from_db()
    assert approved.person_pay == approved.total - engine_amount + D("125")
    assert approved.breakdown["adjustment"] == "125.00"
    assert _parts(approved.breakdown) == approved.person_pay
    body = services.as_dict(approved)
    assert _parts(body["breakdown"]) == D(body["person_pay"])


@pytest.mark.django_db
def test_rule_3_2_a_claim_approved_at_an_adjusted_amount_has_a_breakdown_that_adds_up(demo):
    claim = _submit()
    estimate = claim.estimated_fund_pay
    approved = services.claim_approve(
        claim=claim, actor=_staff(), fund_pay=estimate - D("125"), reason="核减"
    )
    approved.refresh_from_db()
    assert approved.breakdown["adjustment"] == "125.00"
    assert _parts(approved.breakdown) == approved.approved_person_pay
    # Approved as estimated: no adjustment part, and the parts are the person's share.
    other = services.claim_approve(claim=_submit(name="刘芳", hospital="H23010300001"), actor=None)
    other.refresh_from_db()
    assert "adjustment" not in other.breakdown
    assert _parts(other.breakdown) == other.approved_person_pay
