"""domain.md §2.6: temporary filings may coexist with a long-term filing only for other places.
When a long-term filing is approved, the person's temporary filing for the same place ends the
day before it takes effect: one filing at a time, no gap."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from filings import jobs, services
from filings.models import Filing
from hospitals.eligibility_selectors import clear_caches
from hospitals.eligibility_service import check
from hospitals.models import Hospital
from portal.models import AuditEvent, InsuredPerson, Region

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def _long_term_for(person: InsuredPerson, place: Region) -> Filing:
    return Filing.objects.create(
        number="BA-TEST-LIU",
        person=person,
        insured_region=person.region,
        type="long_term",
        subtype="long_term_resident",
        status="submitted",
        place_province=place.province,
        place_region=place,
        start_date=timezone.localdate(),
        covers_inpatient=True,
        covers_general_outpatient=True,
        basis="materials",
    )


def test_rule_2_6_a_long_term_filing_approved_ends_the_temporary_filing_for_its_place(demo):
    # 刘芳 (Dalian: benefits from the day of approval) has a temporary filing to Harbin.
    liu = InsuredPerson.objects.get(name="刘芳")
    temporary = Filing.objects.get(person=liu, type="temporary")
    harbin = Region.objects.get(code="230100")
    long_term = services.filing_approve(filing=_long_term_for(liu, harbin), actor=demo["admin"])
    today = timezone.localdate()
    assert long_term.valid_from == today
    temporary.refresh_from_db()
    assert (temporary.status, temporary.valid_until) == ("approved", today - DAY)
    event = AuditEvent.objects.get(action="filing.superseded", object_id=str(temporary.pk))
    assert event.reason == long_term.number
    # The nightly run closes it as any other; the desk sees the long-term filing.
    jobs.apply_changes(today)
    temporary.refresh_from_db()
    assert temporary.status == "expired"
    clear_caches()
    decision, _found = check(
        hospital_id=Hospital.objects.get(code="H23010300001").pk,
        id_number="210202199004150481",
        name="刘芳",
        care_type="inpatient",
        visit_date=today,
    )
    assert (decision.eligible, decision.category) == (True, "long_term")


def test_rule_2_6_a_temporary_filing_for_another_place_stays(demo):
    liu = InsuredPerson.objects.get(name="刘芳")
    temporary = Filing.objects.get(person=liu, type="temporary")
    before = temporary.valid_until
    services.filing_approve(
        filing=_long_term_for(liu, Region.objects.get(code="460200")),
        actor=demo["admin"],
    )
    temporary.refresh_from_db()
    assert (temporary.status, temporary.valid_until) == ("approved", before)
    assert not AuditEvent.objects.filter(action="filing.superseded").exists()


def test_rule_2_6_the_person_is_told_the_long_term_filing_replaces_the_temporary_one(demo):
    from portal.models import Notification

    liu = InsuredPerson.objects.get(name="刘芳")
    temporary = Filing.objects.get(person=liu, type="temporary")
    long_term = services.filing_approve(
        filing=_long_term_for(liu, Region.objects.get(code="230100")), actor=demo["admin"]
    )
    note = Notification.objects.get(user=liu.user, notice="temporary_superseded")
    subject, body = note.text("zh-hans")
    last_day = timezone.localdate() - DAY
    assert temporary.number in subject
    assert long_term.number in body and f"{last_day:%Y-%m-%d}" in body
