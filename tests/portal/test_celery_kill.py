"""Real Celery processes against PostgreSQL and Redis (CI only), issue 6:

- acceptance 2, the kill test: 500 expiry, revocation and reminder tasks (one filing each) and
  the email tasks they queue; a worker child is SIGKILLed at about 25% and the worker's main
  process at about 50%; a new worker and Redis's redelivery after the visibility timeout finish
  the work; every effect (filing state, audit event, reminder, notification, email sent) is
  counted exactly once.
- acceptance 3, two `celery beat` processes started by mistake, with the nightly job and the
  email sweep due every two seconds: no effect is doubled and no run fails.

The workers send mail through `RecordingEmailBackend`, which inserts a row per message into
this test's database in the sending task's transaction: a message counts as sent exactly when
the delivery that sent it committed, which is what an email provider would see from an
idempotent Message-ID.
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.utils import timezone

ROOT = Path(__file__).resolve().parents[2]
EMAIL_TABLE = "test_kill_sent_email"
# The workers' visibility timeout here: short, so a task abandoned by the killed main
# process comes back within the test (production's is above the hard time limits).
VISIBILITY = 12

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


class RecordingEmailBackend(BaseEmailBackend):
    """Records each message in the database, inside the sender's transaction; the short sleep
    stands for SMTP latency, so a kill is likely to land while a message is in flight."""

    def send_messages(self, messages) -> int:
        with connection.cursor() as cursor:
            for message in messages:
                time.sleep(0.01)
                cursor.execute(
                    f"INSERT INTO {EMAIL_TABLE} (message_id, recipient, pid) VALUES (%s, %s, %s)",
                    [message.extra_headers.get("Message-ID", ""), message.to[0], os.getpid()],
                )
        return len(messages)


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces: the fields after its closing parenthesis.
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


class Celery:
    """Worker and beat processes of this test, each in its own session (so the test can kill
    one process, and at the end everything it started)."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.processes: list[subprocess.Popen] = []
        self.env = {
            **os.environ,
            "CI": "true",
            "DJANGO_SETTINGS_MODULE": "portal.settings.test",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
            "TEST_EMAIL_BACKEND": f"{__name__}.RecordingEmailBackend",
            "LOG_LEVEL": "WARNING",
        }

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = (self.tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        process.name = name
        self.processes.append(process)
        return process

    def worker(self, name: str) -> subprocess.Popen:
        return self.start(
            name,
            "worker",
            "--pool=prefork",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
            "-n",
            f"{name}@%h",
        )

    def beat(self, name: str) -> subprocess.Popen:
        return self.start(
            name,
            "beat",
            "--scheduler=django_celery_beat.schedulers:DatabaseScheduler",
            "--loglevel=INFO",
        )

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # the process and its pool children
            except ProcessLookupError:
                pass
            process.wait(timeout=20)


@pytest.fixture
def redis():
    if not settings.CI:
        pytest.skip("needs Redis and PostgreSQL: runs with CI=true")
    import redis as redis_py

    from portal.celery import app

    client = redis_py.Redis.from_url(settings.CELERY_BROKER_URL)

    def clear():
        app.control.purge()
        client.delete("unacked", "unacked_index", "unacked_mutex")

    clear()
    yield client
    clear()


@pytest.fixture
def celery(tmp_path, redis):
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {EMAIL_TABLE} (id bigserial PRIMARY KEY, message_id text NOT NULL, "
            "recipient text NOT NULL, pid integer NOT NULL, sent_at timestamptz DEFAULT now())"
        )
    processes = Celery(tmp_path)
    yield processes
    processes.stop_all()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {EMAIL_TABLE}")


def _broker_idle(redis) -> bool:
    """Nothing waiting in the queue and nothing delivered but unacknowledged."""
    return redis.llen("celery") == 0 and redis.hlen("unacked") == 0


def _scalar(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def _emails() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), count(DISTINCT message_id) FROM {EMAIL_TABLE}")
        return cursor.fetchone()


def _world(today: datetime.date, counts: dict[str, int]) -> dict[str, list[int]]:
    """People with accounts and filings in bulk; returns the filing ids per kind."""
    from django.contrib.auth import get_user_model

    from filings.models import Filing
    from portal.models import Agency, AgencyStaff, InsuredPerson, Province, Region
    from tests.portal.factories import make_id_number

    province = Province.objects.create(code="230000", name="黑龙江省")
    home = Region.objects.create(code="232700", name="大兴安岭地区", province=province)
    place = Region.objects.create(code="230100", name="哈尔滨市", province=province)
    agency = Agency.objects.create(region=home, name="大兴安岭医保中心")
    User = get_user_model()
    staff = User.objects.create_user("kill-staff", "staff@example.cn", "pw-12345678")
    AgencyStaff.objects.create(user=staff, agency=agency)
    total = sum(counts.values())
    users = User.objects.bulk_create(
        User(username=f"kill{i}", email=f"kill{i}@example.cn", password="!") for i in range(total)
    )
    persons = []
    for user in users:
        person = InsuredPerson(name="李建国", region=home, scheme="employee", user=user)
        person.set_id_number(make_id_number())
        persons.append(person)
    persons = InsuredPerson.objects.bulk_create(persons)
    day = datetime.timedelta(days=1)
    kinds = {
        "temporary": {"type": "temporary", "valid_until": today - day},
        # A Daxinganling course of 60 days that started 61 days ago.
        "course": {
            "type": "referral",
            "valid_until": today + 30 * day,
            "treatment_started_on": today - 61 * day,
            "course_days": 60,
        },
        "revoke": {"type": "long_term", "basis": "commitment", "commitment_deadline": today - day},
        "remind": {
            "type": "long_term",
            "basis": "commitment",
            "commitment_deadline": today + 5 * day,
        },
        # Returned claims whose 12-month deadline is 10 days away.
        "claim": None,
    }
    people = iter(persons)
    filings, ids = [], {}
    for kind, count in counts.items():
        if kind == "claim":
            ids[kind] = _claims([next(people) for _ in range(count)], home, place, today)
            continue
        for _ in range(count):
            person = next(people)
            filing = Filing(
                number=f"K{person.pk:011d}",
                person=person,
                insured_region=home,
                status="approved",
                place_province=province,
                place_region=place,
                valid_from=today - 200 * day,
                **kinds[kind],
            )
            filings.append((kind, filing))
    Filing.objects.bulk_create(filing for _, filing in filings)
    for kind, filing in filings:
        ids.setdefault(kind, []).append(filing.pk)
    return ids


def _claims(persons, home, place, today: datetime.date) -> list[int]:
    from dateutil.relativedelta import relativedelta

    from hospitals.models import Hospital
    from settlement.models import Claim

    hospital = Hospital.objects.create(
        code="H23010000001",
        name="哈尔滨医科大学附属第一医院",
        province=place.province,
        region=place,
        level=3,
        kind="general",
        ownership="public",
    )
    discharged = today - relativedelta(months=12) + datetime.timedelta(days=10)
    claims = Claim.objects.bulk_create(
        Claim(
            number=f"BX{person.pk:010d}",
            person=person,
            insured_region=home,
            hospital=hospital,
            care_type="inpatient",
            admitted_on=discharged - datetime.timedelta(days=5),
            discharged_on=discharged,
            category="referral",
            policy_year=discharged.year,
            total=Decimal("100.00"),
            estimated_fund_pay=Decimal("50.00"),
            status="returned",
        )
        for person in persons
    )
    return [c.pk for c in claims]


def _state() -> dict[str, int]:
    return {
        "expired": _scalar("SELECT count(*) FROM filings_filing WHERE status = 'expired'"),
        "revoked": _scalar("SELECT count(*) FROM filings_filing WHERE status = 'revoked'"),
        "expire_events": _scalar(
            "SELECT count(*) FROM portal_auditevent WHERE action = 'filing.expire'"
        ),
        "revoke_events": _scalar(
            "SELECT count(*) FROM portal_auditevent WHERE action = 'filing.revoke'"
        ),
        "reminders": _scalar("SELECT count(*) FROM portal_reminder"),
        "notifications": _scalar("SELECT count(*) FROM portal_notification"),
        "unsent": _scalar("SELECT count(*) FROM portal_notification WHERE emailed_at IS NULL"),
        "emails": _emails()[0],
        "distinct_emails": _emails()[1],
    }


def _wait(condition, timeout: float, what: str, celery: Celery, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    logs = "\n".join(f"--- {p.name}\n{celery.log(p.name)[-3000:]}" for p in celery.processes)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def _settled(redis, celery: Celery, not_before: float, timeout: float) -> None:
    """Wait until the broker is idle, past `not_before`, and the database has stopped
    changing for two seconds."""
    last: list = [None, time.monotonic()]

    def done() -> bool:
        now = time.monotonic()
        snapshot = (_state(), _broker_idle(redis))
        if snapshot != last[0]:
            last[:] = [snapshot, now]
            return False
        return snapshot[1] and now >= not_before and now - last[1] >= 2

    _wait(done, timeout, "the workers to finish", celery, poll=0.25)


def test_kill_a_worker_child_and_the_main_process_every_task_takes_effect_exactly_once(
    celery, redis
):
    from filings.tasks import expire_filings, remind_filings
    from portal.celery import app
    from portal.tasks import deliver_pending_notifications

    # The settings that make this hold (portal/settings/base.py).
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1
    started = time.monotonic()
    today = timezone.localdate()
    counts = {"temporary": 250, "course": 50, "revoke": 50, "remind": 150}
    ids = _world(today, counts)
    # One task per filing, kinds interleaved; each queues its notifications' emails on commit.
    tasks = [
        (remind_filings if kind == "remind" else expire_filings, pk)
        for kind, pks in ids.items()
        for pk in pks
    ]
    tasks.sort(key=lambda task: task[1] % 7)
    with app.producer_or_acquire() as producer:
        for task, pk in tasks:
            task.apply_async(args=[[pk], today.isoformat()], producer=producer)
    assert redis.llen("celery") == len(tasks) == 500
    changed = counts["temporary"] + counts["course"] + counts["revoke"]
    notes = changed + counts["revoke"] + counts["remind"]  # the agency is told of revocations
    effects = changed + counts["remind"] + notes

    def progress() -> float:
        done = _scalar(
            "SELECT (SELECT count(*) FROM filings_filing WHERE status <> 'approved') "
            f"+ (SELECT count(*) FROM portal_reminder) + (SELECT count(*) FROM {EMAIL_TABLE})"
        )
        return done / effects

    first = celery.worker("first")
    setup = time.monotonic() - started
    _wait(lambda: progress() >= 0.25, 120, "25% progress", celery)
    children = _children(first.pid)
    assert children, "the prefork worker has no pool processes"
    os.kill(children[0], signal.SIGKILL)
    at_child_kill = progress()
    _wait(lambda: progress() >= 0.5, 120, "50% progress", celery)
    os.kill(first.pid, signal.SIGKILL)
    killed = time.monotonic()
    at_main_kill = progress()
    celery.worker("second")
    # Tasks the dead main process had taken come back only after the visibility timeout.
    _settled(redis, celery, killed + VISIBILITY + 2, timeout=70)
    before_sweep = _state()
    # The five-minute sweep (beat) delivers what a task lost between commit and enqueue
    # would have left: at most the notifications of the killed child's one task.
    deliver_pending_notifications.delay()
    _settled(redis, celery, time.monotonic() + 1, timeout=30)
    after = _state()
    print(
        f"kill test: setup {setup:.1f} s, child killed at {at_child_kill:.0%}, "
        f"main at {at_main_kill:.0%} ({killed - started:.1f} s), "
        f"{time.monotonic() - started:.1f} s in all, {after['emails'] - before_sweep['emails']} "
        "emails left for the sweep"
    )
    assert after == {
        "expired": counts["temporary"] + counts["course"],
        "revoked": counts["revoke"],
        "expire_events": counts["temporary"] + counts["course"],
        "revoke_events": counts["revoke"],
        "reminders": counts["remind"],
        "notifications": notes,
        "unsent": 0,
        "emails": notes,  # 0 lost, 0 doubled
        "distinct_emails": notes,
    }
    assert after["emails"] - before_sweep["emails"] <= 2
    assert first.poll() is not None
    assert "signal 9" in celery.log("first") or "SIGKILL" in celery.log("first")


def test_two_beats_started_by_mistake_do_not_double_any_effect(celery, redis):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from portal.models import JobRun

    today = timezone.localdate()
    counts = {"temporary": 60, "course": 10, "revoke": 20, "remind": 40, "claim": 10}
    _world(today, counts)
    PeriodicTask.objects.all().delete()
    every = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="nightly", task="filings.tasks.nightly", interval=every)
    PeriodicTask.objects.create(
        name="sweep", task="portal.tasks.deliver_pending_notifications", interval=every
    )
    started = time.monotonic()
    celery.worker("worker")
    beats = [celery.beat("beat1"), celery.beat("beat2")]

    def sent(name: str) -> int:
        return celery.log(name).count("Sending due task nightly")

    _wait(
        lambda: sent("beat1") >= 3 and sent("beat2") >= 3 and JobRun.objects.count() >= 6,
        45,
        "both beats to send the nightly job three times",
        celery,
        poll=0.5,
    )
    assert all(beat.poll() is None for beat in beats), "a beat process exited"
    for beat in beats:
        os.killpg(beat.pid, signal.SIGTERM)
        beat.wait(timeout=20)
    _settled(redis, celery, time.monotonic() + 2, timeout=40)
    runs = JobRun.objects.filter(name="filings.nightly")
    assert not runs.exclude(error="").exists()
    assert not runs.filter(finished_at__isnull=True).exists()
    changed = counts["temporary"] + counts["course"] + counts["revoke"]
    reminders = counts["remind"] + counts["claim"]
    notes = changed + counts["revoke"] + reminders
    # Each change was counted by exactly one of the runs.
    assert sum(runs.values_list("rows", flat=True)) == changed + reminders
    state = _state()
    print(
        f"two beats: {runs.count()} runs, {sent('beat1')} + {sent('beat2')} sent, "
        f"{time.monotonic() - started:.1f} s"
    )
    assert state == {
        "expired": counts["temporary"] + counts["course"],
        "revoked": counts["revoke"],
        "expire_events": counts["temporary"] + counts["course"],
        "revoke_events": counts["revoke"],
        "reminders": reminders,
        "notifications": notes,
        "unsent": 0,
        "emails": notes,
        "distinct_emails": notes,
    }
