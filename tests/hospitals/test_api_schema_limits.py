"""The served OpenAPI schema (/api/schema/) states the limits the server holds requests to and
the error body it answers with: the directory's page bounds and filter lengths, and the
`{"error": ...}` body of every error the API sends (shared/api.md: Errors)."""

import pytest
from rest_framework.settings import api_settings

from hospitals import auth
from hospitals.eligibility_api import HospitalKeyThrottle, counters
from hospitals.eligibility_selectors import clear_caches
from hospitals.models import Hospital
from hospitals.services import api_key_create

URL = "/api/v1/hospitals"


def _parameter(schema, name: str) -> dict:
    parameters = schema["paths"][URL]["get"]["parameters"]
    return next(p for p in parameters if p["name"] == name)["schema"]


def _schema_takes_number(node: dict, value: int) -> bool:
    return node.get("minimum", value) <= value <= node.get("maximum", value)


def _schema_takes_text(node: dict, value: str) -> bool:
    return node.get("minLength", 0) <= len(value) <= node.get("maxLength", len(value))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "value"),
    [("page", -1), ("page", 0), ("page", 1)]
    + [("page_size", v) for v in (-1, 0, 1, 20, 100, 101, 1000)],
)
def test_page_bounds_in_the_schema_are_the_ones_enforced(client, schema, name, value):
    response = client.get(URL, {name: value})
    assert response.status_code in (200, 400)
    assert _schema_takes_number(_parameter(schema, name), value) == (response.status_code == 200)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["q", "region", "province"])
def test_text_filter_lengths_in_the_schema_are_the_ones_enforced(client, schema, name):
    longest = _parameter(schema, name)["maxLength"]
    assert client.get(URL, {name: "1" * longest}).status_code == 200
    assert client.get(URL, {name: "1" * (longest + 1)}).status_code == 400


def _resolve(schema, node: dict) -> dict:
    ref = node.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else node


def _assert_described(schema, path: str, method: str, response) -> None:
    """The answer's body is the one the schema gives for its status."""
    described = schema["paths"][path][method]["responses"][str(response.status_code)]
    body = _resolve(schema, described["content"]["application/json"]["schema"])
    answer = response.json()
    assert set(answer) == set(body["properties"]) == {"error"}
    error = _resolve(schema, body["properties"]["error"])
    assert set(answer["error"]) <= set(error["properties"])
    assert set(error["required"]) <= set(answer["error"])


@pytest.mark.django_db
def test_the_directory_errors_have_the_error_body_the_schema_describes(client, schema):
    invalid = client.get(URL, {"page_size": 0})
    assert invalid.status_code == 400
    _assert_described(schema, URL, "get", invalid)
    out_of_range = client.get(URL, {"page": 9999})
    assert out_of_range.status_code == 404
    _assert_described(schema, URL, "get", out_of_range)


@pytest.mark.django_db
def test_an_unknown_verification_token_has_the_error_body_the_schema_describes(client, schema):
    response = client.get("/api/v1/verify/not-a-token")
    assert response.status_code == 404
    _assert_described(schema, "/api/v1/verify/{token}", "get", response)


@pytest.mark.django_db
def test_a_settlement_read_over_the_rate_limit_is_429_as_the_schema_says(client, demo, schema):
    clear_caches()
    auth.keys.clear()
    counters.clear()
    key = api_key_create(hospital=Hospital.objects.get(code="H23010300001"))[1]
    HospitalKeyThrottle.THROTTLE_RATES = {"hospital_key": "1/min"}
    try:
        statuses = []
        for _ in range(2):
            response = client.get(
                "/api/v1/settlements/JS000000000000", HTTP_AUTHORIZATION=f"Bearer {key}"
            )
            statuses.append(response.status_code)
    finally:
        HospitalKeyThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        clear_caches()
        auth.keys.clear()
        counters.clear()
    assert statuses == [404, 429]
    _assert_described(schema, "/api/v1/settlements/{number}", "get", response)
