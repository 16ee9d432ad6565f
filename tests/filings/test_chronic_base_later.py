"""domain.md §2.5: an outpatient chronic/special disease filing sits on a long-term or temporary
filing for the same place; approved on one that takes effect later, it is in force from that
day, not from its own approval (it would read "approved, in force" while the desk refused it)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from filings import services
from filings.models import Filing, Status
from portal.models import InsuredPerson, Region

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def _chronic_for_liu_fang() -> Filing:
    person = InsuredPerson.objects.select_related("region", "user").get(name="刘芳")
    harbin = Region.objects.select_related("province").get(code="230100")
    filing = services.filing_create(
        person=person,
        actor=person.user,
        filing_type="chronic_outpatient",
        place_province=harbin.province,
        place_region=harbin,
        disease="2型糖尿病",
        covers_chronic_outpatient=True,
    )
    return services.filing_submit(filing=filing, actor=person.user)


def test_rule_2_5_a_chronic_filing_on_a_base_taking_effect_later_starts_with_it(demo):
    today = timezone.localdate()
    base_from, base_until = today + 10 * DAY, today + 190 * DAY
    # 刘芳's other temporary filing for Harbin, as if approved for a trip starting in 10 days.
    Filing.objects.filter(number="LS210200000001").update(
        valid_from=base_from, valid_until=base_until
    )
    chronic = services.filing_approve(filing=_chronic_for_liu_fang(), actor=demo["admin"])
    assert chronic.status == Status.APPROVED
    assert chronic.valid_from == base_from
    assert chronic.not_yet_in_force
    assert chronic.valid_until is not None and chronic.valid_until <= base_until


def test_rule_2_5_a_chronic_filing_on_a_base_in_force_starts_on_approval(demo):
    today = timezone.localdate()
    chronic = services.filing_approve(filing=_chronic_for_liu_fang(), actor=demo["admin"])
    assert chronic.valid_from == today
    base = Filing.objects.get(number="LS210200000001")
    assert chronic.valid_until == min(chronic.valid_until, base.valid_until)
