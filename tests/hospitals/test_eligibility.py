"""The admission-desk decision, without a database: every category and every reason."""

import datetime
from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils import translation

from hospitals.eligibility import FilingView, HospitalView, PersonView, decide

DAY = datetime.date(2026, 11, 22)
ALL_CARE = frozenset({"inpatient", "general_outpatient", "chronic_outpatient"})

WANG = PersonView(
    "王秀兰",
    "王*兰",
    "2327**********0223",
    "employee",
    "232700",
    "大兴安岭地区",
    resettled_reduction=True,
)
LI = PersonView("李建国", "李*国", "2101**********0352", "employee", "210100", "沈阳市")
SANYA = HospitalView("H46020000001", "三亚市人民医院", "460200", "三亚市", ALL_CARE)
SANYA_OTHER = HospitalView("H46020000009", "另一家医院", "460200", "三亚市", ALL_CARE)
HARBIN = HospitalView("H23010300001", "哈医大一院", "230100", "哈尔滨市", ALL_CARE)
HARBIN_16 = HospitalView("H23010300016", "哈尔滨市第一医院", "230100", "哈尔滨市", ALL_CARE)
SHENYANG = HospitalView("H21010000001", "沈阳医院", "210100", "沈阳市", ALL_CARE)
DXAL = HospitalView("H23270000001", "大兴安岭医院", "232700", "大兴安岭地区", ALL_CARE)

LONG_TERM = FilingView(
    "F1",
    "long_term",
    "resettled_retiree",
    "approved",
    "460200",
    "三亚市",
    ALL_CARE,
    valid_from=DAY - datetime.timedelta(days=99),
    valid_until=None,
    hospitals=("H46020000001", "H46020000002", "H46020000003"),
    two_way=True,
)
ONE_WAY = FilingView(
    "F2",
    "long_term",
    "long_term_resident",
    "approved",
    "230100",
    "哈尔滨市",
    ALL_CARE,
    valid_from=DAY - datetime.timedelta(days=150),
    two_way=False,
    commitment_deadline=DAY + datetime.timedelta(days=30),
    materials_outstanding=True,
)
REFERRAL = FilingView(
    "F3",
    "referral",
    "",
    "approved",
    "230100",
    "哈尔滨市",
    frozenset({"inpatient"}),
    valid_from=DAY - datetime.timedelta(days=5),
    valid_until=DAY + datetime.timedelta(days=25),
    receiving_hospital="H23010300001",
)
TEMPORARY = FilingView(
    "F4",
    "temporary",
    "",
    "approved",
    "230100",
    "哈尔滨市",
    ALL_CARE,
    valid_from=DAY - datetime.timedelta(days=20),
    valid_until=DAY + datetime.timedelta(days=160),
)
EMERGENCY = FilingView(
    "F5",
    "emergency",
    "",
    "approved",
    "230100",
    "哈尔滨市",
    frozenset({"inpatient"}),
    valid_from=DAY - datetime.timedelta(days=1),
    valid_until=DAY + datetime.timedelta(days=30),
)


def run(person, hospital, filings, care="inpatient", day=DAY, lang="en"):
    with translation.override(lang):
        decision = decide(
            person=person, hospital=hospital, care_type=care, visit_date=day, filings=filings
        )
        decision.reasons = [str(r) for r in decision.reasons]
    return decision


def test_local_when_the_hospital_is_in_the_persons_own_region():
    d = run(LI, SHENYANG, [])
    assert (d.eligible, d.category, d.two_way) == (True, "local", False)


def test_rule_2_1_two_way_filing_is_eligible_at_home_at_local_level():
    home = HospitalView("H23270000001", "x", "232700", "大兴安岭地区", ALL_CARE)
    d = run(WANG, home, [LONG_TERM])
    assert (d.eligible, d.category, d.two_way) == (True, "local", True)
    assert d.adjustment.ratio_reduction_points == 0


def test_rule_2_1_one_way_commitment_filing_is_not_eligible_at_home():
    d = run(LI, SHENYANG, [ONE_WAY])
    assert (d.eligible, d.category) == (False, "local")
    assert "one-way" in d.reasons[0] and "commitment" in d.reasons[0]
    assert "2026-12-22" in d.reasons[0]


def test_rule_2_1_one_way_commitment_filing_is_eligible_at_the_place_of_residence():
    d = run(LI, HARBIN, [ONE_WAY])
    assert (d.eligible, d.category, d.two_way) == (True, "long_term", False)
    assert any("outstanding" in r for r in d.reasons)


