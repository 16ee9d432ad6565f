"""Suite-wide fixtures: real services under CI, and a scan for full ID numbers in every log line."""

from __future__ import annotations

import logging
import re
import socket
from urllib.parse import urlparse

import pytest
from django.conf import settings

ID_PATTERN = re.compile(r"(?<![0-9])[1-9]\d{16}[\dXx](?![0-9])")


def _is_real_id(candidate: str) -> bool:
    from portal.lib import idnumbers

    return idnumbers.problem(candidate) is None


def full_id_numbers(text: str) -> list[str]:
    """Every genuine-looking full resident ID number in `text`."""
    return [m for m in ID_PATTERN.findall(text or "") if _is_real_id(m.upper())]


# Modules whose tests take seconds each (benchmarks, real Celery workers, `.ci/run` itself run
# as subprocesses), besides the browser tests.
SLOW_MODULES = {
    "tests/test_bench_smoke.py",
    "tests/portal/test_celery_kill.py",
    "tests/portal/test_celery_worker.py",
    "tests/portal/test_deployment.py",
}


def pytest_collection_modifyitems(config, items):
    """The slow tests first (browsers, benchmarks, workers), each group in its collected order:
    pytest-xdist then spreads them over its workers from the start, instead of one worker
    finishing the last browser tests while the others wait. A test's outcome does not depend
    on its place; each test sets up what it needs."""

    def slow(item) -> bool:
        return item.get_closest_marker("browser") is not None or (
            item.nodeid.split("::", 1)[0] in SLOW_MODULES
        )

    items.sort(key=lambda item: not slow(item))


def _reachable(url: str, default_port: int) -> str | None:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError as exc:
        return f"{host}:{port} ({exc})"


def _schedules_after_flush(sender, **kwargs) -> None:
    """A transactional test ends by flushing the database, which empties django-celery-beat's
    tables that the migrations filled (portal.schedules). Django sends post_migrate after a
    flush: the schedules are written again as the migrations left them, so a test that reads
    them does not depend on which tests its worker ran before (one that seeds the demo writes
    them again too, which hid this while the browser tests ran first)."""
    if sender.name == "portal":
        from portal import schedules

        schedules.ensure()


def pytest_configure(config):
    """Under CI=true, check every service first and exit once naming all that are unreachable.
    (And, for every run, the schedules are kept over a transactional test's flush.)"""
    from django.db.models.signals import post_migrate

    post_migrate.connect(_schedules_after_flush, dispatch_uid="tests-schedules-after-flush")
    if not getattr(settings, "CI", False):
        return
    problems: list[str] = []
    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        problems.append("the suite is not on PostgreSQL: set DATABASE_URL")
    else:
        where = f"//{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
        problem = _reachable(where, 5432)
        if problem:
            problems.append(f"PostgreSQL is not reachable at {problem}")
    problem = _reachable(settings.CELERY_BROKER_URL, 6379)
    if problem:
        problems.append(f"Redis is not reachable at {problem}")
    else:
        import redis

        try:
            redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=3).ping()
        except redis.RedisError as exc:
            # Name host and port only: the URL may carry a password.
            broker = urlparse(settings.CELERY_BROKER_URL)
            problems.append(
                f"Redis is not reachable at {broker.hostname}:{broker.port or 6379} ({exc})"
            )
    if problems:
        pytest.exit("CI=true: " + "; ".join(problems) + ".", returncode=3)


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a broken record must not hide the scan
            self.lines.append(str(record.msg))


@pytest.fixture(autouse=True)
def no_full_id_numbers_in_logs():
    """Active for the whole suite: no log line may carry a full resident ID number."""
    handler = _Collector()
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    leaked = [line for line in handler.lines if full_id_numbers(line)]
    assert not leaked, f"full ID numbers in log lines: {len(leaked)}"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")


def _seed_demo() -> None:
    from io import StringIO

    from django.core.management import call_command

    # The year of synthetic settlements behind the dashboard is seeded by its own tests.
    call_command("seed_demo", "--no-history", stdout=StringIO())


