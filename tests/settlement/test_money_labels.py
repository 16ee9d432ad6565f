"""Amounts are labelled by what happened to them: a rejected claim is not paid, a submitted one
is an estimate; a bill the fund does not pay is marked in the agency's list; the year's "the
fund has paid" says that it counts claims; the parts of a split keep the engine's order
wherever they are read back from the database."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from hospitals.models import Hospital
from hospitals.services import api_key_create
from settlement import engine, services
from settlement.models import BREAKDOWN_ORDER, Claim, Settlement
from tests.settlement.test_claims import _submit
from tests.settling import settle_today
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
D = Decimal
CHEN = ("210103198512010131", "陈明")


def _days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def _row(html: str, number: str) -> str:
    """The amounts' line of claim `number` on the person's claims page."""
    return html.split(f"{number} · ")[1].split("</div>")[0]


def test_my_claims_shows_a_rejected_claim_as_not_paid_and_a_submitted_one_as_an_estimate(
    client, demo
):
    rejected = _submit(admitted_on=_days_ago(30), discharged_on=_days_ago(26))
    submitted = _submit(admitted_on=_days_ago(20), discharged_on=_days_ago(16))
    approved = _submit(admitted_on=_days_ago(12), discharged_on=_days_ago(8))
    staff = demo["agency_shenyang"]
    services.claim_reject(claim=rejected, actor=staff, reason="发票不全")
    services.claim_approve(claim=approved, actor=staff, fund_pay=D("3000.00"), reason="核减")
    assert rejected.estimated_fund_pay > 0
    client.force_login(demo["chenming"])
    client.cookies["django_language"] = "en"

    html = client.get(reverse("settlement:claims")).content.decode()

    row = _row(html, rejected.number)
    assert "not paid by the fund" in row
    assert "fund pays" not in row and f"{rejected.estimated_fund_pay:,.2f}" not in row
    row = _row(html, submitted.number)
    assert f"estimated fund payment {submitted.estimated_fund_pay:,.2f}" in row
    assert "fund pays" not in row
    row = _row(html, approved.number)
    assert "fund pays 3,000.00" in row


def test_my_settlements_says_the_funds_payments_this_year_count_claims(client, demo):
    claim = _submit(admitted_on=_days_ago(12), discharged_on=_days_ago(8))
    services.claim_approve(claim=claim, actor=demo["agency_shenyang"])
    claim = Claim.objects.get(pk=claim.pk)
    client.force_login(demo["chenming"])
    client.cookies["django_language"] = "en"

    html = client.get(reverse("settlement:settlements")).content.decode()

    # 陈明 has no direct settlement: what the fund has paid is his claim.
    assert "The fund has paid (reimbursement claims included)" in html
    assert f'id="fund-paid">{claim.approved_fund_pay:,.2f}</dd>' in html


def test_the_admin_list_marks_a_rejected_bills_split_as_not_paid(client, demo):
    held = settle_today("150000.00")  # 王秀兰, above the review threshold
    services.settlement_reject(settlement=held, actor=demo["agency_dxal"], reason="非本人就医")
    staff_login(client, "agency_dxal")
    client.cookies["django_language"] = "en"

    html = client.get(reverse("admin:settlement_settlement_changelist")).content.decode()

    row = html.split(f">{held.number}</a>")[1].split("</tr>")[0]
    assert f"<del>{held.fund_pay:,.2f}</del>" in row and "not paid by the fund" in row
    assert f"<del>{held.person_pay:,.2f}</del>" in row


def test_the_breakdown_order_is_the_engines():
    split = engine.split(
        policy=engine.Policy(D("1000"), D("0.85"), D("300000"), D("0.10")),
        items=[engine.Item(amount=D("5000"), cls="B")],
    )
    assert list(split.breakdown(fund_pay=D("1.00"))) == list(BREAKDOWN_ORDER)


def test_the_parts_of_a_split_are_read_back_in_the_engines_order(client, demo):
    """PostgreSQL's jsonb lists an object's keys shortest first: read back from the database
    the parts keep the engine's order, on the API, the hospital's page and the admin."""
    hospital = Hospital.objects.get(code="H46020000002")
    _, key = api_key_create(hospital=hospital)
    settlement = settle_today("10000.00")
    stored = settlement.breakdown
    assert list(stored) == list(BREAKDOWN_ORDER[:-1])
    # As PostgreSQL hands it back: sorted by the length of the key.
    Settlement.objects.filter(pk=settlement.pk).update(
        breakdown=dict(sorted(stored.items(), key=lambda part: (len(part[0]), part[0])))
    )

    assert list(Settlement.objects.get(pk=settlement.pk).breakdown) == list(stored)
    body = client.get(
        f"/api/v1/settlements/{settlement.number}", HTTP_AUTHORIZATION=f"Bearer {key}"
    ).json()
    assert list(body["breakdown"]) == list(stored)
    client.force_login(demo["hosp_h46020000002"])
    client.cookies["django_language"] = "en"
    page = client.get(reverse("hospital-settlement", args=[settlement.number]))
    assert [label for label, _amount in page.context["breakdown"]] == [
        "Self-paid items",
        "Class B first self-pay",
        "Deductible",
        "Person's share of the rest",
        "Above the annual cap",
        "Discharge medication not covered",
    ]
