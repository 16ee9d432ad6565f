"""The split of a bill: worked examples by hand (demo policy of domain.md §4) and properties."""

import datetime
from decimal import Decimal as D

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from settlement.engine import (
    Adjustment,
    Item,
    Medication,
    Policy,
    RuleError,
    YearToDate,
    policy_year,
    split,
    validate_adjustment,
)

EMPLOYEE_TERTIARY = Policy(D("1000"), D("0.85"), D("300000"), D("0.10"))
RESIDENT_TERTIARY = Policy(D("1200"), D("0.60"), D("150000"), D("0.10"))
REFERRAL = Adjustment(10, D("1.00"))
TEMPORARY = Adjustment(20, D("1.50"))
RESETTLED = Adjustment(5)
UNAPPROVED = Adjustment(10, D("1.00"), D("0.50"))


@pytest.mark.parametrize(
    ("klass", "self_paid", "first_self_pay", "in_scope"),
    [
        ("A", "0.00", "0.00", "2000.00"),
        ("B", "0.00", "200.00", "1800.00"),
        ("C", "2000.00", "0.00", "0.00"),
    ],
)
def test_rule_3_1_each_class_of_item_is_in_scope_in_part_or_not_at_all(
    klass, self_paid, first_self_pay, in_scope
):
    # Class A wholly in scope; class B after the 10% first self-pay; class C (self-paid) not at
    # all: the person pays it whole and the fund pays nothing of it.
    s = split(
        policy=Policy(D("0"), D("0.85"), D("300000"), D("0.10")), items=[Item(D("2000"), klass)]
    )
    assert (str(s.self_paid), str(s.first_self_pay), str(s.in_scope)) == (
        self_paid,
        first_self_pay,
        in_scope,
    )
    assert s.fund_pay == (D(in_scope) * D("0.85")).quantize(D("0.01"))
    assert s.fund_pay + s.person_pay == s.total


def test_rule_3_2_employee_long_term_at_a_tertiary_hospital():
    # A 10000, B 5000 (10% first self-pay = 500), C 1000 self-paid.
    # in scope 16000 - 1000 - 500 = 14500; deductible 1000; fund 13500 x 85% = 11475.00.
    s = split(
        policy=EMPLOYEE_TERTIARY,
        items=[Item(D("10000"), "A"), Item(D("5000"), "B"), Item(D("1000"), "C")],
    )
    assert (s.total, s.self_paid, s.first_self_pay, s.in_scope) == (
        D("16000.00"),
        D("1000.00"),
        D("500.00"),
        D("14500.00"),
    )
    assert (s.deductible, s.fund_pay, s.coinsurance, s.person_pay) == (
        D("1000.00"),
        D("11475.00"),
        D("2025.00"),
        D("4525.00"),
    )


def test_rule_3_3_resident_referral_ratio_reduced_by_10_points():
    # 20000 in scope; deductible 1200; (20000 - 1200) x (60% - 10%) = 9400.00.
    s = split(policy=RESIDENT_TERTIARY, items=[Item(D("20000"), "A")], adjustment=REFERRAL)
    assert (s.fund_pay, s.person_pay) == (D("9400.00"), D("10600.00"))


def test_rule_3_3_other_temporary_raised_deductible_and_minus_20():
    # deductible 1000 x 1.5 = 1500; (10000 - 1500) x 65% = 5525.00.
    s = split(policy=EMPLOYEE_TERTIARY, items=[Item(D("10000"), "A")], adjustment=TEMPORARY)
    assert (s.deductible, s.fund_pay, s.person_pay) == (D("1500.00"), D("5525.00"), D("4475.00"))


def test_rule_3_3_daxinganling_resettled_minus_5():
    # (10000 - 1000) x 80% = 7200.00.
    s = split(policy=EMPLOYEE_TERTIARY, items=[Item(D("10000"), "A")], adjustment=RESETTLED)
    assert (s.fund_pay, s.person_pay) == (D("7200.00"), D("2800.00"))


