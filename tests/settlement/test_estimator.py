"""The estimator: the place decides the categories, the engine and the eligibility module decide
the figures (demo policy of domain.md §4, computed by hand)."""

import re
from decimal import Decimal as D

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from settlement.models import AnnualAccumulation
from settlement.views import explain

pytestmark = pytest.mark.django_db

SANYA, SHENYANG = "460200", "210100"


def estimate(client, user, **params):
    client.force_login(user)
    query = {"region": SANYA, "level": 3, "care_type": "inpatient", **params}
    return client.get(reverse("settlement:estimate"), query, HTTP_ACCEPT_LANGUAGE="en")


def rows_of(response):
    return {r["code"]: r for r in response.context["rows"]}


def test_estimate_compares_the_categories_with_the_difference(client, demo):
    response = estimate(client, demo["chenming"], class_a="10000", class_b="0", class_c="0")
    rows = rows_of(response)
    assert rows["long_term"]["split"].fund_pay == D("7650.00")  # 9000 × 85%
    assert rows["referral"]["split"].fund_pay == D("6750.00")  # 9000 × 75%
    assert rows["temporary"]["split"].fund_pay == D("5525.00")  # 8500 × 65%
    assert rows["unapproved_transfer"]["split"].fund_pay == D("3375.00")  # 9000 × 75% × 50%
    assert rows["long_term"]["extra"] == 0
    assert rows["temporary"]["extra"] == D("2125.00")
    assert 'data-category="temporary"' in response.content.decode()


def test_an_estimated_total_instead_of_the_split_with_a_reason_per_row(client, demo):
    # Shenyang employee at a tertiary hospital in Sanya, bill of 20000 counted as class A.
    response = estimate(client, demo["chenming"], estimated_total="20000")
    rows = rows_of(response)
    figures = {code: (r["split"].fund_pay, r["split"].person_pay) for code, r in rows.items()}
    assert figures == {
        "long_term": (D("16150.00"), D("3850.00")),  # (20000 − 1000) × 85%
        "temporary": (D("12025.00"), D("7975.00")),  # (20000 − 1500) × 65%
        "referral": (D("14250.00"), D("5750.00")),  # (20000 − 1000) × 75%
        "unapproved_transfer": (D("7125.00"), D("12875.00")),  # 19000 × 75% × 50%
    }
    assert rows["long_term"]["why"] == "The cheapest here."
    assert rows["temporary"]["why"] == (
        "You would pay 4,125.00 more than with Long-term residence filing."
    )
    assert rows["referral"]["why"] == (
        "You would pay 1,900.00 more than with Long-term residence filing."
    )
    assert rows["unapproved_transfer"]["why"] == (
        "You would pay 9,025.00 more than with Long-term residence filing."
    )
    html = response.content.decode()
    assert "reimbursement rate 20 percentage points lower; deductible 1.5 times the usual" in html
    assert "At Sanya you could settle as:" in html


def test_own_pooling_region_offers_local_settlement_only(client, demo):
    # A 10000, B 5000 (500 first self-pay), C 1000: in scope 14500, (14500 − 1000) × 85%.
    response = estimate(
        client, demo["chenming"], region=SHENYANG, class_a="10000", class_b="5000", class_c="1000"
    )
    rows = response.context["rows"]
    assert [r["code"] for r in rows] == ["local"]
    assert (rows[0]["split"].fund_pay, rows[0]["split"].person_pay) == (
        D("11475.00"),
        D("4525.00"),
    )
    assert "your own pooling region: only local settlement applies" in response.content.decode()


def test_one_way_long_term_filing_elsewhere_blocks_local_settlement_in_the_estimate(client, demo):
    # 李建国: one-way long-term filing to Harbin (commitment materials outstanding).
    response = estimate(client, demo["lijianguo"], region=SHENYANG, estimated_total="10000")
    (row,) = response.context["rows"]
    assert row["code"] == "local" and row["eligible"] is False
    assert any("one-way" in note for note in row["notes"])


