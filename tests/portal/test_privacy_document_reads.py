"""Reads of a person's most sensitive files are in the access log, as a proof material's are:
a claim's documents (discharge summary, medical record, invoices) and a filing's printed forms
(name, masked ID number, diagnosis, hospitals). Who read, whose, for which agency or hospital;
the same file again within minutes counts on one row; a refused read writes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from filings import documents
from filings.models import Filing
from hospitals.models import AccessLog
from tests.settlement.test_claims import _submit

pytestmark = pytest.mark.django_db


def test_a_claims_document_opened_by_the_agency_is_in_the_access_log(client, demo):
    claim = _submit()  # 陈明, insured in Shenyang
    url = reverse("settlement:claim-document", args=[claim.number, claim.documents.first().pk])
    client.force_login(demo["agency_dxal"])  # another region's agency: refused
    assert client.get(url).status_code == 404
    assert not AccessLog.objects.filter(purpose="claim_document:web").exists()
    agency = demo["agency_shenyang"]
    client.force_login(agency)
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    read = AccessLog.objects.get(purpose="claim_document:web")
    assert read.actor == agency and read.calls == 2
    assert read.subject_hash == claim.person.id_hash
    assert read.agency_region == agency.agency_staff.agency.region


def test_a_filings_form_downloaded_by_a_hospital_is_in_the_access_log(client, demo, settings):
    from portal.celery import app

    referral = Filing.objects.get(person__name="张伟", type="referral")
    url = reverse("document-download", args=[referral.number, documents.REFERRAL_FORM])
    clerk = demo["hosp_h23010300001"]  # the receiving hospital
    app.conf.task_always_eager = True
    try:
        client.force_login(clerk)
        response = client.get(url)
    finally:
        app.conf.task_always_eager = False
    assert response.status_code == 200
    read = AccessLog.objects.get(purpose="document:web")
    assert read.actor == clerk and read.hospital.code == "H23010300001"
    assert read.subject_hash == referral.person.id_hash and read.agency_region is None
