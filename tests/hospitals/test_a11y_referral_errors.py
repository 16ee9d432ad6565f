"""A clerk's refused input on the referral pages is said beside the field it is about: the field
is marked (`aria-invalid`, `aria-describedby` naming the error's id, `.is-invalid`, which
static/js/portal.js focuses on load), what was typed stays, and the forms are checked by the
server (`novalidate`), whose errors are in the page's language."""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from filings import services
from filings.models import Filing
from filings.rules import RuleError
from tests.filings.test_referral_follow_up import _course_over
from tests.filings.test_referrals import start

pytestmark = pytest.mark.django_db
NUMBER = "ZZ232700000001"  # an approved referral to H23010300001, not started


class _Page(HTMLParser):
    """Each element's attributes by its id, each form's attributes by its action, and the
    text of each element with an id."""

    def __init__(self, html: str):
        super().__init__()
        self.by_id: dict[str, dict] = {}
        self.forms: dict[str, dict] = {}
        self.text: dict[str, str] = {}
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value if value is not None else "" for name, value in attrs}
        if tag == "form":
            self.forms.setdefault(attributes.get("action", ""), attributes)  # the first
        if "id" in attributes:
            self.by_id[attributes["id"]] = attributes
            if tag not in ("input", "select"):
                self._open.append(attributes["id"])
                self.text[attributes["id"]] = ""

    def handle_endtag(self, tag):
        if tag == "div" and self._open:
            self._open.pop()

    def handle_data(self, data):
        for name in self._open:
            self.text[name] += data


def _marked(page: _Page, field_id: str) -> str:
    """The error said about a field: it is marked invalid and described by the error."""
    field = page.by_id[field_id]
    assert field.get("aria-invalid") == "true", field
    assert "is-invalid" in field["class"].split(), field
    error_id = field["aria-describedby"]
    assert "invalid-feedback" in page.by_id[error_id]["class"].split()
    return page.text[error_id].strip()


def _draft_referral(client, demo) -> Filing:
    start(client, demo)
    return Filing.objects.get(person__name="陈明", type="referral")


# --- the signature ------------------------------------------------------------------------


