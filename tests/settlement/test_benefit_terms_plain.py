"""A category's benefit terms in plain words, said once (includes/benefit_terms.html): on the
hospital's desk check, in the estimator and in the settlement admin alike, "reimbursement rate
20 percentage points lower; deductible 1.5 times the usual", not "ratio −20 points, deductible ×
1.50, fund share 1.00"; a fund share of 1 is not mentioned, one of 0.50 is "half"."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from settlement import engine

pytestmark = pytest.mark.django_db

TERMS = [
    (
        engine.Adjustment(20, D("1.50"), D("1.00")),
        "reimbursement rate 20 percentage points lower; deductible 1.5 times the usual",
        "支付比例降低 20 个百分点；起付标准为通常的 1.5 倍",
    ),
    (
        engine.Adjustment(10, D("1.00"), D("0.50")),
        "reimbursement rate 10 percentage points lower; the fund pays half of its usual share",
        "支付比例降低 10 个百分点；基金只支付通常份额的一半",
    ),
    (engine.Adjustment(0, D("1.00"), D("1.00")), "benefits not reduced", "待遇不降低"),
    (
        engine.Adjustment(1, D("1.00"), D("1.00")),
        "reimbursement rate 1 percentage point lower",
        None,
    ),
    (
        engine.Adjustment(0, D("1.25"), D("0.75")),
        "deductible 1.25 times the usual; the fund pays 75% of its usual share",
        "起付标准为通常的 1.25 倍；基金只支付通常份额的 75%",
    ),
    (engine.Adjustment(0, D("2.00"), D("1.00")), "deductible 2 times the usual", None),
]


def _terms(benefit) -> str:
    return render_to_string("includes/benefit_terms.html", {"benefit": benefit})


@pytest.mark.parametrize(("adjustment", "english", "chinese"), TERMS)
def test_benefit_terms_are_put_in_plain_words(adjustment, english, chinese):
    # The desk check passes the eligibility answer's strings ("1.50"), the estimator Decimals.
    as_strings = {
        "ratio_reduction_points": adjustment.ratio_reduction_points,
        "deductible_multiplier": f"{adjustment.deductible_multiplier:.2f}",
        "fund_share": f"{adjustment.fund_share:.2f}",
    }
    with translation.override("en"):
        assert _terms(adjustment).strip() == english
        assert _terms(as_strings).strip() == english
    if chinese:
        with translation.override("zh-hans"):
            assert _terms(adjustment).strip() == chinese
            assert _terms(as_strings).strip() == chinese


def _desk(client, demo, lang: str) -> str:
    client.force_login(demo["hosp_h23010300001"])
    client.cookies["django_language"] = lang
    return client.post(
        reverse("eligibility-check"),
        {"id_number": "210202199004150481", "name": "刘芳", "care_type": "inpatient"},
    ).content.decode()


def test_the_desk_check_words_the_adjustment_plainly(client, demo):
    english = _desk(client, demo, "en")
    assert (
        "reimbursement rate 20 percentage points lower; deductible 1.5 times the usual" in english
    )
    assert "fund share" not in english and "−20 points" not in english
    chinese = _desk(client, demo, "zh-hans")
    assert "支付比例降低 20 个百分点；起付标准为通常的 1.5 倍" in chinese
    assert "基金支付份额" not in chinese


def _estimate(client, demo, lang: str):
    client.force_login(demo["chenming"])
    client.cookies["django_language"] = lang
    query = {"region": "230100", "level": 3, "care_type": "inpatient", "estimated_total": "20000"}
    return client.get(reverse("settlement:estimate"), query)


def _why_cell(html: str, category: str) -> str:
    row = re.search(rf'<tr data-category="{category}">(.*?)</tr>', html, re.S)
    assert row, category
    return row.group(1).split('class="small"', 1)[1]


def test_the_estimator_says_each_categorys_terms_once(client, demo):
    response = _estimate(client, demo, "en")
    html = response.content.decode()
    cell = _why_cell(html, "temporary")
    assert "more than with" in cell
    assert cell.count("20 percentage points") == 1 and cell.count("1.5 times") == 1
    assert "ratio" not in cell and "fund share" not in cell and "×" not in cell
    transfer = _why_cell(html, "unapproved_transfer")
    assert transfer.count("the fund pays half of its usual share") == 1
    chinese = _why_cell(_estimate(client, demo, "zh-hans").content.decode(), "temporary")
    assert chinese.count("支付比例降低 20 个百分点") == 1 and "基金支付份额" not in chinese
