"""The directory on a 375-px phone screen, in Chinese and English (Playwright + Chromium)."""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.browser import browser_page, no_horizontal_scroll

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_directory_and_detail_fit_a_375px_screen_in_both_languages(live_server):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    with browser_page(375) as page:
        page.goto(f"{live_server.url}/hospitals/?q=hyd")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        assert page.get_by_text("哈尔滨医科大学附属第一医院").count() >= 1
        assert no_horizontal_scroll(page)
        page.get_by_text("哈尔滨医科大学附属第一医院").first.click()
        page.wait_for_url("**/hospitals/H23010300001/")
        assert "国家编码" in page.content()
        assert no_horizontal_scroll(page)
        page.goto(f"{live_server.url}/hospitals/?lang=en&region=460200")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_text("Designated hospitals").count() >= 1
        assert no_horizontal_scroll(page)
        page.goto(f"{live_server.url}/hospitals/H46020000002/")
        assert "National code" in page.content()
        assert no_horizontal_scroll(page)
