"""The admission-desk check answers "not found" only so many times per account and window: trying
names against one ID number until the person's filing shows stops at the limit, and is audited."""

import datetime

import pytest
import time_machine

from hospitals import eligibility_views
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/hospitals/check/"
ID_NUMBER = "232701195603120223"


def _check(client, name: str):
    return client.post(URL, {"id_number": ID_NUMBER, "name": name, "care_type": "inpatient"})


@pytest.fixture
def limit_of_three(monkeypatch):
    monkeypatch.setattr(eligibility_views, "MISSES_PER_WINDOW", 3, raising=False)


def test_guessing_names_stops_at_the_limit_even_for_the_right_name(client, demo, limit_of_three):
    client.force_login(demo["hosp_h46020000002"])
    for guess in ["王秀", "王秀英", "王秀芳"]:
        answer = _check(client, guess)
        assert answer.status_code == 200
        assert 'data-verdict="not-found"' in answer.content.decode()
    blocked = _check(client, "王秀兰")  # the right name, after three wrong ones
    html = blocked.content.decode()
    assert blocked.status_code == 429
    assert "data-verdict" not in html and "232701" not in html.split('id="result"')[1]
    assert "查无此人的次数过多" in html


def test_reaching_the_limit_is_audited_once(client, demo, limit_of_three):
    clerk = demo["hosp_h46020000002"]
    client.force_login(clerk)
    for guess in ["甲", "乙", "丙", "丁", "戊"]:
        _check(client, guess)
    events = AuditEvent.objects.filter(action="hospital_staff.check_limit")
    assert events.count() == 1
    assert events.get().actor == clerk


def test_the_limit_is_per_account_and_right_answers_do_not_count(client, demo, limit_of_three):
    client.force_login(demo["hosp_h46020000002"])
    for _ in range(5):
        assert 'data-verdict="eligible"' in _check(client, "王秀兰").content.decode()
    for guess in ["甲", "乙", "丙"]:
        _check(client, guess)
    assert _check(client, "王秀兰").status_code == 429
    client.force_login(demo["hosp_h21010000001"])
    assert _check(client, "王秀兰").status_code == 200


def test_the_limit_ends_with_its_window(client, demo, limit_of_three):
    client.force_login(demo["hosp_h46020000002"])
    with time_machine.travel(datetime.datetime.now(datetime.UTC), tick=False) as clock:
        for guess in ["甲", "乙", "丙"]:
            _check(client, guess)
        assert _check(client, "王秀兰").status_code == 429
        clock.shift(eligibility_views.MISS_WINDOW_SECONDS)
        assert 'data-verdict="eligible"' in _check(client, "王秀兰").content.decode()
