"""Notifications are said in the reader's language: the inbox in the page's, the email in the
language the user last used the portal in."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import translation

from portal import notices
from portal.models import Notification, Preference
from portal.notifications import notify
from portal.tasks import deliver_notification
from settlement.models import ClaimStatus

pytestmark = pytest.mark.django_db

HAN = re.compile("[\u4e00-\u9fff]")
SAMPLE = {
    "n": "BA232700000001",
    "number": "QS2026110001",
    "status": "approved",
    "claim_status": "returned",
    "d": "2027-01-05",
    "u": "2027-03-06",
    "h": "H46020000002",  # a hospital's code: named in the reader's language
    "count": 12,
    "total": "1234.50",
    "fund": "987.60",
}


@pytest.fixture
def user(django_user_model):
    user = django_user_model.objects.create_user("li", "li@example.cn", "a-Long-pass-2026")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.mark.parametrize("code", sorted(notices.NOTICES))
def test_every_notice_reads_whole_in_both_languages(code):
    zh = " ".join(notices.render(code, SAMPLE, "zh-hans"))
    en = " ".join(notices.render(code, SAMPLE, "en"))
    for text in (zh, en):
        assert "%(" not in text and "{" not in text
    assert HAN.search(zh)
    assert not HAN.search(en)


def test_a_hospital_is_named_in_the_readers_language(demo):
    """ "You can now settle directly at Sanya People's Hospital", not at 三亚市人民医院."""
    from hospitals.models import Hospital

    sanya = Hospital.objects.get(code="H46020000002")
    _subject, english = notices.render("referral_hospital_changed", SAMPLE, "en")
    _subject, chinese = notices.render("referral_hospital_changed", SAMPLE, "zh-hans")
    assert sanya.name_en and sanya.name_en in english and not HAN.search(english)
    assert sanya.name in chinese
    _subject, english = notices.render("follow_up_submitted", SAMPLE, "en")
    assert english.startswith(sanya.name_en)


def test_dates_and_states_are_shown_in_the_readers_words():
    for language, words in (("zh-hans", "您的报销申请 BA232700000001："), ("en", "Your claim ")):
        with translation.override(language):
            label = str(ClaimStatus.RETURNED.label)
        subject, _body = notices.render("claim_status", SAMPLE, language)
        assert subject.startswith(words) and subject.endswith(label)
        assert label != "returned"
    _subject, body = notices.render("referral_extended", SAMPLE, "zh-hans")
    assert "2027-03-06" in body
    _subject, body = notices.render("referral_extended", SAMPLE, "en")
    assert "2027-03-06" in body


def test_typed_text_follows_the_body_labelled_and_a_missing_value_shows_as_a_dash():
    """What happened, then the reviewer's words as written, labelled as a reason (a request,
    for a change the person asked for): the text alone said nothing of what it was about."""
    _subject, body = notices.render("filing_status", {**SAMPLE, "text": "请补充材料"}, "en")
    assert body == "The status of your filing has changed.\nReason: 请补充材料"
    _subject, body = notices.render("filing_status", {**SAMPLE, "text": "请补充材料"}, "zh-hans")
    assert body.endswith("\n原因：请补充材料")
    _subject, body = notices.render(
        "change_requested_agency", {**SAMPLE, "text": "换医院"}, "zh-hans"
    )
    assert body.endswith("\n申请内容：换医院")
    subject, _body = notices.render("filing_status", {"status": "approved"}, "en")
    assert subject.startswith("Your filing -:")
    subject, _body = notices.render("filing_status", {"n": "X", "status": "gone"}, "en")
    assert subject == "Your filing X: gone"


def test_a_reviewers_reason_ending_in_a_full_stop_is_not_followed_by_a_second_one():
    """ "原因：未见居住证明。。请于…": the reason is set inside the notice's sentence."""
    params = {"n": "BA210100000001", "d": "2026-12-27"}
    _, body = notices.render("materials_refused", {**params, "reason": "未见居住证明。"}, "zh-hans")
    assert "未见居住证明。请于" in body and "。。" not in body
    _, body = notices.render(
        "materials_refused", {**params, "reason": "No proof of residence."}, "en"
    )
    assert "No proof of residence. Supply" in body and ".." not in body


