"""A reason the person or the hospital will read is refused when it is only spaces or invisible
characters, whoever calls the service (a form, the admin, a shell), and a reason is kept as it
is printed: without invisible format characters (portal.lib.text.plain)."""

import pytest

from filings import services as filing_services
from filings.models import Filing
from filings.rules import RuleError
from settlement import rules as settlement_rules
from settlement import services as settlement_services
from settlement.models import Settlement
from tests.settling import settle_today

pytestmark = pytest.mark.django_db

NOTHING = ["", "   ", "\u200b", " \u200b\u2060\ufeff ", "\u202e"]


@pytest.mark.parametrize("reason", NOTHING)
def test_a_filing_is_not_rejected_or_returned_for_no_visible_reason(demo, reason):
    filing = Filing.objects.get(person__name="孙国强", type="long_term")
    for decide in (filing_services.filing_reject, filing_services.filing_return):
        with pytest.raises(RuleError) as refused:
            decide(filing=filing, actor=demo["agency_shenyang"], reason=reason)
        assert refused.value.code == "reason_required"
    assert Filing.objects.get(pk=filing.pk).status == "submitted"


@pytest.mark.parametrize("reason", NOTHING)
def test_a_settlement_is_not_voided_for_no_visible_reason(demo, reason):
    settled = settle_today("3000.00")
    with pytest.raises(settlement_rules.RuleError) as refused:
        settlement_services.settlement_void(
            settlement=settled, actor=demo["agency_dxal"], reason=reason
        )
    assert refused.value.code == "reason_required"
    assert Settlement.objects.get(pk=settled.pk).status == "settled"


def test_a_reason_is_kept_without_its_invisible_characters(demo):
    filing = Filing.objects.get(person__name="孙国强", type="long_term")
    filing_services.filing_return(
        filing=filing, actor=demo["agency_shenyang"], reason=" 请补充\u200b房产证 "
    )
    assert Filing.objects.get(pk=filing.pk).decision_note == "请补充房产证"
