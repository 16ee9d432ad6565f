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
    "SITE_URL": "https://ybj.example.cn",
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


def _manage_py_build_steps() -> list[dict[str, str]]:
    """The environment variables each `manage.py` command of the Dockerfile's RUN lines is
    given on its line (`SECRET_KEY=build … python manage.py collectstatic`)."""
    import shlex

    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    steps = []
    for line in text.splitlines():
        if not line.startswith("RUN ") or "manage.py" not in line:
            continue
        for command in line[len("RUN ") :].split("&&"):
            words = shlex.split(command)
            if "manage.py" not in words:
                continue
            assignments = [w for w in words[: words.index("manage.py")] if "=" in w]
            steps.append(dict(w.split("=", 1) for w in assignments))
    return steps


def _import_production_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    """Import portal.settings.production with exactly `env` (and PATH), as a build step would:
    no .env file read (the build's copy of the tree has none to rely on)."""
    code = (
        "import environ; environ.Env.read_env = lambda *a, **k: None; "
        "import portal.settings.production"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_docker_build_steps_load_the_production_settings():
    """The image's compilemessages and collectstatic run under the production settings with
    only their build-time placeholders: each step must have every secret those require."""
    steps = _manage_py_build_steps()
    assert len(steps) >= 2  # compilemessages, collectstatic
    for env in steps:
        result = _import_production_settings(env)
        assert result.returncode == 0, (env, result.stderr[-2000:])


def test_a_build_step_without_the_encryption_salts_would_fail():
    """The check above would catch a missing secret: without FIELD_ENCRYPTION_SALTS the same
    import fails, naming it."""
    env = dict(_manage_py_build_steps()[0])
    assert env.pop("FIELD_ENCRYPTION_SALTS", None) is not None
    result = _import_production_settings(env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_SALTS" in result.stderr


def test_compose_email_default_needs_no_mail_server():
    """Without EMAIL_URL set, the services send mail somewhere that exists: a backend that
    needs no server (the console), or a host that is one of the compose services."""
    import environ

    saved = os.environ.pop("EMAIL_URL", None)
    try:
        config = _compose_config()
    finally:
        if saved is not None:
            os.environ["EMAIL_URL"] = saved
    services = config["services"]
    for name in ("web", "worker", "beat"):
        url = services[name]["environment"]["EMAIL_URL"]
        email = environ.Env.email_url_config(url)
        needs_server = email["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
        assert not needs_server or email["EMAIL_HOST"] in services, (name, url)


def test_make_run_on_another_address_prints_that_address_in_emails_and_pdfs():
    """`HOST=… PORT=… make run` left SITE_URL at 127.0.0.1:8000: the links of emails and the
    PDFs' QR codes pointed to a port nothing listened on. A SITE_URL given still wins (the
    shell's `${SITE_URL:-…}`)."""
    shown = subprocess.run(
        ["make", "-n", "run", "HOST=10.0.0.5", "PORT=8010"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
    ).stdout
    start = shown[shown.index("honcho") - 200 :]
    assert "SITE_URL=${SITE_URL:-http://10.0.0.5:8010}" in start
