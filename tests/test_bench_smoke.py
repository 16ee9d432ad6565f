"""Benchmark smoke tests: every script in bench/ (`make bench`) runs at a tiny size.

The benchmarks are standalone scripts nothing else runs, so a change elsewhere (a model's new
NOT NULL column missing from a bench's COPY, say) broke one unnoticed. Here each runs as a
subprocess for a few seconds and must exit 0 or 1 (1: a goal missed, expected at these sizes,
where timings mean nothing), print no traceback, and print its figures. All six take about
45 s in one process (the PDF and eligibility benches about 15 s each).

The PostgreSQL benches (jobs, re-check, eligibility, admin lists) run only when the suite is on
PostgreSQL (CI=true), each in a database of its own, created fresh (the benches reuse loaded data,
which would hide a broken load) and dropped afterwards: portal_smoke_<bench>_<xdist worker>, never
a benchmark's default database, where full-size data may be loaded. Each is a copy of one
migrated, empty database made once a run (portal_smoke_template_<xdist worker>). The engine and
PDF benches need no database server (the PDF bench uses an in-memory SQLite database, as under
`make bench`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 180  # seconds, per bench: each takes a few


def _env(**extra: str) -> dict[str, str]:
    """The suite's environment without its database and broker: a bench reads DATABASE_URL
    itself, and its Celery tasks (if any are queued) stay in the process, not in the suite's
    Redis or the repository's SQLite broker."""
    dropped = {"CI", "DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**env, "CELERY_BROKER_URL": "memory://", **extra}


def _run(script: str, *args: str, env: dict[str, str]) -> str:
    """Runs bench/`script`; asserts it exited 0 or 1 without a traceback; returns its stdout."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # so a timeout ends what it started too (gunicorn, children)
    )
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"{script} {' '.join(args)} ran over {TIMEOUT} s:\n{stdout}\n{stderr}")
    output = f"{stdout}\n{stderr}"[-4000:]
    assert process.returncode in (0, 1), f"{script} exited {process.returncode}:\n{output}"
    traceback = "Traceback" in stdout + stderr
    assert not traceback, f"{script} printed a traceback:\n{output}"
    return stdout


def _assert_figures(stdout: str, *patterns: str) -> None:
    for pattern in patterns:
        assert re.search(pattern, stdout, re.MULTILINE), f"no line like {pattern!r}:\n{stdout}"
    assert re.search(r"^(ALL GOALS MET|GOAL MET|GOAL NOT MET)", stdout, re.MULTILINE), stdout


def _server() -> dict | None:
    """The suite's PostgreSQL server (its connection settings), None on SQLite."""
    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        return None
    return {
        "host": db.get("HOST") or "127.0.0.1",
        "port": int(db.get("PORT") or 5432),
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or None,
    }


def _sql(server: dict, statement: sql.Composable) -> None:
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as conn:
        conn.execute(statement)


def _drop(server: dict, name: str) -> None:
    _sql(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _url(server: dict, name: str) -> str:
    user = quote(server["user"]) + (f":{quote(server['password'])}" if server["password"] else "")
    return f"postgres://{user}@{server['host']}:{server['port']}/{name}"


# A database migrated once a run (each xdist worker its own), which every bench's database is
# copied from: empty, so each bench still loads its data afresh, but migrated, so the four
# PostgreSQL benches do not each apply the ~110 migrations (their own `migrate` finds nothing to
# do). Dropped at the end of the session.
_TEMPLATE: dict[str, str] = {}


def _migrated_template(server: dict) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if worker in _TEMPLATE:
        return _TEMPLATE[worker]
    name = f"portal_smoke_template_{worker}"
    _drop(server, name)
    _sql(server, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=_env(DATABASE_URL=_url(server, name), DJANGO_SETTINGS_MODULE="bench.settings_bench"),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert migrated.returncode == 0, migrated.stderr[-4000:]
    _TEMPLATE[worker] = name
    return name


@pytest.fixture(scope="session", autouse=True)
def _drop_the_template():
    yield
    server = _server()
    for name in _TEMPLATE.values():
        if server is not None:
            _drop(server, name)


@pytest.fixture
def bench_database():
    """Makes the URL of a fresh PostgreSQL database for one bench (this xdist worker's own),
    copied from the migrated template; drops the databases afterwards. Skips unless the suite
    is on PostgreSQL (CI=true)."""
    server = _server()
    if server is None:
        pytest.skip("needs PostgreSQL: runs with CI=true")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    names: list[str] = []

    def make(bench: str) -> str:
        name = f"portal_smoke_{bench}_{worker}"
        _drop(server, name)  # a run killed halfway may have left it, loaded
        names.append(name)
        template = _migrated_template(server)
        _sql(
            server,
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            ),
        )
        return _url(server, name)

    yield make
    for name in names:
        _drop(server, name)


def test_bench_engine_runs():
    stdout = _run("bench_engine.py", "--bills", "500", "--rounds", "1", env=_env())
    _assert_figures(
        stdout,
        r"^500 bills .*: 500 splits equal to the reference",
        r"^throughput ratio engine/reference = \d+\.\d+",
    )


def test_bench_pdf_runs():
    # One form, quickly (one fresh process of its own, 3 rounds): a few seconds, not 40.
    env = _env(DJANGO_SETTINGS_MODULE="portal.settings.test")
    stdout = _run("bench_pdf.py", "--form", "certificate", "--quick", env=env)
    _assert_figures(
        stdout,
        r"^HarfBuzz subsetting: ",
        r"^reference \(.*\): \d+\.\d+ ms",
        r"^certificate +warm +\d+\.\d+ ms = +\d+\.\d+x ref .* first +\d+\.\d+ ms = +\d+\.\d+x",
    )


def test_bench_jobs_runs(bench_database):
    env = _env(DATABASE_URL=bench_database("jobs"))
    stdout = _run("bench_jobs.py", "--filings", "1000", "--rounds", "1", env=env)
    _assert_figures(
        stdout,
        r"^1,008 filings\.",
        r"^query plan of the nightly expiry \(temporary\) path: (PASS|FAIL)",
        r"^backlog \(~25% due\): medians: job \d+\.\d+ ms",
        r"^  job / raw UPDATE: per round [\d. ]+; median \d+\.\d+",
    )


def test_bench_admin_runs(bench_database):
    env = _env(DATABASE_URL=bench_database("admin"))
    stdout = _run("bench_admin.py", "--scale", "0.001", "--rounds", "1", env=env)
    _assert_figures(
        stdout,
        r"^admin list pages over 1,000 filings, 3,000 audit events",
        r"^  agency_shenyang +filings, submitted queue +\d+\.\d+ ms (PASS|FAIL) +\d+ queries",
        r"^  admin +access log, past 7 days +\d+\.\d+ ms (PASS|FAIL)",
        r"^GOAL (NOT )?MET: slowest page \d+ ms",
    )


def test_bench_recheck_runs(bench_database):
    env = _env(DATABASE_URL=bench_database("recheck"))
    stdout = _run("bench_recheck.py", "--settlements", "300", env=env)
    _assert_figures(
        stdout,
        r"^batch re-check \(fetch, recompute, bulk write 300\): +\d+\.\d+ s",
        r"^ratio \d+\.\d+ \(goal <= 3\.00\)",
    )


def test_bench_eligibility_runs(bench_database):
    url = bench_database("eligibility")
    if shutil.which("wrk") is None:
        pytest.fail("wrk is missing: run `make test` (it installs it)")
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    args = ["--filings", "500", "--hospitals", "10", "--keys", "2", "--duration", "1"]
    args += ["--connections", "2", "--workers", "1", "--port", str(port)]
    # The bench keeps the loaded database's API keys beside it; this database is dropped.
    keys = ROOT / "bench" / "out" / f"keys-{url.rsplit('/', 1)[1]}.json"
    try:
        stdout = _run("bench_eligibility.py", *args, env=_env(DATABASE_URL=url))
    finally:
        keys.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # bench/out itself, when nothing else is in it
            keys.parent.rmdir()
    _assert_figures(
        stdout,
        r"^\(b\) POST /api/v1/eligibility: +\d+\.\d+ req/s +p99 +\d+\.\d+ ms",
        r"^throughput ratio \(b\)/\(a\) = \d+\.\d+",
        r"^p99 ratio +\(b\)/\(a\) = \d+\.\d+",
    )
