"""Every notice a person gets about one of their filings says which filing it is, by its number,
its type and its place of treatment, in the reader's language: a person with a long-term filing
and a referral (or two filings ending together) can tell them apart from the message alone.
Notices stored before they named the type and place keep their old wording."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone, translation

from filings import services
from filings.models import Filing, FilingType
from portal import notices
from portal.models import Notification

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 25)
# Each notice `_notify` sends about a filing, with what its caller adds.
LONG_TERM_NOTICES = {
    "materials_accepted": {},
    "materials_refused": {"reason": "居住证已过期", "d": TODAY},
    "materials_refused_late": {"reason": "居住证已过期", "d": TODAY},
    "change_requested": {},
}
REFERRAL_NOTICES = {
    "treatment_started": {"d": TODAY, "u": TODAY + datetime.timedelta(days=59)},
    "referral_extended": {"u": TODAY + datetime.timedelta(days=30)},
    "referral_start_extended": {"u": TODAY + datetime.timedelta(days=30)},
    "referral_hospital_changed": {"h": "H23010300002"},
}


def _told(person_user, filing: Filing, notice: str, extra: dict) -> tuple[str, str]:
    services._notify(filing, notice, **extra)
    told = Notification.objects.filter(user=person_user, notice=notice).latest("pk")
    return (
        " ".join(notices.render(told.notice, told.params, "zh-hans")),
        " ".join(notices.render(told.notice, told.params, "en")),
    )


@pytest.mark.parametrize("notice", sorted(LONG_TERM_NOTICES))
def test_a_long_term_filings_notice_names_its_type_and_place(demo, notice):
    """孙国强's long-term residence filing to Sanya, Hainan."""
    filing = Filing.objects.get(person__name="孙国强", type="long_term")
    chinese, english = _told(demo["sunguoqiang"], filing, notice, LONG_TERM_NOTICES[notice])
    assert filing.number in chinese and "三亚市" in chinese and "海南省" in chinese
    with translation.override("zh-hans"):
        assert str(FilingType.LONG_TERM.label) in chinese
    with translation.override("en"):
        assert str(FilingType.LONG_TERM.label) in english
    assert filing.number in english and "Sanya" in english and "Hainan" in english


@pytest.mark.parametrize("notice", sorted(REFERRAL_NOTICES))
def test_a_referrals_notice_names_its_place(demo, notice):
    """张伟's referral to Harbin, Heilongjiang."""
    filing = Filing.objects.get(person__name="张伟", type="referral")
    chinese, english = _told(demo["zhangwei"], filing, notice, REFERRAL_NOTICES[notice])
    assert filing.number in chinese and "哈尔滨市" in chinese and "黑龙江省" in chinese
    assert filing.number in english and "Harbin" in english and "Heilongjiang" in english


def test_the_start_of_treatment_tells_the_person_which_referral_through_the_service(demo):
    filing = Filing.objects.get(person__name="张伟", type="referral")
    services.referral_start_treatment(
        filing=filing, actor=demo["agency_dxal"], started_on=timezone.localdate()
    )
    told = Notification.objects.filter(user=demo["zhangwei"]).latest("pk")
    assert told.notice == "treatment_started"
    _subject, chinese = notices.render(told.notice, told.params, "zh-hans")
    assert "哈尔滨市" in chinese and filing.number in chinese


@pytest.mark.parametrize("notice", sorted({**LONG_TERM_NOTICES, **REFERRAL_NOTICES}))
def test_a_notice_stored_before_it_named_the_place_keeps_its_old_wording(notice):
    params = {"n": "BA232700000001", "reason": "居住证已过期", "d": "2026-11-25"}
    params |= {"u": "2027-01-24", "h": "H23010300002"}
    _subject, english = notices.render(notice, params, "en")
    assert "place of treatment" not in english and "%(" not in english
    older = notices.NOTICES[notice].older_body
    assert older is not None
    with translation.override("en"):
        assert english.startswith(str(older).split("%(")[0])
