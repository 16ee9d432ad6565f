"""A search by full ID number in the admin never puts the number in a URL."""

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from filings.models import Filing
from portal.management.commands.demo_totp import current_code
from tests.browser import browser_page
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
WANG = "232701195603120223"  # 王秀兰, insured in 232700 (Daxinganling)
FILINGS = "admin:filings_filing_changelist"


def search(client, url_name: str, term: str, query: str = ""):
    return client.post(
        reverse(url_name), {"_id_search": "1", "q": term, "_changelist_query": query}
    )


def listed(response) -> set[int]:
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_a_full_id_number_is_posted_and_the_changelist_shown_for_a_token(client, demo):
    staff_login(client, "agency_dxal")
    response = search(client, FILINGS, WANG.lower(), "status__exact=approved&p=2")
    assert response.status_code == 302
    location = response["Location"]
    assert WANG not in location and WANG[:17] not in location
    query = parse_qs(urlsplit(location).query)
    assert query["q"][0].startswith("#") and query["status__exact"] == ["approved"]
    assert "p" not in query  # a new search starts on the first page
    found = listed(client.get(location))
    wang = set(
        Filing.objects.filter(person__name="王秀兰", status="approved").values_list("pk", flat=True)
    )
    assert found == wang and wang
    # The page shows the token, not the number.
    assert WANG not in client.get(location).content.decode()


def test_a_token_finds_nothing_in_another_session(client, demo):
    staff_login(client, "agency_dxal")
    location = search(client, FILINGS, WANG)["Location"]
    assert listed(client.get(location))
    other = Client()
    staff_login(other, "admin")  # sees every region, but not this session's searches
    assert listed(other.get(location)) == set()


def test_other_terms_are_searched_as_usual(client, demo):
    staff_login(client, "agency_dxal")
    number = Filing.objects.filter(person__name="王秀兰").values_list("number", flat=True)[0]
    location = search(client, FILINGS, number)["Location"]
    assert parse_qs(urlsplit(location).query)["q"] == [number]
    assert {f.number for f in client.get(location).context["cl"].result_list} == {number}


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:portal_insuredperson_changelist",
        "admin:settlement_claim_changelist",
        "admin:hospitals_accesslog_changelist",
    ],
)
def test_every_admin_searching_by_id_number_takes_it_by_post(client, demo, url_name):
    staff_login(client, "agency_dxal")
    response = search(client, url_name, WANG)
    assert response.status_code == 302 and WANG not in response["Location"]
    assert client.get(response["Location"]).status_code == 200


def test_the_id_search_is_for_signed_in_staff_only(client, demo):
    client.post(reverse("account_login"), {"login": "wangxiulan", "password": "Demo#2026"})
    response = search(client, FILINGS, WANG)
    assert response.status_code == 302 and "#" not in response["Location"]
    assert "login" in response["Location"]


@pytest.mark.browser
def test_the_search_box_posts_a_full_id_number(live_server, demo):
    base = live_server.url
    with browser_page(1280, 900) as page:
        urls: list[str] = []
        page.on("request", lambda request: urls.append(request.url))
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=login]", "agency_dxal")
        page.fill("input[name=password]", "Demo#2026")
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        page.fill("input[name=code]", current_code("agency_dxal"))
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        # As typed: plain, in groups, and in an input method's full-width digits.
        spaced = f"{WANG[:6]} {WANG[6:14]} {WANG[14:]}"
        wide = WANG.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
        for typed in (WANG, spaced, wide):
            page.goto(f"{base}/admin/filings/filing/")
            page.fill("#searchbar", typed)
            page.press("#searchbar", "Enter")
            page.wait_for_url("**/admin/filings/filing/?q=*")
            page.wait_for_load_state()
            assert "王" in page.inner_text("#result_list"), typed
        digits = {WANG, WANG[6:14], quote(spaced), quote(wide), quote(spaced, safe=""), spaced}
        assert not [url for url in urls if any(d in url for d in digits)]


def test_a_full_id_number_in_the_url_is_answered_with_the_tokens_url(client, demo):
    staff_login(client, "agency_dxal")
    response = client.get(reverse(FILINGS), {"q": WANG, "status__exact": "approved"})
    assert response.status_code == 302 and WANG not in response["Location"]
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["q"][0].startswith("#") and query["status__exact"] == ["approved"]
    assert listed(client.get(response["Location"]))


@pytest.mark.parametrize(
    ("url_name", "says"),
    [
        (FILINGS, "参保人登记的完整姓名"),
        ("admin:settlement_claim_changelist", "参保人登记的完整姓名"),
        ("admin:settlement_settlement_changelist", "参保人登记的完整姓名"),
        ("admin:portal_insuredperson_changelist", "可按姓名"),
        ("admin:hospitals_accesslog_changelist", "完整的身份证号码"),
    ],
)
def test_the_search_box_says_what_it_finds_and_why_an_id_number_shows_as_a_token(
    client, demo, url_name, says
):
    """A reviewer who types a name where names are not searched (privacy: only the keyed hash
    of an ID number is kept) is told so, and why the ID number they typed reads "#…"."""
    staff_login(client, "agency_dxal")
    page = client.get(reverse(url_name)).content.decode()
    assert 'id="searchbar_helptext"' in page and says in page
