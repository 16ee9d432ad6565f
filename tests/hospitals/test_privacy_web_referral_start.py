"""The referral start form looks a patient up by ID number and name: a wrong name is answered
as an unknown person, the misses count on the desk check's budget (api.md: no enumeration),
and every lookup is in the access log (api.md: every read of personal data is recorded)."""

import pytest
from django.urls import reverse

from hospitals import eligibility_views
from hospitals.models import AccessLog, Hospital
from portal.lib import idnumbers
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db
CHEN_ID = "210103198512010131"


def _start(client, name: str, id_number: str = CHEN_ID):
    return client.post(
        reverse("referrals"),
        {
            "id_number": id_number,
            "name": name,
            "receiving_hospital": Hospital.objects.get(code="H23010300001").pk,
            "diagnosis": "冠心病",
            "condition": "b",
            "attending_doctor": "刘洋",
        },
    )


@pytest.fixture
def limit_of_three(monkeypatch):
    monkeypatch.setattr(eligibility_views, "MISSES_PER_WINDOW", 3)


def test_guessing_names_on_the_referral_form_stops_at_the_desk_limit(client, demo, limit_of_three):
    clerk = demo["hosp_h21010000001"]
    client.force_login(clerk)
    for guess in ["陈", "陈敏", "陈明明"]:
        answer = _start(client, guess)
        assert answer.status_code == 200
        assert "未找到该身份证号码和姓名对应的参保人" in answer.content.decode()
    blocked = _start(client, "陈明")  # the right name, after three wrong ones
    assert blocked.status_code == 429
    html = blocked.content.decode()
    assert "查无此人的次数过多" in html and "ZZ" not in html.split("Start")[0]
    events = AuditEvent.objects.filter(action="hospital_staff.check_limit", actor=clerk)
    assert events.count() == 1
    # The desk check shares the budget: it is spent there too.
    desk = client.post(
        "/hospitals/check/", {"id_number": CHEN_ID, "name": "陈明", "care_type": "inpatient"}
    )
    assert desk.status_code == 429


def test_desk_check_misses_count_on_the_referral_form(client, demo, limit_of_three):
    client.force_login(demo["hosp_h21010000001"])
    for guess in ["甲", "乙", "丙"]:
        client.post(
            "/hospitals/check/", {"id_number": CHEN_ID, "name": guess, "care_type": "inpatient"}
        )
    assert _start(client, "陈明").status_code == 429


def test_a_wrong_name_is_answered_as_an_unknown_id_number(client, demo):
    client.force_login(demo["hosp_h21010000001"])
    wrong_name = _start(client, "陈敏").content.decode()
    unknown = _start(client, "陈明", "210103198001011239").content.decode()  # no one's
    message = "未找到该身份证号码和姓名对应的参保人"
    assert message in wrong_name and message in unknown


def test_every_referral_lookup_is_in_the_access_log(client, demo):
    clerk = demo["hosp_h21010000001"]
    client.force_login(clerk)
    _start(client, "陈敏")
    _start(client, "陈明")
    rows = AccessLog.objects.filter(
        purpose="referral:web", subject_hash=idnumbers.id_hash(CHEN_ID), actor=clerk
    ).order_by("id")
    assert [r.outcome for r in rows] == ["not_found", "found"]
    assert {r.hospital.code for r in rows} == {"H21010000001"}
    assert rows[1].subject_region is not None
