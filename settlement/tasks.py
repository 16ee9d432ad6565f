"""Thin Celery wrappers for settlement jobs; safe to run twice."""

from __future__ import annotations

import datetime

from celery import shared_task

from settlement import clearing


@shared_task(soft_time_limit=1800, time_limit=2000)
def generate_clearing_statements(period_iso: str | None = None) -> dict:
    """Issue the clearing statements of a month (default: last month in Asia/Shanghai).
    Pairs that already have a current statement are skipped, so a rerun changes nothing."""
    period = datetime.date.fromisoformat(period_iso) if period_iso else None
    return clearing.run_monthly(period).details
