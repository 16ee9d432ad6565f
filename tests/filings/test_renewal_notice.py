"""domain.md §2.1: when a long-term filing ends and its approved renewal takes over, the person
is told the renewal is in force, not that the filing expired and must be filed again."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from filings import jobs
from filings.models import Filing
from portal.models import Notification

pytestmark = pytest.mark.django_db
WANG = "BA232700000001"


def _renewed(today: datetime.date) -> tuple[Filing, Filing]:
    old = Filing.objects.get(number=WANG)
    Filing.objects.filter(pk=old.pk).update(valid_until=today - datetime.timedelta(days=1))
    renewal = Filing.objects.create(
        number="BA-RENEWAL-1",
        person=old.person,
        insured_region=old.insured_region,
        type="long_term",
        subtype=old.subtype,
        status="approved",
        renews=old,
        place_province=old.place_province,
        place_region=old.place_region,
        valid_from=today,
        valid_until=today + datetime.timedelta(days=364),
        basis="materials",
    )
    return old, renewal


def _run(today, postgres_path: bool, monkeypatch):
    if not postgres_path:
        monkeypatch.setattr(jobs, "_apply_pg", jobs._apply_orm)
    jobs.apply_changes(today)


@pytest.mark.parametrize("statement", ["as_configured", "orm"])
def test_rule_2_1_a_renewed_filing_ending_tells_the_person_the_renewal_is_in_force(
    demo, monkeypatch, statement
):
    today = timezone.localdate()
    old, renewal = _renewed(today)
    _run(today, statement == "as_configured", monkeypatch)
    old.refresh_from_db()
    assert old.status == "expired"
    note = Notification.objects.get(user=demo["wangxiulan"], params__n=WANG)
    assert note.notice == "filing_renewal_in_force"
    subject, body = note.text("zh-hans")
    assert "续期备案 BA-RENEWAL-1 自今日起生效" in body
    renewal.refresh_from_db()
    assert renewal.status == "approved"


def test_a_filing_ending_without_a_renewal_still_says_it_expired(demo):
    today = timezone.localdate()
    Filing.objects.filter(number=WANG).update(valid_until=today - datetime.timedelta(days=1))
    jobs.apply_changes(today)
    note = Notification.objects.get(user=demo["wangxiulan"], params__n=WANG)
    assert note.notice == "filing_expired"
