"""A hospital's CSV of its direct settlements holds one month of discharge: the list's, or the
current one when it names none (a whole history of 100,000 rows held a web worker for half a
minute and came back cut short). It reads only the columns it prints, streams, and records one
access-log row per patient it names, none for the patients of other months."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hospitals.models import AccessLog
from portal.lib import idnumbers
from settlement.models import Settlement
from tests.settlement.test_hospital_settlements import CHEN, H1, ZHANG, _settle
from tests.settlement.test_stats import sign_in

pytestmark = pytest.mark.django_db
URL = "hospital-settlements-csv"


def _discharged(settlement: Settlement, day: datetime.date) -> Settlement:
    Settlement.objects.filter(pk=settlement.pk).update(
        admitted_on=day - datetime.timedelta(days=3), discharged_on=day
    )
    return settlement


def _this_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


def _months_ago(months: int) -> datetime.date:
    first = _this_month()
    for _ in range(months):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return first


def _csv(client, demo, **query):
    sign_in(client, demo["hosp_h23010300001"])
    response = client.get(reverse(URL), query)
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    return response, {row[0] for row in rows[1:]}


def test_the_csv_holds_the_current_month_when_the_list_names_none(client, demo):
    now = _discharged(_settle(H1), timezone.localdate())
    last_month = _discharged(
        _settle(H1, who=CHEN, emergency=True), _months_ago(1) + datetime.timedelta(days=9)
    )
    _discharged(_settle(H1, who=CHEN, emergency=True, admitted_on=_months_ago(14)), _months_ago(13))
    response, numbers = _csv(client, demo)
    assert numbers == {now.number}
    month = f"{_this_month():%Y-%m}"
    assert response["Content-Disposition"] == f'attachment; filename="{H1}-settlements-{month}.csv"'
    _response, numbers = _csv(client, demo, month=f"{_months_ago(1):%Y-%m}")
    assert numbers == {last_month.number}
    _response, numbers = _csv(client, demo, month="2026-13")  # no month: the current one
    assert numbers == {now.number}


def test_the_csv_reads_only_what_it_prints_in_as_many_queries_for_many_rows(client, demo):
    month = _months_ago(1)
    _discharged(_settle(H1), month)
    with CaptureQueriesContext(connection) as one:
        _csv(client, demo, month=f"{month:%Y-%m}")
    for day in range(2, 7):
        stay = month.replace(day=day)
        _settle(H1, who=CHEN, emergency=True, admitted_on=stay, discharged_on=stay)
    with CaptureQueriesContext(connection) as many:
        _response, numbers = _csv(client, demo, month=f"{month:%Y-%m}")
    assert len(numbers) == 6 and len(many) <= len(one)
    read = [q["sql"] for q in many if "settlement_settlement" in q["sql"] and "number" in q["sql"]]
    assert read and not any(
        column in sql for sql in read for column in ('"items"', '"breakdown"', '"adjustment"')
    )


def test_the_csv_records_each_patient_it_names_and_no_other(client, demo):
    _discharged(_settle(H1), timezone.localdate())
    _discharged(_settle(H1, who=CHEN, emergency=True), _months_ago(2))
    _csv(client, demo)
    read = AccessLog.objects.filter(purpose="settlement:web")
    assert read.filter(subject_hash=idnumbers.id_hash(ZHANG[0])).get().calls == 1
    assert not read.filter(subject_hash=idnumbers.id_hash(CHEN[0])).exists()
    _csv(client, demo)  # again within minutes: counted on the row already written
    assert read.filter(subject_hash=idnumbers.id_hash(ZHANG[0])).get().calls == 2
