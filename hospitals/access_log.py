"""Writing access-log rows off the request path, in batches.

With ACCESS_LOG_FLUSH_MS > 0 (production), each check puts its row (a plain tuple) on an
in-process queue; a writer thread writes the queued rows every ACCESS_LOG_FLUSH_MS, and at
process exit: one COPY on PostgreSQL (no model instances, no per-row INSERT), one multi-row
INSERT elsewhere. With 0 (tests, development) every row is written before the response.

A batch the database refuses (it is down, restarting, the connection broke) is kept and written
with the next flush: the data was served, so the row that says to whom must not be lost. At most
MAX_KEPT rows wait; past that (a database down for long under load) the oldest are given up,
and the log says how many.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import queue
import threading
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import (
    DataError,
    IntegrityError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import F
from django.utils import timezone

from hospitals.models import AccessLog

logger = logging.getLogger(__name__)
_queue: queue.SimpleQueue = queue.SimpleQueue()
_started = threading.Lock()
_writer: threading.Thread | None = None
BATCH = 500
MAX_KEPT = 200_000  # rows waiting for the database, about 60 MB


@functools.cache
def _columns() -> tuple[tuple[str, ...], tuple[str, ...], tuple]:
    """(attribute names, column names, defaults) of the access log's columns except the id."""
    fields = [f for f in AccessLog._meta.concrete_fields if not f.primary_key]
    return (
        tuple(f.attname for f in fields),
        tuple(f.column for f in fields),
        tuple(None if f.null else f.get_default() for f in fields),
    )


def _row(fields: dict) -> tuple:
    names, _columns_, defaults = _columns()
    unknown = set(fields).difference(names)
    if unknown:
        raise TypeError(f"AccessLog has no field {', '.join(sorted(unknown))}")
    return tuple(fields.get(name, default) for name, default in zip(names, defaults, strict=True))


def record(**fields) -> None:
    fields.setdefault("created_at", timezone.now())
    interval = getattr(settings, "ACCESS_LOG_FLUSH_MS", 0)
    if not interval or connection.in_atomic_block:
        AccessLog.objects.bulk_create([AccessLog(**fields)])
        return
    _queue.put(_row(fields))
    _ensure_writer(interval / 1000)


def record_folded(*, fold: str, seconds: int, **fields) -> None:
    """Record a read, or count it on the row the same read (`fold` names who asked, from where,
    for what) made less than `seconds` ago: a burst of repeats is one row, and every call is
    counted on it (api.md: every call that reads personal data is recorded).

    The row is written at once (its id is what the repeats count on). Two first calls at the
    same moment can make two rows; a call is never lost."""
    name = "access-log:fold:" + fold
    row_id = cache.get(name)
    # The row must still be the same read (not one another database gave that id).
    same = {field: fields[field] for field in ("purpose", "subject_hash") if field in fields}
    if row_id and AccessLog.objects.filter(pk=row_id, **same).update(calls=F("calls") + 1):
        return
    row = AccessLog.objects.create(**fields)
    cache.set(name, row.pk, seconds)


# A person's file opened on the site (a proof material, a claim's document, a printed form): the
# same file opened again by the same reader within this long (a preview, then its download) is
# counted on the row.
FILE_READ_FOLD_SECONDS = 600


def record_file_read(
    *, purpose: str, file: str, user, person, region=None, hospital_id: int | None = None
) -> None:
    """Who opened whose file (`file` names it within `purpose`), with the reader's agency
    `region` (agency staff only) or `hospital_id` (a clerk), counted as `record_folded` does."""
    record_folded(
        fold=f"{purpose}:{user.pk}:{file}",
        seconds=FILE_READ_FOLD_SECONDS,
        actor_id=user.pk,
        hospital_id=hospital_id,
        agency_region_id=region.pk if region is not None and user.is_staff else None,
        subject_hash=person.id_hash,
        subject_region_id=person.region_id,
        purpose=purpose,
        outcome="found",
    )


