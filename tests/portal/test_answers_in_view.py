"""What a user sees first: where signing in lands, the answer or the errors of a form brought
into view (a phone shows only the top of a long page), a stale form's page, and the words on
the settlement pages instead of codes."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from hospitals.models import Hospital
from portal.adapters import AccountAdapter
from portal.models import Notification
from settlement.models import AnnualAccumulation, Settlement
from tests.browser import browser_page, choose_hospital, sign_in
from tests.settlement.test_categories_and_accumulation import CHEN, _settle

pytestmark = pytest.mark.django_db
PASSWORD = "Demo#2026"
ADJUSTMENT = "待遇调整"


def _sign_in(client, username):
    return client.post(reverse("account_login"), {"login": username, "password": PASSWORD})


# --- where signing in lands -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "start"), [("wangxiulan", "/filings/"), ("hosp_h46020000002", "/hospitals/desk/")]
)
def test_signing_in_lands_on_the_users_own_start_page(client, demo, username, start):
    response = _sign_in(client, username)
    assert response.status_code == 302 and response["Location"] == start


def test_signing_in_from_a_page_returns_to_it(client, demo):
    response = client.post(
        reverse("account_login") + "?next=/settlement/claims/",
        {"login": "wangxiulan", "password": PASSWORD, "next": "/settlement/claims/"},
    )
    assert response["Location"] == "/settlement/claims/"


def test_agency_staff_start_on_the_review_queues(rf, demo):
    request = rf.get("/")
    request.user = demo["agency_shenyang"]
    assert AccountAdapter().get_login_redirect_url(request) == reverse("admin:index")


def test_the_home_page_offers_a_signed_in_user_their_start_page(client, demo):
    client.force_login(demo["hosp_h46020000002"])
    assert 'href="/hospitals/desk/"' in client.get("/").content.decode()


# --- a form from a page that is no longer valid -------------------------------------------------


def test_a_stale_form_gets_a_page_that_says_so_with_the_way_back(demo):
    client = Client(enforce_csrf_checks=True)
    client.force_login(demo["chenming"])
    back = "http://testserver/settlement/claims/new/"
    response = client.post("/settlement/claims/new/", {"estimate": "1"}, HTTP_REFERER=back)
    assert response.status_code == 403
    html = response.content.decode()
    assert "页面已失效" in html and f'href="{back}"' in html
    # A referer elsewhere is not offered as the way back.
    response = client.post(
        "/settlement/claims/new/", {"estimate": "1"}, HTTP_REFERER="https://evil.example/x"
    )
    assert "evil.example" not in response.content.decode()


# --- errors and answers at the top, and brought into view -------------------------------------


def _claim_data(**extra):
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
        "items-0-code": "X1",
        "items-0-name": "住院费",
        "items-0-cls": "A",
        "items-0-amount": "10000.00",
        # The browser posts each row's class (a select), filled or not.
        **{f"items-{i}-cls": "A" for i in range(1, 4)},
    }
    data.update(extra)
    return data


def test_a_form_with_errors_lists_them_at_its_top_linked_to_their_fields(client, demo):
    client.force_login(demo["chenming"])
    response = client.post("/settlement/claims/new/", _claim_data(admitted_on="", estimate="1"))
    html = response.content.decode()
    summary = html.index("form-errors-summary")
    assert summary < html.index('name="admitted_on"')
    assert "data-focus-on-load" in html[summary - 200 : summary + 200]
    assert 'href="#id_admitted_on"' in html


def test_an_item_rows_error_is_in_the_summary_too(client, demo):
    client.force_login(demo["chenming"])
    data = _claim_data(estimate="1", **{"items-1-name": "药费"})  # a row without its amount
    html = client.post("/settlement/claims/new/", data).content.decode()
    summary = html[
        html.index("form-errors-summary") : html.index("</ul>", html.index("form-errors-summary"))
    ]
    assert 'href="#id_items-1-amount"' in summary and "第 2 项" in summary


def test_a_claims_estimate_is_the_answer_brought_into_view(client, demo):
    client.force_login(demo["chenming"])
    html = client.post("/settlement/claims/new/", _claim_data(estimate="1")).content.decode()
    assert 'id="estimate" data-focus-on-load' in html
    assert "form-errors-summary" not in html


def test_a_long_bill_gets_more_item_rows_keeping_what_was_typed_without_errors(client, demo):
    client.force_login(demo["chenming"])
    response = client.post("/settlement/claims/new/", _claim_data(admitted_on="", add_rows="1"))
    html = response.content.decode()
    assert 'name="items-7-amount"' in html and 'name="items-8-amount"' not in html
    assert 'value="10000.00"' in html
    assert "form-errors-summary" not in html and "is-invalid" not in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_the_estimate_and_the_errors_are_scrolled_into_view(live_server):
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", "--no-history", stdout=StringIO())
    base = live_server.url
    today = datetime.date.today()
    with browser_page(375, 740) as page:
        sign_in(page, base, "chenming")
        page.goto(f"{base}/settlement/claims/new/")
        hospital = Hospital.objects.get(code="H21010000001")
        choose_hospital(page, hospital)
        page.fill("input[name=discharged_on]", (today - datetime.timedelta(days=2)).isoformat())
        page.fill("input[name=items-0-name]", "住院费")
        page.fill("input[name=items-0-amount]", "10000.00")
        page.click("button[name=estimate]")
        page.wait_for_load_state()
        # The admission date is missing: the summary is at the top, in view and focused.
        summary = page.locator(".form-errors-summary")
        assert summary.is_visible() and summary.evaluate("e => e === document.activeElement")
        assert page.evaluate("window.scrollY") > 0
        page.fill("input[name=admitted_on]", (today - datetime.timedelta(days=9)).isoformat())
        page.click("button[name=estimate]")
        page.wait_for_load_state()
        card = page.locator("#estimate")
        box = card.bounding_box()
        assert box is not None and 0 <= box["y"] < 740
        assert card.evaluate("e => e === document.activeElement")


# --- words, not codes; counts that match; what the fund has really paid ------------------------


def test_the_clerks_settlement_page_names_classes_and_flags_in_words(client, demo):
    from portal.models import InsuredPerson

    # 1000 of the annual cap left: the bill goes over it.
    chen = InsuredPerson.objects.get(name="陈明")
    AnnualAccumulation.objects.update_or_create(
        person=chen, year=datetime.date.today().year, defaults={"fund_paid": Decimal("299000")}
    )
    settlement = _settle(CHEN, "H21010000001").settlement
    assert "over_annual_cap" in settlement.flags
    client.force_login(demo["hosp_h21010000001"])
    html = client.get(f"/hospitals/settlements/{settlement.number}/").content.decode()
    assert "over_annual_cap" not in html and "超过年度最高支付限额" in html
    assert "<td>甲类</td>" in html


def test_my_settlements_show_a_held_bill_apart_from_what_the_fund_has_paid(client, demo):
    held = _settle(CHEN, "H23010300001", emergency=True).settlement
    assert held.status == "held_for_review"
    client.force_login(demo["chenming"])
    html = client.get("/settlement/mine/").content.decode()
    assert 'id="fund-paid">0.00<' in html
    assert f'id="fund-held">{held.fund_pay:,.2f}<' in html


def test_the_clerks_state_tabs_count_what_the_month_leaves(client, demo):
    first = _settle(CHEN, "H21010000001").settlement
    other = _settle(CHEN, "H21010000001", key="older").settlement
    Settlement.objects.filter(pk=other.pk).update(
        discharged_on=first.discharged_on - datetime.timedelta(days=70)
    )
    client.force_login(demo["hosp_h21010000001"])
    month = first.discharged_on.strftime("%Y-%m")
    response = client.get(f"/hospitals/settlements/?month={month}")
    tabs = {value: count for value, _label, count in response.context["tabs"]}
    assert tabs[""] == 1 == len(response.context["page"].object_list)


def test_a_not_eligible_answer_shows_no_benefit_adjustment(client, demo):
    client.force_login(demo["hosp_h46020000002"])

    def answer(who):
        data = {"id_number": who[0], "name": who[1], "care_type": "inpatient"}
        return client.post(reverse("eligibility-check"), data).content.decode()

    assert ADJUSTMENT not in answer(CHEN)
    assert ADJUSTMENT in answer(("232701195603120223", "王秀兰"))


def test_the_phones_menu_button_shows_the_unread_messages(client, demo):
    person = demo["wangxiulan"]
    Notification.objects.create(user=person, notice="", subject="x", body="y", url="/")
    client.force_login(person)
    html = client.get("/filings/").content.decode()
    toggler = html[html.index('class="navbar-toggler"') : html.index("</button>")]
    assert "toggler-badge" in toggler


def test_the_directory_sorts_hospitals_by_their_name_not_a_persons(client, demo):
    html = client.get("/hospitals/").content.decode()
    assert ">名称</option>" in html and ">姓名</option>" not in html


def test_the_account_pages_use_the_portals_buttons_and_words(client, demo):
    html = client.get("/accounts/login/").content.decode()
    assert 'class="btn btn-primary' in html
    assert "用户名或电子邮箱" in html and "用户名或email" not in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_in_english_the_menu_button_stays_beside_the_brand(live_server):
    with browser_page(375, 740, locale="en-US") as page:
        page.goto(f"{live_server.url}/hospitals/")
        brand = page.locator(".navbar-brand").bounding_box()
        toggler = page.locator(".navbar-toggler").bounding_box()
        assert toggler["y"] < brand["y"] + brand["height"]
