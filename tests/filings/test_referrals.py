"""E-referral: started by a hospital of the patient's own region, signed by the director,
stamped by the medical office, approved by the agency, seen by the person."""

import pytest
from django.urls import reverse

from filings import services
from filings.models import Filing
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db
CHEN = {"id_number": "210103198512010131", "name": "陈明"}


def start(client, demo, user="hosp_h21010000001", **extra):
    from hospitals.models import Hospital

    client.force_login(demo[user])
    return client.post(
        reverse("referrals"),
        {
            **CHEN,
            "receiving_hospital": Hospital.objects.get(code="H23010300001").pk,
            "diagnosis": "冠心病",
            "condition": "b",
            "attending_doctor": "刘洋",
            **extra,
        },
    )


def test_rule_2_2_e_referral_signed_level_by_level_then_approved(client, demo):
    response = start(client, demo)
    assert response.status_code == 302
    filing = Filing.objects.get(person__name="陈明", type="referral")
    assert filing.status == "draft" and filing.issuing_hospital.code == "H21010000001"
    url = reverse("referral-detail", args=[filing.number])
    client.post(url, {"step": "office", "signer": "医务科"})  # out of order: refused
    assert Filing.objects.get(pk=filing.pk).medical_office_signed_at is None
    client.post(url, {"step": "director", "signer": "赵主任"})
    client.post(url, {"step": "office", "signer": "医务科王科长"})
    filing.refresh_from_db()
    assert filing.status == "submitted"
    assert (filing.director_signed_by, filing.medical_office_signed_by) == (
        "赵主任",
        "医务科王科长",
    )
    actions = set(
        AuditEvent.objects.filter(object_id=str(filing.pk)).values_list("action", flat=True)
    )
    assert {"referral.sign_director", "referral.sign_office", "filing.submit"} <= actions
    services.filing_approve(filing=filing, actor=demo["agency_shenyang"])
    client.force_login(demo["chenming"])
    assert filing.number in client.get(reverse("filings:list")).content.decode()


def test_rule_2_2_only_a_hospital_of_the_patients_own_region_refers(client, demo):
    response = start(client, demo, user="hosp_h46020000002")
    assert response.status_code == 200
    assert "参保统筹区" in response.content.decode()
    assert not Filing.objects.filter(person__name="陈明").exists()


def test_another_hospital_cannot_see_or_sign_the_referral(client, demo):
    start(client, demo)
    filing = Filing.objects.get(person__name="陈明", type="referral")
    client.force_login(demo["hosp_h23010300001"])
    assert client.get(reverse("referral-detail", args=[filing.number])).status_code == 404
