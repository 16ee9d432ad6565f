"""A retiree files by commitment on a phone, a reviewer approves in the admin, the person sees
the approval on the timeline (Playwright + Debian's Chromium)."""

from io import StringIO

import pytest
from django.core.management import call_command

from filings.models import Filing
from portal.models import InsuredPerson
from tests.browser import browser_page, no_horizontal_scroll, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_retiree_files_by_commitment_reviewer_approves_person_sees_it(live_server):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    # The retiree of this walk: 陈明 has no filing; here he has just retired.
    InsuredPerson.objects.filter(name="陈明").update(retired=True)
    base = live_server.url
    with browser_page(375) as page:
        sign_in(page, base, "chenming")
        page.goto(f"{base}/filings/new/long_term/")
        assert no_horizontal_scroll(page)
        page.select_option("select[name=place_region]", label="哈尔滨市")
        page.select_option("select[name=subtype]", value="resettled_retiree")
        page.check("input[name=basis][value=commitment]")
        page.check("#id_promise")
        page.click("button[name=submit]")
        page.wait_for_url("**/filings/B*/")
        assert page.locator("#status").inner_text().startswith("已提交")
        assert no_horizontal_scroll(page)
        detail_url = page.url
    filing = Filing.objects.get(person__name="陈明")
    with browser_page(1280, 900) as admin:
        sign_in(admin, base, "agency_shenyang")
        admin.goto(f"{base}/admin/filings/filing/?status__exact=submitted")
        admin.check(f"input[name=_selected_action][value='{filing.pk}']")
        admin.select_option("select[name=action]", value="approve")
        admin.click("button[name=index]")
        admin.wait_for_load_state()
    filing.refresh_from_db()
    assert filing.status == "approved"
    with browser_page(375) as page:
        sign_in(page, base, "chenming")
        page.goto(detail_url)
        assert page.locator("#status").inner_text().startswith("已批准")
        assert page.locator("#timeline li[data-state=approved]").count() == 1
        assert page.locator("#countdown").count() == 1  # commitment deadline is shown
        assert no_horizontal_scroll(page)
