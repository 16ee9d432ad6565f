"""Names, like whole ID numbers, stay out of admin URLs (api.md: personal identifiers never in
URLs or query strings, which end up in logs; privacy audit, findings 4 and 5): on every list
whose search can find persons, a term that is not a plain number-like code is posted and the
list shown for a session token; without JavaScript its URL is answered with the token's URL.
Every list with a search box keeps a whole ID number out of its URL."""

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.contrib import admin
from django.urls import reverse

from filings.models import Filing
from portal.admin import IdNumberSearch, is_code_term
from portal.models import AuditEvent, InsuredPerson
from tests.browser import browser_page
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
WANG = "232701195603120223"  # 王秀兰, insured in 232700 (Daxinganling)
NAME = "王秀兰"
PERSONS = "admin:portal_insuredperson_changelist"
# The lists whose search can find a person (by name, account or e-mail address).
PERSON_LISTS = [
    PERSONS,
    "admin:filings_filing_changelist",
    "admin:settlement_claim_changelist",
    "admin:settlement_settlement_changelist",
    "admin:portal_auditevent_changelist",
    "admin:hospitals_accesslog_changelist",
    "admin:hospitals_hospitalstaff_changelist",
    "admin:auth_user_changelist",
]


def changelists_with_a_search_box():
    return [
        f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        for model, model_admin in admin.site._registry.items()
        if model_admin.search_fields
    ]


def listed(response) -> set[int]:
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("term", "code"),
    [
        ("ZZ232700000001", True),
        ("H21010000001", True),
        (" ｚｚ２３２７ ", True),  # an input method's full-width characters
        ("", True),
        (NAME, False),
        ("wang", False),
        ("王秀兰 ZZ2327", False),
        ("clerk@example.cn", False),
    ],
)
def test_only_a_plain_number_like_code_may_stay_in_a_url(term, code):
    assert is_code_term(term) is code


def test_every_list_with_a_search_box_keeps_a_whole_id_number_out_of_its_url(client, demo):
    staff_login(client, "admin")
    for url_name in changelists_with_a_search_box():
        model_admin = next(
            a
            for m, a in admin.site._registry.items()
            if url_name.endswith(f"{m._meta.app_label}_{m._meta.model_name}_changelist")
        )
        assert isinstance(model_admin, IdNumberSearch), url_name
        response = client.get(reverse(url_name), {"q": WANG})
        assert response.status_code == 302 and WANG not in response["Location"], url_name
        assert parse_qs(urlsplit(response["Location"]).query)["q"][0].startswith("#")
        assert client.get(response["Location"]).status_code == 200, url_name


@pytest.mark.parametrize("url_name", PERSON_LISTS)
def test_a_name_in_a_lists_url_is_answered_with_the_tokens_url(client, demo, url_name):
    staff_login(client, "admin")
    response = client.get(reverse(url_name), {"q": NAME, "p": "2"})
    assert response.status_code == 302
    location = response["Location"]
    assert NAME not in location and quote(NAME) not in location and "p=" not in location
    assert parse_qs(urlsplit(location).query)["q"][0].startswith("#")
    page = client.get(location)
    # The box shows the reviewer the name they typed (from their session), and nothing else
    # on the page repeats it: it is in no link, no filter and no address.
    html = page.content.decode()
    assert page.status_code == 200 and html.count(NAME) == 1 and f'value="{NAME}"' in html


def test_a_posted_name_finds_the_person_through_the_token(client, demo):
    staff_login(client, "agency_dxal")
    response = client.post(
        reverse(PERSONS), {"_id_search": "1", "q": NAME, "_changelist_query": "active__exact=1"}
    )
    assert response.status_code == 302 and quote(NAME) not in response["Location"]
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["q"][0].startswith("#") and query["active__exact"] == ["1"]
    wang = InsuredPerson.objects.get(name=NAME)
    assert listed(client.get(response["Location"])) == {wang.pk}


def test_a_number_stays_in_the_url_and_a_hospitals_name_on_its_list(client, demo):
    staff_login(client, "agency_dxal")
    number = Filing.objects.filter(person__name=NAME).values_list("number", flat=True)[0]
    page = client.get(reverse("admin:filings_filing_changelist"), {"q": number})
    assert page.status_code == 200 and number in {f.number for f in page.context["cl"].result_list}
    # A list that finds no person keeps its names (of hospitals) searchable in the URL.
    assert (
        client.get(reverse("admin:hospitals_hospital_changelist"), {"q": "沈阳"}).status_code == 200
    )


def test_the_search_form_says_which_lists_keep_names_out_of_the_url(client, demo):
    staff_login(client, "agency_dxal")
    assert "data-private-terms" in client.get(reverse(PERSONS)).content.decode()
    hospitals = client.get(reverse("admin:hospitals_hospital_changelist")).content.decode()
    assert 'id="changelist-search"' in hospitals and "data-private-terms" not in hospitals
    assert "js/admin-id-search.js" in hospitals  # a whole ID number is posted there too


def test_a_whole_id_number_finds_the_persons_audit_events(client, demo):
    staff_login(client, "agency_dxal")
    wang = InsuredPerson.objects.get(name=NAME)
    filings = [str(pk) for pk in Filing.objects.filter(person=wang).values_list("pk", flat=True)]
    expected = set(
        AuditEvent.objects.filter(object_type="filings.filing", object_id__in=filings).values_list(
            "pk", flat=True
        )
    )
    assert expected
    location = client.get(reverse("admin:portal_auditevent_changelist"), {"q": WANG})["Location"]
    found = listed(client.get(location))
    assert expected <= found
    others = AuditEvent.objects.filter(pk__in=found).exclude(
        object_type="filings.filing", object_id__in=filings
    )
    assert all(e.object_type != "filings.filing" for e in others)


@pytest.mark.browser
def test_the_search_box_posts_a_name(live_server, demo):
    from portal.management.commands.demo_totp import current_code

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
        page.goto(f"{base}/admin/portal/insuredperson/")
        page.fill("#searchbar", NAME)
        page.press("#searchbar", "Enter")
        page.wait_for_url("**/admin/portal/insuredperson/?q=*")
        page.wait_for_load_state()
        assert "王*兰" in page.inner_text("#result_list")
        assert not [url for url in urls if NAME in url or quote(NAME) in url]