def test_a_notification_without_a_notice_keeps_its_text(user):
    note = Notification.objects.create(user=user, subject="旧通知", body="原文")
    assert note.text("en") == ("旧通知", "原文")


def test_inbox_shows_each_notification_in_the_pages_language(client, user):
    notify(user=user, notice="materials_accepted", params={"n": "BA232700000001"})
    client.force_login(user)
    page = client.get(reverse("notifications")).content.decode()
    assert "您补交的材料已受理" in page and "BA232700000001" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("notifications")).content.decode()
    assert "Your materials were accepted" in page and "您补交的材料已受理" not in page


def test_switching_language_signed_in_is_remembered_for_emails(client, user):
    client.force_login(user)
    assert Preference.language_of(user.pk) == "zh-hans"
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert Preference.language_of(user.pk) == "en"
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert Preference.language_of(user.pk) == "en"
    note = notify(user=user, notice="referral_extended", params={"n": "ZZ1", "u": "2027-03-06"})
    mail.outbox.clear()
    assert deliver_notification.run(note.pk)
    (message,) = mail.outbox
    assert message.subject == "Referral ZZ1 extended"
    assert "2027-03-06" in message.body


def test_signing_in_in_english_makes_emails_english(client, user):
    response = client.post(
        reverse("account_login"),
        {"login": "li", "password": "a-Long-pass-2026"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    assert Preference.language_of(user.pk) == "en"


def test_email_defaults_to_simplified_chinese(user):
    note = notify(user=user, notice="materials_accepted", params={"n": "BA1"})
    assert deliver_notification.run(note.pk)
    (message,) = mail.outbox
    assert message.subject == "您补交的材料已受理"
    assert "BA1" in message.body


def test_anonymous_language_switch_still_works(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert not Preference.objects.exists()


def test_the_inbox_says_in_which_language_emails_go_out(client, user):
    client.force_login(user)
    page = client.get(reverse("notifications")).content.decode()
    assert "li@example.cn" in page and "以简体中文发送" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("notifications")).content.decode()
    assert "emailed to li@example.cn, in English" in page


def test_an_email_links_to_the_page_of_what_it_is_about(user, settings):
    settings.SITE_URL = "https://ybj.example.cn"
    note = notify(user=user, notice="materials_accepted", params={"n": "BA1"}, url="/filings/BA1/")
    mail.outbox.clear()
    assert deliver_notification.run(note.pk)
    (message,) = mail.outbox
    assert message.body.endswith("请登录平台查看：https://ybj.example.cn/filings/BA1/")
    plain = notify(user=user, notice="materials_accepted", params={"n": "BA2"})
    mail.outbox.clear()
    assert deliver_notification.run(plain.pk)
    assert "请登录平台查看" not in mail.outbox[0].body


def test_a_filings_decision_names_its_type_and_place_so_two_filings_are_told_apart(demo):
    """孙国强's long-term filing to Sanya, returned: the notice says which filing, in the reader's
    words."""
    from filings import services
    from filings.models import Filing, FilingType
    from portal.models import Notification

    filing = Filing.objects.get(person__name="孙国强", type="long_term")
    agency = demo["agency_shenyang"]
    services.filing_return(filing=filing, actor=agency, reason="请补充材料")
    told = Notification.objects.filter(user=demo["sunguoqiang"]).latest("pk")
    _subject, chinese = notices.render(told.notice, told.params, "zh-hans")
    assert filing.number in chinese and "三亚市" in chinese and "海南省" in chinese
    _subject, english = notices.render(told.notice, told.params, "en")
    assert "Sanya" in english and "Hainan" in english
    with translation.override("en"):
        assert str(FilingType.LONG_TERM.label) in english
