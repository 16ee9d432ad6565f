"""Production shape: deploy checks, compose file, health endpoint."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings.production",
    "SECRET_KEY": "x" * 20 + "production-secret-key-for-the-check-0123456789",
    "ID_HASH_KEY": "production-id-hash-key",
    "FIELD_ENCRYPTION_SALTS": "salt",
    "ALLOWED_HOSTS": "ybj.example.cn",
    "DATABASE_URL": "sqlite:///:memory:",
}


def test_production_settings_pass_check_deploy_with_zero_warnings():
    env = {**os.environ, **PROD_ENV}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests only
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    # A command's output is what it says: no library's start-up chatter (pikepdf's logger bridge).
    assert "pikepdf" not in result.stderr, result.stderr


@pytest.mark.parametrize("secret", ["SECRET_KEY", "ID_HASH_KEY", "FIELD_ENCRYPTION_SALTS"])
def test_production_settings_refuse_to_start_without_a_secret(secret):
    """No development default stands in for a production secret: the ID numbers' hash key and
    ciphertext salts included."""
    env = {k: v for k, v in {**os.environ, **PROD_ENV}.items() if k != secret}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert secret in result.stderr


def _compose_config() -> dict:
    import yaml

    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose (Debian package) is missing: run `make test` as root")
    env = {**os.environ, "SECRET_KEY": "s", "ID_HASH_KEY": "i", "FIELD_ENCRYPTION_SALTS": "f"}
    result = subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_file_is_accepted_and_has_the_production_shape():
    config = _compose_config()
    services = config["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    assert services["web"]["command"][0] == "gunicorn"
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    assert services["beat"].get("deploy", {}).get("replicas") == 1
    for name in ("db", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert {"pgdata", "uploads"} <= set(config["volumes"])
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "portal.settings.production"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"].startswith("redis://")


def test_compose_refuses_to_start_without_secrets():
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose (Debian package) is missing")
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ID_HASH_KEY"}}
    result = subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client, settings):
    settings.CELERY_BROKER_URL = "memory://"
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "status": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_naming_an_unreachable_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] == "unreachable"
    assert response.json()["database"] == "ok"


def _pytest_under_ci(**overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CI": "true", **overrides}
    env.pop("CELERY_BROKER_URL", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/portal/test_idnumbers.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
UNREACHABLE_POSTGRES = "postgres://postgres@127.0.0.1:1/portal"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        # The other service is whatever the machine has (up or down): the named one must be
        # reported either way, so this holds on a machine with only SQLite too.
        ({"REDIS_URL": UNREACHABLE_REDIS}, "Redis"),
        ({"DATABASE_URL": UNREACHABLE_POSTGRES}, "PostgreSQL"),
    ],
)
def test_ci_run_fails_loudly_naming_an_unreachable_service(overrides, named):
    env = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        **overrides,
    }
    result = _pytest_under_ci(**env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"{named} is not reachable" in result.stdout + result.stderr


def test_ci_run_names_every_unreachable_service_at_once():
    result = _pytest_under_ci(DATABASE_URL=UNREACHABLE_POSTGRES, REDIS_URL=UNREACHABLE_REDIS)
    output = result.stdout + result.stderr
    assert result.returncode == 3, output
    assert "PostgreSQL is not reachable at 127.0.0.1:1" in output
    assert "Redis is not reachable at 127.0.0.1:1" in output
    assert output.count("CI=true:") == 1