def test_rule_3_3_resettled_reduction_is_decided_like_eligibility(client, demo):
    # 王秀兰: Daxinganling, long-term filing of sub-type resettled_retiree: −5 points.
    rows = rows_of(estimate(client, demo["wangxiulan"], estimated_total="10000"))
    assert rows["long_term"]["adjustment"].ratio_reduction_points == 5
    assert rows["long_term"]["split"].fund_pay == D("7200.00")  # 9000 × 80%
    assert rows["long_term"]["notes"]
    # Temporary: (10000 − 1500) × 65% = 5525.00; she pays 4475.00, 1675.00 more than 2800.00.
    assert rows["temporary"]["extra"] == D("1675.00")
    assert rows["temporary"]["why"] == (
        "You would pay 1,675.00 more than with Long-term residence filing."
    )


@pytest.mark.parametrize(
    "who",
    [
        "zhaoli",  # Daxinganling, but no resettled-retiree filing
        "sunguoqiang",  # resettled-retiree filing, but Shenyang does not reduce
    ],
)
def test_no_resettled_reduction_without_both_region_and_subtype(client, demo, who):
    rows = rows_of(estimate(client, demo[who], estimated_total="10000"))
    assert rows["long_term"]["adjustment"].ratio_reduction_points == 0
    assert rows["long_term"]["split"].fund_pay == D("7650.00")  # 9000 × 85%
    assert rows["long_term"]["notes"] == []


def test_outpatient_estimate_counts_the_deductible_already_paid_this_year(client, demo):
    person = demo["chenming"].insured
    AnnualAccumulation.objects.update_or_create(
        person=person,
        year=timezone.localdate().year,
        defaults={"fund_paid": D("0"), "outpatient_deductible_paid": D("600")},
    )
    response = estimate(
        client, demo["chenming"], care_type="chronic_outpatient", estimated_total="2000"
    )
    rows = rows_of(response)
    # long term: deductible 1000 − 600 = 400; (2000 − 400) × 85% = 1360.00
    assert rows["long_term"]["split"].deductible == D("400.00")
    assert rows["long_term"]["split"].fund_pay == D("1360.00")
    # temporary: deductible 1500 − 600 = 900; (2000 − 900) × 65% = 715.00
    assert rows["temporary"]["split"].fund_pay == D("715.00")
    assert 'id="ytd"' in response.content.decode()


def test_total_and_split_together_are_refused(client, demo):
    response = estimate(client, demo["chenming"], estimated_total="1000", class_a="1000")
    assert response.context["rows"] == []
    assert "either an estimated total or the class A/B/C split" in response.content.decode()


def test_neither_total_nor_split_is_refused(client, demo):
    response = estimate(client, demo["chenming"], estimated_total="", class_a="")
    assert response.context["rows"] == []
    assert response.context["form"].non_field_errors()


def test_the_province_narrows_the_regions(client, demo):
    response = estimate(client, demo["chenming"], province="460000", estimated_total="1000")
    form = response.context["form"]
    codes = {code for _group, choices in form.fields["region"].choices[1:] for code, _ in choices}
    assert codes == {SANYA}
    other = estimate(
        client, demo["chenming"], province="460000", region=SHENYANG, estimated_total="1000"
    )
    assert "region" in other.context["form"].errors


@translation.override("en")
def test_explain_says_how_much_dearer_once():
    # Why it is dearer is said once, by the category's terms beside it (benefit_terms.html).
    assert explain(extra=D("0"), best_label="X") == "The cheapest here."
    assert explain(extra=D("10.00"), best_label="X") == "You would pay 10.00 more than with X."


def test_estimator_is_for_insured_persons(client, demo):
    client.force_login(demo["hosp_h23010300001"])
    assert client.get(reverse("settlement:estimate")).status_code == 404


# domain.md §3.3, first row: the estimator's temporary row at the home level when the purpose
# keeps it (figures of tests/settlement/test_home_level_temporary.py, 10,000 of class A).
DALIAN = "210200"


