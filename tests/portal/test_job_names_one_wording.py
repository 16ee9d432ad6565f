"""A scheduled job is called the same in its schedule (django-celery-beat's stored name,
"中文 / English") and in the admin's job runs, in each language: one wording per job."""

from __future__ import annotations

import pytest
from django.utils import translation

from portal.jobruns import JOB_LABELS, job_label
from portal.schedules import SCHEDULES

# The code a job's runs are recorded under, and the task its schedule runs.
TASKS = {
    "filings.nightly": "filings.tasks.nightly",
    "filings.abandoned_uploads": "filings.tasks.remove_abandoned_uploads",
    "filings.old_documents": "filings.tasks.remove_old_documents",
    "settlement.clearing": "settlement.tasks.generate_clearing_statements",
}


@pytest.mark.parametrize("job", sorted(TASKS))
def test_a_jobs_runs_are_named_as_its_schedule(job):
    assert job in JOB_LABELS
    stored = {task: name for name, task, _cron in SCHEDULES}[TASKS[job]]
    chinese, english = stored.split(" / ")
    with translation.override("zh-hans"):
        assert job_label(job) == chinese
    with translation.override("en"):
        assert job_label(job) == english
