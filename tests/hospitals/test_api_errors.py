"""The API's error body (shared/api.md: `{"error": {"code", "message", "fields"}}` in the
request's language) where Django or a parser would otherwise answer: unknown paths, bodies
nested too deeply or too large, and an Accept header the API cannot satisfy."""

import pytest

from tests.hospitals import test_eligibility_api as eligibility_tests
from tests.hospitals.test_eligibility_api import VALID
from tests.settlement.test_api import CHEN, bill

pytestmark = pytest.mark.django_db
keys = eligibility_tests.keys  # the eligibility API tests' fixtures
_fresh_caches = eligibility_tests._fresh_caches

ELIGIBILITY = "/api/v1/eligibility"
SETTLEMENTS = "/api/v1/settlements"
# The eligibility check through its plain-Django path, through the DRF view (a query string
# sends it there), and a settlement: one hospital where 陈明 is insured.
POSTS = [
    (ELIGIBILITY, VALID),
    (ELIGIBILITY + "?via=drf", VALID),
    (SETTLEMENTS, bill(CHEN)),
]
# Every view parsing JSON, the FHIR one too (the parser is the API's default).
PARSED = [*POSTS, ("/api/v1/fhir/CoverageEligibilityRequest", {})]
HOSPITAL = "H21010000001"


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error) >= {"code", "message", "fields"}
    return error


UNKNOWN = [
    "/api/",
    "/api/nope",
    "/api/v1/",
    "/api/v1/nope",
    "/api/v1/verify/",
    "/api/v1/hospitals/",
    "/api/v1/eligibility/",
    "/api/v1/settlements/",
    "/api/v1/settlements/JS20260101ABCDEF01/",
    "/api/v2/eligibility",
]


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", UNKNOWN)
def test_an_unknown_path_under_api_is_404_with_the_error_body(client, settings, path, debug):
    settings.DEBUG = debug
    zh = _error(client.get(path), 404, "not_found")
    assert zh["message"] == "未找到。" and zh["fields"] == {}
    en = _error(
        client.post(path, {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"),
        404,
        "not_found",
    )
    assert en["message"] == "Not found."


def test_the_api_routes_and_slash_redirects_are_kept(client):
    assert client.get("/api/v1/hospitals").status_code == 200
    assert client.get("/api/schema/").status_code == 200
    # A path that only lacks its final slash is still sent on to it.
    for path in ("/api/schema", "/api/docs"):
        response = client.get(path + "?x=1")
        assert (response.status_code, response["Location"]) == (301, path + "/?x=1")
    # Outside /api/ Django's page stays.
    assert client.get("/no-such-page/").status_code == 404
    assert "application/json" not in client.get("/no-such-page/")["Content-Type"]


@pytest.mark.parametrize(("url", "body"), PARSED)
def test_a_body_nested_too_deeply_for_json_is_400_malformed_json(client, keys, url, body):
    deep = "[" * 5000 + "]" * 5000
    response = client.post(
        url,
        deep,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {keys[HOSPITAL]}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    error = _error(response, 400, "invalid")
    assert error["message"] == "The request body is not valid JSON."


def test_the_plain_path_and_the_drf_view_answer_a_deep_body_alike(client, keys):
    deep = '{"id_number": ' + "[" * 5000 + "]" * 5000 + "}"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {keys[HOSPITAL]}"}
    plain = client.post(ELIGIBILITY, deep, content_type="application/json", **headers)
    drf = client.post(ELIGIBILITY + "?via=drf", deep, content_type="application/json", **headers)
    assert plain.status_code == drf.status_code == 400
    assert plain.content == drf.content


@pytest.mark.parametrize(("url", "body"), POSTS)
def test_a_body_over_the_upload_limit_is_413_with_the_error_body(client, keys, settings, url, body):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    large = {**body, "padding": "x" * 2000}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {keys[HOSPITAL]}"}
    zh = _error(
        client.post(url, large, content_type="application/json", **headers), 413, "too_large"
    )
    assert "1000" in zh["message"] and "请求体过大" in zh["message"]
    en = client.post(
        url, large, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en", **headers
    )
    assert "too large" in _error(en, 413, "too_large")["message"]
    # Within the limit the same request is answered as ever.
    assert client.post(url, body, content_type="application/json", **headers).status_code < 300


@pytest.mark.parametrize(("url", "body"), POSTS)
def test_an_accept_header_the_api_cannot_satisfy_is_406_not_acceptable(client, keys, url, body):
    response = client.post(
        url,
        body,
        content_type="application/json",
        HTTP_ACCEPT="text/html",
        HTTP_AUTHORIZATION=f"Bearer {keys[HOSPITAL]}",
    )
    error = _error(response, 406, "not_acceptable")
    assert error["message"]
