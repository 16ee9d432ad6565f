"""On a phone (390 px), links that stand alone are tap targets of at least 24 CSS px: a back
link, the materials and documents in a list, a message's "View" (Playwright + Debian's
Chromium)."""

from io import StringIO

import pytest
from django.core.management import call_command

from portal.models import InsuredPerson, Notification
from tests.browser import browser_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MIN_PX = 24
# Heights of every link that stands alone on the page: alone in its paragraph, first in a list
# item, a card's own link, a definition.
HEIGHTS_JS = """
() => [...document.querySelectorAll(
    "main p > a:only-child, main li > a:first-child, main .card-body > a, main dd > a")]
  .filter((a) => !a.matches(".btn, .nav-link, .page-link, .dropdown-item"))
  .map((a) => [a.textContent.trim().slice(0, 20), a.getBoundingClientRect().height])
"""


def test_standalone_links_are_at_least_24_px_high_on_a_phone(live_server):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    wang = InsuredPerson.objects.get(name="王秀兰")
    Notification.objects.create(
        user=wang.user,
        subject="备案已批准",
        body="您的备案已批准。",
        url="/filings/BA232700000001/",
    )
    base = live_server.url
    pages = ["/notifications/", "/filings/BA232700000001/", "/settlement/claims/new/"]
    small, seen = [], 0
    with browser_page(390) as page:
        sign_in(page, base, "wangxiulan")
        for path in pages:
            page.goto(f"{base}{path}")
            for text, height in page.evaluate(HEIGHTS_JS):
                seen += 1
                if height < MIN_PX - 0.01:
                    small.append((path, text, round(height, 1)))
    assert seen >= 4  # the back links, a material, a message's "View"
    assert small == []
