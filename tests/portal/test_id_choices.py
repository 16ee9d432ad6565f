"""A choice sent as an id no database id can be (past 64 bits) is refused as a wrong choice with
the form's message, on every database: SQLite (`make run`) raised OverflowError, a server error,
for the place and hospitals of a filing, an emergency's hospital, a claim's hospital and the
sign-up's region; and a number of more than 4,300 digits, which Python will not convert, was a
server error on any database where the form lists the place's hospitals."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.lib.idchoice import LARGEST_ID

pytestmark = pytest.mark.django_db
HUGE = str(10**20)


@pytest.mark.parametrize("number", [HUGE, f"-{HUGE}", str(LARGEST_ID + 1), "9" * 5000])
@pytest.mark.parametrize(
    ("url", "field", "extra"),
    [
        ("/filings/new/long_term/", "place_region", {}),
        ("/filings/new/long_term/", "hospitals", {"place_region": "1"}),
        ("/filings/new/emergency/", "receiving_hospital", {}),
        ("settlement:claim-new", "hospital", {}),
    ],
)
def test_a_person_s_form_refuses_an_impossible_id(client, demo, url, field, extra, number):
    client.force_login(demo["zhangwei"])  # Daxinganling: its long-term form asks for hospitals
    url = reverse(url) if ":" in url else url
    response = client.post(url, {**extra, field: number, "draft": "1"})
    assert response.status_code == 200
    assert field in response.context["form"].errors


def test_the_sign_up_refuses_an_impossible_region(client, demo):
    response = client.post(reverse("account_signup"), {"region": HUGE})
    assert response.status_code == 200
    assert "region" in response.context["form"].errors