def test_a_blank_signer_is_said_beside_the_name_which_is_marked_and_keeps_what_was_typed(
    client, demo
):
    filing = _draft_referral(client, demo)
    url = reverse("referral-detail", args=[filing.number])
    response = client.post(url, {"step": "director", "signer": "   "})
    assert response.status_code == 200
    page = _Page(response.content.decode())
    assert _marked(page, "signer") == "请填写签字或盖章人的姓名。"
    assert page.by_id["signer"]["value"] == "   "
    said = [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    assert said == []  # not (only) at the top of the page
    filing.refresh_from_db()
    assert filing.director_signed_at is None


def test_a_signer_too_long_is_said_beside_the_name_and_kept(client, demo):
    filing = _draft_referral(client, demo)
    url = reverse("referral-detail", args=[filing.number])
    response = client.post(url, {"step": "director", "signer": "张" * 61})
    page = _Page(response.content.decode())
    assert _marked(page, "signer") == "姓名最多 60 个字。"
    assert page.by_id["signer"]["value"] == "张" * 61


def test_a_refusal_not_about_the_name_is_a_focused_message_and_the_name_is_not_marked(client, demo):
    filing = _draft_referral(client, demo)
    url = reverse("referral-detail", args=[filing.number])
    response = client.post(url, {"step": "office", "signer": "医务科"})  # before the director
    html = response.content.decode()
    page = _Page(html)
    assert "aria-invalid" not in page.by_id["signer"]
    assert 'role="alert" data-focus-on-load' in html


def test_the_signature_form_is_checked_by_the_server_not_the_browser(client, demo):
    filing = _draft_referral(client, demo)
    html = client.get(reverse("referral-detail", args=[filing.number])).content.decode()
    page = _Page(html)
    assert "novalidate" in page.forms[""]  # the signature's form posts to its own page
    assert "aria-invalid" not in page.by_id["signer"]


# --- the incoming referrals: the start of treatment -----------------------------------------


def test_a_refused_start_is_said_in_its_row_beside_the_day_which_is_kept(client, demo):
    client.force_login(demo["hosp_h23010300001"])
    action = reverse("referral-start-treatment", args=[NUMBER])
    response = client.post(action, {"started_on": "2020-01-01"})
    assert response.status_code == 200
    page = _Page(response.content.decode())
    said = _marked(page, f"started-{NUMBER}")
    assert said.startswith("日期不在有效期内")
    assert page.by_id[f"started-{NUMBER}"]["value"] == "2020-01-01"
    assert "novalidate" in page.forms[action]
    assert Filing.objects.get(number=NUMBER).treatment_started_on is None


def test_an_empty_or_impossible_start_is_said_beside_the_day(client, demo):
    client.force_login(demo["hosp_h23010300001"])
    action = reverse("referral-start-treatment", args=[NUMBER])
    page = _Page(client.post(action, {"started_on": ""}).content.decode())
    assert _marked(page, f"started-{NUMBER}") == "请填写开始治疗的日期。"
    page = _Page(client.post(action, {"started_on": "2027-02-29"}).content.decode())
    assert _marked(page, f"started-{NUMBER}") == "输入一个有效的日期。"
    assert page.by_id[f"started-{NUMBER}"]["value"] == "2027-02-29"


def test_only_the_refused_row_is_marked(client, demo):
    client.force_login(demo["hosp_h23010300001"])
    html = client.get(reverse("referrals")).content.decode()
    assert "aria-invalid" not in html and "is-invalid" not in html
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    html = client.post(
        reverse("referral-start-treatment", args=[NUMBER]), {"started_on": tomorrow.isoformat()}
    ).content.decode()
    assert html.count('aria-invalid="true"') == 1


# --- the incoming referrals: the follow-up notice -------------------------------------------


def test_a_refused_follow_up_is_said_beside_each_field_and_keeps_what_was_typed(client, demo):
    referral = _course_over()
    client.force_login(demo["hosp_h23010300001"])
    action = reverse("referral-follow-up", args=[referral.number])
    response = client.post(
        action, {"kind": "readmission", "attending_doctor": "王医生", "medical_office": " "}
    )
    assert response.status_code == 200
    page = _Page(response.content.decode())
    n = referral.number
    assert _marked(page, f"fu-office-{n}") == "该字段是必填项。"
    assert "aria-invalid" not in page.by_id[f"fu-doctor-{n}"]
    assert page.by_id[f"fu-doctor-{n}"]["value"] == "王医生"
    assert "novalidate" in page.forms[action]
    assert not Filing.objects.filter(renews=referral).exists()


def test_a_follow_up_for_no_such_purpose_is_said_beside_its_choice(client, demo):
    referral = _course_over()
    client.force_login(demo["hosp_h23010300001"])
    response = client.post(
        reverse("referral-follow-up", args=[referral.number]),
        {"kind": "holiday", "attending_doctor": "王医生", "medical_office": "医务处"},
    )
    page = _Page(response.content.decode())
    assert _marked(page, f"fu-kind-{referral.number}").startswith("选择一个有效的选项")


def test_a_follow_up_refused_as_a_whole_is_said_under_its_button(client, demo, monkeypatch):
    referral = _course_over()

    def refused(**kwargs):
        raise RuleError("follow_up_open")  # another clerk's notice, sent meanwhile

    monkeypatch.setattr(services, "referral_follow_up", refused)
    client.force_login(demo["hosp_h23010300001"])
    response = client.post(
        reverse("referral-follow-up", args=[referral.number]),
        {"kind": "continued", "attending_doctor": "王医生", "medical_office": "医务处"},
    )
    page = _Page(response.content.decode())
    error_id = f"fu-{referral.number}-error"
    assert "invalid-feedback" in page.by_id[error_id]["class"]
    assert page.text[error_id].strip()
    assert page.by_id[f"fu-office-{referral.number}"]["value"] == "医务处"


# --- in a browser: the refused row's day is in view and focused --------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_refused_start_takes_the_keyboard_back_to_its_row(live_server, demo):
    from tests.browser import browser_page, sign_in

    with browser_page(1280, 800) as page:
        sign_in(page, live_server.url, "hosp_h23010300001")
        page.goto(f"{live_server.url}/hospitals/referrals/")
        page.fill(f"#started-{NUMBER}", "2020-01-01")
        with page.expect_navigation():
            page.press(f"#started-{NUMBER}", "Enter")
        focused = page.evaluate(
            """() => { const e = document.activeElement, r = e.getBoundingClientRect();
                 return {id: e.id, top: r.top, said: e.getAttribute('aria-describedby')}; }"""
        )
        assert focused["id"] == f"started-{NUMBER}", focused
        assert 0 <= focused["top"] < 800, focused
        assert page.locator(f"#{focused['said']}").is_visible()
