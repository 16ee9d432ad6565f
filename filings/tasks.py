"""Thin Celery wrappers for the filing jobs (filings/jobs.py); safe to run twice.

Every task only makes conditional changes (`UPDATE … WHERE status = 'approved'`, reminder rows
with a unique key), so a task redelivered after its worker was killed, or run by two workers,
changes nothing the first run already changed.
"""

from __future__ import annotations

import datetime

from celery import shared_task
from django.conf import settings

from filings import documents, jobs


def _day(day: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(day) if day else None


@shared_task(soft_time_limit=settings.JOB_SOFT_TIME_LIMIT, time_limit=settings.JOB_TIME_LIMIT)
def nightly() -> dict:
    """Expiry, commitment revocation and reminders, claim-deadline reminders, for today."""
    return jobs.run_nightly().details


@shared_task
def expire_filings(filing_ids: list[int], day: str | None = None) -> dict:
    """Expire or revoke those of `filing_ids` that are due on `day` (ISO date, default today),
    with the nightly job's statements; each notification is emailed by a task queued on
    commit."""
    return jobs.apply_changes(_day(day), ids=filing_ids, deliver=True)


@shared_task
def remind_filings(filing_ids: list[int], day: str | None = None) -> dict:
    """The commitment reminders due on `day` for `filing_ids`, each sent once, ever."""
    return jobs.send_commitment_reminders(_day(day), ids=filing_ids, deliver=True)


@shared_task
def remove_abandoned_uploads() -> dict:
    """Delete uploaded files nothing refers to, a day after they were written."""
    return jobs.remove_abandoned_uploads().details


@shared_task
def remove_old_documents() -> dict:
    """Delete rendered PDFs that are no longer their filing's current version, some days after
    they were written."""
    return documents.remove_old_documents().details