def _demo_users() -> dict:
    from django.contrib.auth import get_user_model

    return {u.username: u for u in get_user_model().objects.all()}


_TRANSACTIONAL = {"transactional_db", "live_server", "django_db_serialized_rollback"}


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(
        _TRANSACTIONAL & set(request.fixturenames)
        or (marker is not None and marker.kwargs.get("transaction"))
    )


class _SharedDemo:
    """The demo of shared/demo.md, seeded once for a run of consecutive tests that ask for it
    (in one module, none of them transactional) inside an outer transaction: each test's own
    transaction is a savepoint within it, rolled back after the test as usual, so every test
    starts from the demo as seeded. Closed (rolled back) before any other test, and at the end
    of each module, so no other test ever sees it. DEMO_PER_TEST=1 seeds it for every test."""

    def __init__(self):
        self.atomic = None
        self.module = None
        self.media: str | None = None

    def open(self, module) -> None:
        from django.db import transaction

        if self.atomic is not None and self.module is module:
            return
        self.close()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.module = module
        _seed_demo()
        self.media = settings.PRIVATE_MEDIA_ROOT  # the demo's material files

    def close(self) -> None:
        from django.db import transaction

        if self.atomic is None:
            return
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)
        self.atomic = self.module = self.media = None


_shared_demo = _SharedDemo()


@pytest.fixture
def _demo_shared_across_a_module(request, _media):
    """Before the test's own transaction (see `_django_db_helper`): open the shared demo for a
    test that asks for it, close it for any other."""
    import os

    wants = "demo" in request.fixturenames and not _transactional(request)
    if not wants or os.environ.get("DEMO_PER_TEST"):
        if _shared_demo.atomic is not None:
            with request.getfixturevalue("django_db_blocker").unblock():
                _shared_demo.close()
        yield False
        return
    request.getfixturevalue("django_db_setup")
    with request.getfixturevalue("django_db_blocker").unblock():
        _shared_demo.open(request.module)
    yield True


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's own; before it drops the test database, the sessions that threads of
    this process left open on it (the desk's snapshot refresher, a live server's request
    threads) are ended, so PostgreSQL lets the database go instead of warning that it is
    "being accessed by other users" and leaving it behind."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def _django_db_helper(_demo_shared_across_a_module, _django_db_helper):
    """pytest-django's own (every database test's transaction), set up after the shared demo
    is opened or closed, so the test's transaction is a savepoint within the demo's."""
    yield


@pytest.fixture(scope="module", autouse=True)
def _close_the_shared_demo(django_db_blocker):
    yield
    if _shared_demo.atomic is not None:
        with django_db_blocker.unblock():
            _shared_demo.close()


@pytest.fixture
def demo(db, _demo_shared_across_a_module):
    """The seeded demo of shared/demo.md: its accounts by username."""
    import shutil

    if _demo_shared_across_a_module:
        # The demo's material files were written under the first test's media root.
        if _shared_demo.media and _shared_demo.media != settings.PRIVATE_MEDIA_ROOT:
            shutil.copytree(_shared_demo.media, settings.PRIVATE_MEDIA_ROOT, dirs_exist_ok=True)
    else:
        _seed_demo()
    return _demo_users()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and cached keys live in the cache, regions, hospitals and category policies
    in the admission desk's snapshots, and the hospitals' API keys in the process's snapshot
    (hospitals.auth.keys): no test sees another's."""
    from django.core.cache import cache

    from hospitals import auth
    from hospitals.eligibility_selectors import clear_caches

    cache.clear()
    clear_caches()
    auth.keys.clear()
    yield
    cache.clear()
    clear_caches()
    auth.keys.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language: a request's Accept-Language leaves its
    language active on the thread after the response, which a later test calling a service
    directly would otherwise read."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    """The hospital API's published OpenAPI schema, as served (/api/schema/), read once a
    module."""
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def process_clock_in_utc():
    """The process's own clock (`time.localtime`, `date.today()`) in UTC, as on a server whose
    TZ Django did not set; China's day is still TIME_ZONE's."""
    import os
    import time

    was = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if was is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = was
    time.tzset()
