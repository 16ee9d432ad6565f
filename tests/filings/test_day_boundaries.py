"""The day boundaries of filings in China's day (domain.md §2.1): what the person is told when a
filing ends and its renewal starts later, the lock of a filing valid from 29 February, a file
sent in the commitment deadline's last minute, and the parameters in force on a day."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from hypothesis import example, given, settings
from hypothesis import strategies as st

from filings import jobs, rules, uploads
from filings.models import Filing, FilingParameters, Material
from filings.selectors import parameters_for
from portal.models import Notification, Region
from tests.filings.test_rules import DAXINGANLING
from tests.filings.test_views import png

D = datetime.date
DAY = datetime.timedelta(days=1)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
WANG = "BA232700000001"  # 王秀兰: long-term, Daxinganling
LI = "BA210100000001"  # 李建国: long-term by commitment, materials outstanding


def at(day: datetime.date, hour: int, minute: int = 0, second: int = 0):
    moment = datetime.datetime.combine(day, datetime.time(hour, minute, second), tzinfo=SHANGHAI)
    return time_machine.travel(moment, tick=False)


# --- a renewal that takes effect after the day the old filing ends ------------------------------


def _renewal_from(starts: datetime.date, today: datetime.date) -> Filing:
    """王秀兰's filing ended yesterday; its renewal, approved, takes effect on `starts`
    (Daxinganling: the day after an approval made today)."""
    old = Filing.objects.get(number=WANG)
    Filing.objects.filter(pk=old.pk).update(valid_until=today - DAY)
    return Filing.objects.create(
        number="BA-RENEWAL-1",
        person=old.person,
        insured_region=old.insured_region,
        type="long_term",
        subtype=old.subtype,
        status="approved",
        renews=old,
        place_province=old.place_province,
        place_region=old.place_region,
        valid_from=starts,
        valid_until=starts + datetime.timedelta(days=364),
        basis="materials",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("statement", ["as_configured", "orm"])
def test_rule_2_1_a_renewal_taking_effect_later_is_told_with_its_first_day_not_as_in_force(
    demo, monkeypatch, statement
):
    """The nightly run on D+1 expires the filing that ended on D; its renewal, approved at
    00:30 on D+1, takes effect on D+2. The person is told the day it takes effect, not "in
    force from today" (the desk and the API answer "not eligible" on D+1)."""
    if statement == "orm":
        monkeypatch.setattr(jobs, "_apply_pg", jobs._apply_orm)
    today = timezone.localdate()
    renewal = _renewal_from(today + DAY, today)
    jobs.apply_changes(today)
    assert Filing.objects.get(number=WANG).status == "expired"
    note = Notification.objects.get(user=demo["wangxiulan"], notice__startswith="filing_")
    assert note.notice == "filing_approved_from"
    assert note.params == {"n": renewal.number, "d": (today + DAY).isoformat()}
    assert note.url == f"/filings/{renewal.number}/"
    subject, body = note.text("zh-hans")
    assert f"{today + DAY:%Y-%m-%d}" in subject and renewal.number in subject
    assert "今日" not in body


# --- the lock of a filing valid from 29 February ------------------------------------------------


def test_rule_2_1_a_filing_valid_from_29_february_stays_locked_to_its_last_day():
    """Daxinganling: valid 12 months, no change or cancellation within 12 months. Approved on
    28 Feb 2028, valid from 29 Feb 2028 to 28 Feb 2029: locked on every day of it, told as
    locked while valid, never "possible from" a day within it."""
    starts, until = rules.validity("long_term", DAXINGANLING, D(2028, 2, 28))
    assert (starts, until) == (D(2028, 2, 29), D(2029, 2, 28))
    assert rules.change_allowed_from(starts, DAXINGANLING) == D(2029, 3, 1)
    for today in (D(2029, 2, 27), until):
        refusal = rules.lock_refusal(starts, until, DAXINGANLING, today)
        assert refusal is not None and refusal.code == "locked_while_valid"


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2099, 12, 31)), st.integers(1, 24))
@example(D(2028, 2, 28), 12)  # valid from 29 Feb 2028
@example(D(2025, 1, 30), 1)  # valid from 31 Jan 2025 for a month
def test_rule_2_1_property_a_lock_as_long_as_the_validity_covers_all_of_it(approved_on, months):
    """A lock of N months after taking effect, of a filing valid N months, covers every day of
    the validity, and lifts the day after it (counted as the validity is)."""
    params = rules.Parameters(
        **{**DAXINGANLING.__dict__, "long_term_validity_months": months, "lock_months": months}
    )
    starts, until = rules.validity("long_term", params, approved_on)
    assert rules.change_allowed_from(starts, params) == until + DAY
    refusal = rules.lock_refusal(starts, until, params, until)
    assert refusal is not None and refusal.code == "locked_while_valid"


# --- a file sent in the last minute of the commitment deadline ----------------------------------


@pytest.mark.django_db
def test_rule_2_1_a_file_sent_on_the_deadline_day_counts_though_stored_after_midnight(
    client, demo, monkeypatch
):
    """李建国 sends his residence certificate at 23:59:50 on the deadline day; checking and
    storing it ends after midnight. The page allowed it and told him the agency will check it:
    it counts as supplied on the deadline day, and the nightly run does not revoke the filing."""
    deadline = timezone.localdate() + 3 * DAY
    Filing.objects.filter(number=LI).update(commitment_deadline=deadline)
    after_midnight = time_machine.travel(
        datetime.datetime.combine(deadline + DAY, datetime.time(0, 0, 5), tzinfo=SHANGHAI),
        tick=False,
    )
    checked, moved = uploads.check_upload, []

    def slow_check(uploaded):  # the checks (re-encoding) take the upload past midnight
        result = checked(uploaded)
        if not moved:
            after_midnight.start()
            moved.append(True)
        return result

    monkeypatch.setattr(uploads, "check_upload", slow_check)
    client.force_login(demo["lijianguo"])
    url = reverse("filings:detail", args=[LI])
    with at(deadline, 23, 59, 50):
        try:
            response = client.post(
                url, {"action": "upload", "kind": "residence_certificate", "files": [png()]}
            )
        finally:
            if moved:
                after_midnight.stop()
    assert response.status_code == 302
    material = Material.objects.get(filing__number=LI)
    assert timezone.localdate(material.uploaded_at) == deadline
    with at(deadline + DAY, 1, 5):
        jobs.apply_changes()
    assert Filing.objects.get(number=LI).status == "approved"


# --- the parameters in force on China's day ----------------------------------------------------


@pytest.mark.django_db
def test_the_parameters_in_force_by_default_are_those_of_chinas_day(demo, process_clock_in_utc):
    """At 00:30 in China (16:30 the day before in UTC), a version of the parameters effective
    from today is the one in force."""
    shenyang = Region.objects.get(code="210100")
    starts = timezone.localdate() + 10 * DAY
    FilingParameters.objects.create(region=shenyang, effective_from=starts, lock_months=9)
    for day, hour, in_force in ((starts - DAY, 23, False), (starts, 0, True)):
        moment = datetime.datetime.combine(day, datetime.time(hour, 30), tzinfo=SHANGHAI)
        # An instant in UTC: the process clock stays in UTC while travelling.
        with time_machine.travel(moment.astimezone(datetime.UTC), tick=False):
            assert (parameters_for(shenyang).lock_months == 9) is in_force