def test_long_term_at_a_chosen_hospital_is_eligible_with_daxinganling_minus_5():
    d = run(WANG, SANYA, [LONG_TERM])
    assert (d.eligible, d.category, d.two_way) == (True, "long_term", True)
    assert d.adjustment.ratio_reduction_points == 5
    assert d.filing.number == "F1"


def test_rule_2_1_hospital_not_among_the_chosen_three_is_not_eligible():
    d = run(WANG, SANYA_OTHER, [LONG_TERM])
    assert (d.eligible, d.category) == (False, "none")
    assert "not among the hospitals chosen" in d.reasons[0]
    assert "H46020000001" in d.reasons[0]


def test_rule_2_2_referral_only_at_the_named_hospital():
    assert run(LI, HARBIN, [REFERRAL]).category == "referral"
    assert run(LI, HARBIN, [REFERRAL]).adjustment.ratio_reduction_points == 10
    d = run(LI, HARBIN_16, [REFERRAL])
    assert (d.eligible, d.category) == (False, "none")
    assert "names another hospital (H23010300001)" in d.reasons[0]


def test_care_type_not_covered_is_a_reason():
    d = run(LI, HARBIN, [REFERRAL], care="general_outpatient")
    assert not d.eligible
    assert "does not cover general outpatient care" in d.reasons[0]


def test_rule_2_4_temporary_filing_gives_minus_20_and_raised_deductible():
    d = run(LI, HARBIN, [TEMPORARY])
    assert (d.eligible, d.category) == (True, "temporary")
    assert d.adjustment.ratio_reduction_points == 20
    assert d.adjustment.deductible_multiplier == Decimal("1.50")


def test_rule_2_3_emergency_filing_settles_as_emergency():
    d = run(LI, HARBIN, [EMERGENCY])
    assert (d.eligible, d.category) == (True, "emergency")
    assert d.adjustment.ratio_reduction_points == 10


def test_long_term_is_preferred_over_temporary_when_both_cover_the_visit():
    d = run(LI, HARBIN, [TEMPORARY, ONE_WAY])
    assert d.category == "long_term"


def test_expired_filing_says_when_it_expired():
    expired = replace(REFERRAL, status="expired", valid_until=DAY - datetime.timedelta(days=15))
    d = run(LI, HARBIN, [expired])
    assert (d.eligible, d.category) == (False, "none")
    assert f"was valid until {DAY - datetime.timedelta(days=15)} and has expired" in d.reasons[0]


def test_validity_passed_but_not_yet_marked_expired_also_says_expired():
    late = replace(TEMPORARY, valid_until=DAY - datetime.timedelta(days=1))
    assert "has expired" in run(LI, HARBIN, [late]).reasons[0]


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("submitted", "pending review"),
        ("returned", "returned to the person"),
        ("rejected", "was rejected"),
        ("cancelled", "was cancelled"),
        ("revoked", "was revoked"),
    ],
)
def test_filings_not_in_force_give_their_state_as_the_reason(status, words):
    d = run(LI, HARBIN, [replace(ONE_WAY, status=status)])
    assert (d.eligible, d.category) == (False, "none")
    assert words in d.reasons[0]


def test_rule_2_1_benefits_from_the_day_after_approval_not_yet_effective():
    tomorrow = replace(LONG_TERM, valid_from=DAY + datetime.timedelta(days=1))
    d = run(WANG, SANYA, [tomorrow])
    assert not d.eligible
    assert f"takes effect on {DAY + datetime.timedelta(days=1)}" in d.reasons[0]


def test_wrong_place_is_a_reason():
    d = run(LI, SANYA, [TEMPORARY])
    assert not d.eligible
    assert "is for 哈尔滨市, not 三亚市" in d.reasons[0]


def test_no_filing_elsewhere_mentions_emergency_and_retro_filing():
    d = run(LI, HARBIN, [])
    assert (d.eligible, d.category) == (False, "none")
    assert any("Emergency care can still be settled" in r for r in d.reasons)
    assert any("before discharge settlement" in r for r in d.reasons)


def test_suspended_hospital_is_not_eligible_even_with_a_filing():
    suspended = replace(SANYA, suspended_on=DAY - datetime.timedelta(days=3))
    d = run(WANG, suspended, [LONG_TERM])
    assert not d.eligible
    assert any("suspended" in r for r in d.reasons)


