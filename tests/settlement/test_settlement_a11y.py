"""The settlement pages after an action, as a screen reader and a keyboard meet them: a refused
item of a claim is marked and described, Enter in the claim form estimates instead of adding rows,
the estimator's answer and the claim's resubmit errors are brought into view on a phone, scroll
containers are named regions, and the hospital's empty search reads (axe-core + keyboard audit)."""

from __future__ import annotations

import contextlib
import datetime
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from hospitals.models import Hospital
from portal.models import InsuredPerson
from settlement import services
from tests.browser import browser_page, choose_hospital, sign_in
from tests.checked_files import checked
from tests.filings.corpus import _jpeg, _pdf, _png

pytestmark = pytest.mark.django_db
browser = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
H1 = "H23010300001"  # the clerk hosp_h23010300001
CHEN = ("210103198512010131", "陈明")  # insured in Shenyang; the demo login chenming
ESTIMATE_QUERY = "region=460200&level=3&care_type=inpatient&estimated_total=10000"


class _Tags(HTMLParser):
    """Every start tag of a page, with its attributes and the text up to the next tag."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict, list[str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}, []))

    def handle_data(self, data):
        for _tag, _attrs, text in self.tags[-1:]:
            text.append(data)

    def by_id(self, element_id: str) -> dict | None:
        return next((a for _t, a, _x in self.tags if a.get("id") == element_id), None)

    def text_of(self, element_id: str) -> str:
        found = [("".join(x)) for _t, a, x in self.tags if a.get("id") == element_id]
        return found[0].strip() if found else ""


def _classes(attrs: dict) -> set[str]:
    return set(attrs.get("class", "").split())


def _unnamed_scroll_regions(html: str) -> list[dict]:
    """Focusable scroll containers that are not named regions (WCAG 4.1.2): a screen reader
    would say only "group" or nothing on reaching them."""
    page = _Tags(html)
    bad = []
    for _tag, attrs, _text in page.tags:
        if "table-responsive" not in _classes(attrs) or attrs.get("tabindex") != "0":
            continue
        label = attrs.get("aria-label", "").strip()
        labelled_by = attrs.get("aria-labelledby")
        if labelled_by:
            label = page.text_of(labelled_by)
        if attrs.get("role") != "region" or not label:
            bad.append(attrs)
    return bad


def _stay(**more) -> dict:
    today = datetime.date.today()
    data = {
        "hospital": Hospital.objects.get(code="H21010000001").pk,
        "care_type": "inpatient",
        "admitted_on": (today - datetime.timedelta(days=9)).isoformat(),
        "discharged_on": (today - datetime.timedelta(days=2)).isoformat(),
        "items-TOTAL_FORMS": "4",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "500",
    }
    for i in range(4):
        data[f"items-{i}-cls"] = "A"
    data.update(more)
    return data


def _returned_claim():
    """陈明's claim, returned by the agency for more documents."""

    person = InsuredPerson.objects.get(name=CHEN[1])
    today = datetime.date.today()
    files = [
        ("discharge_summary", "summary.pdf", _pdf()),
        ("invoice", "invoice.jpg", _jpeg()),
        ("itemised_list", "list.png", _png()),
        ("medical_record", "record.pdf", _pdf()),
    ]
    claim = services.claim_submit(
        person=person,
        actor=person.user,
        hospital=Hospital.objects.get(code="H21010000001"),
        care_type="inpatient",
        admitted_on=today - datetime.timedelta(days=5),
        discharged_on=today,
        items=[{"code": "X1", "name": "住院费", "class": "A", "amount": "10000.00"}],
        documents=[(kind, checked(name, data)) for kind, name, data in files],
    )
    from django.contrib.auth import get_user_model

    agency = get_user_model().objects.get(username="agency_shenyang")
    return services.claim_return(claim=claim, actor=agency, reason="缺少出院小结第二页")


def _settlement():
    today = datetime.date.today()
    return services.settle(
        hospital_id=Hospital.objects.get(code=H1).pk,
        api_key_id=None,
        payload={
            "id_number": "232721197811200177",
            "name": "张伟",
            "visit": {
                "care_type": "inpatient",
                "admitted_on": today - datetime.timedelta(days=3),
                "discharged_on": today,
            },
            "items": [{"code": "X1", "name": "住院费", "class": "A", "amount": "5000.00"}],
        },
    ).settlement


def _violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    return [
        f"{violation['id']}: {' '.join(node['target'])}"
        for violation in results.response["violations"]
        for node in violation["nodes"]
    ]


# --- the claim form: a refused item -------------------------------------------------------------


