"""The issued referrals are searched by POST: a patient's name never reaches an address (nor
the server's logs, nor the browser's history); it is kept in the session behind a token. A
referral number, or a part of one, stays in the address, to be linked and reloaded."""

import pytest
from django.urls import reverse

from filings.models import Filing
from tests.filings.test_referrals import start

pytestmark = pytest.mark.django_db


def _search(client, term: str):
    return client.post(reverse("referrals"), {"_search": "1", "q": term})


def test_a_name_searched_goes_behind_a_token_not_into_the_address(client, demo):
    start(client, demo)
    referral = Filing.objects.get(person__name="陈明", type="referral")
    answer = _search(client, "陈明")
    assert answer.status_code == 302
    location = answer["Location"]
    assert "陈明" not in location and "%E9%99%88" not in location and "q=" not in location
    page = client.get(location).content.decode()
    assert referral.number in page
    assert 'method="post"' in page.split('role="search"')[0].rsplit("<form", 1)[1]


def test_a_referral_number_stays_in_the_address(client, demo):
    start(client, demo)
    referral = Filing.objects.get(person__name="陈明", type="referral")
    answer = _search(client, referral.number[-6:])
    assert answer["Location"] == f"{reverse('referrals')}?q={referral.number[-6:]}#issued"
    assert referral.number in client.get(answer["Location"]).content.decode()


def test_a_name_in_the_address_is_moved_behind_a_token(client, demo):
    start(client, demo)
    answer = client.get(reverse("referrals"), {"q": "陈明"})
    assert answer.status_code == 302 and "q=" not in answer["Location"]


def test_another_sessions_token_finds_nothing(client, demo):
    start(client, demo)
    referral = Filing.objects.get(person__name="陈明", type="referral")
    location = _search(client, "陈明")["Location"]
    client.logout()
    client.force_login(demo["hosp_h21010000001"])
    page = client.get(location).content.decode()
    assert referral.number not in page and "此次搜索已失效" in page
