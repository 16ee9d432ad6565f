"""The admin's index says what waits in each review queue of the reviewer's region, and how long
the oldest has waited (portal/admin_queues.py), counted as the queue's own list counts it."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.filings.test_supplement_review import supply
from tests.settling import settle_today
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


def _by_label(client, username: str | None = None) -> dict:
    """The index's queues by label, for `username` signed in (or whoever the client is)."""
    if username:
        staff_login(client, username)
    return {q.label: q for q in client.get(reverse("admin:index")).context["queues"]}


def listed(client, url: str) -> int:
    return client.get(url).context["cl"].result_count


def test_the_index_counts_each_queue_of_the_reviewers_own_region(client, demo):
    shenyang = _by_label(client, "agency_shenyang")
    filings = shenyang["备案"]
    assert filings.count == 1  # 孙国强's long-term filing, submitted
    assert filings.url.endswith("?status__exact=submitted")
    assert filings.count == listed(client, filings.url)
    assert filings.oldest.endswith("天")
    # Daxinganling's reviewer does not count Shenyang's filing.
    assert _by_label(client, "agency_dxal")["备案"].count == 0
    html = client.get(reverse("admin:index")).content.decode()
    assert 'id="waiting"' in html and "待审核" in html


def test_a_held_settlement_and_supplied_materials_are_counted_where_they_wait(client, demo):
    settle_today("150000.00")  # over the review threshold: held for review
    dxal = _by_label(client, "agency_dxal")
    held = dxal["暂缓结算的直接结算"]
    assert (held.count, held.oldest) == (1, "0 天")
    assert held.count == listed(client, held.url)
    assert _by_label(client, "agency_shenyang")["暂缓结算的直接结算"].count == 0

    assert _by_label(client)["承诺补交材料"].count == 0
    supply(Client(), demo)  # 李建国 supplies his commitment materials
    materials = _by_label(client)["承诺补交材料"]
    assert materials.count == 1 == listed(client, materials.url)
    assert materials.url.endswith("?commitment=awaiting_review")
    # Waiting since the materials were supplied (today), not "-".
    assert materials.oldest == "0 天"


def test_the_index_is_in_english_for_an_english_reader(client, demo):
    staff_login(client, "agency_shenyang")
    response = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en")
    labels = [q.label for q in response.context["queues"]]
    assert labels == [
        "Filings",
        "Supplemented commitment materials",
        "Reimbursement claims",
        "Direct settlements held",
    ]
    assert "Waiting for review" in response.content.decode()
