"""An agency reader's reads of a person's record in the admin are in the access log, as the
hospitals' reads are (api.md: every call that reads personal data is recorded; privacy audit,
finding 2): the person's page (full name, card number masked) and the reveal of the full ID
and card numbers. A reload within minutes is counted on the first read's row."""

import pytest
from django.urls import reverse

from hospitals.models import AccessLog
from portal.models import InsuredPerson, Region
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url_name", "purpose"),
    [
        ("admin:portal_insuredperson_change", "person:admin"),
        ("admin:portal_insuredperson_reveal", "reveal:admin"),
    ],
)
def test_a_read_of_a_persons_record_in_the_admin_is_logged_and_a_reload_folded(
    client, demo, url_name, purpose
):
    person = InsuredPerson.objects.get(name="王秀兰")
    staff_login(client, "agency_dxal")
    url = reverse(url_name, args=[person.pk])
    # The person's page is read by opening it; the full numbers by the reveal page's button.
    read = client.post if purpose == "reveal:admin" else client.get
    assert read(url).status_code == 200
    row = AccessLog.objects.get(purpose=purpose)
    assert row.actor == demo["agency_dxal"] and row.outcome == "found"
    assert row.subject_hash == person.id_hash and row.subject_region_id == person.region_id
    assert row.agency_region == Region.objects.get(code="232700")
    assert read(url).status_code == 200
    row.refresh_from_db()
    assert row.calls == 2 and AccessLog.objects.filter(purpose=purpose).count() == 1


def test_another_region_s_person_is_not_read_and_nothing_is_logged(client, demo):
    person = InsuredPerson.objects.get(name="王秀兰")  # insured in 232700
    staff_login(client, "agency_shenyang")
    for name in ("admin:portal_insuredperson_change", "admin:portal_insuredperson_reveal"):
        assert client.get(reverse(name, args=[person.pk])).status_code == 404
    assert not AccessLog.objects.filter(purpose__in=["person:admin", "reveal:admin"]).exists()
