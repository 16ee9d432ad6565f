"""GET /api/v1/hospitals (shared/api.md) and the OpenAPI schema."""

import pytest
from django.core.management import call_command

from hospitals.models import Hospital

pytestmark = pytest.mark.django_db
FIELDS = {
    "code",
    "name",
    "region",
    "province",
    "level",
    "kind",
    "ownership",
    "services",
    "resettlement_designated",
}


def test_schema_validates_without_warnings(db, tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    text = (tmp_path / "s.yml").read_text()
    for path in ["/api/v1/eligibility", "/api/v1/hospitals", "/api/v1/verify/{token}"]:
        assert path in text


def test_schema_and_docs_are_served(client, db):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_directory_lists_every_demo_hospital_with_the_contract_fields(client, demo):
    body = client.get("/api/v1/hospitals?page_size=100").json()
    assert body["count"] == Hospital.objects.count() == 27
    assert {"count", "next", "previous", "results"} <= set(body)
    first = body["results"][0]
    assert FIELDS <= set(first)
    assert first["code"] == "H21010000001"
    assert first["services"] == ["inpatient", "general_outpatient", "chronic_outpatient"] or set(
        first["services"]
    ) <= {"inpatient", "general_outpatient", "chronic_outpatient"}


def test_directory_is_paginated(client, demo):
    body = client.get("/api/v1/hospitals").json()
    assert len(body["results"]) == 20
    assert body["next"] and body["previous"] is None
    second = client.get(body["next"]).json()
    assert len(second["results"]) == 7 and second["previous"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("region=460200", {"H46020000001", "H46020000002", "H46020000003"}),
        ("region=460200&resettlement=1", {"H46020000001", "H46020000002", "H46020000003"}),
        ("q=haerbinyikedaxue", {"H23010300001", "H23010300002", "H23010300003", "H23010300004"}),
        ("q=三亚", {"H46020000001", "H46020000002", "H46020000003"}),
        ("province=210000&level=2", {"H21010000002"}),
    ],
)
def test_directory_filters_narrow_correctly(client, demo, query, expected):
    body = client.get(f"/api/v1/hospitals?page_size=100&{query}").json()
    assert {h["code"] for h in body["results"]} == expected


def test_pinyin_initials_find_the_hospital_by_its_abbreviation(client, demo):
    found = {
        h["code"] for h in client.get("/api/v1/hospitals?q=hyd&page_size=100").json()["results"]
    }
    assert {"H23010300001", "H23010300002", "H23010300003", "H23010300004"} <= found
    assert not any(code.startswith(("H46", "H21")) for code in found)


@pytest.mark.parametrize("field", ["kind", "service", "level", "ownership"])
def test_each_filter_returns_only_matching_hospitals(client, demo, field):
    values = {"kind": "tcm", "service": "chronic_outpatient", "level": "2", "ownership": "public"}
    body = client.get(f"/api/v1/hospitals?page_size=100&{field}={values[field]}").json()
    assert 0 < body["count"] < 27 or field == "ownership"
    for h in body["results"]:
        if field == "service":
            assert "chronic_outpatient" in h["services"]
        else:
            assert str(h[field]) == values[field]
