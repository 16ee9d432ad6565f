"""A new filing's form is not handed the whole country's hospitals: none before the place is
chosen, then only that place's (`?place=`; static/js/portal.js fetches them with
`&part=hospitals` when the place is chosen)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from filings.models import Filing
from hospitals.models import Hospital
from portal.models import Region
from tests.browser import browser_page, sign_in

pytestmark = pytest.mark.django_db
WANG = "BA232700000001"


def _listed(html: str) -> set[str]:
    """The pooling regions of the hospitals a form lists (check boxes and options)."""
    ids = {int(pk) for pk in re.findall(r'value="(\d+)" data-region', html)}
    ids |= {int(pk) for pk in re.findall(r'name="hospitals" value="(\d+)"', html)}
    return set(Hospital.objects.filter(pk__in=ids).values_list("region__code", flat=True))


@pytest.mark.parametrize("filing_type", ["long_term", "emergency", "referral"])
def test_a_fresh_form_lists_no_hospitals_until_the_place_is_chosen(client, demo, filing_type):
    Filing.objects.filter(number=WANG).update(status="cancelled")
    client.force_login(demo["wangxiulan"])
    html = client.get(reverse("filings:new", args=[filing_type])).content.decode()
    assert _listed(html) == set()
    assert "请先选择就医地" in html


def test_the_form_for_a_place_lists_only_its_hospitals(client, demo):
    Filing.objects.filter(number=WANG).update(status="cancelled")
    client.force_login(demo["wangxiulan"])
    sanya = Region.objects.get(code="460200")
    url = reverse("filings:new", args=["long_term"])
    html = client.get(url, {"place": sanya.pk}).content.decode()
    assert _listed(html) == {"460200"}
    assert f'<option value="{sanya.pk}" selected>' in html
    assert "请先选择就医地" not in html
    assert client.get(url, {"place": "x'1"}).status_code == 200  # not a place: none listed


def test_the_hospitals_part_starts_no_list_of_kept_files(client, demo):
    """Fetched on each choice of the place: it must not push the form's own kept files out of
    the session (PendingUploads keeps the lists of a form's last few renderings only)."""
    client.force_login(demo["sunguoqiang"])
    url = reverse("filings:new", args=["emergency"])
    client.get(url)
    before = set(client.session.keys())
    harbin = Region.objects.get(code="230100")
    for _ in range(6):
        html = client.get(url, {"place": harbin.pk, "part": "hospitals"}).content.decode()
    assert set(client.session.keys()) == before
    assert _listed(html) == {"230100"}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_choosing_the_place_lists_its_hospitals(live_server):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    Filing.objects.filter(number=WANG).update(status="cancelled")
    sanya = Region.objects.get(code="460200")
    with browser_page(375, 740) as page:
        sign_in(page, live_server.url, "wangxiulan")
        page.goto(f"{live_server.url}/filings/new/long_term/")
        assert page.locator("input[name=hospitals]").count() == 0
        page.select_option("select[name=place_region]", value=str(sanya.pk))
        page.wait_for_selector("input[name=hospitals]")
        regions = page.evaluate(
            "[...document.querySelectorAll('input[name=hospitals]')].map(e => e.dataset.region)"
        )
        assert set(regions) == {str(sanya.pk)}
        # A chosen hospital is sent with the form: the draft keeps it.
        page.locator("input[name=hospitals]").first.check()
        page.select_option("select[name=subtype]", value="resettled_retiree")
        page.click("button[name=draft]")
        page.wait_for_url("**/filings/BA*/")
    draft = Filing.objects.filter(person__name="王秀兰", status="draft").get()
    assert [h.region_id for h in draft.hospitals.all()] == [sanya.pk]
