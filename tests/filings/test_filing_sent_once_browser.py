"""The filing form's buttons are disabled once it is sent (static/js/portal.js), and the button
tapped is still sent with its name ("Save as draft" saves a draft)."""

from io import StringIO

import pytest
from django.core.management import call_command

from filings.models import Filing
from tests.browser import browser_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD = """() => document.addEventListener("submit", (event) => {
  window.setTimeout(() => {
    const buttons = Array.from(event.target.elements).filter((b) => b.type === "submit");
    sessionStorage.setItem("disabled", buttons.map((b) => b.disabled).join(","));
  }, 20);
})"""


def test_a_sent_filing_form_disables_its_buttons_and_keeps_the_tapped_ones_name(live_server):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    base = live_server.url
    before = Filing.objects.filter(person__name="孙国强").count()
    with browser_page(390) as page:
        sign_in(page, base, "sunguoqiang")
        page.goto(f"{base}/filings/new/emergency/")
        page.select_option("select[name=place_region]", label="哈尔滨市")
        page.evaluate(RECORD)
        sent = []
        page.on(
            "request",
            lambda r: sent.append(r.post_data or "") if r.method == "POST" else None,
        )
        page.click("button[name=draft]")
        page.wait_for_url("**/filings/JZ*/")
        assert page.evaluate("sessionStorage.getItem('disabled')") == "true,true"
        assert len(sent) == 1 and 'name="draft"' in sent[0]
        assert page.locator("#status").inner_text().startswith("草稿")
        # Back to the form kept in memory: its buttons work again.
        page.go_back()
        page.wait_for_load_state()
        assert page.locator("button[name=draft]").is_enabled()
    assert Filing.objects.filter(person__name="孙国强").count() == before + 1
