"""Every page fits a phone: nothing wider than the screen, inputs iOS does not zoom into, fingers
can hit the buttons.

Insured persons A and B, hospital staff H1 and anonymous visitors open, in Chinese (the
default), every non-admin HTML page they can reach in the permission matrix's world (the page
language crawl's URLs: every GET URL name with its kwargs, one case per object owner, the
variants of the filing forms, the estimator and the directory, and every account page; the
first error page of each status they meet). Chromium draws each at a phone's viewport (375 ×
740 CSS pixels, device scale 2, mobile, touch) and each page is checked twice: as it loads,
and with the navigation menu opened. A page passes when

* it does not scroll sideways: `scrollWidth <= innerWidth`, and `innerWidth` is still the
  phone's 375 px (a mobile browser widens its layout viewport, and `innerWidth` with it, to a
  page wider than the screen: alone, the comparison passes every page); and no element or
  line of text reaches past the right edge of the screen, except inside a box that scrolls
  sideways on purpose (`.table-responsive`: its `overflow-x` is `auto` or `scroll`);
* the body's font and every text field's, select's and text area's font are at least 16 px
  (iOS zooms into a smaller field when it gets the focus, and the page then scrolls sideways);
* every tap target (buttons, links styled as buttons, nav and pagination links, the menu
  toggler, form fields; a check box or radio button with its label) is at least 40 px high.

Each finding is reported with the element and the pages and actors it was seen on. The checks
themselves are tested on planted pages.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict

import pytest
from django.conf import settings
from django.urls import reverse

from tests.browser import ARGS, CHROMIUM
from tests.portal import test_page_language as language
from tests.portal import test_permission_matrix as matrix

world = matrix.world

pytestmark = pytest.mark.browser

ACTORS = [matrix.ANON, matrix.A, matrix.B, matrix.H1]
PHONE = {
    "viewport": {"width": 375, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
MIN_FONT_PX = 16
MIN_TAP_PX = 40

# One pass over the page as it is drawn: [kind, element, detail] of each problem.
CHECKS_JS = """
([screen, minFont, minTap]) => {
  // The phone's width: innerWidth itself grows to the content's width when a mobile browser
  // lays out a page wider than the screen, so that it cannot be the measure.
  const vw = Math.min(window.innerWidth, screen);
  const out = [];
  const describe = (el) => {
    let d = el.tagName.toLowerCase();
    if (el.id) d += "#" + el.id;
    const classes = [...el.classList].filter((c) => c !== "show").slice(0, 3);
    if (classes.length) d += "." + classes.join(".");
    for (const attr of ["name", "type", "href"]) {
      if (el.getAttribute(attr)) d += `[${attr}=${el.getAttribute(attr).slice(0, 40)}]`;
    }
    const text = (el.innerText || el.value || "").trim().replace(/\\s+/g, " ").slice(0, 24);
    return text ? `${d} "${text}"` : d;
  };
  const drawn = (el) => {
    if (!el.getClientRects().length) return null;
    if (getComputedStyle(el).visibility === "hidden") return null;
    const r = el.getBoundingClientRect();
    // Visually hidden text for screen readers is clipped to one pixel.
    return r.width > 1 && r.height > 1 ? r : null;
  };
  // A box that scrolls sideways on purpose (.table-responsive) may hold something wider.
  const inScroller = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === "auto" || o === "scroll") return true;
    }
    return false;
  };
  const doc = document.documentElement;
  if (doc.scrollWidth > window.innerWidth || window.innerWidth > screen) {
    out.push(["scrolls sideways", "html",
              `scrollWidth ${doc.scrollWidth}, innerWidth ${window.innerWidth} > ${screen}`]);
  }
  const bodySize = parseFloat(getComputedStyle(document.body).fontSize);
  if (bodySize < minFont) out.push(["small font", "body", `${bodySize}px`]);

  // Elements past the right edge: the outermost of each nest is reported.
  const wide = new Set();
  for (const el of document.body.querySelectorAll("*")) {
    const r = drawn(el);
    if (!r || (r.right <= vw + 1 && r.width <= vw + 1)) continue;
    if (inScroller(el)) continue;
    let a = el.parentElement;
    while (a && !wide.has(a)) a = a.parentElement;
    wide.add(el);
    if (a) continue;
    out.push(["wider than the screen", describe(el),
              `${Math.round(r.left)}..${Math.round(r.right)} px`]);
  }
  // Lines of text past the right edge (a long number or URL that does not wrap).
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!node.textContent.trim() || !parent || wide.has(parent)) continue;
    if (["SCRIPT", "STYLE", "TEMPLATE", "NOSCRIPT"].includes(parent.tagName)) continue;
    if (!drawn(parent) || inScroller(parent)) continue;
    range.selectNodeContents(node);
    const right = Math.max(0, ...[...range.getClientRects()].map((r) => r.right));
    if (right > vw + 1) {
      out.push(["text past the edge", describe(parent), `to ${Math.round(right)} px`]);
    }
  }

  // Text fields: iOS zooms into a field whose font is smaller than 16 px.
  const fields = "input:not([type=hidden]):not([type=checkbox]):not([type=radio])" +
    ":not([type=submit]):not([type=button]):not([type=reset]):not([type=image]), select, textarea";
  for (const el of document.querySelectorAll(fields)) {
    if (!drawn(el)) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < minFont) out.push(["small font", describe(el), `${size}px`]);
  }

  // Tap targets; a check box or radio button counts with its label.
  const targets = "button, input:not([type=hidden]), select, textarea, .btn, .nav-link, " +
    ".page-link, .navbar-toggler, .dropdown-item, .list-group-item-action";
  for (const el of document.querySelectorAll(targets)) {
    let r = drawn(el);
    if (!r) continue;
    let height = r.height;
    if (el.matches("input[type=checkbox], input[type=radio]")) {
      const rects = [r, ...[...(el.labels || [])].map(drawn).filter(Boolean)];
      height = Math.max(...rects.map((x) => x.bottom)) - Math.min(...rects.map((x) => x.top));
    }
    if (height < minTap - 0.5) {
      out.push(["small tap target", describe(el), `${Math.round(height)} px high`]);
    }
  }
  return out;
}
"""

OPEN_MENU_JS = """
() => document.querySelectorAll(".navbar-collapse").forEach((el) => el.classList.add("show"))
"""


def pages_of(world, actor) -> tuple[list[tuple[str, str, int]], str | None]:
    """(label, url, status) of every HTML page the actor can open, and their session cookie.

    Asked of the test client first: downloads (PDF, CSV, images) and JSON are not pages, and
    a page that asks for a recent re-authentication opens once the password is confirmed (the
    browser shares the session)."""
    client = matrix._client(world, actor)
    if actor in world["users"]:
        language._reauthenticate(client)
    found, errors = [], set()
    for label, url in language.targets(world):
        response = client.get(url)
        if not language._is_page(response):
            continue
        status = response.status_code
        if status >= 400:
            if status in errors:  # one error page of each status: they share a template
                continue
            errors.add(status)
            label = f"{label} ({status})"
        found.append((label, url, status))
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    return found, cookie.value if cookie else None


def check_page(page) -> list[list[str]]:
    """The problems of the page as drawn, then with its menu opened."""
    args = [PHONE["viewport"]["width"], MIN_FONT_PX, MIN_TAP_PX]
    problems = page.evaluate(CHECKS_JS, args)
    if page.locator(".navbar-collapse").count():
        page.evaluate(OPEN_MENU_JS)
        problems += page.evaluate(CHECKS_JS, args)
    return problems


def _report(findings: dict[tuple, list[str]]) -> str:
    lines = []
    for (kind, what, detail), where in sorted(findings.items()):
        shown = sorted(set(where))
        more = f" and {len(shown) - 6} more" if len(shown) > 6 else ""
        lines.append(f"  {kind}: {what} ({detail}) on {', '.join(shown[:6])}{more}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def phone():
    """One Chromium for the module; each test opens phone-sized contexts in it."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: run `bash scripts/sysdeps.sh test`")
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as p:
        # Playwright runs an event loop in this thread; the live server's ORM calls are sync.
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.django_db(transaction=True)
def test_every_page_fits_a_phone(world, live_server, phone):
    started = time.monotonic()
    findings: dict[tuple, list[str]] = defaultdict(list)
    opened: dict[str, int] = defaultdict(int)
    api_docs = reverse("api-docs")
    for actor in ACTORS:
        pages, session = pages_of(world, actor)
        context = phone.new_context(**PHONE)
        if session:
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
            )
        page = context.new_page()
        try:
            for label, url, status in pages:
                where = f"{label} as {actor}"
                response = page.goto(f"{live_server.url}{url}", wait_until="load")
                # The browser sees what the test client saw: signed in, nothing redirected.
                assert response is not None and response.status == status, where
                assert response.url == f"{live_server.url}{url}", f"{where}: {response.url}"
                assert page.evaluate("document.documentElement.lang") == "zh-hans", where
                if url == api_docs:  # Swagger UI draws the operations once it has the schema
                    page.wait_for_selector(".opblock", timeout=20000)
                opened[actor] += 1
                for kind, what, detail in check_page(page):
                    findings[(kind, what, detail)].append(where)
        finally:
            context.close()
    summary = f"{sum(opened.values())} pages {dict(opened)} in {time.monotonic() - started:.0f} s"
    print(summary)
    assert opened[matrix.A] >= 30 and opened[matrix.H1] >= 20 and opened[matrix.ANON] >= 15, summary
    assert not findings, f"{summary}: {len(findings)} problems\n" + _report(findings)


