"""No full ID number in any rendered page or admin list (besides the audited reveal), and the
log scan of tests/conftest.py really catches one."""

import logging
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from portal.management.commands.demo_totp import current_code
from tests.conftest import full_id_numbers

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
INSURED = ["wangxiulan", "lijianguo", "zhangwei", "liufang", "chenming", "zhaoli", "sunguoqiang"]
HOSPITAL_STAFF = ["hosp_h23010300001", "hosp_h46020000002", "hosp_h21010000001"]
CHEN = {"id_number": "210103198512010131", "name": "陈明"}


def _assert_clean(response, url: str) -> str:
    assert response.status_code == 200, (url, response.status_code)
    html = response.content.decode()
    assert not full_id_numbers(html), url
    return html


def _start_referral(client, demo):
    """An e-referral by the Shenyang hospital for 陈明, so the referral pages have a row."""
    from hospitals.models import Hospital

    client.force_login(demo["hosp_h21010000001"])
    response = client.post(
        reverse("referrals"),
        {
            **CHEN,
            "receiving_hospital": Hospital.objects.get(code="H23010300001").pk,
            "diagnosis": "冠心病",
            "condition": "b",
            "attending_doctor": "刘洋",
        },
    )
    assert response.status_code == 302, "the referral was not started"
    client.logout()


def _staff_login(client, username):
    client.post(reverse("account_login"), {"login": username, "password": "Demo#2026"})
    client.post(reverse("mfa_authenticate"), {"code": current_code(username)})


def _admin_pages():
    for model in admin.site._registry:
        opts = model._meta
        try:
            yield reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            continue


@pytest.mark.parametrize("username", ["admin", "agency_dxal", "agency_shenyang"])
def test_admin_lists_and_change_pages_never_show_a_full_id_number(client, demo, username):
    from filings.models import Filing
    from portal.models import InsuredPerson

    _start_referral(client, demo)
    _staff_login(client, username)
    pages = list(_admin_pages())
    pages += [
        reverse("admin:portal_insuredperson_change", args=[p.pk])
        for p in InsuredPerson.objects.all()
    ]
    pages += [reverse("admin:filings_filing_change", args=[f.pk]) for f in Filing.objects.all()]
    assert len(pages) > 5
    seen = 0
    for url in pages:
        response = client.get(url)
        if response.status_code == 200:
            seen += 1
            assert not full_id_numbers(response.content.decode()), url
    assert seen >= 5


@pytest.mark.parametrize("username", ["wangxiulan", "lijianguo", "chenming"])
def test_insured_pages_never_show_a_full_id_number(client, demo, username):
    client.post(reverse("account_login"), {"login": username, "password": "Demo#2026"})
    for url in ["/", reverse("notifications"), reverse("account_email")]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert not full_id_numbers(response.content.decode()), url


@pytest.mark.parametrize("username", INSURED)
def test_filing_pages_never_show_a_full_id_number(client, demo, username):
    from filings.models import Filing

    client.force_login(demo[username])
    _assert_clean(client.get(reverse("filings:list")), "filings:list")
    own = Filing.objects.filter(person__user=demo[username])
    for filing in own:
        url = reverse("filings:detail", args=[filing.number])
        _assert_clean(client.get(url), url)
    assert own.exists() or username == "chenming"  # 陈明 has no filing in the demo


def test_hospital_desk_and_referral_pages_never_show_a_full_id_number(client, demo):
    from hospitals.eligibility_selectors import clear_caches

    clear_caches()
    _start_referral(client, demo)
    for username in HOSPITAL_STAFF:
        client.force_login(demo[username])
        for name in ["hospitals:home", "eligibility-check", "referrals"]:
            _assert_clean(client.get(reverse(name)), f"{username} {name}")
    client.force_login(demo["hosp_h21010000001"])
    from filings.models import Filing

    referral = Filing.objects.get(person__name="陈明", type="referral")
    url = reverse("referral-detail", args=[referral.number])
    assert referral.number in _assert_clean(client.get(url), url)
    assert referral.number in _assert_clean(client.get(reverse("referrals")), "referrals")


def test_hospital_desk_result_shows_the_number_only_where_the_clerk_typed_it(client, demo):
    """The answer to a check names the person masked; the full number is only in the input the
    clerk typed it into (kept so a typo can be corrected)."""
    from hospitals.eligibility_selectors import clear_caches

    clear_caches()
    client.force_login(demo["hosp_h21010000001"])
    response = client.post(reverse("eligibility-check"), {**CHEN, "care_type": "inpatient"})
    assert response.status_code == 200 and response.context["result"] is not None
    html = response.content.decode()
    without_input = re.sub(r'<input[^>]*name="id_number"[^>]*>', "", html)
    assert not full_id_numbers(without_input)
    assert "2101**********0131" in html


def test_the_scanner_finds_a_full_id_number():
    # Guard for the scans above: they would be worthless if the detector missed numbers.
    assert full_id_numbers("x 232701195603120223 y") == ["232701195603120223"]
    assert full_id_numbers("2327**********0223") == []


def test_the_log_collector_captures_records_from_any_logger_at_any_level(
    no_full_id_numbers_in_logs,
):
    handler = no_full_id_numbers_in_logs
    logging.getLogger("portal.anything.deep").debug("checked %s", "232701195603120223")
    leaked = [line for line in handler.lines if full_id_numbers(line)]
    assert leaked and "232701195603120223" in leaked[-1]  # formatted with its arguments
    handler.lines = [line for line in handler.lines if line not in leaked]  # let this one pass


def test_the_log_scan_fails_a_test_that_logs_a_full_id_number(tmp_path):
    """Runs two throwaway tests under the suite's conftest: the leaking one errors at teardown
    with the scan's message, the masked one does not."""
    test_file = tmp_path / "test_leak.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import logging

            def test_leaks():
                logging.getLogger("filings").warning("person %s", "232701195603120223")

            def test_masks():
                logging.getLogger("filings").warning("person %s", "2327**********0223")
            """
        )
    )
    env = {k: v for k, v in os.environ.items() if k not in {"CI", "DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.conftest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(ROOT),
            str(test_file),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    # Both bodies pass; the leaking test then errors at teardown, where the scan runs.
    assert "test_leaks - AssertionError: full ID numbers in log lines: 1" in output
    assert "test_masks - " not in output
    assert "2 passed, 1 error" in output
