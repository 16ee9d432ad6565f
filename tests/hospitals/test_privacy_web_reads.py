"""A clerk's pages that show patients (the referral lists and page, the settlement list, page
and CSV) write one access-log row per patient shown, so the agency's access log answers "who
read this person's record" by the person's ID number; a page seen again within minutes is
counted on the rows already written, not written again (api.md: every read is recorded)."""

import pytest
from django.urls import reverse

from filings.models import Filing
from hospitals.models import AccessLog
from portal.lib import idnumbers
from tests.filings.test_referrals import start
from tests.settlement.test_hospital_settlements import H1, ZHANG, _clerk, _settle
from tests.settlement.test_stats import sign_in

pytestmark = pytest.mark.django_db


def _rows(purpose: str, id_number: str):
    return AccessLog.objects.filter(purpose=purpose, subject_hash=idnumbers.id_hash(id_number))


def test_the_referral_list_and_page_record_each_patient_shown_folding_repeats(client, demo):
    start(client, demo)
    referral = Filing.objects.get(person__name="陈明", type="referral")
    chen = "210103198512010131"
    before = _rows("referral:web", chen).filter(outcome="found").count()  # the start's lookup
    client.get(reverse("referrals"))
    client.get(reverse("referrals"))
    client.get(reverse("referral-detail", args=[referral.number]))
    read = _rows("referral:web", chen).filter(outcome="found").order_by("-id").first()
    assert _rows("referral:web", chen).filter(outcome="found").count() == before + 1
    assert read.calls == 3 and read.hospital.code == "H21010000001"
    assert read.actor == demo["hosp_h21010000001"]


def test_the_receiving_hospitals_list_records_its_patients(client, demo):
    client.force_login(demo["hosp_h23010300001"])
    html = client.get(reverse("referrals")).content.decode()
    assert "ZZ232700000001" in html
    person = Filing.objects.get(number="ZZ232700000001").person
    row = AccessLog.objects.get(purpose="referral:web", subject_hash=person.id_hash)
    assert row.hospital.code == "H23010300001" and row.subject_region_id == person.region_id


def test_the_settlement_list_page_and_csv_record_each_patient(client, demo):
    _settle(H1)
    _clerk(client, demo)
    s = _settle(H1)
    client.get(reverse("hospital-settlements"))
    rows = _rows("settlement:web", ZHANG[0])
    assert rows.count() == 1 and rows.get().hospital.code == H1
    client.get(reverse("hospital-settlement", args=[s.number]))
    assert rows.get().calls == 2
    sign_in(client, demo[f"hosp_{H1.lower()}"])  # the export asks for a recent sign-in
    response = client.get(reverse("hospital-settlements-csv"))
    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert rows.get().calls == 3
    assert rows.get().actor == demo[f"hosp_{H1.lower()}"]


def test_a_read_after_the_fold_ended_is_a_row_of_its_own(client, demo):
    _settle(H1)
    _clerk(client, demo).get(reverse("hospital-settlements"))
    client.get(reverse("hospital-settlements"))
    assert _rows("settlement:web", ZHANG[0]).count() == 1
    from django.core.cache import cache

    cache.clear()  # the fold ended: the next read is a row of its own
    client.get(reverse("hospital-settlements"))
    assert _rows("settlement:web", ZHANG[0]).count() == 2
