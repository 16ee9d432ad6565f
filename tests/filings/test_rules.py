"""domain.md §2 rules, without a database."""

import datetime
import itertools

import pytest

from filings import rules
from filings.rules import Parameters, RuleError

LIAONING = Parameters()
DAXINGANLING = Parameters(
    benefits_start="day_after",
    lock_months=12,
    long_term_validity_months=12,
    max_hospitals=3,
    referral_validity_months=None,
    referral_start_window_months=1,
    referral_course_days=60,
)
D = datetime.date


@pytest.mark.parametrize(("current", "target"), list(itertools.product(rules.STATES, repeat=2)))
def test_rule_2_6_transition_table_every_allowed_and_every_forbidden_move(current, target):
    allowed = target in rules.ALLOWED[current]
    filing_type = "temporary" if (current, target) == ("draft", "approved") else "long_term"
    if allowed:
        rules.check_transition(current, target, filing_type=filing_type)
    else:
        with pytest.raises(RuleError):
            rules.check_transition(current, target, filing_type=filing_type)


def test_rule_2_6_the_table_is_the_documented_one():
    assert rules.ALLOWED == {
        "draft": {"submitted", "approved", "cancelled"},
        "submitted": {"approved", "rejected", "returned", "cancelled"},
        "returned": {"submitted", "cancelled"},
        "approved": {"expired", "cancelled", "revoked"},
        "rejected": set(),
        "expired": set(),
        "cancelled": set(),
        "revoked": set(),
    }


def test_rule_2_6_only_automatic_filings_go_from_draft_to_approved():
    rules.check_transition("draft", "approved", filing_type="temporary")
    with pytest.raises(RuleError) as error:
        rules.check_transition("draft", "approved", filing_type="long_term")
    assert error.value.code == "not_automatic"


def test_rule_2_6_a_second_decision_is_already_decided():
    with pytest.raises(RuleError) as error:
        rules.check_transition("approved", "approved")
    assert error.value.code == "already_decided"


def test_rule_2_1_liaoning_long_term_starts_on_approval_and_is_open_ended():
    assert rules.validity("long_term", LIAONING, D(2026, 3, 10)) == (D(2026, 3, 10), None)


def test_rule_2_1_daxinganling_long_term_starts_the_day_after_and_lasts_12_months():
    assert rules.validity("long_term", DAXINGANLING, D(2026, 3, 10)) == (
        D(2026, 3, 11),
        D(2027, 3, 10),
    )


def test_rule_2_1_liaoning_lock_period_is_6_months():
    with pytest.raises(RuleError) as error:
        rules.check_change_allowed(D(2026, 1, 15), LIAONING, D(2026, 7, 14))
    assert error.value.params["allowed_from"] == D(2026, 7, 15)
    rules.check_change_allowed(D(2026, 1, 15), LIAONING, D(2026, 7, 15))


def test_rule_2_1_daxinganling_lock_period_is_12_months():
    with pytest.raises(RuleError):
        rules.check_change_allowed(D(2026, 1, 15), DAXINGANLING, D(2027, 1, 14))
    rules.check_change_allowed(D(2026, 1, 15), DAXINGANLING, D(2027, 1, 15))


def test_rule_2_1_lock_period_runs_only_after_the_filing_takes_effect():
    """ "Change or cancel after it takes effect: not within N months": before its first day
    (a renewal, a filing for a later trip) the filing is not locked."""
    starts = D(2026, 3, 1)
    for params in (LIAONING, DAXINGANLING):
        assert rules.lock_refusal(starts, D(2027, 2, 28), params, D(2026, 2, 28)) is None
        assert rules.lock_refusal(starts, D(2027, 2, 28), params, starts) is not None


def test_rule_2_1_commitment_period_is_6_months():
    assert rules.commitment_deadline(D(2026, 5, 31), LIAONING) == D(2026, 11, 30)


def test_rule_2_1_two_way_needs_accepted_materials():
    assert rules.two_way("long_term", "approved", "materials", False)
    assert not rules.two_way("long_term", "approved", "commitment", False)
    assert rules.two_way("long_term", "approved", "commitment", True)
    assert not rules.two_way("temporary", "approved", "materials", True)


