"""domain.md §3: the fund pays a stay once. A direct settlement for days of a stay that an
earlier one, settled or held, covers already (the same bill sent again without its
Idempotency-Key, a stay settled at two hospitals) is settled as sent, so the hospital's answer
is what api.md says it is, and marked as overlapping the earlier one: the agency finds the
pairs in its settlements list (filter *Overlapping stays*), sees the earlier one named and
linked on the later one, and voids the one the fund must not pay; a voided one no longer
counts."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from hospitals.models import Hospital
from hospitals.services import api_key_create
from settlement import services
from settlement.models import Settlement
from tests.settling import settle_today
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
SANYA, SANYA_OTHER = "H46020000002", "H46020000001"  # both among 王秀兰's chosen hospitals
ADMIN_LIST = reverse("admin:settlement_settlement_changelist")


def day(days_ago: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days_ago)


def stay(
    first: int, last: int, hospital: str = SANYA, amount: str = "3000.00", **visit
) -> Settlement:
    """王秀兰 admitted `first` days ago and discharged `last` days ago at `hospital`."""
    return settle_today(
        amount, hospital=hospital, admitted_on=day(first), discharged_on=day(last), **visit
    )


def post(client, key: str, body: dict):
    return client.post(
        "/api/v1/settlements",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def test_rule_3_the_same_bill_sent_twice_without_its_key_is_settled_and_marked(client, demo):
    key = api_key_create(hospital=Hospital.objects.get(code=SANYA))[1]
    body = {
        "id_number": "232701195603120223",
        "name": "王秀兰",
        "visit": {
            "care_type": "inpatient",
            "admitted_on": day(6).isoformat(),
            "discharged_on": day(3).isoformat(),
        },
        "items": [{"code": "X1", "name": "住院费", "class": "A", "amount": "3000.00"}],
    }
    first, again = post(client, key, body), post(client, key, body)
    assert first.status_code == again.status_code == 201
    # The hospital's answer is the same but for its number: no new field, no new flag.
    answer, repeated = first.json(), again.json()
    assert answer.pop("number") != repeated.pop("number")
    assert answer == repeated
    one, two = Settlement.objects.filter(person__name="王秀兰", admitted_on=day(6)).order_by("id")
    assert one.overlaps_id is None and two.overlaps_id == one.pk
    # Sent again with the same Idempotency-Key, it is the same settlement, not a third.
    keyed = {"HTTP_IDEMPOTENCY_KEY": "bill-1"}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}", **keyed}
    assert (
        client.post(
            "/api/v1/settlements", body, content_type="application/json", **headers
        ).status_code
        == 201
    )
    assert (
        client.post(
            "/api/v1/settlements", body, content_type="application/json", **headers
        ).status_code
        == 200
    )
    assert Settlement.objects.filter(person__name="王秀兰", admitted_on=day(6)).count() == 3


def test_rule_3_a_stay_settled_at_two_hospitals_is_marked_one_after_the_other_is_not(demo):
    here = stay(20, 15)
    there = stay(17, 16, hospital=SANYA_OTHER)  # nights in common with `here`
    assert there.overlaps_id == here.pk
    # A transfer: discharged from one and admitted to the other on the same day.
    moved = stay(15, 12, hospital=SANYA_OTHER)
    assert moved.overlaps_id is None
    # Outpatient care on another day at the same hospital is another visit.
    visit = stay(30, 30, care_type="general_outpatient")
    later = stay(29, 29, care_type="general_outpatient")
    assert visit.overlaps_id is None and later.overlaps_id is None


def test_rule_3_a_voided_settlement_no_longer_counts(demo):
    first = stay(40, 38)
    services.settlement_void(settlement=first, actor=demo["agency_dxal"], reason="重复结算")
    again = stay(40, 38)
    assert again.overlaps_id is None


def test_the_agency_finds_the_pairs_and_sees_the_earlier_one_linked(client, demo):
    plain = stay(60, 58)
    first = stay(50, 47)
    second = stay(50, 47)
    staff_login(client, "agency_dxal")
    page = client.get(ADMIN_LIST, {"overlaps": "yes"}).content.decode()
    assert (
        second.number in page and f"Overlaps {first.number}" not in page
    )  # the page is in Chinese
    assert f"与 {first.number}" in page
    assert plain.number not in page and f">{first.number}<" not in page
    detail = client.get(reverse("admin:settlement_settlement_change", args=[second.pk]))
    link = reverse("admin:settlement_settlement_change", args=[first.pk])
    assert f'href="{link}"' in detail.content.decode()
    # Once the agency voids the duplicate, the pair leaves the list.
    services.settlement_void(settlement=second, actor=demo["agency_dxal"], reason="重复结算")
    page = client.get(ADMIN_LIST, {"overlaps": "yes"}).content.decode()
    assert second.number not in page


def test_the_hospital_that_sent_a_bill_twice_is_told_on_its_page(client, demo):
    first = stay(80, 77)
    second = stay(80, 77)
    client.force_login(demo[f"hosp_{SANYA.lower()}"])
    page = client.get(reverse("hospital-settlement", args=[second.number])).content.decode()
    assert 'id="sent-before"' in page
    assert f'href="{reverse("hospital-settlement", args=[first.number])}"' in page
    assert (
        'id="sent-before"'
        not in client.get(reverse("hospital-settlement", args=[first.number])).content.decode()
    )
    # Once one of the two is voided, the note goes.
    services.settlement_void(settlement=first, actor=demo["agency_dxal"], reason="重复结算")
    page = client.get(reverse("hospital-settlement", args=[second.number])).content.decode()
    assert 'id="sent-before"' not in page


def test_a_stay_settled_at_another_hospital_is_not_shown_to_this_one(client, demo):
    """The agency sees both; a hospital does not learn where else the person was treated."""
    elsewhere = stay(90, 85, hospital=SANYA_OTHER)
    here = stay(88, 86)
    assert here.overlaps_id == elsewhere.pk
    client.force_login(demo[f"hosp_{SANYA.lower()}"])
    page = client.get(reverse("hospital-settlement", args=[here.number])).content.decode()
    assert 'id="sent-before"' not in page and elsewhere.number not in page


def test_rule_3_a_bill_sent_three_times_stays_marked_once_the_first_is_voided(client, demo):
    first, second, third = stay(100, 97), stay(100, 97), stay(100, 97)
    assert second.overlaps_id == third.overlaps_id == first.pk
    services.settlement_void(settlement=first, actor=demo["agency_dxal"], reason="重复结算")
    second.refresh_from_db()
    third.refresh_from_db()
    assert second.overlaps_id is None and third.overlaps_id == second.pk
    staff_login(client, "agency_dxal")
    page = client.get(ADMIN_LIST, {"overlaps": "yes"}).content.decode()
    assert third.number in page and f"与 {second.number}" in page


def test_rule_3_outpatient_visits_are_twins_only_as_the_same_bill(demo):
    """Two visits of a day at one hospital may be two bills (two departments, or chronic and
    general care): only the same care, days and total mark the second."""
    general = stay(110, 110, care_type="general_outpatient")
    chronic = stay(110, 110, care_type="chronic_outpatient")
    other_amount = stay(110, 110, amount="120.00", care_type="general_outpatient")
    again = stay(110, 110, care_type="general_outpatient")
    assert chronic.overlaps_id is None and other_amount.overlaps_id is None
    assert again.overlaps_id == general.pk


def test_the_hospital_sees_its_own_twin_when_the_earliest_was_elsewhere(client, demo):
    elsewhere = stay(130, 120, hospital=SANYA_OTHER)
    here = stay(125, 122)
    again = stay(125, 122)
    assert here.overlaps_id == again.overlaps_id == elsewhere.pk
    client.force_login(demo[f"hosp_{SANYA.lower()}"])
    page = client.get(reverse("hospital-settlement", args=[again.number])).content.decode()
    assert f'href="{reverse("hospital-settlement", args=[here.number])}"' in page
    assert elsewhere.number not in page
