"""Nothing typed is lost to a quiet session: a page being filled in tells the server while its
user types, warns before the session ends with a button that keeps it, and says so once it has
ended (static/js/portal.js, portal.views.keep_alive)."""

import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from portal.middleware import LAST_SEEN_AT
from tests.browser import browser_page, sign_in


@pytest.mark.django_db
def test_keep_alive_counts_as_activity_for_a_signed_in_user_only(client, demo):
    url = reverse("keep-alive")
    assert client.post(url).status_code == 401  # no session to keep
    client.force_login(demo["liufang"])
    client.get(reverse("filings:list"))
    session = client.session
    session[LAST_SEEN_AT] = time.time() - 600
    session.save()
    response = client.post(url)
    assert response.status_code == 204
    assert time.time() - client.session[LAST_SEEN_AT] < 60
    assert client.get(url).status_code == 405  # a GET changes nothing


@pytest.mark.django_db
def test_pages_say_how_long_a_quiet_session_lasts_for_whom(client, demo, settings):
    page = client.get(reverse("home")).content.decode()
    assert "data-idle-seconds" not in page  # signed out: nothing to keep
    client.force_login(demo["liufang"])
    page = client.get(reverse("filings:list")).content.decode()
    assert f'data-idle-seconds="{settings.SESSION_IDLE_SECONDS_INSURED}"' in page
    assert f'data-keep-alive="{reverse("keep-alive")}"' in page
    assert 'id="idle-warning"' in page and "继续填写" in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_quiet_page_warns_and_its_button_keeps_the_session(live_server, settings):
    """With a 6-second spell: the warning comes before the end; its button keeps the session
    (a reload 3 s later, 8 s after the page loaded, is still signed in: without it, the session
    would have ended); left alone again, the page says the session ended."""
    call_command("seed_demo", "--no-history", stdout=StringIO())
    settings.SESSION_IDLE_SECONDS_INSURED = 6
    base = live_server.url
    with browser_page(390) as page:
        sign_in(page, base, "liufang")
        page.goto(f"{base}/filings/LS210200000001/")
        warning = page.wait_for_selector("#idle-warning-shown", timeout=8000)
        assert "继续填写" in warning.inner_text()
        with page.expect_response(lambda r: r.url.endswith(reverse("keep-alive"))) as answer:
            page.click("#idle-warning-shown [data-keep-alive-button]")
        assert answer.value.status == 204
        assert page.locator("#idle-warning-shown").count() == 0
        page.wait_for_timeout(3000)
        page.reload()
        assert page.url.endswith("/filings/LS210200000001/")  # still signed in
        ended = page.wait_for_selector("#idle-ended-shown", timeout=10000)
        assert "已自动退出" in ended.inner_text()
