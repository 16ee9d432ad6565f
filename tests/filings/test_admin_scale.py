"""The reviewer's lists at a region's volume: a decision's page over hundreds of selected filings
reads their files once, not a few queries per filing; the lists with actions page through their
first 10,000 rows (100 pages, as the logs), a deeper page being the last, which says how to find
the older rows; the materials list opens newest first, counted as the logs are; the queue of
submitted filings has an index in its own order."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from filings.models import Filing, FilingType, Material, Status
from portal.admin import PagesUpToTheCap
from tests.filings.test_supplement_review import NUMBER, changelist, supply
from tests.portal.factories import InsuredPersonFactory, make_id_number
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


def _awaiting_review(client, demo, count: int) -> list[Filing]:
    """`count` approved commitment filings, each with a supplied proof awaiting review (李建国's,
    copied for other persons of his region)."""
    supply(client, demo)
    filing = Filing.objects.get(number=NUMBER)
    material = Material.objects.get(filing=filing, refused_at__isnull=True)
    filings = [filing]
    for i in range(count - 1):
        copy = Filing.objects.get(pk=filing.pk)
        copy.pk = None
        copy.number = f"BA21019{i:07d}"
        born = f"1990{1 + i // 28:02d}{1 + i % 28:02d}"  # a person of his own
        copy.person = InsuredPersonFactory(
            region=filing.person.region, user=None, id_number=make_id_number("210103", born)
        )
        copy.save()
        supplied = Material.objects.get(pk=material.pk)
        supplied.pk = None
        supplied.filing = copy
        supplied.stored_name = f"{i}-{material.stored_name}"
        supplied.save()
        filings.append(copy)
    return filings


def _confirm(client, filings: list[Filing], action: str):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            changelist() + "?commitment=awaiting_review",
            {"action": action, "_selected_action": [f.pk for f in filings]},
        )
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.parametrize("action", ["accept_materials", "refuse_materials"])
def test_a_decision_on_many_filings_supplements_reads_their_files_once(client, demo, action):
    filings = _awaiting_review(client, demo, 30)
    staff_login(client, "agency_shenyang")
    few, _html = _confirm(client, filings[:3], action)
    many, html = _confirm(client, filings, action)
    assert many <= few
    # Each row still names its file and carries it, as the decision is about what was shown.
    for f in filings:
        (supplied,) = Material.objects.filter(filing=f)
        assert f'name="_materials_{f.pk}" value="{supplied.pk}"' in html
        assert reverse("filings:material", args=[supplied.pk]) in html


def test_a_refused_supplement_is_not_decided_again_from_the_list(client, demo):
    filings = _awaiting_review(client, demo, 3)
    Material.objects.filter(filing=filings[1]).update(refused_at=filings[1].decided_at)
    staff_login(client, "agency_shenyang")
    _count, html = _confirm(client, filings, "accept_materials")
    assert f'value="{filings[1].pk}"' not in html  # left out, and said so
    assert f'value="{filings[0].pk}"' in html and f'value="{filings[2].pk}"' in html


@pytest.fixture
def two_pages(monkeypatch):
    """Lists of 2 rows a page that page through their first 4 rows (for 100 of 10,000)."""
    monkeypatch.setattr(PagesUpToTheCap, "cap", 4)
    for model_admin in admin.site._registry.values():
        monkeypatch.setattr(model_admin, "list_per_page", 2)


def test_a_page_past_the_last_offered_is_the_last_and_says_how_to_find_older_rows(
    client, demo, two_pages
):
    _awaiting_review(client, demo, 6)
    staff_login(client, "agency_shenyang")
    client.cookies["django_language"] = "en"
    total = Filing.objects.filter(insured_region__code="210100").count()
    assert total > 4
    response = client.get(changelist(), {"p": "50"})
    assert response.status_code == 200
    cl = response.context["cl"]
    assert cl.result_count == total  # "select all" still stands for every row
    assert cl.paginator.num_pages == 2 and cl.page_num == 2
    newest = list(
        Filing.objects.filter(insured_region__code="210100").order_by("-created_at", "-id")
    )
    assert list(cl.result_list) == newest[2:4]
    html = response.content.decode()
    assert "Pages stop at 2: use the filters or the search to find older filings." in html
    assert 'class="this-page">2<' in html
    first = client.get(changelist())
    assert "Pages stop at" not in first.content.decode()


def test_the_direct_settlements_list_pages_only_through_its_first_rows(client, demo, two_pages):
    from tests.settlement.test_hospital_settlements import H1, _held_stays

    _held_stays(H1, 5)  # 陈明's, insured in Shenyang
    staff_login(client, "agency_shenyang")
    client.cookies["django_language"] = "en"
    response = client.get(reverse("admin:settlement_settlement_changelist"), {"p": "9"})
    assert response.status_code == 200
    cl = response.context["cl"]
    assert cl.result_count == 5 and cl.page_num == 2
    said = "Pages stop at 2: use the filters or the search to find older settlements."
    assert said in response.content.decode()


def test_the_materials_list_opens_newest_first_counted_as_the_logs_are(client, demo, two_pages):
    _awaiting_review(client, demo, 6)
    staff_login(client, "agency_shenyang")
    response = client.get(reverse("admin:filings_material_changelist"), {"p": "40"})
    assert response.status_code == 200
    cl = response.context["cl"]
    assert cl.full_result_count is None  # no count of every material beside the filtered one
    mine = Material.objects.filter(filing__insured_region__code="210100").order_by("-id")
    assert cl.page_num == 2 and list(cl.result_list) == list(mine[2:4])
    first = client.get(reverse("admin:filings_material_changelist")).context["cl"]
    assert list(first.result_list) == list(mine[:2])
    assert first.paginator.capped  # more than 4: "more than 4 materials", as the logs say


def test_the_queue_of_submitted_filings_has_an_index_in_its_order():
    """The queue (`?status__exact=submitted`: oldest submitted first) and its count on the
    admin's index read a region's waiting filings from a partial index, not its history."""
    model_admin = admin.site._registry[Filing]
    request = RequestFactory().get("/", {"status__exact": Status.SUBMITTED})
    order = model_admin.get_ordering(request)
    (index,) = [i for i in Filing._meta.indexes if i.name == "filing_submitted_queue"]
    assert index.fields == ["insured_region", *order]
    assert dict(index.condition.children) == {"status": Status.SUBMITTED}
    assert model_admin.region_field == "insured_region"
    assert FilingType.REFERRAL  # every type waits in the same queue
