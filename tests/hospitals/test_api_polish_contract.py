"""Small points of the hospital API contract (shared/api.md): the schema downloads under a name
a client can save, `"visit_date": null` is today, and the reasons write a filing number or a
date apart from the Chinese around it, all alike."""

import re

import pytest

from tests.hospitals.test_eligibility_api import (  # noqa: F401 - fixtures
    PEOPLE,
    URL,
    _fresh_caches,
    ask,
    keys,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("query", "name"),
    [("", "portal-api-v1.yaml"), ("?format=json", "portal-api-v1.json")],
)
def test_the_schema_downloads_under_an_ascii_file_name(client, query, name):
    response = client.get("/api/schema/" + query)
    assert response.status_code == 200
    header = response["Content-Disposition"]
    assert header == f'inline; filename="{name}"'
    assert header.isascii()  # not RFC 2047 (=?utf-8?b?...?=), which `curl -OJ` cannot save


def _drf_path(client, key, body):
    """The same request through the DRF view (an Accept header with a parameter is not the
    plain path's: hospitals.eligibility_api._plain)."""
    return client.post(
        URL,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
        HTTP_ACCEPT="application/json; charset=utf-8",
    )


def test_visit_date_null_is_today_as_when_it_is_left_out(client, keys):  # noqa: F811
    key = keys["H46020000002"]
    absent = ask(client, key, "王秀兰")
    assert absent.status_code == 200
    assert ask(client, key, "王秀兰", visit_date=None).json() == absent.json()
    body = {"id_number": PEOPLE["王秀兰"], "name": "王秀兰", "care_type": "inpatient"}
    drf = _drf_path(client, key, {**body, "visit_date": None})
    assert drf.status_code == 200, drf.content
    assert drf.json() == absent.json()
    # A date that is not one is still refused, on both paths.
    for refused in (
        ask(client, key, "王秀兰", visit_date=""),
        _drf_path(client, key, {**body, "visit_date": ""}),
    ):
        assert refused.status_code == 400
        assert "visit_date" in refused.json()["error"]["fields"]


def test_the_schema_says_visit_date_may_be_null(client):
    schema = client.get("/api/schema/?format=json").json()
    visit_date = schema["components"]["schemas"]["EligibilityRequest"]["properties"]["visit_date"]
    assert visit_date["nullable"] is True


# A filing number (BA232700000001, ZZ232700000002) or a date written straight against Chinese.
_CJK = r"[\u3400-\u9fff]"
_TOKEN = r"(?:[A-Z]{2}\d{12}|\d{4}-\d{2}-\d{2})"
_CRAMMED = re.compile(f"{_CJK}{_TOKEN}|{_TOKEN}{_CJK}")


def test_eligibility_reasons_set_filing_numbers_and_dates_apart_from_chinese(client, keys):  # noqa: F811
    reasons = []
    for hospital in ("H46020000002", "H23010300016", "H23010300001", "H21010000001"):
        for name in PEOPLE:
            reasons += ask(client, keys[hospital], name).json()["reasons"]
    # 赵丽's referral has expired: said as every other reason says a filing's state.
    expired = re.compile(r"备案 ZZ\d{12} 有效期至 \d{4}-\d{2}-\d{2}，已过期。")
    assert any(expired.fullmatch(r) for r in reasons), reasons
    assert any(re.search(r"备案 BA\d{12} ", r) for r in reasons)
    assert [r for r in reasons if _CRAMMED.search(r)] == []
