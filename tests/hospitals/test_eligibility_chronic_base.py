"""domain.md §2.5 at the admission desk: a chronic outpatient filing covers a visit only while a
long-term or temporary filing for the same place is in force that day, and never settles at
better rates than that filing."""

import datetime
from dataclasses import replace

from tests.hospitals.test_eligibility import (
    CHRONIC,
    DAY,
    EMERGENCY,
    HARBIN,
    LI,
    ONE_WAY,
    REFERRAL,
    TEMPORARY_NO_CHRONIC,
    run,
)

BASE = replace(ONE_WAY, covers=frozenset({"inpatient", "general_outpatient"}))  # F2, Harbin


def test_rule_2_5_chronic_filing_whose_long_term_base_expired_covers_nothing():
    expired = replace(BASE, valid_until=DAY - datetime.timedelta(days=1))  # not yet swept
    d = run(LI, HARBIN, [CHRONIC, expired], care="chronic_outpatient")
    assert (d.eligible, d.category, d.filing) == (False, "none", None)
    assert d.adjustment.ratio_reduction_points == 0  # no long-term benefits by default
    (reason,) = [r for r in d.reasons if "F6" in r]
    assert "F2 was valid until 2026-11-21 and has expired" in reason
    zh = run(LI, HARBIN, [CHRONIC, expired], care="chronic_outpatient", lang="zh-hans")
    (reason,) = [r for r in zh.reasons if "F6" in r]
    assert "门诊慢特病备案" in reason and "F2" in reason and "2026-11-21" in reason


def test_rule_2_5_chronic_filing_names_its_bases_state_revoked_or_pending():
    for status, words in (("revoked", "revoked"), ("submitted", "pending review")):
        d = run(LI, HARBIN, [CHRONIC, replace(BASE, status=status)], care="chronic_outpatient")
        assert not d.eligible
        assert any("F6" in r and "F2" in r and words in r for r in d.reasons), d.reasons


def test_rule_2_5_a_referral_or_emergency_filing_is_not_a_chronic_filings_base():
    chronic_too = frozenset({"inpatient", "chronic_outpatient"})
    for other in (REFERRAL, EMERGENCY):
        inpatient_only = replace(other, covers=frozenset({"inpatient"}))
        d = run(LI, HARBIN, [CHRONIC, inpatient_only], care="chronic_outpatient")
        assert (d.eligible, d.category) == (False, "none")
        assert any("F6" in r and "has none" in r for r in d.reasons), d.reasons
        # Inpatient care under the referral or emergency filing is not affected.
        d = run(LI, HARBIN, [CHRONIC, replace(other, covers=chronic_too)], care="inpatient")
        assert d.eligible and d.category == other.type


def test_rule_2_5_chronic_filing_with_its_base_in_force_settles_at_the_bases_level():
    d = run(LI, HARBIN, [CHRONIC, TEMPORARY_NO_CHRONIC], care="chronic_outpatient")
    assert (d.eligible, d.category, d.filing.number) == (True, "temporary", "F6")
    d = run(LI, HARBIN, [CHRONIC, BASE], care="chronic_outpatient")
    assert (d.eligible, d.category) == (True, "long_term")
    # The base expires the day after the visit: the visit is still covered.
    last_day = replace(BASE, valid_until=DAY)
    assert run(LI, HARBIN, [CHRONIC, last_day], care="chronic_outpatient").eligible
