"""The access log's batch writer (production: ACCESS_LOG_FLUSH_MS > 0) loses no row to a
database that refuses a batch for a while: the rows not written are kept and written by the
next flush, at most MAX_KEPT of them (the oldest given up past that, and logged). A row the
database will never take is refused alone, so it does not hold back the rest of its batch or
any later flush."""

from __future__ import annotations

import logging

import pytest
from django.db import DataError, OperationalError
from django.utils import timezone

from hospitals import access_log
from hospitals.models import AccessLog

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_queue():
    access_log.flush()
    yield
    while not access_log._queue.empty():
        access_log._queue.get_nowait()


def queue(*hashes: str, purpose: str = "eligibility:api") -> None:
    for subject in hashes:
        access_log._queue.put(
            access_log._row(
                {
                    "subject_hash": subject,
                    "purpose": purpose,
                    "outcome": "eligible",
                    "created_at": timezone.now(),
                }
            )
        )


def logged() -> set[str]:
    return set(AccessLog.objects.values_list("subject_hash", flat=True))


def test_a_batch_the_database_refuses_is_written_by_the_next_flush(monkeypatch):
    monkeypatch.setattr(access_log, "BATCH", 2)
    real = access_log._write_rows
    calls = []

    def down_once(rows):
        calls.append(len(rows))
        if len(calls) == 2:  # the second batch meets a database restarting
            raise OperationalError("the database system is starting up")
        real(rows)

    monkeypatch.setattr(access_log, "_write_rows", down_once)
    queue("a" * 64, "b" * 64, "c" * 64, "d" * 64, "e" * 64)
    with pytest.raises(OperationalError):
        access_log.flush()
    assert logged() == {"a" * 64, "b" * 64}
    assert access_log._queue.qsize() == 3  # kept, not dropped
    queue("f" * 64)
    assert access_log.flush() == 4
    assert logged() == {c * 64 for c in "abcdef"}
    assert access_log._queue.empty()


def test_a_row_the_database_never_takes_is_refused_alone(monkeypatch, caplog):
    real = access_log._write_rows

    def refuses_bad(rows):
        if any(row[access_log._columns()[0].index("purpose")] == "bad" for row in rows):
            raise DataError("value too long")
        real(rows)

    monkeypatch.setattr(access_log, "_write_rows", refuses_bad)
    queue("a" * 64, "b" * 64)
    queue("x" * 64, purpose="bad")
    queue("c" * 64)
    with caplog.at_level(logging.ERROR, logger="hospitals.access_log"):
        assert access_log.flush() == 3
    assert logged() == {"a" * 64, "b" * 64, "c" * 64}
    assert access_log._queue.empty()  # nothing left to stop the next flush
    assert any("bad row refused" in r.getMessage() for r in caplog.records)


def test_past_max_kept_the_oldest_rows_are_given_up_and_said(monkeypatch, caplog):
    monkeypatch.setattr(access_log, "MAX_KEPT", 3)

    def down(rows):
        raise OperationalError("connection refused")

    monkeypatch.setattr(access_log, "_write_rows", down)
    queue(*(c * 64 for c in "abcde"))
    with caplog.at_level(logging.ERROR, logger="hospitals.access_log"):
        with pytest.raises(OperationalError):
            access_log.flush()
    assert access_log._queue.qsize() == 3
    kept = [access_log._queue.get_nowait() for _ in range(3)]
    names = access_log._columns()[0]
    assert [row[names.index("subject_hash")] for row in kept] == [c * 64 for c in "cde"]
    assert any("2 rows given up" in r.getMessage() for r in caplog.records)


def test_on_the_database_a_value_it_will_never_take_is_refused_alone(caplog):
    """The real database's refusal, not a stand-in: a purpose longer than its column (PostgreSQL
    refuses it in the COPY; SQLite does not check lengths, so there it is written)."""
    too_long = "x" * (AccessLog._meta.get_field("purpose").max_length + 1)
    queue("a" * 64)
    queue("b" * 64, purpose=too_long)
    queue("c" * 64)
    with caplog.at_level(logging.ERROR, logger="hospitals.access_log"):
        written = access_log.flush()
    assert access_log._queue.empty()
    from django.db import connection

    if connection.vendor == "postgresql":
        assert written == 2 and logged() == {"a" * 64, "c" * 64}
        assert any("row refused" in r.getMessage() for r in caplog.records)
    else:
        assert written == 3


def test_a_database_lost_while_writing_row_by_row_keeps_the_rest(monkeypatch):
    monkeypatch.setattr(access_log, "BATCH", 3)
    real = access_log._write_rows
    singles = []

    def flaky(rows):
        if len(rows) > 1:
            raise DataError("a bad row somewhere")  # the batch: written again row by row
        singles.append(rows[0])
        if len(singles) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        real(rows)

    monkeypatch.setattr(access_log, "_write_rows", flaky)
    queue(*(c * 64 for c in "abcde"))
    with pytest.raises(OperationalError):
        access_log.flush()
    assert logged() == {"a" * 64}
    # The row it failed on and every row after it are kept, none twice.
    assert access_log._queue.qsize() == 4
    monkeypatch.setattr(access_log, "_write_rows", real)
    assert access_log.flush() == 4
    assert logged() == {c * 64 for c in "abcde"}
