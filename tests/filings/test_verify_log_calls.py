"""Repeat verifications of one token from one address are one access-log row (no flood of rows),
and the row counts every call (shared/api.md: every call that reads personal data is recorded)."""

import datetime

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.db.models import Sum
from django.urls import reverse

from filings import document_views, documents
from hospitals import access_log
from hospitals.models import AccessLog
from tests.filings.test_documents import filing, place  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_thirteen_verifications_are_folded_into_rows_that_count_all_thirteen(client, filing):  # noqa: F811
    certificate = documents.make_token(documents.CERTIFICATE, filing.number)
    form = documents.make_token(documents.FILING_FORM, filing.number)
    asks = [(certificate, {})] * 8 + [(certificate, {"REMOTE_ADDR": "203.0.113.9"})] * 3
    asks += [(form, {"HTTP_ACCEPT_LANGUAGE": "en"})] * 2
    for token, headers in asks:
        assert client.get(f"/api/v1/verify/{token}", **headers).status_code == 200
    rows = AccessLog.objects.filter(purpose="verify:api")
    assert sorted(rows.values_list("calls", flat=True)) == [2, 3, 8]
    assert rows.aggregate(calls=Sum("calls"))["calls"] == 13


def test_the_verify_page_counts_its_repeats_and_starts_a_new_row_after_the_window(client, filing):  # noqa: F811
    url = reverse("verify-page", args=[documents.make_token(documents.CERTIFICATE, filing.number)])
    with time_machine.travel(datetime.datetime.now(datetime.UTC), tick=False) as clock:
        for _ in range(3):
            client.get(url)
        clock.shift(document_views.VERIFY_LOG_FOLD_SECONDS + 1)
        client.get(url)
    rows = AccessLog.objects.filter(purpose="verify:web").order_by("created_at")
    assert list(rows.values_list("calls", flat=True)) == [3, 1]


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_append_only_access_log_lets_a_row_count_more_calls_and_nothing_else():
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's; runs with CI=true")
    access_log.record_folded(fold="t", seconds=60, subject_hash="a" * 64, purpose="t", outcome="ok")
    access_log.record_folded(fold="t", seconds=60, subject_hash="a" * 64, purpose="t", outcome="ok")
    row = AccessLog.objects.get(purpose="t")
    assert row.calls == 2
    for change in ({"calls": 1}, {"calls": 3, "outcome": "changed"}, {"outcome": "changed"}):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            AccessLog.objects.filter(pk=row.pk).update(**change)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).delete()
    assert AccessLog.objects.values_list("calls", "outcome").get(pk=row.pk) == (2, "ok")