def record_reads(
    *, fold: str, seconds: int, subjects: Iterable[tuple[str, int | None]], **fields
) -> None:
    """Record a page's read of several persons' records: one row per person (the access-log
    admin finds "who read X's record" by X's keyed hash), each repeat of the same read (`fold`
    names who read, for what) within `seconds` counted on that person's row, as
    `record_folded` does. `subjects` are (keyed hash, region id) pairs, a person listed twice
    counting once. A constant number of queries for any number of persons."""
    regions = dict(subjects)
    if not regions:
        return
    keys = {subject: f"access-log:fold:{fold}:{subject}" for subject in regions}
    known = cache.get_many(list(keys.values()))
    ids = [known[key] for key in keys.values() if key in known]
    counted: dict[int, str] = {}
    if ids:
        same = AccessLog.objects.filter(
            pk__in=ids, subject_hash__in=list(regions), purpose=fields.get("purpose", "")
        )
        counted = dict(same.values_list("pk", "subject_hash"))
        # Only a row the cache names for its own subject (not one another database gave that id).
        counted = {pk: h for pk, h in counted.items() if known.get(keys[h]) == pk}
        if counted:
            AccessLog.objects.filter(pk__in=list(counted)).update(calls=F("calls") + 1)
    seen = set(counted.values())
    now = timezone.now()
    rows = AccessLog.objects.bulk_create(
        [
            AccessLog(subject_hash=subject, subject_region_id=region, created_at=now, **fields)
            for subject, region in regions.items()
            if subject not in seen
        ],
        batch_size=BATCH,
    )
    cache.set_many({keys[row.subject_hash]: row.pk for row in rows if row.pk}, seconds)


def _ensure_writer(interval: float) -> None:
    global _writer
    if _writer is not None and _writer.is_alive():
        return
    with _started:
        if _writer is None or not _writer.is_alive():
            _writer = threading.Thread(
                target=_run, args=(interval,), daemon=True, name="access-log-writer"
            )
            _writer.start()
            atexit.register(_flush_at_exit)


def flush() -> int:
    """Write the queued rows; on a database error, keep what was not written for the next flush
    (at most MAX_KEPT rows) and raise. The number of rows written.

    A batch the database refuses for its data (a value it will never take, a row whose hospital
    was just deleted) is written again row by row, so that row alone is refused (and logged)
    instead of holding back the others and every later flush. A row is written twice only if
    the connection breaks after the database committed it and before it said so."""
    rows = []
    while True:
        try:
            rows.append(_queue.get_nowait())
        except queue.Empty:
            break
    written = done = 0  # rows written; rows written or refused for good
    try:
        while done < len(rows):
            batch = rows[done : done + BATCH]
            try:
                _write(batch)
            except (DataError, IntegrityError):
                for row in batch:
                    try:
                        _write([row])
                    except (DataError, IntegrityError) as exc:
                        _refused(row, exc)
                    else:
                        written += 1
                    done += 1
            else:
                written += len(batch)
                done += len(batch)
    except Exception:
        _keep(rows[done:])
        raise
    return written


def _refused(row: tuple, exc: Exception) -> None:
    names = _columns()[0]
    purpose = dict(zip(names, row, strict=True)).get("purpose")
    logger.error("access log: a %s row refused: %s", purpose, exc)


def _flush_at_exit() -> None:
    try:
        flush()
    except Exception:  # noqa: BLE001 - the process is ending: say what is lost
        logger.exception("access log: %s rows unwritten at exit", _queue.qsize())


def _keep(rows: list[tuple]) -> None:
    """Put unwritten rows back on the queue (behind any queued since; a row carries its own
    time), giving up the oldest past MAX_KEPT."""
    room = MAX_KEPT - _queue.qsize()
    if len(rows) > room:
        lost = len(rows) - max(room, 0)
        logger.error("access log: %s rows given up, the database refused them for too long", lost)
        rows = rows[lost:]
    for row in rows:
        _queue.put(row)


def _write(rows: list[tuple]) -> None:
    # In a transaction of its own (a savepoint inside one): a refused batch leaves nothing
    # half-written, and the constraints checked at commit are checked here.
    with transaction.atomic():
        _write_rows(rows)


def _write_rows(rows: list[tuple]) -> None:
    names, columns, _defaults = _columns()
    if connection.vendor == "postgresql":
        sql = f"COPY {AccessLog._meta.db_table} ({', '.join(columns)}) FROM STDIN"
        # psycopg's own errors, as Django's (DataError, IntegrityError, OperationalError).
        with connection.wrap_database_errors, connection.cursor() as cursor:
            with cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        return
    AccessLog.objects.bulk_create([AccessLog(**dict(zip(names, row, strict=True))) for row in rows])


def _run(interval: float) -> None:
    import time

    checked_at = 0.0
    while True:
        time.sleep(interval)
        try:
            if time.monotonic() - checked_at > 10:
                # Connection age and health every 10 s, not before each batch (a health check
                # is one more round trip).
                close_old_connections()
                checked_at = time.monotonic()
            flush()
        except Exception:  # noqa: BLE001 - keep the writer alive; flush kept the rows
            logger.exception("access log flush failed; its rows are tried again")
            with contextlib.suppress(Exception):
                connection.close()  # the next batch starts on a new connection
