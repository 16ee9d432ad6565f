"""Scheduled jobs recorded for agency staff: when each run started and ended, the rows it
changed, what it did and any error (the admin's job runs)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.utils import timezone

from portal.models import JobRun


def record_run(name: str, work: Callable[[dict], int], details: dict | None = None) -> JobRun:
    """Run `work(details)` as one JobRun: it fills `details` as it goes and returns the number
    of rows it changed. An error is recorded with what was done until then, and raised again."""
    run = JobRun.objects.create(name=name)
    started = time.monotonic()
    details = dict(details or {})
    try:
        rows = work(details)
    except Exception as exc:  # noqa: BLE001 - recorded for the admin, then re-raised
        JobRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}", details=details
        )
        raise
    details["seconds"] = round(time.monotonic() - started, 3)
    JobRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), rows=rows, details=details)
    run.refresh_from_db()
    return run
