"""The agency's review queues fit a laptop's 1280-pixel screen: the navigation sidebar starts
folded under 1600 pixels (static/js/admin-sidebar.js), and the filters and cells take less room
(static/css/admin.css), so a reviewer sees every column of the filings queue without scrolling
sideways, in Chinese and in English."""

import pytest

from portal.management.commands.demo_totp import current_code
from tests.browser import browser_page

pytestmark = [pytest.mark.django_db, pytest.mark.browser]

FITS = """() => {
  const results = document.querySelector('#changelist .results');
  return {
    table: results.scrollWidth,
    room: results.clientWidth,
    folded: !document.getElementById('main').classList.contains('shifted'),
    rows: document.querySelectorAll('#result_list tbody tr').length,
  };
}"""


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", "Demo#2026")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.fill("input[name=code]", current_code(username))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize(
    ("username", "locale", "heading"),
    [("agency_dxal", "zh-CN", "备案编号"), ("agency_shenyang", "en-US", "FILING NUMBER")],
)
def test_the_filings_queue_fits_a_laptop_screen(live_server, demo, username, locale, heading):
    with browser_page(1280, 900, locale=locale) as page:
        _sign_in(page, live_server.url, username)
        page.goto(f"{live_server.url}/admin/filings/filing/")
        page.wait_for_load_state()
        assert heading in page.inner_text("#result_list thead")
        layout = page.evaluate(FITS)
        assert layout["rows"] > 0
        assert layout["folded"], "the navigation sidebar starts folded under 1600 pixels"
        assert layout["table"] <= layout["room"], layout
        # The reviewer's own choice is kept: opened once, the sidebar stays open.
        page.click("#toggle-nav-sidebar")
        page.reload()
        page.wait_for_load_state()
        assert not page.evaluate(FITS)["folded"]


OVERLAP = """() => {
  const title = document.querySelector('#content h2').getBoundingClientRect();
  const tools = [...document.querySelectorAll('.object-tools li')]
    .map(li => li.getBoundingClientRect());
  const crosses = r => !(r.right <= title.left || r.left >= title.right ||
                         r.bottom <= title.top || r.top >= title.bottom);
  const colour = sel => getComputedStyle(document.querySelector(sel)).backgroundColor;
  return {tools: tools.length, covered: tools.filter(crosses).length,
          approve: colour('.decision-approve'), reject: colour('.decision-reject')};
}"""


def test_a_held_settlements_decisions_do_not_cover_its_number_in_english(live_server, demo):
    """Four long English labels, floated beside the title as Django places object tools,
    covered the settlement's number at 1280 pixels; approving and rejecting looked alike."""
    from tests.settling import settle_today

    held = settle_today("150000.00")
    with browser_page(1280, 900, locale="en-US") as page:
        _sign_in(page, live_server.url, "agency_dxal")
        page.goto(f"{live_server.url}/admin/settlement/settlement/{held.pk}/change/")
        layout = page.evaluate(OVERLAP)
    # Approve, adjust, reject, return, void, and the history.
    assert layout["tools"] == 6 and layout["covered"] == 0, layout
    assert layout["approve"] != layout["reject"], layout
