"""Returned and rejected bills show no fund payment (the person's list, the hospital's list and
its CSV); the hospital's list takes any search text (a NUL too), filters a month as a date
range, and pages through a bounded number of rows; the admin lists search a whole number by its
unique index and sort only on indexed columns."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from settlement import hospital_views, services
from settlement.admin import ClaimAdmin, SettlementAdmin
from settlement.models import Claim, Settlement
from tests.settlement.test_hospital_settlements import CHEN, H1, _clerk, _settle
from tests.settlement.test_stats import sign_in

pytestmark = pytest.mark.django_db


def _unpaid():
    """Two of Chen's emergencies, held on review: one rejected, one returned."""
    agency = get_user_model().objects.get(username="agency_shenyang")
    rejected = _settle(H1, who=CHEN, emergency=True)
    returned = _settle(H1, who=CHEN, emergency=True)
    assert rejected.fund_pay > 0 and returned.fund_pay > 0
    services.settlement_reject(settlement=rejected, actor=agency, reason="非急诊抢救")
    services.settlement_return(settlement=returned, actor=agency, reason="请补充")
    rejected.refresh_from_db()
    returned.refresh_from_db()
    return rejected, returned


def _item(html: str, number: str) -> str:
    start = html.index(f'data-number="{number}"')
    return html[start : html.find("data-number=", start + 20)]


def test_returned_and_rejected_bills_show_no_fund_payment_to_the_person(client, demo):
    rejected, returned = _unpaid()
    client.force_login(demo["chenming"])
    client.cookies["django_language"] = "zh-hans"
    html = client.get(reverse("settlement:settlements")).content.decode()
    for s in (rejected, returned):
        item = _item(html, s.number)
        assert f"{s.fund_pay:,.2f}" not in item and f"{s.person_pay:,.2f}" not in item
        assert "统筹基金未支付" in item and f"{s.total:,.2f}" in item


def test_returned_and_rejected_bills_show_no_fund_payment_to_the_hospital(client, demo):
    settled = _settle(H1)
    rejected, returned = _unpaid()
    html = _clerk(client, demo).get(reverse("hospital-settlements")).content.decode()
    for s in (rejected, returned):
        item = _item(html, s.number)
        assert f"{s.fund_pay:,.2f}" not in item and "统筹基金未支付" in item
    assert f"{settled.fund_pay:,.2f}" in _item(html, settled.number)

    sign_in(client, demo["hosp_h23010300001"])
    client.cookies["django_language"] = "zh-hans"
    text = b"".join(client.get(reverse("hospital-settlements-csv")).streaming_content).decode(
        "utf-8"
    )
    rows = {row[0]: row for row in csv.reader(io.StringIO(text.lstrip("\ufeff")))}
    header = rows.pop("结算编号")
    assert header[7:11] == ["合计", "统筹基金支付", "个人负担", "状态"]
    assert rows[settled.number][7:10] == [
        str(settled.total),
        str(settled.fund_pay),
        str(settled.person_pay),
    ]
    for s in (rejected, returned):
        assert rows[s.number][7:11] == [str(s.total), "", "", s.get_status_display()]


def test_a_nul_or_control_character_in_the_hospitals_search_is_taken_out(client, demo):
    settled = _settle(H1)
    clerk = _clerk(client, demo)
    for q in ("\x00", f"{settled.number[-6:]}\x00", f"\x00{settled.number}"):
        response = clerk.get(reverse("hospital-settlements"), {"q": q})
        assert response.status_code == 200
        assert "\x00" not in response.context["q"]
        assert [s.number for s in response.context["page"].object_list] == [settled.number]
    sign_in(client, demo["hosp_h23010300001"])
    response = client.get(reverse("hospital-settlements-csv"), {"q": "\x00"})
    assert response.status_code == 200
    assert settled.number in b"".join(response.streaming_content).decode("utf-8")


def test_the_month_filter_is_a_date_range_and_deep_pages_are_bounded(client, demo, monkeypatch):
    today = datetime.date.today()
    first = _settle(H1)
    clerk = _clerk(client, demo)
    with CaptureQueriesContext(connection) as queries:
        response = clerk.get(reverse("hospital-settlements"), {"month": f"{today:%Y-%m}"})
    assert [s.number for s in response.context["page"].object_list] == [first.number]
    sql = " ".join(q["sql"] for q in queries.captured_queries).lower()
    assert "extract" not in sql and "django_date_extract" not in sql
    last_month = today.replace(day=1) - datetime.timedelta(days=1)
    response = clerk.get(reverse("hospital-settlements"), {"month": f"{last_month:%Y-%m}"})
    assert list(response.context["page"].object_list) == []

    # Beyond the newest MAX_LISTED, a page number is the last listed page, not a deep OFFSET.
    for _ in range(2):
        _settle(H1)
    monkeypatch.setattr(hospital_views, "PER_PAGE", 1)
    monkeypatch.setattr(hospital_views, "MAX_LISTED", 2)
    response = clerk.get(reverse("hospital-settlements"), {"page": "50000"})
    page = response.context["page"]
    assert page.number == 2 and page.paginator.num_pages == 2
    assert 'id="more-than-listed"' in response.content.decode()
    tabs = {value: count for value, _label, count in response.context["tabs"]}
    assert tabs[""] == 3  # the tabs still count every bill


def test_the_hospitals_settlement_indexes_serve_the_desk_tabs_month_and_claims_list():
    indexes = {i.name: i for i in Settlement._meta.indexes}
    assert indexes["settlement_hospital_status"].fields == ["hospital", "status"]
    assert indexes["settlement_hospital_month"].fields == ["hospital", "discharged_on"]
    claims = {i.name: i.fields for i in Claim._meta.indexes}
    assert claims["claim_region_recent"] == ["insured_region", "-submitted_at", "-id"]
    assert claims["claim_recent"] == ["-submitted_at", "-id"]
    assert Claim._meta.ordering == ["-submitted_at", "-id"]


def test_admin_lists_search_a_whole_number_by_its_index_and_sort_on_indexed_columns(client, demo):
    settled = _settle(H1)
    client.force_login(demo["admin"])
    url = reverse("admin:settlement_settlement_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"q": settled.number.lower()})
    assert response.status_code == 200 and settled.number in response.content.decode()
    searches = [q["sql"] for q in queries.captured_queries if "settlement_settlement" in q["sql"]]
    assert searches and not any("LIKE" in sql.upper() for sql in searches)
    # A part of a number is still found.
    assert settled.number in client.get(url, {"q": settled.number[-6:]}).content.decode()
    assert client.get(url, {"q": "\x00"}, follow=True).status_code == 200
    assert SettlementAdmin.sortable_by == ["number", "created"]
    assert ClaimAdmin.sortable_by == ["number", "submitted"]
    listing = client.get(url).content.decode()
    assert "column-fund_pay" in listing and "sortable column-fund_pay" not in listing
    assert "sortable column-number" in listing
