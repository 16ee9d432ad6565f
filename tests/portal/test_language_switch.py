"""Switching the language reloads the page: with something typed into a form and not sent,
the switch asks first (static/js/portal.js), so a person does not lose a half-filled form to
one tap; with nothing typed it switches at once."""

import pytest

from tests.browser import browser_page, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.browser]


def test_the_language_switch_asks_before_losing_what_was_typed(live_server, demo):
    asked = []
    with browser_page(1280, 800) as page:
        sign_in(page, live_server.url, "chenming")
        url = f"{live_server.url}/filings/new/long_term/"
        page.goto(url)
        page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        page.fill("input[name=agent_name]", "陈小明")
        page.click("#language-switcher button")
        page.wait_for_timeout(300)
        assert asked and "仍要切换语言吗" in asked[0]
        assert page.url == url and page.input_value("input[name=agent_name]") == "陈小明"
        assert page.get_attribute("html", "lang") == "zh-hans"

        page.goto(url)  # nothing typed: no question, the page comes back in English
        asked.clear()
        page.click("#language-switcher button")
        page.wait_for_load_state()
        assert not asked and page.get_attribute("html", "lang") == "en"