def test_rule_2_2_transfer_without_approved_referral_pays_50_percent():
    # as referral (75%), then half: (10000 - 1000) x 75% x 50% = 3375.00.
    s = split(policy=EMPLOYEE_TERTIARY, items=[Item(D("10000"), "A")], adjustment=UNAPPROVED)
    assert (s.fund_pay, s.person_pay) == (D("3375.00"), D("6625.00"))


def test_rule_3_2_bill_crossing_the_annual_cap():
    # 295000 paid this year: 5000 of the cap is left; the fund would pay 7650.00.
    s = split(
        policy=EMPLOYEE_TERTIARY,
        items=[Item(D("10000"), "A")],
        ytd=YearToDate(fund_paid=D("295000")),
    )
    assert (s.fund_pay, s.over_cap, s.person_pay) == (D("5000.00"), D("2650.00"), D("5000.00"))
    assert "over_annual_cap" in s.flags


def test_rule_3_4_discharge_medication_over_the_limits_is_not_paid_by_the_fund():
    # Five kinds of 100 each; one acute drug for 14 days (half of it beyond 7 days: worth 50 to
    # the fund). Of five kinds the fund pays the four worth most, so the 14-day drug is the
    # fifth kind and not paid at all: 100 not covered. In scope 10400; fund 9400 x 85% = 7990.00.
    meds = [
        Item(D("100"), "A", medication=Medication(14 if i == 0 else 7, "acute")) for i in range(5)
    ]
    s = split(policy=EMPLOYEE_TERTIARY, items=[Item(D("10000"), "A"), *meds])
    assert s.not_covered_medication == D("100.00")
    assert (s.fund_pay, s.person_pay) == (D("7990.00"), D("2510.00"))
    assert "discharge_medication_excess" in s.flags


def test_rule_3_4_discharge_medication_the_fund_pays_the_four_kinds_worth_most():
    # A self-paid drug is a fifth kind but worth nothing to the fund: it is the one left out,
    # wherever it is on the bill, and the four covered kinds are paid in full.
    covered = [Item(D(a), "A", code=f"M{a}", medication=Medication(7, "acute")) for a in "1234"]
    self_paid = Item(D("50"), "C", code="C1", medication=Medication(7, "acute"))
    for items in ([self_paid, *covered], [*covered, self_paid]):
        s = split(policy=Policy(D("0"), D("0.85"), D("300000")), items=items)
        assert (s.self_paid, s.not_covered_medication, s.in_scope) == (
            D("50.00"),
            D("0.00"),
            D("10.00"),
        )
        assert "discharge_medication_excess" in s.flags


def test_rule_3_4_discharge_medication_days_of_one_drug_on_several_lines_add_up():
    # One acute drug on two lines, 5 + 9 = 14 days: half of its days are beyond 7, so half of
    # each line is not paid, in either order (30 + 70 -> 50 not covered).
    lines = [
        Item(D("30"), "A", code="D1", medication=Medication(5, "acute")),
        Item(D("70"), "A", code="D1", medication=Medication(9, "acute")),
    ]
    for items in (lines, lines[::-1]):
        assert split(policy=EMPLOYEE_TERTIARY, items=items).not_covered_medication == D("50.00")


_drug = st.builds(
    Item,
    amount=st.decimals(min_value=D("0.01"), max_value=D("500"), places=2),
    cls=st.sampled_from("ABC"),
    code=st.sampled_from(["", "D1", "D2", "D3", "D4", "D5", "D6"]),
    name=st.sampled_from(["", "甲", "乙"]),
    medication=st.builds(
        Medication, days=st.integers(1, 40), kind=st.sampled_from(["acute", "chronic", "special"])
    ),
)


