"""An e-referral its hospital has only started is the hospital's draft: the patient neither
sees it listed nor opens it (404), nor does the receiving hospital act on it (404); discarded,
it never appears to the patient. Once stamped and sent, the patient sees it."""

import pytest
from django.urls import reverse

from filings import services
from filings.models import Filing
from tests.filings.test_referrals import start

pytestmark = pytest.mark.django_db


def _draft(client, demo) -> Filing:
    client.get(start(client, demo)["Location"])  # the "started" message shown there
    return Filing.objects.get(person__name="陈明", type="referral")


def test_a_started_referral_is_not_the_patients_until_sent(client, demo):
    referral = _draft(client, demo)
    client.force_login(demo["chenming"])
    assert referral.number not in client.get(reverse("filings:list")).content.decode()
    assert client.get(reverse("filings:detail", args=[referral.number])).status_code == 404
    assert client.get(reverse("filings:edit", args=[referral.number])).status_code == 404
    client.force_login(demo["hosp_h21010000001"])
    url = reverse("referral-detail", args=[referral.number])
    client.post(url, {"step": "director", "signer": "赵主任"})
    client.post(url, {"step": "office", "signer": "医务科王科长"})
    assert Filing.objects.get(pk=referral.pk).status == "submitted"
    client.force_login(demo["chenming"])
    assert referral.number in client.get(reverse("filings:list")).content.decode()
    assert client.get(reverse("filings:detail", args=[referral.number])).status_code == 200


def test_a_discarded_draft_never_appears_to_the_patient(client, demo):
    referral = _draft(client, demo)
    services.referral_discard(
        filing=referral, hospital=referral.issuing_hospital, actor=demo["hosp_h21010000001"]
    )
    client.force_login(demo["chenming"])
    assert referral.number not in client.get(reverse("filings:list")).content.decode()
    assert client.get(reverse("filings:detail", args=[referral.number])).status_code == 404


def test_the_receiving_hospital_cannot_act_on_a_draft(client, demo):
    referral = _draft(client, demo)
    client.force_login(demo["hosp_h23010300001"])
    url = reverse("referral-start-treatment", args=[referral.number])
    assert client.post(url, {"started_on": "2020-01-01"}).status_code == 404
    url = reverse("referral-follow-up", args=[referral.number])
    assert client.post(url, {"kind": "continued"}).status_code == 404


def test_a_drafts_form_is_downloaded_by_its_hospital_only(client, demo):
    """A started e-referral's form (with the diagnosis) could be downloaded by its URL by the
    patient and by the receiving hospital."""
    referral = _draft(client, demo)
    url = reverse("document-download", args=[referral.number, "referral_form"])
    for login in ("chenming", "hosp_h23010300001"):
        client.force_login(demo[login])
        assert client.get(url).status_code == 404, login
    client.force_login(demo["hosp_h21010000001"])
    assert client.get(url).status_code in (200, 202)
