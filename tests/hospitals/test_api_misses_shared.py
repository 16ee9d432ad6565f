"""Every hospital API path that looks a person up by ID number and name answers a wrong name
with the same 404 as an unknown person: the eligibility check, its FHIR form and a settlement's
submission. Their "not found" answers count against the key's one budget
(hospitals.eligibility_api.API_MISSES_PER_WINDOW), so a key cannot try names on the paths
the eligibility check's budget does not watch; once it is spent, each path answers 429 with
Retry-After, and nothing is settled."""

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


def settle(client, key: str, name: str):
    return client.post(
        "/api/v1/settlements",
        bill(name),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_settlement_and_fhir_misses_count_against_the_keys_budget(client, keys, monkeypatch):  # noqa: F811
    monkeypatch.setattr(eligibility_api, "API_MISSES_PER_WINDOW", 2)
    key, other = keys[HOSPITAL], keys["H46020000001"]
    assert settle(client, key, "王秀").status_code == 404
    assert fhir_post(client, key, fhir_request(name="王兰")).status_code == 404
    # The budget is spent: every path answers 429, even with the right name.
    stopped = settle(client, key, "王秀兰")
    assert stopped.status_code == 429
    assert stopped.json()["error"]["code"] == "rate_limited"
    assert int(stopped["Retry-After"]) <= eligibility_api.API_MISS_WINDOW_SECONDS
    assert fhir_post(client, key, fhir_request()).status_code == 429
    assert ask(client, key, "王秀兰").status_code == 429
    assert not Settlement.objects.filter(hospital__code=HOSPITAL).exists()
    # Another key is not held back.
    assert ask(client, other, "王秀兰").status_code == 200


def test_eligibility_misses_stop_settlements_and_found_people_do_not_count(
    client,
    keys,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setattr(eligibility_api, "API_MISSES_PER_WINDOW", 2)
    key = keys[HOSPITAL]
    for _ in range(3):  # found: not counted
        assert settle(client, key, "王秀兰").status_code == 201
        assert fhir_post(client, key, fhir_request()).status_code == 200
    assert ask(client, key, "王秀", id_number=WANG).status_code == 404
    assert settle(client, key, "王秀兰").status_code == 201  # one miss: still allowed
    assert ask(client, key, "王兰", id_number=WANG).status_code == 404
    assert settle(client, key, "王秀兰").status_code == 429
    assert Settlement.objects.filter(hospital__code=HOSPITAL).count() == 4