@settings(max_examples=150, deadline=None)
@given(items=st.lists(_drug, min_size=1, max_size=8), data=st.data())
def test_rule_3_4_discharge_medication_does_not_depend_on_the_order_of_the_bill(items, data):
    shuffled = data.draw(st.permutations(items))
    a = split(policy=EMPLOYEE_TERTIARY, items=items)
    b = split(policy=EMPLOYEE_TERTIARY, items=list(shuffled))
    assert (a.not_covered_medication, a.fund_pay, a.flags) == (
        b.not_covered_medication,
        b.fund_pay,
        b.flags,
    )


def test_rule_2_2_unapproved_transfer_pays_half_of_what_the_capped_fund_would_pay():
    # 299000 paid this year leaves 1000 of the cap. An approved referral would pay 1000.00 (the
    # cap cuts 5750); without an approved referral the fund pays 50% of that: 500.00.
    ytd = YearToDate(fund_paid=D("299000"))
    items = [Item(D("10000"), "A")]
    referral = split(policy=EMPLOYEE_TERTIARY, items=items, adjustment=REFERRAL, ytd=ytd)
    s = split(policy=EMPLOYEE_TERTIARY, items=items, adjustment=UNAPPROVED, ytd=ytd)
    assert (referral.fund_pay, referral.over_cap) == (D("1000.00"), D("5750.00"))
    assert (s.fund_pay, s.over_cap, s.coinsurance) == (D("500.00"), D("5750.00"), D("2750.00"))
    assert s.fund_pay + s.person_pay == s.total


@pytest.mark.parametrize(
    ("kind", "days", "excess"),
    [
        ("acute", 7, "0.00"),
        ("acute", 8, "12.50"),
        ("chronic", 15, "0.00"),
        ("chronic", 20, "25.00"),
        ("special", 30, "0.00"),
        ("special", 40, "25.00"),
    ],
)
def test_rule_3_4_discharge_medication_days_by_kind(kind, days, excess):
    s = split(
        policy=EMPLOYEE_TERTIARY, items=[Item(D("100"), "A", medication=Medication(days, kind))]
    )
    assert s.not_covered_medication == D(excess)


def test_rule_3_4_stay_across_two_years_uses_the_discharge_year():
    assert policy_year(datetime.date(2025, 12, 28), datetime.date(2026, 1, 5)) == 2026


def test_rule_3_2_outpatient_deductible_is_per_year():
    first = split(policy=EMPLOYEE_TERTIARY, items=[Item(D("600"), "A")], outpatient=True)
    assert first.deductible == D("600.00") and first.fund_pay == D("0.00")
    second = split(
        policy=EMPLOYEE_TERTIARY,
        items=[Item(D("600"), "A")],
        outpatient=True,
        ytd=YearToDate(deductible_paid=D("600")),
    )
    assert second.deductible == D("400.00")
    assert second.fund_pay == D("170.00")


def test_rule_3_2_rounding_is_half_up_once_per_component():
    s = split(policy=Policy(D("0"), D("0.85"), D("1000000")), items=[Item(D("0.03"), "A")])
    assert s.fund_pay == D("0.03")  # 0.0255 -> 0.03 (half up), not banker's 0.02


@pytest.mark.parametrize(
    ("category", "points", "ok"),
    [
        ("referral", 10, True),
        ("referral", 11, False),
        ("emergency", 10, True),
        ("temporary", 20, True),
        ("temporary", 21, False),
        ("long_term", 1, False),
        ("resettled", 5, True),
    ],
)
def test_rule_3_3_reduction_above_the_category_cap_is_refused(category, points, ok):
    if ok:
        validate_adjustment(category, points)
    else:
        with pytest.raises(RuleError):
            validate_adjustment(category, points)


