"""Taking a file off a draft on a phone: a tap asks first, and what was typed and ticked on the
edit page is still there after the page reloads (Playwright + Debian's Chromium)."""

import io
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from filings import services, uploads
from filings.models import Filing, Material
from filings.pending import StoredFile
from portal.models import InsuredPerson, Region
from tests.browser import browser_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _draft_with_a_file() -> tuple[Filing, Material]:
    chen = InsuredPerson.objects.select_related("region", "user").get(name="陈明")
    harbin = Region.objects.select_related("province").get(code="230100")
    draft = services.filing_create(
        person=chen,
        actor=chen.user,
        filing_type="long_term",
        place_province=harbin.province,
        place_region=harbin,
        start_date=timezone.localdate(),
    )
    raw = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(raw, "PNG")
    raw.name, raw.size = "错的文件.png", len(raw.getvalue())
    checked = uploads.check_upload(raw)
    material = Material.objects.create(
        filing=draft, **StoredFile.write(checked, "residence_certificate").fields()
    )
    return draft, material


def test_taking_a_file_off_asks_first_and_keeps_what_was_typed(live_server):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    draft, material = _draft_with_a_file()
    base = live_server.url
    with browser_page(390) as page:
        sign_in(page, base, "chenming")
        page.goto(f"{base}/filings/{draft.number}/edit/")
        page.fill("input[name=agent_name]", "陈小明")
        page.check("input[name=basis][value=materials]")
        remove = page.locator(f"button[form=remove-{material.pk}]")
        asked = []

        def no(dialog):
            asked.append(dialog.message)
            dialog.dismiss()

        page.once("dialog", no)
        remove.click()
        page.wait_for_timeout(300)
        assert asked and "错的文件.png" in asked[0]
        assert Material.objects.filter(pk=material.pk).exists()
        assert page.input_value("input[name=agent_name]") == "陈小明"  # not reloaded

        page.once("dialog", lambda dialog: dialog.accept())
        with page.expect_navigation():
            remove.click()
        page.wait_for_load_state()
        assert not Material.objects.filter(pk=material.pk).exists()
        assert page.url.endswith(f"/filings/{draft.number}/edit/")
        # Kept: typed and ticked before the page reloaded.
        assert page.input_value("input[name=agent_name]") == "陈小明"
        assert page.is_checked("input[name=basis][value=materials]")
