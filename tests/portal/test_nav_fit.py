"""The menu bar is one row at every width: opened out when all of its entries fit on one row,
folded behind its button otherwise (static/js/nav-fit.js), and no entry ever breaks inside a
word. How wide a menu is depends on who is signed in and on the language: in English at 1024
pixels a clerk's menu wrapped to two rows ("Messa / ges", "Sign / out") and an insured person's
to three, up to 284 pixels high."""

import pytest

from tests.browser import browser_page, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.browser]

WIDTHS = (768, 1024, 1280)
MENU = """() => {
  const nav = document.querySelector('nav.portal-nav');
  const entries = [...nav.querySelectorAll('.navbar-brand, .nav-link, .btn')]
    .filter(e => e.offsetParent !== null);
  const rows = e => {
    const range = document.createRange();
    range.selectNodeContents(e);
    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
  };
  return {
    height: nav.getBoundingClientRect().height,
    folded: getComputedStyle(nav.querySelector('.navbar-toggler')).display !== 'none',
    broken: entries.filter(e => rows(e) > 1).map(e => e.textContent.trim()),
    sideways: document.documentElement.scrollWidth > window.innerWidth,
  };
}"""


def _menus(page, base: str) -> dict:
    """(language, width): what the home page's menu bar looks like."""
    seen = {}
    for language in ("zh-hans", "en"):
        page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(f"{base}/")
            seen[language, width] = page.evaluate(MENU)
    return seen


def _one_row(seen: dict) -> None:
    for (language, width), menu in seen.items():
        assert not menu["broken"], (language, width, menu)
        assert menu["height"] < 64, (language, width, menu)
        assert not menu["sideways"], (language, width, menu)


def test_an_insured_persons_menu_folds_where_it_does_not_fit(live_server, demo):
    with browser_page(1280, 800) as page:
        sign_in(page, live_server.url, "wangxiulan")
        seen = _menus(page, live_server.url)
        _one_row(seen)
        # Nine entries in Chinese fit a laptop; in English they need about 1,450 pixels.
        assert not seen["zh-hans", 1024]["folded"] and not seen["zh-hans", 1280]["folded"]
        assert seen["en", 1024]["folded"] and seen["en", 1280]["folded"]
        # Folded, the menu opens with every entry, each on one line.
        page.click(".navbar-toggler")
        page.wait_for_selector("#mainnav.show")
        opened = page.evaluate(MENU)
        assert not opened["broken"] and not opened["sideways"], opened
        assert page.is_visible("text=What will I pay there?")


def test_a_clerks_menu_opens_out_where_it_fits(live_server, demo):
    with browser_page(1280, 800) as page:
        sign_in(page, live_server.url, "hosp_h23010300001")
        seen = _menus(page, live_server.url)
        _one_row(seen)
        assert not any(seen["zh-hans", width]["folded"] for width in WIDTHS)
        assert seen["en", 1024]["folded"] and not seen["en", 1280]["folded"]


def test_a_visitors_menu_is_one_row(live_server, demo):
    with browser_page(1280, 800) as page:
        seen = _menus(page, live_server.url)
        _one_row(seen)
        assert not any(seen["zh-hans", width]["folded"] for width in WIDTHS)
        assert seen["en", 768]["folded"] and not seen["en", 1024]["folded"]
