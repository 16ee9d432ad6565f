"""domain.md §2.6: "temporary filings may coexist with [a long-term filing] only for other
places". A temporary filing for the same place that starts after the long-term filing has ended
(Daxinganling's run for 12 months) does not coexist with it, so it may be filed ahead; one that
would start while the long-term filing still runs is refused."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from filings import services
from filings.models import Filing
from filings.rules import RuleError

pytestmark = pytest.mark.django_db


def _temporary_to_sanya(person, start: datetime.date) -> Filing:
    sanya = Filing.objects.get(number="BA232700000001").place_region
    return services.filing_create(
        person=person,
        actor=person.user,
        filing_type="temporary",
        place_province=sanya.province,
        place_region=sanya,
        covers_inpatient=True,
        start_date=start,
    )


def test_rule_2_6_a_temporary_filing_from_the_day_after_the_long_term_one_ends_is_allowed(demo):
    """王秀兰's long-term filing to Sanya, shortened here to end in 30 days."""
    long_term = Filing.objects.get(number="BA232700000001")
    ends = timezone.localdate() + datetime.timedelta(days=30)
    Filing.objects.filter(pk=long_term.pk).update(valid_until=ends)
    person = long_term.person
    with pytest.raises(RuleError) as refused:
        _temporary_to_sanya(person, ends)  # its last day: both would cover it
    assert refused.value.code == "long_term_covers_place"
    after = _temporary_to_sanya(person, ends + datetime.timedelta(days=1))
    assert after.status == "draft" and after.start_date == ends + datetime.timedelta(days=1)


def test_rule_2_6_a_temporary_filing_starting_today_is_refused_while_the_long_term_one_runs(demo):
    long_term = Filing.objects.get(number="BA232700000001")
    with pytest.raises(RuleError) as refused:
        _temporary_to_sanya(long_term.person, timezone.localdate())
    assert refused.value.code == "long_term_covers_place"
