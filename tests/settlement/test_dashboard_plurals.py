"""The dashboard's counts in English take the noun's number: "1 direct settlement",
"and 1 filing to our region from elsewhere" (Chinese has one form for both)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone, translation

from filings.models import Filing
from settlement import stats
from tests.settlement.test_stats import _dashboard
from tests.settlement.test_stats import world as stats_world

pytestmark = pytest.mark.django_db
world = stats_world


def _headline(settlements: int) -> stats.Headline:
    return stats.Headline(settlements, Decimal("0"), Decimal("10910000.00"), 0, 0, 0, 0, 0, None)


def test_the_headline_counts_one_direct_settlement_in_the_singular():
    with translation.override("en"):
        assert stats.headline_text(_headline(1)) == "1 direct settlement, 10.91 million yuan"
        assert stats.headline_text(_headline(2)) == "2 direct settlements, 10.91 million yuan"
    with translation.override("zh-hans"):
        assert stats.headline_text(_headline(1)) == "直接结算 1 笔，1091.00万元"


@pytest.mark.parametrize(("incoming", "said"), [(1, "and 1 filing to"), (2, "and 2 filings to")])
def test_filings_to_the_region_from_elsewhere_are_counted_in_the_right_number(
    client, world, incoming, said
):
    dxal, harbin = world["regions"]["232700"], world["regions"]["230100"]
    for i in range(incoming):
        Filing.objects.create(
            number=f"BA{i:04d}",
            person=world["persons"]["232700"],
            insured_region=dxal,
            type="referral",
            status="submitted",
            place_province=harbin.province,
            place_region=harbin,
            submitted_at=timezone.now(),
        )
    page = _dashboard(client, world["staff"]["230100"].user, lang="en").content.decode()
    assert f"{said} our region from elsewhere" in page
    chinese = _dashboard(client, world["staff"]["230100"].user, lang="zh-hans").content.decode()
    assert f"另有外地参保人备案到本地 {incoming} 件" in chinese
