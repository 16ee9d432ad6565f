"""A name guessed wrong gets the same 404 as an unknown person, so a hospital's key gets a
budget of such answers per window (hospitals.eligibility_api.API_MISSES_PER_WINDOW, as the desk
page has its own), then 429 with Retry-After until the window ends, for any question, on the
plain path and on DRF's alike. Other keys are not held back."""

from __future__ import annotations

import pytest

from hospitals import eligibility_api
from tests.hospitals.test_eligibility_api import PEOPLE, URL, ask, keys  # noqa: F401

pytestmark = pytest.mark.django_db
WANG = PEOPLE["王秀兰"]


def test_a_key_that_guesses_names_is_stopped_for_the_window(client, keys, monkeypatch):  # noqa: F811
    monkeypatch.setattr(eligibility_api, "API_MISSES_PER_WINDOW", 3)
    key, other = keys["H46020000002"], keys["H46020000001"]
    for guess in ["王秀", "王秀英", "王兰"]:
        assert ask(client, key, guess, id_number=WANG).status_code == 404
    stopped = ask(client, key, "王秀兰")  # even the right name, until the window ends
    assert stopped.status_code == 429
    assert stopped.json()["error"]["code"] == "rate_limited"
    assert int(stopped["Retry-After"]) <= eligibility_api.API_MISS_WINDOW_SECONDS
    # The DRF path (an Accept header the plain path leaves to it) answers alike.
    drf = client.post(
        URL,
        {"id_number": WANG, "name": "王秀兰", "care_type": "inpatient"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_ACCEPT="application/json; q=1",
    )
    assert drf.status_code == 429
    assert ask(client, other, "王秀兰").status_code == 200


def test_answers_that_find_the_person_do_not_count(client, keys, monkeypatch):  # noqa: F811
    monkeypatch.setattr(eligibility_api, "API_MISSES_PER_WINDOW", 2)
    key = keys["H46020000002"]
    for _ in range(4):
        assert ask(client, key, "王秀兰").status_code == 200
    assert ask(client, key, "王秀", id_number=WANG).status_code == 404
    assert ask(client, key, "王秀兰").status_code == 200