amounts = st.decimals(min_value=D("0.01"), max_value=D("200000"), places=2)
items_st = st.lists(
    st.builds(
        Item,
        amount=amounts,
        cls=st.sampled_from(["A", "B", "C"]),
        # A line's own class B rate, as the API takes it (0 to 1), or the policy's.
        first_self_pay_rate=st.one_of(st.none(), st.decimals(min_value=0, max_value=1, places=2)),
        medication=st.one_of(
            st.none(),
            st.builds(
                Medication,
                days=st.integers(1, 60),
                kind=st.sampled_from(["acute", "chronic", "special"]),
            ),
        ),
    ),
    min_size=1,
    max_size=12,
)
policies = st.builds(
    Policy,
    deductible=st.decimals(min_value=0, max_value=2000, places=0),
    ratio=st.decimals(min_value=D("0.30"), max_value=D("1.00"), places=2),
    annual_cap=st.decimals(min_value=1000, max_value=400000, places=0),
    class_b_rate=st.decimals(min_value=0, max_value=1, places=3),
)
adjustments = st.builds(
    Adjustment,
    ratio_reduction_points=st.integers(0, 20),
    deductible_multiplier=st.sampled_from([D("1.00"), D("1.50"), D("2.00")]),
    fund_share=st.sampled_from([D("1.00"), D("0.50")]),
)
ytds = st.builds(
    YearToDate,
    fund_paid=st.decimals(min_value=0, max_value=400000, places=2),
    deductible_paid=st.decimals(min_value=0, max_value=3000, places=2),
)


@settings(max_examples=500, deadline=None)
@given(policies, items_st, adjustments, ytds, st.booleans())
# A class B line at a rate of 1 with half its days over the limit: the first self-pay and the
# medication part each round up half a cent, past what is left of the bill.
@example(
    Policy(D("0"), D("0.85"), D("300000"), D("0.10")),
    [Item(D("100.01"), "B", first_self_pay_rate=D("1"), medication=Medication(14, "acute"))],
    Adjustment(),
    YearToDate(),
    False,
)
def test_rule_3_2_property_every_component_is_non_negative_and_fund_plus_person_is_total(
    policy, items, adjustment, ytd, outpatient
):
    s = split(policy=policy, items=items, adjustment=adjustment, ytd=ytd, outpatient=outpatient)
    for name in (
        "total",
        "self_paid",
        "first_self_pay",
        "not_covered_medication",
        "in_scope",
        "deductible",
        "coinsurance",
        "over_cap",
        "fund_pay",
        "person_pay",
    ):
        assert getattr(s, name) >= 0, name
    assert s.fund_pay + s.person_pay == s.total
    assert (
        s.self_paid
        + s.first_self_pay
        + s.not_covered_medication
        + s.deductible
        + s.coinsurance
        + s.over_cap
        + s.fund_pay
    ) == s.total


@settings(max_examples=500, deadline=None)
@given(policies, items_st, adjustments, ytds)
def test_rule_3_1_property_the_fund_never_pays_class_c(policy, items, adjustment, ytd):
    only_c = [Item(i.amount, "C") for i in items]
    assert split(policy=policy, items=only_c, adjustment=adjustment, ytd=ytd).fund_pay == 0
    base = split(policy=policy, items=items, adjustment=adjustment, ytd=ytd)
    more = split(policy=policy, items=items + only_c, adjustment=adjustment, ytd=ytd)
    assert more.fund_pay == base.fund_pay


@settings(max_examples=500, deadline=None)
@given(
    policies,
    items_st,
    adjustments,
    ytds,
    st.builds(Item, amount=amounts, cls=st.sampled_from(["A", "B", "C"])),
)
def test_rule_3_2_property_adding_an_item_never_lowers_the_persons_share(
    policy, items, adjustment, ytd, extra
):
    base = split(policy=policy, items=items, adjustment=adjustment, ytd=ytd)
    more = split(policy=policy, items=[*items, extra], adjustment=adjustment, ytd=ytd)
    assert more.person_pay >= base.person_pay


