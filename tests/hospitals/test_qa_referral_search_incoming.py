"""The referral search of a hospital's page covers both of its lists: the referrals it issued
and those referred to it, each filtered and each with its own empty state. A receiving hospital
finds an incoming referral by number or by the patient's name (the name behind a session
token, never in the address)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from filings.models import Filing
from tests.hospitals.test_referral_list_queries import _copy

pytestmark = pytest.mark.django_db
NUMBER = "ZZ232700000001"


@pytest.fixture
def receiving(client, demo):
    client.force_login(demo["hosp_h23010300001"])
    referral = Filing.objects.select_related("person").get(number=NUMBER)
    # Another incoming referral, of another patient, that a search must leave out.
    other = _copy(referral, "ZZ232700009999", person=_another_person(referral))
    return referral, other


def _another_person(referral: Filing):
    from portal.models import InsuredPerson

    return InsuredPerson.objects.exclude(pk=referral.person_id).exclude(name="").first()


def _searched(client, term: str) -> tuple[str, str]:
    answer = client.post(reverse("referrals"), {"_search": "1", "q": term})
    assert answer.status_code == 302
    return answer["Location"], client.get(answer["Location"]).content.decode()


def _incoming_numbers(page: str) -> set[str]:
    return {part.split('"', 1)[0] for part in page.split('incoming-referral" data-number="')[1:]}


def test_an_incoming_referral_is_found_by_its_number(client, receiving):
    referral, other = receiving
    location, page = _searched(client, NUMBER)
    assert location == f"{reverse('referrals')}?q={NUMBER}#issued"
    assert _incoming_numbers(page) == {NUMBER}
    assert f"没有与“{NUMBER}”相符的转诊。" not in page
    assert f"本院开具的转诊中没有与“{NUMBER}”相符的。" in page
    assert f"转入本院的转诊中有 1 条与“{NUMBER}”相符，见下方。" in page


def test_an_incoming_referral_is_found_by_the_patients_name_kept_out_of_the_address(
    client, receiving
):
    referral, other = receiving
    name = referral.person.name
    location, page = _searched(client, name)
    assert "q=" not in location and name not in location
    assert _incoming_numbers(page) == {NUMBER}
    assert other.number not in page


def test_each_list_says_when_the_search_found_nothing_in_it(client, receiving):
    _location, page = _searched(client, "ZZ000000")
    assert _incoming_numbers(page) == set()
    assert "没有与“ZZ000000”相符的转诊。" in page
    assert "转入本院的转诊中没有与“ZZ000000”相符的。" in page
    unsearched = client.get(reverse("referrals")).content.decode()
    assert {NUMBER, "ZZ232700009999"} <= _incoming_numbers(unsearched)


def test_a_search_that_ended_finds_nothing_in_either_list(client, receiving, demo):
    location, _page = _searched(client, receiving[0].person.name)
    client.logout()
    client.force_login(demo["hosp_h23010300001"])  # a new session: the token is not its own
    page = client.get(location).content.decode()
    assert _incoming_numbers(page) == set()
    assert page.count("此次搜索已失效") == 2


def test_a_searched_list_makes_as_many_queries_for_many_rows_as_for_one(client, receiving):
    referral, _other = receiving
    url = f"{reverse('referrals')}?q=ZZ9TEST"
    _copy(referral, "ZZ9TEST0000")
    client.get(url)  # the session, the caches, the access log's row for the patient
    with CaptureQueriesContext(connection) as one:
        assert "ZZ9TEST0000" in client.get(url).content.decode()
    for i in range(1, 12):
        _copy(referral, f"ZZ9TEST{i:04d}")
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert "ZZ9TEST0011" in html
    assert len(many) <= len(one)


def test_the_search_reads_the_same_in_english(client, receiving):
    url = f"{reverse('referrals')}?q={NUMBER}"
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"No referral issued by this hospital matches “{NUMBER}”." in page
    assert f"1 referral to this hospital matches “{NUMBER}”: see below." in page
