"""Thin Celery wrappers for the filing jobs (filings/jobs.py); safe to run twice."""

from __future__ import annotations

from celery import shared_task

from filings import jobs


@shared_task(soft_time_limit=1800, time_limit=2000)
def nightly() -> dict:
    """Expiry, commitment revocation and reminders for today."""
    return jobs.run_nightly().details
