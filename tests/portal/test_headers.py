"""Security headers: a Content-Security-Policy without inline scripts, nosniff, Referrer-Policy,
Permissions-Policy, and HSTS in production (issue 10, "Sessions and headers")."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.urls import reverse

from tests.portal.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class _Scripts(HTMLParser):
    """Every <script> of a page: its attributes and its body."""

    def __init__(self):
        super().__init__()
        self.scripts: list[tuple[dict, str]] = []
        self.handlers: list[str] = []
        self._open: dict | None = None
        self._body: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.handlers += [name for name, _value in attrs if name.startswith("on")]
        if tag == "script":
            self._open, self._body = dict(attrs), []

    def handle_data(self, data):
        if self._open is not None:
            self._body.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._open is not None:
            self.scripts.append((self._open, "".join(self._body)))
            self._open = None


def inline_scripts(html: str) -> list[str]:
    """Script bodies the browser would run: not <script src=...>, not JSON data blocks."""
    parser = _Scripts()
    parser.feed(html)
    return [
        body
        for attrs, body in parser.scripts
        if "src" not in attrs and attrs.get("type") != "application/json"
    ] + [f"on-handler {name}" for name in parser.handlers]


@pytest.fixture
def admin_client(client, db):
    user = UserFactory(username="root", is_staff=True, is_superuser=True, authenticator=False)
    TOTP.activate(user, TOTP_SECRET)  # the admin opens only to staff with TOTP
    client.force_login(user)
    # Exports ask for a recent authentication: confirm the password once.
    client.post(reverse("account_reauthenticate"), {"password": "pass-word-123"})
    return client


def _assert_strict_csp(response) -> None:
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    # Styles allow 'unsafe-inline' only because of the admin's and Swagger UI's own <style>
    # blocks and allauth's and django-import-export's style attributes.
    assert directives["style-src"] == ["'self'", "'unsafe-inline'"]


@pytest.mark.django_db
def test_home_page_has_a_csp_without_inline_scripts(client):
    response = client.get("/")
    assert response.status_code == 200
    _assert_strict_csp(response)
    assert inline_scripts(response.content.decode()) == []


@pytest.mark.django_db
def test_login_page_has_a_csp_without_inline_scripts(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    _assert_strict_csp(response)
    assert inline_scripts(response.content.decode()) == []


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/portal/insuredperson/",
        "/admin/portal/insuredperson/add/",
        "/admin/hospitals/hospital/export/",
    ],
)
def test_admin_pages_have_a_csp_without_inline_scripts(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 200
    _assert_strict_csp(response)
    assert inline_scripts(response.content.decode()) == []


def test_export_form_binds_select_all_from_a_static_script(admin_client):
    html = admin_client.get("/admin/hospitals/hospital/export/").content.decode()
    assert "js/export_select_all.js" in html
    assert 'class="select-toggle"' in html and "onchange" not in html


@pytest.mark.django_db
def test_swagger_ui_loads_its_script_from_a_url_not_inline(client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    _assert_strict_csp(response)
    html = response.content.decode()
    assert inline_scripts(html) == []
    sources = re.findall(r'<script src="([^"]+)"', html)
    init = [src for src in sources if src.startswith(reverse("api-docs"))]
    assert len(init) == 1
    script = client.get(init[0].replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert reverse("schema") in script.content.decode()


@pytest.mark.django_db
def test_other_security_headers_are_set(client):
    response = client.get("/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = {part.strip() for part in response["Permissions-Policy"].split(",")}
    assert {"camera=()", "microphone=()", "geolocation=()", "payment=()"} <= policy


@pytest.mark.django_db
def test_api_answers_carry_the_headers_too(client):
    response = client.get("/api/v1/hospitals")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Permissions-Policy" in response
    assert "Content-Security-Policy" in response


def test_production_sends_hsts_for_a_year_with_subdomains():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "SECRET_KEY": "x" * 20 + "production-secret-key-for-the-check-0123456789",
        "ID_HASH_KEY": "production-id-hash-key",
        "FIELD_ENCRYPTION_SALTS": "salt",
        "ALLOWED_HOSTS": "ybj.example.cn",
        "DATABASE_URL": "sqlite:///:memory:",
        "SITE_URL": "https://ybj.example.cn",
    }
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_SSL_REDIRECT, "
        "'csp.middleware.CSPMiddleware' in s.MIDDLEWARE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    seconds, subdomains, redirect, csp = result.stdout.split()[-4:]
    assert int(seconds) >= 365 * 24 * 3600
    assert subdomains == redirect == csp == "True"


# Template source: a <script> tag with its attributes and body.
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
EVENT_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.IGNORECASE)


def _template_problems(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    problems = []
    for attrs, body in SCRIPT_TAG.findall(text):
        external = re.search(r"\bsrc\s*=", attrs) and not body.strip()
        data = re.search(r"""\btype\s*=\s*["']application/json["']""", attrs)
        if not (external or data):
            problems.append(f"inline <script{attrs}>")
    if EVENT_HANDLER.search(text):
        problems.append("inline event handler (on...=)")
    if "javascript:" in text.lower():
        problems.append("javascript: URL")
    return problems


def test_no_template_carries_an_inline_script():
    """Only <script src=...> and <script type="application/json"> (data for a static script)."""
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    problems = {
        str(path.relative_to(ROOT)): found
        for path in templates
        if (found := _template_problems(path))
    }
    assert problems == {}


def test_the_template_scan_catches_inline_scripts(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<script>alert(1)</script><button onclick="go()">x</button>')
    assert len(_template_problems(bad)) == 2
    good = tmp_path / "good.html"
    good.write_text(
        '<script src="/static/js/a.js"></script>\n'
        '<script type="application/json" id="d">{"a": 1}</script>\n{{ data|json_script:"x" }}'
    )
    assert _template_problems(good) == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_run_in_chromium_without_csp_violations(live_server, client):
    """Swagger UI, the home page, the admin's lists, forms and export, and the dashboard."""
    from django.conf import settings

    from tests.browser import browser_page

    user = UserFactory(username="root", is_staff=True, is_superuser=True, authenticator=False)
    TOTP.activate(user, TOTP_SECRET)
    client.force_login(user)
    client.post(reverse("account_reauthenticate"), {"password": "pass-word-123"})
    session = client.cookies[settings.SESSION_COOKIE_NAME].value

    with browser_page(1280, 900) as page:
        page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{live_server.url}/api/docs/")
        # Swagger UI drew the operations from the schema: its scripts ran.
        page.wait_for_selector(".opblock", timeout=20000)
        assert page.locator(".opblock").count() >= 3
        page.goto(f"{live_server.url}/")
        # Bootstrap's bundle ran.
        assert page.evaluate("typeof window.bootstrap") == "object"
        for url in [
            "/admin/",
            "/admin/portal/insuredperson/",
            "/admin/portal/insuredperson/add/",
            "/admin/hospitals/hospital/export/",
            "/settlement/dashboard/",
        ]:
            response = page.goto(f"{live_server.url}{url}")
            assert response.status == 200 and page.url == f"{live_server.url}{url}", url
            page.wait_for_load_state("load")
        # The admin's scripts ran (the sidebar toggle is added by nav_sidebar.js).
        page.goto(f"{live_server.url}/admin/portal/insuredperson/")
        assert page.locator("#toggle-nav-sidebar").count() == 1
        assert [text for text in console if "Content Security Policy" in text] == []


@pytest.mark.django_db
def test_pages_and_downloads_with_personal_data_are_not_kept_by_a_shared_browser(client, demo):
    """A filing's page, an ID card copy, a certificate PDF, the desk's answer (it echoes the
    typed ID number): none said Cache-Control, so a community centre's browser kept them."""
    from filings.models import Filing

    filing = Filing.objects.get(number="BA232700000001")
    client.force_login(demo["wangxiulan"])
    material = filing.materials.first()
    for url in (
        f"/filings/{filing.number}/",
        reverse("filings:material", args=[material.pk]),
        "/notifications/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    client.force_login(demo["hosp_h46020000002"])
    answer = client.post(
        "/hospitals/check/",
        {"id_number": "232701195603120223", "name": "王秀兰", "care_type": "inpatient"},
    )
    assert "no-store" in answer["Cache-Control"]
    # Public pages keep their own caching (none said here): not marked for nobody.
    client.logout()
    assert "no-store" not in client.get("/api/v1/hospitals").get("Cache-Control", "")