def test_a_refused_item_amount_is_marked_invalid_and_described_by_its_message(client, demo):
    client.force_login(demo["chenming"])
    response = client.post(
        reverse("settlement:claim-new"),
        _stay(**{"estimate": "1", "items-0-name": "住院费", "items-0-amount": "-5"}),
    )
    assert response.status_code == 200
    page = _Tags(response.content.decode())
    field = page.by_id("id_items-0-amount")
    assert "is-invalid" in _classes(field) and field["aria-invalid"] == "true"
    assert field["aria-describedby"] == "id_items-0-amount_error"
    message = page.by_id("id_items-0-amount_error")
    assert message is not None, "aria-describedby names no element"
    assert {"invalid-feedback", "d-block"} <= _classes(message)
    after = response.content.decode().split('id="id_items-0-amount_error">', 1)[1]
    assert after.split("</div>", 1)[0].count("请输入金额，例如 1234.56。") == 1
    # The fields without an error are not marked.
    assert "is-invalid" not in _classes(page.by_id("id_items-0-name"))
    # Every description named on the page exists.
    ids = {a.get("id") for _t, a, _x in page.tags}
    for _tag, attrs, _text in page.tags:
        for named in attrs.get("aria-describedby", "").split():
            assert named in ids, (attrs.get("id"), named)


def test_the_claim_forms_default_button_estimates_and_comes_first(client, demo):
    """Enter in a field presses the form's first submit button: the hidden estimate, not
    "More rows for items"."""
    client.force_login(demo["chenming"])
    html = client.get(reverse("settlement:claim-new")).content.decode()
    form = html.split('id="claim-form"', 1)[1]
    buttons = [
        (t, a)
        for t, a, _x in _Tags(form).tags
        if t in {"button", "input"} and a.get("type") == "submit"
    ]
    tag, first = buttons[0]
    assert (first["name"], first["value"]) == ("estimate", "1")
    assert first["tabindex"] == "-1" and first["aria-hidden"] == "true"
    assert "visually-hidden" in _classes(first)
    # The visible buttons, as before: button[name=estimate] is still the one a person presses.
    assert tag == "input"
    assert [(t, b["name"]) for t, b in buttons[1:]] == [
        ("button", "add_rows"),
        ("button", "estimate"),
        ("button", "submit"),
    ]


def test_more_rows_marks_the_first_new_row_to_take_the_focus(client, demo):
    client.force_login(demo["chenming"])
    response = client.post(
        reverse("settlement:claim-new"), _stay(**{"add_rows": "1", "items-0-amount": "12.00"})
    )
    page = _Tags(response.content.decode())
    assert page.by_id("id_items-7-code") is not None
    marked = [a.get("id") for _t, a, _x in page.tags if "data-focus-on-load" in a]
    assert marked == ["id_items-4-code"]


@contextlib.contextmanager
def _phone(live_server, username: str, path: str):
    """A phone-sized page of the portal, signed in as `username`, at `path`."""
    with browser_page(390, 844) as page:
        sign_in(page, live_server.url, username)
        page.goto(f"{live_server.url}{path}")
        yield page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_enter_in_an_item_field_estimates_and_does_not_add_rows(live_server, demo):
    with _phone(live_server, "chenming", "/settlement/claims/new/") as page:
        hospital = Hospital.objects.get(code="H21010000001")
        today = datetime.date.today()
        choose_hospital(page, hospital)
        page.select_option("select[name=care_type]", value="inpatient")
        page.fill("input[name=admitted_on]", (today - datetime.timedelta(days=9)).isoformat())
        page.fill("input[name=discharged_on]", (today - datetime.timedelta(days=2)).isoformat())
        page.fill("input[name=items-0-name]", "住院费")
        page.fill("input[name=items-0-amount]", "10000.00")
        with page.expect_navigation():
            page.press("input[name=items-0-amount]", "Enter")
        assert page.locator("#items tbody tr").count() == 4
        assert page.locator("#estimate-fund").inner_text() == "7,650.00"
        assert page.evaluate("document.activeElement.id") == "estimate"
        # A refused amount: Enter again, the errors' summary is focused, the field is marked.
        page.fill("input[name=items-0-amount]", "-5")
        with page.expect_navigation():
            page.press("input[name=items-0-amount]", "Enter")
        assert page.locator("#items tbody tr").count() == 4
        assert page.evaluate("document.activeElement.classList.contains('form-errors-summary')")
        field = page.locator("#id_items-0-amount")
        assert "is-invalid" in field.get_attribute("class")
        assert page.locator("#id_items-0-amount_error").is_visible()
        assert _violations(page) == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_more_rows_puts_the_keyboard_in_the_first_new_row(live_server, demo):
    with _phone(live_server, "chenming", "/settlement/claims/new/") as page:
        page.fill("input[name=items-3-amount]", "12.00")
        with page.expect_navigation():
            page.click("button[name=add_rows]")
        assert page.locator("#items tbody tr").count() == 8
        assert page.evaluate("document.activeElement.id") == "id_items-4-code"
        assert page.input_value("input[name=items-3-amount]") == "12.00"
        top = page.evaluate("document.activeElement.getBoundingClientRect().top")
        assert -1 <= top < 844


# --- the estimator ------------------------------------------------------------------------------


