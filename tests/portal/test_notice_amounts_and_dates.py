"""Notices show amounts and dates as the portal's pages do, in either language: amounts with
two decimals and thousands grouped ("136,171.06", the `yuan` filter), dates as 2027-01-05; and
a count of one reads in the singular ("1 settlement", not "1 settlements")."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal import notices
from portal.templatetags.portal_tags import yuan

LANGUAGES = ["zh-hans", "en"]


def issued(count: int) -> dict:
    # As settlement/clearing.py stores them: the statement's Decimal totals through params_of.
    return notices.params_of(
        number="QS2026110001", count=count, total=Decimal("136171.06"), fund=Decimal("98765.4")
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_amounts_in_a_notice_have_two_decimals_and_grouped_thousands(language):
    params = issued(12)
    assert params["total"] == "136171.06"  # stored as plain JSON, formatted when shown
    _subject, body = notices.render("clearing_issued", params, language)
    assert "136,171.06" in body and "98,765.40" in body
    assert yuan(Decimal("136171.06")) in body
    assert "136171.06" not in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_dates_in_a_notice_read_as_the_portal_writes_them(language):
    reminder = {"n": "BA1", "d": "2027-01-05"}
    _subject, body = notices.render("commitment_reminder", reminder, language)
    assert "2027-01-05" in body
    extended = {"n": "ZZ1", "u": "2027-03-06"}
    _subject, body = notices.render("referral_extended", extended, language)
    assert "2027-03-06" in body
    assert "Jan." not in body and "March" not in body


def test_one_settlement_is_said_in_the_singular():
    _subject, body = notices.render("clearing_issued", issued(1), "en")
    assert body.startswith("1 settlement, total 136,171.06 yuan")
    _subject, body = notices.render("clearing_issued", issued(2), "en")
    assert body.startswith("2 settlements, total")
    _subject, body = notices.render("clearing_issued", issued(1), "zh-hans")
    assert body.startswith("结算 1 笔，总费用 136,171.06 元")
    subject, _body = notices.render("settlements_reviewed", {"count": 1}, "en")
    assert subject == "1 settlement of this hospital reviewed"
    subject, _body = notices.render("settlements_reviewed", {"count": 3}, "en")
    assert subject == "3 settlements of this hospital reviewed"


def test_a_count_missing_from_a_notice_shows_as_a_dash():
    _subject, body = notices.render("clearing_issued", {}, "en")
    assert body.startswith("- settlements, total - yuan")
