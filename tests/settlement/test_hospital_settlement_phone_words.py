"""The items table of a hospital's settlement on a 390 px phone, in English: no header or code
breaks inside a word ("Catalogu / e code"), and no amount inside its digits (Playwright +
Debian's Chromium)."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from hospitals.models import Hospital
from settlement import services
from tests.browser import browser_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each word of a cell that is drawn on more than one line: a word broken inside itself.
BROKEN_WORDS_JS = """
selector => {
  const broken = [];
  for (const cell of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /[A-Za-z0-9.,()]+/g;  // Chinese may break between any two characters
      let m;
      while ((m = re.exec(node.data))) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}
"""


def test_the_items_table_breaks_no_word_on_a_phone(live_server):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    today = datetime.date.today()
    settlement = services.settle(
        hospital_id=Hospital.objects.get(code="H23010300001").pk,
        api_key_id=None,
        payload={
            "id_number": "232721197811200177",
            "name": "张伟",
            "visit": {
                "care_type": "inpatient",
                "admitted_on": today - datetime.timedelta(days=3),
                "discharged_on": today,
            },
            "items": [
                {"code": "XB01AAA0001", "name": "住院床位费", "class": "A", "amount": "6910.85"},
                {"code": "XC02BBB0002", "name": "自费药品", "class": "C", "amount": "1358.45"},
            ],
        },
    ).settlement
    base = live_server.url
    with browser_page(390, locale="en-US") as page:
        page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
        sign_in(page, base, "hosp_h23010300001")
        page.goto(f"{base}/hospitals/settlements/{settlement.number}/")
        assert page.locator("#items-title").inner_text() == "Items"
        cells = "[aria-labelledby=items-title] th, [aria-labelledby=items-title] td"
        assert page.evaluate(BROKEN_WORDS_JS, cells) == []
