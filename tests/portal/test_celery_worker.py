"""A real Celery worker against Redis runs a task queued on commit (CI only); the Redis
visibility timeout is above every task's hard time limit."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from portal.models import Notification
from portal.notifications import notify

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker():
    if not settings.CI:
        pytest.skip("needs Redis and PostgreSQL: runs with CI=true")
    from portal.celery import app

    app.control.purge()
    env = {
        **os.environ,
        "CI": "true",
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_task_queued_on_commit_runs_in_a_real_worker(worker, django_user_model):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    user = django_user_model.objects.create_user("worker-test", "w@example.cn", "x-pass-123")
    with transaction.atomic():
        note = notify(user=user, notice="materials_accepted", params={"n": "BA0000000001"})
        # Not before commit: the worker must never see a row that does not exist yet.
        assert Notification.objects.get(pk=note.pk).emailed_at is None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        note.refresh_from_db()
        if note.emailed_at is not None:
            break
        assert worker.poll() is None, worker.stdout.read().decode(errors="replace")
        time.sleep(0.3)
    assert note.emailed_at is not None, "the worker did not run the task within 60 s"


def test_visibility_timeout_is_above_the_hard_time_limit_of_every_registered_task():
    """Redis redelivers an unacknowledged task after the visibility timeout: below a task's
    hard time limit, a slow but healthy run would be started a second time alongside it."""
    from portal.celery import app
    from portal.settings import base

    app.loader.import_default_modules()  # autodiscovery: every app's tasks registered
    limits = {
        name: task.time_limit or app.conf.task_time_limit
        for name, task in app.tasks.items()
        if not name.startswith("celery.")
    }
    assert "filings.tasks.nightly" in limits and "portal.tasks.deliver_notification" in limits
    assert all(limits.values()), [name for name, limit in limits.items() if not limit]
    longest = max(limits.values())
    assert longest == base.JOB_TIME_LIMIT
    # Production's value (base settings, not from the environment), and what the app uses.
    assert base.CELERY_VISIBILITY_TIMEOUT > longest
    assert settings.CELERY_VISIBILITY_TIMEOUT > longest
    options = app.conf.broker_transport_options or {}
    if settings.CELERY_BROKER_URL.startswith("redis"):
        assert options["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT
