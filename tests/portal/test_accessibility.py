"""Every page of the portal passes axe-core's WCAG 2.1 A and AA checks, on a phone and on a desk's
screen, in Chinese and in English (axe-core 4.12 from axe-playwright-python, Playwright +
Debian's Chromium): a retiree with a screen reader or large text, and a clerk on a keyboard, can
use what the others use.

The agency reviewer's admin is Django's own; its pages a reviewer works in all day (the index,
the queues, a filing's and a settlement's page with their decisions, the audit log) are checked in
both languages at a desk's width, and an agency reviewer's page outside it, the statistics, is in
too.
The check runs on each page as it is after loading: what a page shows after an action (a checked
person at the desk, a form with errors) is checked too."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command

from filings import documents
from filings.models import Filing
from settlement.models import Claim
from tests.browser import browser_page, sign_in
from tests.settling import settle_today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# WCAG 2.0 and 2.1, levels A and AA (axe-core's tags).
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    found = []
    for violation in results.response["violations"]:
        for node in violation["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())[:300]
            found.append(
                f"{page.url} {violation['id']} ({violation['impact']}): "
                f"{' '.join(node['target'])} {summary}"
            )
    return found


def _check(page, url: str, lang: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("load")
    shown = page.get_attribute("html", "lang") or ""
    wrong = [] if shown.startswith(lang) else [f"{url}: in {shown!r}, not {lang!r}"]
    return wrong + _violations(page)


@pytest.fixture
def site(live_server):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    return live_server.url


def _pages(base: str) -> dict[str, list[str]]:
    filing = Filing.objects.filter(person__user__username="lijianguo").first()
    referral = Filing.objects.filter(type="referral").first()
    claim = Claim.objects.first()
    return {
        "": [
            f"{base}/",
            f"{base}/accounts/login/",
            f"{base}/accounts/password/reset/",
            f"{base}/hospitals/",
            f"{base}/hospitals/H23010300001/",
            f"{base}/verify/{documents.make_token(documents.CERTIFICATE, filing.number)}/",
            f"{base}/no-such-page/",
        ],
        "lijianguo": [
            f"{base}/filings/",
            f"{base}/filings/{filing.number}/",
            f"{base}/filings/new/long_term/",
            f"{base}/filings/new/temporary/",
            f"{base}/filings/new/emergency/",
            f"{base}/filings/new/chronic_outpatient/",
            f"{base}/settlement/mine/",
            f"{base}/settlement/claims/",
            f"{base}/settlement/claims/new/",
            f"{base}/notifications/",
            f"{base}/settlement/estimate/",
            f"{base}/settlement/estimate/?region=460200&level=3&care_type=inpatient"
            "&purpose=study&estimated_total=10000",
        ]
        + ([f"{base}/settlement/claims/{claim.number}/"] if claim else []),
        "hosp_h23010300001": [
            f"{base}/hospitals/desk/",
            f"{base}/hospitals/check/",
            f"{base}/hospitals/referrals/",
            f"{base}/hospitals/settlements/",
        ]
        + ([f"{base}/hospitals/referrals/{referral.number}/"] if referral else []),
        "agency_shenyang": [f"{base}/settlement/dashboard/"],
    }


# A phone in Chinese and a desk's screen in English: the widths lay pages out differently (the
# menu folded or open, tables as cards or rows), and each language is read once.
@pytest.mark.parametrize(("width", "locale"), [(375, "zh-CN"), (1280, "en-US")])
def test_every_page_passes_wcag_a_and_aa(site, width, locale):
    found = []
    for username, urls in _pages(site).items():
        with browser_page(width, 900, locale=locale) as page:
            if username:
                sign_in(page, site, username)
            for url in urls:
                found += _check(page, url, "zh" if locale.startswith("zh") else "en")
    assert not found, "\n".join(found)


def test_the_desks_answer_and_a_form_with_errors_pass_too(site):
    found = []
    with browser_page(1280, 900) as page:
        sign_in(page, site, "hosp_h46020000002")
        page.goto(f"{site}/hospitals/check/")
        page.fill("input[name=id_number]", "232701195603120223")
        page.fill("input[name=name]", "王秀兰")
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        found += _violations(page)
        page.fill("input[name=id_number]", "123")
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        assert re.search("身份证|ID", page.content())
        found += _violations(page)
    with browser_page(375) as page:
        sign_in(page, site, "chenming")
        page.goto(f"{site}/filings/new/long_term/")
        page.click("button[name=submit]")
        page.wait_for_load_state()
        found += _violations(page)
    assert not found, "\n".join(found)


# The reviewer's admin pages: (username, language) → paths; each agency sees its own region.
ADMIN_PAGES = [
    "/admin/",
    "/admin/filings/filing/",
    "/admin/settlement/settlement/",
    "/admin/settlement/claim/",
    "/admin/portal/auditevent/",
]


def test_the_agency_reviewers_admin_pages_pass_too(site):
    settled = settle_today()
    found = []
    for username, locale, own in [
        ("agency_dxal", "zh-CN", [Filing.objects.get(person__name="王秀兰"), settled]),
        ("agency_shenyang", "en-US", [Filing.objects.get(person__name="孙国强")]),
    ]:
        with browser_page(1280, 900, locale=locale) as page:
            sign_in(page, site, username)
            changes = [
                f"/admin/{o._meta.app_label}/{o._meta.model_name}/{o.pk}/change/" for o in own
            ]
            for path in ADMIN_PAGES + changes:
                found += _check(page, f"{site}{path}", locale[:2])
                assert page.url.startswith(f"{site}{path.split('?')[0]}"), page.url  # signed in
    assert not found, "\n".join(found)