@settings(max_examples=500, deadline=None)
@given(
    policies, items_st, adjustments, ytds, st.decimals(min_value=0, max_value=D("0.30"), places=2)
)
def test_property_a_higher_ratio_never_lowers_the_funds_share(
    policy, items, adjustment, ytd, more_ratio
):
    higher = Policy(
        policy.deductible,
        min(D("1.00"), policy.ratio + more_ratio),
        policy.annual_cap,
        policy.class_b_rate,
    )
    assert (
        split(policy=higher, items=items, adjustment=adjustment, ytd=ytd).fund_pay
        >= split(policy=policy, items=items, adjustment=adjustment, ytd=ytd).fund_pay
    )


MONEY_FIELDS = (
    "total",
    "self_paid",
    "first_self_pay",
    "not_covered_medication",
    "in_scope",
    "deductible",
    "coinsurance",
    "over_cap",
    "fund_pay",
    "person_pay",
)


def test_an_all_class_c_bill_prints_every_component_with_two_decimals():
    # Nothing in scope: in_scope and deductible were a bare Decimal("0") and printed "0".
    s = split(policy=EMPLOYEE_TERTIARY, items=[Item(D("500"), "C")])
    assert s.breakdown() == {
        "self_paid": "500.00",
        "first_self_pay": "0.00",
        "deductible": "0.00",
        "coinsurance": "0.00",
        "over_cap": "0.00",
        "not_covered_medication": "0.00",
    }
    assert (str(s.in_scope), str(s.fund_pay), str(s.person_pay)) == ("0.00", "0.00", "500.00")


def test_outpatient_after_the_yearly_deductible_is_used_up_prints_0_00():
    # Deductible already paid in full this year: (600 - 0) x 85% = 510.00.
    s = split(
        policy=EMPLOYEE_TERTIARY,
        items=[Item(D("600"), "A")],
        outpatient=True,
        ytd=YearToDate(deductible_paid=D("1000")),
    )
    assert s.breakdown()["deductible"] == "0.00"
    assert (s.fund_pay, s.person_pay) == (D("510.00"), D("90.00"))


@settings(max_examples=500, deadline=None)
@given(policies, items_st, adjustments, ytds, st.booleans())
def test_property_every_component_has_exactly_two_decimal_places(
    policy, items, adjustment, ytd, outpatient
):
    s = split(policy=policy, items=items, adjustment=adjustment, ytd=ytd, outpatient=outpatient)
    for name in MONEY_FIELDS:
        assert getattr(s, name).as_tuple().exponent == -2, (name, getattr(s, name))


def test_rule_3_4_one_drug_on_several_lines_is_one_kind():
    # Four drugs, the first on two lines of 3 days (6 in all, within 7): still four kinds, and
    # nothing beyond the limits.
    lines = [("D1", 3), ("D2", 3), ("D3", 3), ("D4", 3), ("D1", 3)]
    meds = [Item(D("100"), "A", code=c, medication=Medication(d, "acute")) for c, d in lines]
    s = split(policy=EMPLOYEE_TERTIARY, items=[Item(D("10000"), "A"), *meds])
    assert s.not_covered_medication == D("0.00")
    assert "discharge_medication_excess" not in s.flags
    # A fifth drug is beyond the four kinds, wholly.
    fifth = Item(D("80"), "A", code="D5", medication=Medication(1, "acute"))
    s = split(policy=EMPLOYEE_TERTIARY, items=[Item(D("10000"), "A"), *meds, fifth])
    assert s.not_covered_medication == D("80.00")


def test_rule_3_4_days_of_one_drug_add_up_across_lines():
    # 5 + 5 days of one acute drug: 7 allowed, so 3 of the second line's 5 days are not paid.
    meds = [Item(D("100"), "A", name="阿莫西林", medication=Medication(5, "acute")) for _ in "ab"]
    s = split(policy=EMPLOYEE_TERTIARY, items=meds)
    assert s.not_covered_medication == D("60.00")
    assert "discharge_medication_excess" in s.flags