def test_rule_3_3_estimator_a_residents_scheme_student_keeps_the_home_level(client, demo):
    reduced = rows_of(estimate(client, demo["zhangwei"], estimated_total="10000"))
    assert reduced["temporary"]["split"].fund_pay == D("3280.00")
    assert reduced["temporary"]["notes"] == [
        "Going there to study? Choose Study above: you would keep the home level."
    ]
    studying = rows_of(estimate(client, demo["zhangwei"], estimated_total="10000", purpose="study"))
    assert studying["temporary"]["split"].fund_pay == D("5280.00")
    assert studying["temporary"]["split"] == studying["long_term"]["split"]
    assert studying["temporary"]["extra"] == 0
    assert studying["temporary"]["notes"] == [
        "As a residents' scheme student there, you keep your home benefit level."
    ]


def test_rule_3_3_estimator_an_employee_studying_is_still_reduced(client, demo):
    rows = rows_of(estimate(client, demo["chenming"], estimated_total="10000", purpose="study"))
    assert rows["temporary"]["split"].fund_pay < rows["long_term"]["split"].fund_pay
    assert rows["temporary"]["notes"] == [
        "Only residents' scheme members keep the home level when studying elsewhere."
    ]


def test_rule_3_3_estimator_maternity_keeps_the_home_level_within_the_province(client, demo):
    user = demo["chenming"]  # insured in Shenyang, Liaoning
    hint = rows_of(estimate(client, user, region=DALIAN, class_a="10000"))
    assert hint["temporary"]["notes"] == [
        "Going there to give birth? Choose Maternity above: you would keep the home level."
    ]
    assert hint["temporary"]["extra"] > 0
    birth = rows_of(estimate(client, user, region=DALIAN, class_a="10000", purpose="maternity"))
    assert birth["temporary"]["split"] == birth["long_term"]["split"]
    assert birth["temporary"]["notes"] == [
        "Giving birth within your own province keeps your home benefit level."
    ]
    elsewhere = rows_of(estimate(client, user, class_a="10000", purpose="maternity"))
    assert elsewhere["temporary"]["split"].fund_pay == D("5525.00")  # Sanya: still reduced
    assert elsewhere["temporary"]["notes"] == [
        "Maternity keeps the home level only within your own province; Sanya is not."
    ]


def test_estimator_refuses_an_unknown_purpose(client, demo):
    response = estimate(client, demo["chenming"], estimated_total="10000", purpose="holiday")
    assert response.context["rows"] == []
    assert "purpose" in response.context["form"].errors


def test_amounts_said_in_sentences_are_grouped_and_held_stays_are_told_apart(client, demo):
    """The year so far as *My settlements* shows it: what the fund has paid, and apart from it
    what is reserved for a stay held for review; every amount with its thousands grouped."""
    from tests.settlement.test_hospital_settlements import CHEN, H1, _settle

    held = _settle(H1, who=CHEN, emergency=True)
    assert held.status == "held_for_review" and held.fund_pay > 0
    person = demo["chenming"].insured
    year = timezone.localdate().year
    ytd = AnnualAccumulation.objects.get(person=person, year=year)
    ytd.fund_paid += D("144178.56")
    ytd.outpatient_deductible_paid = D("1200")
    ytd.save()
    client.force_login(demo["chenming"])
    query = {"region": SANYA, "level": 3, "care_type": "inpatient", "estimated_total": "50000"}
    response = client.get(reverse("settlement:estimate"), query)  # Chinese, the default
    said = response.content.decode().split('id="ytd">')[1].split("</p>")[0]
    assert "144,178.56" in said and "144178.56" not in said  # paid, without the held stay
    assert f"{held.fund_pay:,.2f}" in said and "审核" in said
    assert "1,200.00" in said
    whys = " ".join(r["why"] for r in response.context["rows"])
    assert "多付" in whys and re.search(r"多付\d{1,3}(,\d{3})+\.\d\d", whys), whys
