"""Every hospital API path that looks a person up by ID number and name answers a wrong name
with the same 404 as an unknown person: the eligibility check, its FHIR form and a settlement's
submission. Their "not found" answers are budgeted per key and window
(hospitals.eligibility_api.API_MISSES_PER_WINDOW): the eligibility check and its FHIR form
share one budget, so a key cannot try names on the FHIR path that the eligibility check's budget
does not watch; a settlement's submission has its own, so the desks' typos at the eligibility
check never stop a bill. Once a budget is spent its paths answer 429 with Retry-After, and
nothing is settled; a bill sent again under its Idempotency-Key is still answered."""

from __future__ import annotations

import pytest
from django.utils import timezone

from hospitals import eligibility_api
from settlement.models import Settlement
from tests.hospitals.test_eligibility_api import PEOPLE, ask, keys  # noqa: F401
from tests.hospitals.test_fhir import fhir_request
from tests.hospitals.test_fhir import post as fhir_post

pytestmark = pytest.mark.django_db
WANG = PEOPLE["王秀兰"]
HOSPITAL = "H46020000002"  # Sanya, where 王秀兰 is resettled


def bill(name: str) -> dict:
    today = timezone.localdate().isoformat()
    return {
        "id_number": WANG,
        "name": name,
        "visit": {"care_type": "inpatient", "admitted_on": today, "discharged_on": today},
        "items": [{"code": "X1", "name": "住院费", "class": "A", "amount": "1000.00"}],
    }


def settle(client, key: str, name: str, idempotency_key: str = ""):
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    return client.post(
        "/api/v1/settlements",
        bill(name),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        **headers,
    )


def test_fhir_misses_count_against_the_eligibility_budget(client, keys, monkeypatch):  # noqa: F811
    monkeypatch.setattr(eligibility_api, "API_MISSES_PER_WINDOW", 2)
    key, other = keys[HOSPITAL], keys["H46020000001"]
    assert fhir_post(client, key, fhir_request(name="王兰")).status_code == 404
    assert ask(client, key, "王秀", id_number=WANG).status_code == 404
    # The budget is spent: both paths answer 429, even with the right name.
    assert fhir_post(client, key, fhir_request()).status_code == 429
    stopped = ask(client, key, "王秀兰")
    assert stopped.status_code == 429
    assert int(stopped["Retry-After"]) <= eligibility_api.API_MISS_WINDOW_SECONDS
    # Bills are not held back by the desks' misses, nor is another key.
    assert settle(client, key, "王秀兰").status_code == 201
    assert ask(client, other, "王秀兰").status_code == 200


def test_settlement_misses_have_their_own_budget(client, keys, monkeypatch):  # noqa: F811
    monkeypatch.setattr(eligibility_api, "API_MISSES_PER_WINDOW", 2)
    key = keys[HOSPITAL]
    sent = settle(client, key, "王秀兰", idempotency_key="bill-1")
    assert sent.status_code == 201
    for _ in range(3):  # found: not counted
        assert settle(client, key, "王秀兰").status_code == 201
    assert settle(client, key, "王秀").status_code == 404
    assert settle(client, key, "王兰").status_code == 404
    stopped = settle(client, key, "王秀兰")
    assert stopped.status_code == 429
    assert stopped.json()["error"]["code"] == "rate_limited"
    assert int(stopped["Retry-After"]) <= eligibility_api.API_MISS_WINDOW_SECONDS
    assert Settlement.objects.filter(hospital__code=HOSPITAL).count() == 4
    # The bill sent again under its key is answered (api.md: 200, the same settlement).
    again = settle(client, key, "王秀兰", idempotency_key="bill-1")
    assert again.status_code == 200 and again.json()["number"] == sent.json()["number"]
    # The eligibility check is not held back by the bills' misses.
    assert ask(client, key, "王秀兰").status_code == 200
