"""Playwright driving Debian's Chromium (no browser download on this network)."""

from __future__ import annotations

import contextlib
import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@contextlib.contextmanager
def browser_page(width: int = 375, height: int = 812, locale: str = "zh-CN"):
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: run `make test` (it installs it)")
    from playwright.sync_api import sync_playwright

    # Playwright runs an event loop in this thread; the live server's ORM calls are sync.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=1,
            is_mobile=True,
            has_touch=True,
            locale=locale,
        )
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()
            browser.close()
            if previous is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def no_horizontal_scroll(page) -> bool:
    """The page is no wider than the screen. Measured against the viewport as configured, not
    `window.innerWidth`: on a mobile viewport Chromium widens innerWidth to a page that is too
    wide, and the comparison could never fail."""
    width = page.viewport_size["width"]
    return page.evaluate(
        "w => document.documentElement.scrollWidth <= w && window.innerWidth <= w", width
    )


def sign_in(page, base: str, username: str) -> None:
    """Signs a demo account in through the login page, as its user does: the password, then,
    for staff (who must pass TOTP), the current code."""
    from portal.demo import TOTP_SECRETS
    from portal.management.commands.demo_totp import current_code

    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", "Demo#2026")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    if username in TOTP_SECRETS:
        page.fill("input[name=code]", current_code(username))
        page.click("main form button[type=submit]")
        page.wait_for_load_state()


def choose_hospital(page, hospital) -> None:
    """On a claim form: the place first, then, once its hospitals are listed (fetched by
    static/js/portal.js), the hospital."""
    page.select_option("select[name=place_region]", value=str(hospital.region_id))
    page.wait_for_selector(f"select[name=hospital] option[value='{hospital.pk}']", state="attached")
    page.select_option("select[name=hospital]", value=str(hospital.pk))
