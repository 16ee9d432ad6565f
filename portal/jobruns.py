"""Scheduled jobs recorded for agency staff: when each run started and ended, the rows it
changed, what it did and any error (the admin's job runs)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from portal.models import JobRun
from portal.schedules import JOB_NAMES

# What each job is, in words, for the admin's job runs (a run stores the job's code): the
# wording of its schedule's name, (Chinese, English).
JOB_LABELS = JOB_NAMES


# What a run's details count, in words (the keys the jobs write).
DETAIL_LABELS = {
    "expire_temporary": _("Temporary filings expired"),
    "expire_referral": _("Referrals expired (validity over, or treatment not started in time)"),
    "expire_referral_course": _("Referrals whose course of treatment is over"),
    "expire_emergency": _("Emergency filings expired"),
    "expire_chronic": _("Chronic-disease filings expired"),
    "expire_long_term": _("Long-term filings expired"),
    "revoke_commitment": _("Commitment filings revoked"),
    "commitment_30": _("Commitment reminders, 30 days before"),
    "commitment_7": _("Commitment reminders, 7 days before"),
    "commitment_1": _("Commitment reminders, 1 day before"),
    "claim_deadline": _("Claim deadline reminders"),
    "removed": _("Files removed"),
    "period": _("Month"),
    "statements": _("Statements issued"),
    "settlements": _("Settlements on them"),
    "numbers": _("Statement numbers"),
    "seconds": _("Seconds"),
}


def detail_label(key: str) -> str:
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else key


def job_label(name: str) -> str:
    """The job `name` (a JobRun's `name`) in words, in the active language; a job without a
    label as recorded."""
    names = JOB_LABELS.get(name)
    if names is None:
        return name
    chinese, english = names
    return chinese if (get_language() or "").startswith("zh") else english


class Progress(dict):
    """A run's details as they stand, and the rows changed so far: `committed` adds what a
    step has committed and writes both to the run's row at once, so a run that fails later,
    or whose worker is killed, still shows it."""

    def __init__(self, run_id: int, details: dict):
        super().__init__(details)
        self.run_id = run_id
        self.rows = 0

    def committed(self, details: dict, rows: int = 0) -> None:
        self.update(details)
        self.rows += rows
        JobRun.objects.filter(pk=self.run_id).update(details=dict(self), rows=self.rows)


def record_run(name: str, work: Callable[[Progress], int], details: dict | None = None) -> JobRun:
    """Run `work(progress)` as one JobRun: it fills the details as it goes (`Progress`, a dict;
    `progress.committed` records a step as soon as it has committed) and returns the number of
    rows it changed. An error is recorded with what was done until then, and raised again."""
    details = dict(details or {})
    run = JobRun.objects.create(name=name, details=details)
    started = time.monotonic()
    progress = Progress(run.pk, details)
    try:
        rows = work(progress)
    except Exception as exc:  # noqa: BLE001 - recorded for the admin, then re-raised
        JobRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}",
            details=dict(progress),
            rows=progress.rows,
        )
        raise
    progress["seconds"] = round(time.monotonic() - started, 3)
    JobRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(), rows=rows, details=dict(progress)
    )
    run.refresh_from_db()
    return run
