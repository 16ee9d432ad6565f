"""From 1 December the admin's index warns a region's agency that next year's benefit policy or
category adjustments are not entered yet: on 1 January the settlement takes the new year's policy
and refuses a stay without one (domain.md §3.2)."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from settlement.models import BenefitPolicy, CategoryPolicy
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _index(client, username: str, day: datetime.date):
    """The admin index as `username` sees it at 09:00 on `day`, in English."""
    moment = datetime.datetime.combine(day, datetime.time(9), tzinfo=SHANGHAI)
    with time_machine.travel(moment, tick=False):
        staff_login(client, username)
        return client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="en")


def _gaps(client, username: str, day: datetime.date) -> list:
    return _index(client, username, day).context["queues"].policy_gaps


def test_rule_3_2_from_1_december_the_agency_is_told_next_years_policy_is_missing(client, demo):
    year = timezone.localdate().year
    BenefitPolicy.objects.filter(region__code="232700", year=year + 1).delete()
    first = datetime.date(year, 12, 1)
    assert _gaps(client, "agency_dxal", first - datetime.timedelta(days=1)) == []
    (gap,) = _gaps(client, "agency_dxal", first)
    assert "benefit policy of Daxinganling" in gap.text and str(year + 1) in gap.text
    assert "refused" in gap.text
    assert client.get(gap.url).status_code == 200  # the region's rows of that year, in the admin
    # Shenyang's agency has its own policies of next year: nothing to warn of.
    assert _gaps(client, "agency_shenyang", first) == []


def test_next_years_missing_category_adjustments_are_told_too(client, demo):
    year = timezone.localdate().year
    CategoryPolicy.objects.filter(region__code="232700", year=year + 1).delete()
    response = _index(client, "agency_dxal", datetime.date(year, 12, 1))
    (gap,) = response.context["queues"].policy_gaps
    assert "category adjustments" in gap.text and "default adjustments" in gap.text
    page = response.content.decode()
    assert 'id="policy-gaps"' in page and gap.url.replace("&", "&amp;") in page
