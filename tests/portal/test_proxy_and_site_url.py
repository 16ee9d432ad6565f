"""Deployment behind the TLS proxy: the client's address (not the proxy's) for lockouts, rate
limits and audit events; production refuses to start without its public https SITE_URL; the
file mail backend has a folder."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import reverse

from portal.audit import client_ip

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings.production",
    "SECRET_KEY": "x" * 20 + "production-secret-key-for-the-check-0123456789",
    "ID_HASH_KEY": "production-id-hash-key",
    "FIELD_ENCRYPTION_SALTS": "salt",
    "ALLOWED_HOSTS": "ybj.example.cn",
    "DATABASE_URL": "sqlite:///:memory:",
}


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run `code` with exactly `env` (and PATH): no .env file read."""
    prelude = "import environ; environ.Env.read_env = lambda *a, **k: None; "
    return subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=ROOT,
        env={**env, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _production(env: dict[str, str]) -> subprocess.CompletedProcess:
    return _run(
        "import portal.settings.production as s; print(s.SITE_URL, s.TRUSTED_PROXY_COUNT)", env
    )


def test_production_refuses_to_start_without_site_url():
    result = _production(PROD_ENV)
    assert result.returncode != 0
    assert "SITE_URL" in result.stderr


def test_production_refuses_a_plain_http_site_url():
    result = _production({**PROD_ENV, "SITE_URL": "http://127.0.0.1:8000"})
    assert result.returncode != 0
    assert "https://" in result.stderr


def test_production_takes_http_only_when_told_it_is_a_local_trial():
    env = {**PROD_ENV, "SITE_URL": "http://localhost:8000", "ALLOW_HTTP_SITE_URL": "true"}
    result = _production(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "http://localhost:8000"


def test_production_takes_an_https_site_url_and_the_proxy_count():
    env = {**PROD_ENV, "SITE_URL": "https://ybj.example.cn/", "TRUSTED_PROXY_COUNT": "1"}
    result = _production(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["https://ybj.example.cn", "1"]


def test_compose_services_start_with_an_https_site_url():
    from tests.portal.test_deployment import _compose_config

    services = _compose_config()["services"]
    for name in ("web", "worker", "beat", "migrate"):
        env = {k: str(v) for k, v in services[name]["environment"].items()}
        assert env["SITE_URL"].startswith("https://"), name
        result = _production({**env, "DATABASE_URL": "sqlite:///:memory:"})
        assert result.returncode == 0, (name, result.stderr[-2000:])


def test_the_file_mail_backend_writes_where_email_file_path_says(tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "portal.settings.base",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "DATABASE_URL": "sqlite:///:memory:",
    }
    code = (
        "import django; django.setup(); from django.core.mail import send_mail; "
        "send_mail('s', 'b', 'a@example.cn', ['b@example.cn'])"
    )
    result = _run(code, env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(list((tmp_path / "mail").iterdir())) == 1


def test_the_file_mail_backend_has_a_folder_by_default():
    from portal.settings import base

    assert Path(base.EMAIL_FILE_PATH).is_relative_to(base.BASE_DIR)


def _request(remote: str, forwarded: str | None = None):
    request = RequestFactory().get("/")
    request.META["REMOTE_ADDR"] = remote
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def test_without_a_trusted_proxy_the_forwarded_header_is_not_believed(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_behind_one_proxy_the_client_is_the_address_it_appended(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("10.0.0.2", "203.0.113.9")) == "203.0.113.9"
    # What the client wrote itself, left of the proxy's entry, is not believed.
    assert client_ip(_request("10.0.0.2", "1.2.3.4, 203.0.113.9")) == "203.0.113.9"
    assert client_ip(_request("10.0.0.2", "2001:db8::1")) == "2001:db8::1"


def test_a_request_that_skipped_the_proxy_or_a_garbled_header_is_its_peer(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("198.51.100.7", "203.0.113.9")) == "198.51.100.7"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("10.0.0.2", "not-an-address")) == "10.0.0.2"
    assert client_ip(_request("10.0.0.2")) == "10.0.0.2"


def test_allauth_and_drf_count_the_same_proxies():
    from django.conf import settings
    from rest_framework.settings import api_settings

    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == settings.TRUSTED_PROXY_COUNT
    assert api_settings.NUM_PROXIES == settings.TRUSTED_PROXY_COUNT


@pytest.mark.django_db
def test_axes_records_the_clients_address_behind_the_proxy(client, demo, settings):
    from axes.models import AccessAttempt

    settings.TRUSTED_PROXY_COUNT = 1
    client.post(
        reverse("account_login"),
        {"login": "chenming", "password": "wrong"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
