"""A retiree on a phone: the home page offers signing in, not only signing up; the small
controls of the person's pages are fingers' width (44 px) on a touch screen; the folded menu
leads to a new password; the written commitment of the long-term form shows with the commitment
chosen."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.browser import browser_page, sign_in

MIN_TAP_PX = 44


@pytest.mark.django_db
def test_the_home_page_offers_sign_in_beside_sign_up(client):
    page = client.get(reverse("home")).content.decode()
    start = page.split('id="person-start"', 1)[1].split("</p>", 1)[0]
    assert f'href="{reverse("account_login")}"' in start and "登录" in start
    assert f'href="{reverse("account_signup")}"' in start and "注册" in start


HEIGHT_JS = "(selector) => document.querySelector(selector).getBoundingClientRect().height"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_small_controls_of_the_persons_pages_are_44_px_high_on_a_phone(live_server):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    base = live_server.url
    with browser_page(390) as page:
        page.goto(f"{base}/accounts/login/")
        forgot = page.evaluate(HEIGHT_JS, "#id_password_helptext a")
        sign_in(page, base, "liufang")
        page.goto(f"{base}/filings/LS210200000001/")
        cancel = page.evaluate(HEIGHT_JS, "details#cancel > summary")
        # The folded menu has the way to a new password.
        page.click(".navbar-toggler")
        page.wait_for_selector("#mainnav.show")
        change = page.locator(f'#mainnav a[href="{reverse("account_change_password")}"]')
        menu_has_it = change.is_visible()
    assert forgot >= MIN_TAP_PX and cancel >= MIN_TAP_PX
    assert menu_has_it


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_written_commitment_shows_with_the_commitment_chosen(live_server):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    base = live_server.url
    with browser_page(390) as page:
        sign_in(page, base, "chenming")
        page.goto(f"{base}/filings/new/long_term/")
        before = page.is_visible("#div_id_promise")
        page.check("input[name=basis][value=commitment]")
        chosen = page.is_visible("#div_id_promise")
        page.check("input[name=basis][value=materials]")
        materials = page.is_visible("#div_id_promise")
    assert (before, chosen, materials) == (False, True, False)
