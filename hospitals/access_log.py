"""Writing access-log rows off the request path, in batches.

With ACCESS_LOG_FLUSH_MS > 0 (production), each check puts its row on an in-process queue; a
writer thread inserts queued rows in one multi-row INSERT every ACCESS_LOG_FLUSH_MS, and at
process exit. With 0 (tests, development) every row is written before the response.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from hospitals.models import AccessLog

logger = logging.getLogger(__name__)
_queue: queue.SimpleQueue = queue.SimpleQueue()
_started = threading.Lock()
_writer: threading.Thread | None = None
BATCH = 500


def record(**fields) -> None:
    fields.setdefault("created_at", timezone.now())
    interval = getattr(settings, "ACCESS_LOG_FLUSH_MS", 0)
    if not interval or connection.in_atomic_block:
        AccessLog.objects.bulk_create([AccessLog(**fields)])
        return
    _queue.put(fields)
    _ensure_writer(interval / 1000)


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
            atexit.register(flush)


def flush() -> int:
    rows = []
    while True:
        try:
            rows.append(AccessLog(**_queue.get_nowait()))
        except queue.Empty:
            break
    for start in range(0, len(rows), BATCH):
        AccessLog.objects.bulk_create(rows[start : start + BATCH])
    return len(rows)


def _run(interval: float) -> None:
    import time

    while True:
        time.sleep(interval)
        try:
            close_old_connections()
            flush()
        except Exception:  # noqa: BLE001 - keep the writer alive; the rows are logged as lost
            logger.exception("access log flush failed")
