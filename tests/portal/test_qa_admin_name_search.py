"""The filings, claims and settlements lists find a person's rows by their exact full name,
kept out of the URL like an ID number; the box shows the name searched, not "#…"."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from filings.models import Filing
from portal.models import InsuredPerson
from settlement.models import Claim, Settlement
from tests.portal.test_admin_id_search import FILINGS, listed, search
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
LISTS = {
    FILINGS: Filing,
    "admin:settlement_claim_changelist": Claim,
    "admin:settlement_settlement_changelist": Settlement,
}


def _person_with_rows(model, region_code="232700"):
    rows = model.objects.filter(person__region__code=region_code).select_related("person")
    row = rows.first()
    if row is None:
        pytest.skip(f"the demo has no {model.__name__} in {region_code}")
    return row.person


@pytest.mark.parametrize("model", [Claim, Settlement])
def test_claims_and_settlements_are_searched_by_the_persons_exact_name(rf, demo, model):
    """The demo has no claim or settlement: the list's search is read as SQL."""
    from django.contrib import admin

    request = rf.get("/")
    request.session = {}
    found, _distinct = admin.site._registry[model].get_search_results(
        request, model.objects.all(), "孙国强"
    )
    sql = str(found.query)
    assert '"portal_insuredperson"."name" = 孙国强' in sql and "LIKE" not in sql


@pytest.mark.parametrize("url_name", [FILINGS])
def test_a_list_finds_a_persons_rows_by_full_name_and_shows_the_name_searched(
    client, demo, url_name
):
    model = LISTS[url_name]
    person = _person_with_rows(model)
    staff_login(client, "agency_dxal")
    response = search(client, url_name, f" {person.name} ")
    location = response["Location"]
    assert response.status_code == 302 and person.name not in location
    assert parse_qs(urlsplit(location).query)["q"][0].startswith("#")
    page = client.get(location)
    expected = set(model.objects.filter(person=person).values_list("pk", flat=True))
    assert expected and listed(page) == expected
    # The box says what was searched, to the session that searched it.
    assert f'value="{person.name}"' in page.content.decode()
    assert page.context["cl"].query == person.name


def test_a_name_search_is_exact_not_a_part_of_a_name(client, demo):
    person = _person_with_rows(Filing)
    staff_login(client, "agency_dxal")
    assert not listed(client.get(search(client, FILINGS, person.name[:1])["Location"]))


def test_a_name_search_reads_the_persons_by_name_exactly(client, demo):
    """Exact match on the indexed name (portal migration 0012), never LIKE over every person."""
    person = _person_with_rows(Filing)
    staff_login(client, "agency_dxal")
    location = search(client, FILINGS, person.name)["Location"]
    with CaptureQueriesContext(connection) as queries:
        client.get(location)
    column = '"portal_insuredperson"."name"'
    sql = [q["sql"] for q in queries.captured_queries if column in q["sql"]]
    assert sql and not [s for s in sql if "LIKE" in s]
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, InsuredPerson._meta.db_table)
    assert any(c["index"] and c["columns"] == ["name"] for c in indexes.values())


def test_the_search_help_says_a_full_name_is_searched(client, demo):
    staff_login(client, "agency_dxal")
    for url_name in LISTS:
        page = client.get(reverse(url_name)).content.decode()
        assert "参保人登记的完整姓名" in page and "不能按姓名查询" not in page