def test_the_estimators_answer_is_a_labelled_section_to_be_focused(client, demo):
    client.force_login(demo["wangxiulan"])
    html = client.get(f"{reverse('settlement:estimate')}?{ESTIMATE_QUERY}").content.decode()
    page = _Tags(html)
    section = page.by_id("estimate-result")
    assert section is not None and "data-focus-on-load" in section
    assert page.text_of(section["aria-labelledby"]) == "测算结果"
    assert html.index('id="estimate-result"') < html.index('id="possible"')
    assert html.index('id="estimate"') < html.index("</section>")
    assert _unnamed_scroll_regions(html) == []


def test_the_estimator_without_an_answer_has_no_result_section(client, demo):
    client.force_login(demo["wangxiulan"])
    html = client.get(reverse("settlement:estimate")).content.decode()
    assert 'id="estimate-result"' not in html and "data-focus-on-load" not in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_estimators_answer_is_scrolled_to_and_focused_on_a_phone(live_server, demo):
    with _phone(live_server, "wangxiulan", f"/settlement/estimate/?{ESTIMATE_QUERY}") as page:
        page.wait_for_load_state()
        assert page.evaluate("document.activeElement.id") == "estimate-result"
        top = page.evaluate("document.getElementById('possible').getBoundingClientRect().top")
        assert -1 <= top < 844 / 2, top
        assert _violations(page) == []


# --- the claim's page: items and the answer to a return --------------------------------------


def test_the_claims_items_scroll_in_a_named_region(client, demo):
    claim = _returned_claim()
    client.force_login(claim.person.user)
    html = client.get(reverse("settlement:claim-detail", args=[claim.number])).content.decode()
    assert 'class="table-responsive"' in html
    assert _unnamed_scroll_regions(html) == []


def test_a_resubmit_without_anything_attached_comes_back_with_an_announced_error(client, demo):
    claim = _returned_claim()
    client.force_login(claim.person.user)
    response = client.post(reverse("settlement:claim-resubmit", args=[claim.number]), {})
    page = _Tags(response.content.decode())
    alerts = [a for _t, a, _x in page.tags if a.get("role") == "alert"]
    assert len(alerts) == 1 and "data-focus-on-load" in alerts[0]
    assert "请上传要求补充的材料或更正后的费用明细清单。" in response.content.decode()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_resubmit_without_anything_attached_is_scrolled_to_and_focused_on_a_phone(
    live_server, demo
):
    claim = _returned_claim()
    with _phone(live_server, "chenming", f"/settlement/claims/{claim.number}/") as page:
        with page.expect_navigation():
            page.click("form[action$='/resubmit/'] button[type=submit]")
        focused = page.evaluate(
            """() => { const e = document.activeElement, r = e.getBoundingClientRect();
                 return {role: e.getAttribute('role'), text: e.innerText, top: r.top}; }"""
        )
        assert focused["role"] == "alert", focused
        assert focused["text"].strip()
        assert -1 <= focused["top"] < 844 / 2, focused
        assert _violations(page) == []


# --- the hospital's direct settlements --------------------------------------------------------


def test_the_hospitals_settlement_items_scroll_in_a_named_region(client, demo):
    settlement = _settlement()
    client.force_login(demo["hosp_h23010300001"])
    html = client.get(reverse("hospital-settlement", args=[settlement.number])).content.decode()
    assert 'class="table-responsive"' in html
    assert _unnamed_scroll_regions(html) == []


def test_the_show_all_link_of_an_empty_search_is_an_alert_link(client, demo):
    client.force_login(demo["hosp_h23010300001"])
    html = client.get(reverse("hospital-settlements"), {"status": "rejected"}).content.decode()
    links = [
        a
        for t, a, _x in _Tags(html).tags
        if t == "a" and a.get("href") == "/hospitals/settlements/"
    ]
    shown_all = [a for a in links if "alert-link" in _classes(a)]
    assert len(shown_all) == 1


def test_a_month_that_is_not_one_is_marked_invalid(client, demo):
    client.force_login(demo["hosp_h23010300001"])
    html = client.get(reverse("hospital-settlements"), {"month": "2026-13"}).content.decode()
    month = _Tags(html).by_id("month")
    assert "is-invalid" in _classes(month)
    assert month["aria-invalid"] == "true" and month["aria-describedby"] == "month-error"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_hospitals_empty_search_and_a_wrong_month_pass_axe(live_server, demo):
    with browser_page(390, 844) as page:
        sign_in(page, live_server.url, "hosp_h23010300001")
        for query in ["status=rejected", "month=2026-13"]:
            page.goto(f"{live_server.url}/hospitals/settlements/?{query}")
            page.wait_for_load_state()
            assert _violations(page) == [], query
        # The wrong month is focused and says why.
        assert page.evaluate("document.activeElement.id") == "month"
        assert page.evaluate("document.activeElement.getAttribute('aria-invalid')") == "true"
