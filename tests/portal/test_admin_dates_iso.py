"""Dates in the admin as the portal writes them (portal/formats/): a reviewer working in English
reads a filing's commitment deadline as 2026-12-28 and an event's time as 2026-11-22 09:30, not
Django's "Dec. 28, 2026" and "Nov. 22, 2026, 9:30 a.m."; the Chinese admin keeps Django's
Chinese dates (2026年12月28日), which read naturally and are what the documents print."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from filings.models import Filing
from hospitals.models import AccessLog
from portal.models import AuditEvent
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
# "Dec. 28, 2026", "May 5, 2026", "Nov. 22, 2026, 9:30 a.m.": Django's English dates.
ENGLISH_DATE = re.compile(r"\b(?:Jan|Feb|March|April|May|June|July|Aug|Sept|Oct|Nov|Dec)\.? \d")
MERIDIEM = re.compile(r"\d [ap]\.m\.|\bnoon\b|\bmidnight\b")


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _pages(client, lang: str) -> dict[str, str]:
    client.cookies["django_language"] = lang
    filing = Filing.objects.exclude(commitment_deadline=None).order_by("pk").first()
    event = AuditEvent.objects.order_by("pk").first()
    urls = {
        "filings": reverse("admin:filings_filing_changelist"),
        "filing": reverse("admin:filings_filing_change", args=[filing.pk]),
        "events": reverse("admin:portal_auditevent_changelist"),
        "event": reverse("admin:portal_auditevent_change", args=[event.pk]),
        "access": reverse("admin:hospitals_accesslog_changelist"),
    }
    return {name: client.get(url).content.decode() for name, url in urls.items()}


def test_the_english_admin_writes_dates_and_times_as_the_portal_does(client, demo):
    staff_login(client, "admin")
    log = AccessLog.objects.create(subject_hash="0" * 64, purpose="eligibility", outcome="found")
    filing = Filing.objects.exclude(commitment_deadline=None).order_by("pk").first()
    event = AuditEvent.objects.order_by("pk").first()
    pages = _pages(client, "en")
    deadline = f"{filing.commitment_deadline:%Y-%m-%d}"
    assert deadline in pages["filings"] and deadline in pages["filing"]
    assert _when(event.created_at) in pages["event"]
    assert _when(log.created_at) in pages["access"]
    for name, html in pages.items():
        assert not ENGLISH_DATE.search(html), name
        assert not MERIDIEM.search(html), name


def test_the_chinese_admin_keeps_chinese_dates(client, demo):
    staff_login(client, "admin")
    filing = Filing.objects.exclude(commitment_deadline=None).order_by("pk").first()
    pages = _pages(client, "zh-hans")
    day = filing.commitment_deadline
    assert f"{day.year}年{day.month}月{day.day}日" in pages["filing"]
    for name, html in pages.items():
        assert not ENGLISH_DATE.search(html), name
        assert not MERIDIEM.search(html), name
