"""FHIR R4B CoverageEligibilityRequest/Response, validated with fhir.resources."""

import pytest
from fhir.resources.R4B.coverageeligibilityrequest import CoverageEligibilityRequest
from fhir.resources.R4B.coverageeligibilityresponse import CoverageEligibilityResponse

from hospitals import auth
from hospitals.eligibility_selectors import clear_caches
from hospitals.fhir import CARE_SYSTEM, CATEGORY_SYSTEM, ID_SYSTEM
from hospitals.models import Hospital
from hospitals.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(demo):
    clear_caches()
    auth.keys.clear()
    return api_key_create(hospital=Hospital.objects.get(code="H46020000002"))[1]


def fhir_request(id_number="232701195603120223", name="王秀兰", care="inpatient"):
    return {
        "resourceType": "CoverageEligibilityRequest",
        "id": "req-1",
        "status": "active",
        "purpose": ["validation"],
        "patient": {"reference": "#p1"},
        "contained": [
            {
                "resourceType": "Patient",
                "id": "p1",
                "identifier": [{"system": ID_SYSTEM, "value": id_number}],
                "name": [{"text": name}],
            }
        ],
        "servicedDate": "2026-11-22",
        "created": "2026-11-22T09:00:00+08:00",
        "insurer": {"display": "医保经办机构"},
        "provider": {"identifier": {"value": "H46020000002"}},
        "item": [{"category": {"coding": [{"system": CARE_SYSTEM, "code": care}]}}],
    }


def post(client, key, body):
    return client.post(
        "/api/v1/fhir/CoverageEligibilityRequest",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_the_request_we_document_is_valid_r4b():
    CoverageEligibilityRequest.model_validate(fhir_request())


def test_response_is_valid_r4b_and_carries_the_same_decision_as_the_json_api(client, key):
    body = fhir_request()
    fhir = post(client, key, body)
    assert fhir.status_code == 200, fhir.content
    parsed = CoverageEligibilityResponse.model_validate(fhir.json())
    assert parsed.outcome == "complete" and parsed.status == "active"
    json_api = client.post(
        "/api/v1/eligibility",
        {
            "id_number": "232701195603120223",
            "name": "王秀兰",
            "care_type": "inpatient",
            "visit_date": "2026-11-22",
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    ).json()
    insurance = fhir.json()["insurance"][0]
    assert insurance["inforce"] is json_api["eligible"]
    coding = insurance["item"][0]["category"]["coding"][0]
    assert (coding["system"], coding["code"]) == (CATEGORY_SYSTEM, json_api["category"])
    assert fhir.json()["patient"]["identifier"]["value"] == "2327**********0223"


def test_not_eligible_is_carried_with_the_reasons(client, key):
    body = fhir_request("210103198512010131", "陈明")
    response = post(client, key, body).json()
    CoverageEligibilityResponse.model_validate(response)
    item = response["insurance"][0]["item"][0]
    assert response["insurance"][0]["inforce"] is False and item["excluded"] is True
    assert item["category"]["coding"][0]["code"] == "none"
    assert "急诊" in item["description"]


def test_unknown_person_is_404_and_a_wrong_resource_is_400(client, key):
    assert post(client, key, fhir_request(name="王秀英")).status_code == 404
    assert post(client, key, {"resourceType": "Patient"}).status_code == 400


@pytest.mark.parametrize(
    "spoil",
    [
        lambda b: b["contained"][0].update(identifier=["junk", *b["contained"][0]["identifier"]]),
        lambda b: b["contained"][0].update(name=[5]),
        lambda b: b.update(item=[["not", "an", "item"]]),
        lambda b: b["item"][0].update(category="inpatient"),
    ],
)
def test_a_malformed_resource_is_a_400_naming_it_not_a_500(client, key, spoil):
    """A list where an object belongs raised an AttributeError: a 500, whose debug page showed
    the ID number typed in the request."""
    body = fhir_request()
    spoil(body)
    response = post(client, key, body)
    assert response.status_code == 400, response.content[:200]
    assert "resourceType" in response.json()["error"]["fields"]
    assert "232701195603120223" not in response.content.decode()


def test_a_request_without_serviced_date_is_checked_for_today(client, key):
    body = fhir_request()
    body.pop("servicedDate", None)
    response = post(client, key, body)
    assert response.status_code == 200
    assert response.json()["resourceType"] == "CoverageEligibilityResponse"