# --- the checks find what they look for ---------------------------------------------------

PLANTED = """<!DOCTYPE html><html lang="zh-hans"><head>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{ margin: 0; font-size: 16px }} .navbar-collapse:not(.show) {{ display: none }}
button, input, select {{ font-size: 16px; height: 44px }}</style>
</head><body>{}</body></html>"""


def _planted(phone, body: str) -> list[tuple[str, str]]:
    context = phone.new_context(**PHONE)
    try:
        page = context.new_page()
        page.set_content(PLANTED.format(body))
        return sorted((kind, what) for kind, what, _detail in check_page(page))
    finally:
        context.close()


def test_the_checks_find_what_does_not_fit_a_phone(phone):
    found = _planted(
        phone,
        '<p id="url" style="white-space: nowrap">https://example.org/a/long/address/that/does/'
        "not/wrap/anywhere</p>"
        '<table id="t"><tr><td style="white-space: nowrap">BA232700000001 BA232700000001 '
        "BA232700000001</td></tr></table>"
        '<input id="small" style="font-size: 14px"><select id="s" style="height: 30px"></select>'
        '<button id="low" style="height: 30px">OK</button>'
        '<input type="checkbox" id="c" style="height: auto"><label for="c">x</label>'
        '<div class="navbar-collapse"><a class="nav-link" href="/x" style="display: block">'
        "y</a></div>",
    )
    assert found == [
        ("scrolls sideways", "html"),
        ("scrolls sideways", "html"),  # and again with the menu open
        ("small font", "input#small"),
        ("small font", "input#small"),
        ("small tap target", 'a.nav-link[href=/x] "y"'),  # only once the menu is open
        ("small tap target", 'button#low "OK"'),
        ("small tap target", 'button#low "OK"'),
        ("small tap target", 'input#c[type=checkbox] "on"'),
        ("small tap target", 'input#c[type=checkbox] "on"'),
        ("small tap target", "select#s"),
        ("small tap target", "select#s"),
        ("text past the edge", 'p#url "https://example.org/a/lo"'),
        ("text past the edge", 'p#url "https://example.org/a/lo"'),
        ("wider than the screen", 'table#t "BA232700000001 BA2327000"'),
        ("wider than the screen", 'table#t "BA232700000001 BA2327000"'),
    ]


def test_the_checks_pass_what_fits_a_phone(phone):
    found = _planted(
        phone,
        # A wide table in a box that scrolls sideways on purpose, as .table-responsive does.
        '<div style="overflow-x: auto"><table><tr><td style="white-space: nowrap">'
        "BA232700000001 BA232700000001 BA232700000001</td></tr></table></div>"
        # Text for screen readers only, and what is not drawn.
        '<span style="position: absolute; width: 1px; height: 1px; overflow: hidden; '
        'clip: rect(0, 0, 0, 0); white-space: nowrap">a long text for screen readers only</span>'
        '<div style="display: none; width: 900px"><button style="height: 10px">x</button></div>'
        '<input type="hidden" name="csrf">'
        # Long words wrap; a check box's label makes its tap target.
        '<p style="overflow-wrap: anywhere">https://example.org/a/long/address/that/wraps/'
        "BA232700000001BA232700000001BA232700000001</p>"
        '<input id="ok" style="font-size: 16px"><button>OK</button>'
        '<input type="checkbox" id="c" style="height: auto">'
        '<label for="c" style="display: inline-block; padding: 12px 0">x</label>',
    )
    assert found == []