def test_rule_2_2_liaoning_referral_is_valid_6_months():
    assert rules.validity("referral", LIAONING, D(2026, 1, 31)) == (D(2026, 1, 31), D(2026, 7, 31))


def test_rule_2_2_daxinganling_referral_must_start_within_1_month_course_60_days():
    assert rules.validity("referral", DAXINGANLING, D(2026, 1, 31)) == (
        D(2026, 1, 31),
        D(2026, 2, 28),
    )
    assert rules.course_end(D(2026, 2, 1), DAXINGANLING) == D(2026, 4, 1)


def test_rule_2_4_other_temporary_is_valid_at_least_6_months():
    assert rules.validity("temporary", LIAONING, D(2026, 8, 31)) == (D(2026, 8, 31), D(2027, 2, 28))


def _cn_calendar():
    import holidays

    cn = holidays.country_holidays("CN", years=[2025, 2026])
    return cn.is_working_day


def test_rule_2_3_emergency_3_working_days_skip_weekends_and_holidays():
    # Transfer on Wednesday 30 September 2026: National Day holiday 1–7 October; the make-up
    # working day Saturday 10 October counts. Working days: 8 (Thu), 9 (Fri), 10 (Sat, make-up).
    assert rules.emergency_deadline(D(2026, 9, 30), _cn_calendar()) == D(2026, 10, 10)


def test_rule_2_3_emergency_over_an_ordinary_weekend():
    # Friday 13 November 2026 → Mon 16, Tue 17, Wed 18.
    assert rules.emergency_deadline(D(2026, 11, 13), _cn_calendar()) == D(2026, 11, 18)


def test_rule_2_3_emergency_corrections_by_the_agency_override_the_calendar():
    base = _cn_calendar()

    def corrected(day):
        return False if day == D(2026, 11, 16) else base(day)

    assert rules.emergency_deadline(D(2026, 11, 13), corrected) == D(2026, 11, 19)


def test_rule_2_3_retro_filing_any_time_before_discharge_settlement():
    cal = _cn_calendar()
    rules.check_emergency_retro_filing(
        transfer_date=D(2026, 11, 2),
        today=D(2026, 11, 20),
        discharge_settled=False,
        is_working_day=cal,
    )
    with pytest.raises(RuleError) as error:
        rules.check_emergency_retro_filing(
            transfer_date=D(2026, 11, 2),
            today=D(2026, 11, 20),
            discharge_settled=True,
            is_working_day=cal,
        )
    assert error.value.code == "emergency_too_late"
    rules.check_emergency_retro_filing(
        transfer_date=D(2026, 11, 16),
        today=D(2026, 11, 19),
        discharge_settled=True,
        is_working_day=cal,
    )


def _h(code, region="460200", level=3, kind="general", ownership="public"):
    return rules.HospitalChoice(code, region, level, kind, ownership)


def test_rule_2_1_daxinganling_up_to_3_public_general_secondary_hospitals_at_the_residence():
    rules.check_hospital_choice([_h("A"), _h("B", level=2), _h("C")], DAXINGANLING, "460200")
    cases = {
        "too_many_hospitals": [_h("A"), _h("B"), _h("C"), _h("D")],
        "hospital_not_eligible": [_h("A", level=1)],
        "hospital_elsewhere": [_h("A", region="230100")],
        "choose_hospitals": [],
        "duplicate_hospital": [_h("A"), _h("A")],
    }
    for code, chosen in cases.items():
        with pytest.raises(RuleError) as error:
            rules.check_hospital_choice(chosen, DAXINGANLING, "460200")
        assert error.value.code == code
    for bad in (_h("A", kind="specialised"), _h("A", kind="tcm"), _h("A", ownership="private")):
        with pytest.raises(RuleError):
            rules.check_hospital_choice([bad], DAXINGANLING, "460200")


def test_rule_2_1_liaoning_no_hospitals_to_choose():
    rules.check_hospital_choice([], LIAONING, "460200")
    with pytest.raises(RuleError):
        rules.check_hospital_choice([_h("A")], LIAONING, "460200")
