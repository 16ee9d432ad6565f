"""domain.md §3.3: the other-temporary reduction (−20 points, deductible ×1.5) is for care that
is "non-emergency and not referred". An emergency claimed under a temporary filing is estimated
as an emergency (−10 points); returned by the agency and sent again, it stays one, and what the
estimate was made on is what the approval pays on."""

from __future__ import annotations

import datetime

import pytest

from settlement import services
from tests.settlement.test_claims import _submit

pytestmark = pytest.mark.django_db
TODAY = datetime.date.today()
# 刘芳 (Dalian) has an approved temporary filing to Harbin; H23010300001 is a Harbin hospital.
HARBIN_STAY = {
    "name": "刘芳",
    "hospital": "H23010300001",
    "admitted_on": TODAY - datetime.timedelta(days=3),
    "discharged_on": TODAY,
}


def test_rule_3_3_an_emergency_claim_under_a_temporary_filing_stays_one_when_sent_again(demo):
    claim = _submit(emergency=True, **HARBIN_STAY)
    plain = _submit(different_bill=True, **HARBIN_STAY)  # the same stay, not an emergency
    assert claim.category == "emergency" and plain.category == "temporary"
    assert claim.estimated_fund_pay > plain.estimated_fund_pay  # −10 points, not −20 and ×1.5
    services.claim_return(claim=claim, actor=demo["admin"], reason="缺少发票")
    claim.refresh_from_db()
    again = services.claim_resubmit(claim=claim, actor=claim.person.user)
    assert again.category == "emergency"
    assert again.estimated_fund_pay == claim.estimated_fund_pay
    assert again.adjustment == claim.adjustment
    approved = services.claim_approve(claim=again, actor=demo["admin"])
    assert approved.approved_fund_pay == again.estimated_fund_pay
