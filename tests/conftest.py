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


def _reachable(url: str, default_port: int) -> str | None:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError as exc:
        return f"{host}:{port} ({exc})"


def pytest_configure(config):
    """Under CI=true, check every service first and exit once naming all that are unreachable."""
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


@pytest.fixture
def demo(db):
    """The seeded demo of shared/demo.md."""
    from io import StringIO

    from django.core.management import call_command

    # The year of synthetic settlements behind the dashboard is seeded by its own tests.
    call_command("seed_demo", "--no-history", stdout=StringIO())
    from django.contrib.auth import get_user_model

    return {u.username: u for u in get_user_model().objects.all()}


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and cached keys live in the cache, and regions, hospitals and category
    policies in the admission desk's snapshots: no test sees another's."""
    from django.core.cache import cache

    from hospitals.eligibility_selectors import clear_caches

    cache.clear()
    clear_caches()
    yield
    cache.clear()
    clear_caches()