def test_hospital_without_the_service_is_not_eligible():
    no_chronic = replace(HARBIN, services=frozenset({"inpatient"}))
    d = run(LI, no_chronic, [TEMPORARY], care="chronic_outpatient")
    assert not d.eligible
    assert any("does not offer direct settlement" in r for r in d.reasons)


def test_inactive_insurance_is_not_eligible_at_home():
    d = run(replace(LI, active=False), SHENYANG, [])
    assert not d.eligible
    assert "not active" in d.reasons[0]


def test_every_reason_is_given_when_several_filings_fail():
    d = run(LI, HARBIN_16, [REFERRAL, replace(TEMPORARY, status="submitted")])
    assert len(d.reasons) >= 3  # referral elsewhere, pending review, emergency advice


def test_reasons_are_in_chinese_by_default():
    d = run(LI, HARBIN_16, [REFERRAL], lang="zh-hans")
    assert "H23010300001" in d.reasons[0]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in d.reasons[0])


CHRONIC = FilingView(
    "F6",
    "chronic_outpatient",
    "",
    "approved",
    "230100",
    "哈尔滨市",
    frozenset({"chronic_outpatient"}),
    valid_from=DAY - datetime.timedelta(days=10),
    valid_until=DAY + datetime.timedelta(days=170),
)
TEMPORARY_NO_CHRONIC = replace(TEMPORARY, covers=frozenset({"inpatient", "general_outpatient"}))


def test_rule_2_5_chronic_filing_keeps_the_reduction_of_the_temporary_filing_under_it():
    d = run(LI, HARBIN, [CHRONIC, TEMPORARY_NO_CHRONIC], care="chronic_outpatient")
    assert (d.eligible, d.category) == (True, "temporary")
    assert d.filing.number == "F6"  # the filing that covers the visit
    assert d.adjustment.ratio_reduction_points == 20
    assert d.adjustment.deductible_multiplier == Decimal("1.50")
    # Also when the temporary filing itself covers chronic care.
    d = run(LI, HARBIN, [TEMPORARY, CHRONIC], care="chronic_outpatient")
    assert d.category == "temporary" and d.adjustment.ratio_reduction_points == 20


def test_rule_2_5_chronic_filing_on_a_long_term_filing_settles_as_long_term():
    base = replace(ONE_WAY, covers=frozenset({"inpatient", "general_outpatient"}))
    d = run(LI, HARBIN, [CHRONIC, TEMPORARY_NO_CHRONIC, base], care="chronic_outpatient")
    assert (d.eligible, d.category) == (True, "long_term")
    assert d.adjustment.ratio_reduction_points == 0


def test_rule_2_5_a_temporary_filing_elsewhere_or_not_in_force_is_not_the_base():
    # Without its base in force on the visit day the chronic filing covers nothing: it never
    # settles at better (long-term) rates than the filing it sits on.
    elsewhere = replace(TEMPORARY_NO_CHRONIC, place_region_code="460200")
    expired = replace(
        TEMPORARY_NO_CHRONIC, status="expired", valid_until=DAY - datetime.timedelta(days=1)
    )
    for other in (elsewhere, expired):
        d = run(LI, HARBIN, [CHRONIC, other], care="chronic_outpatient")
        assert (d.eligible, d.category, d.filing) == (False, "none", None)
        assert any("F6" in r for r in d.reasons)
    d = run(LI, HARBIN, [CHRONIC, expired], care="chronic_outpatient")
    assert any("F6" in r and "F4 was valid until 2026-11-21" in r for r in d.reasons)


def test_regional_category_adjustments_replace_the_defaults():
    from hospitals.eligibility import Adjustment

    regional = {
        "temporary": Adjustment(15, Decimal("1.20"), Decimal("0.90")),
        "resettled": Adjustment(3),
    }
    d = decide(
        person=LI,
        hospital=HARBIN,
        care_type="inpatient",
        visit_date=DAY,
        filings=[TEMPORARY],
        adjustments=regional,
    )
    assert d.adjustment == regional["temporary"]
    d = decide(
        person=WANG,
        hospital=SANYA,
        care_type="inpatient",
        visit_date=DAY,
        filings=[LONG_TERM],
        adjustments=regional,
    )
    assert d.adjustment.ratio_reduction_points == 3
