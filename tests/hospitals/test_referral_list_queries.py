"""The receiving hospital's referral list reads each page's follow-up notices in one query for
the page, not two subqueries per row over the filings table (no index on `renews` serves
expired notices)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from filings.models import Filing, Status

pytestmark = pytest.mark.django_db


def _copy(referral: Filing, number: str, **changes) -> Filing:
    copy = Filing.objects.get(pk=referral.pk)
    copy.pk = None
    copy.number = number
    for name, value in changes.items():
        setattr(copy, name, value)
    copy.save()
    return copy


def _list(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("referrals")).content.decode()
    # No query looks up follow-ups per row (a subquery on `renews` for each referral listed).
    assert not [q for q in queries if "renews_id" in q["sql"] and q["sql"].count("SELECT") > 1]
    return len(queries), html


def test_the_referral_list_makes_as_many_queries_for_many_rows_as_for_one(
    client, demo, django_assert_max_num_queries
):
    client.force_login(demo["hosp_h23010300001"])
    client.get(reverse("referrals"))  # the session, the caches
    few, _html = _list(client)
    referral = Filing.objects.get(number="ZZ232700000001")
    started = referral.valid_from
    for i in range(12):
        # Started referrals of one course, each with a follow-up notice.
        course = _copy(
            referral,
            f"ZZTEST{i:04d}",
            treatment_started_on=started,
            valid_until=started + datetime.timedelta(days=59),
        )
        _copy(course, f"ZZTESTF{i:04d}", renews=course, status=Status.SUBMITTED)
    with django_assert_max_num_queries(few):
        many, html = _list(client)
    assert "ZZTESTF0011" in html and "ZZTESTF0000" in html  # each row names its notice
    assert "ZZTEST0011" in html
