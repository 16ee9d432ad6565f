"""A real Celery worker against Redis runs a task queued on commit (CI only)."""

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

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


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


def test_task_queued_on_commit_runs_in_a_real_worker(worker, django_user_model):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    user = django_user_model.objects.create_user("worker-test", "w@example.cn", "x-pass-123")
    with transaction.atomic():
        note = notify(user=user, subject="备案已批准", body="您的备案已批准。")
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
