"""The three journeys of the README's first hour, photographed (Playwright + Debian's Chromium).

`make screenshots` sets SCREENSHOTS_DIR=docs/screenshots and the PNGs land there (committed, linked
from the README); otherwise they go to tmp_path, so `make test` walks the journeys and checks the
pictures without touching the working tree.
"""

from __future__ import annotations

import datetime
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from filings.models import Filing
from hospitals.models import Hospital
from settlement.models import Claim
from tests.browser import browser_page, choose_hospital, sign_in
from tests.filings.corpus import _jpeg, _pdf, _png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = 375
DESK = (1280, 800)
MIN_BYTES = 5 * 1024


@pytest.fixture
def shots(tmp_path):
    target = os.environ.get("SCREENSHOTS_DIR")
    directory = Path(target) if target else tmp_path / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def shoot(page, name: str, *, full_page: bool = False) -> Path:
        path = directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        written.append(path)
        return path

    yield shoot
    for path in written:
        assert path.exists(), f"{path} was not written"
        assert path.stat().st_size > MIN_BYTES, f"{path} is only {path.stat().st_size} bytes"


def test_the_three_journeys_of_the_readme(live_server, tmp_path, shots):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    base = live_server.url

    # Insured person: my filings, then one filing with its timeline.
    with browser_page(PHONE) as page:
        sign_in(page, base, "wangxiulan")
        page.goto(f"{base}/filings/")
        assert page.locator("main").inner_text().strip()
        shots(page, "insured-filings", full_page=True)
        filing = Filing.objects.filter(person__name="王秀兰", status="approved").first()
        assert filing is not None
        page.goto(f"{base}/filings/{filing.number}/")
        assert page.locator("#timeline").count() == 1
        shots(page, "insured-filing-detail", full_page=True)

    # Insured person: a claim for a bill paid in full, with the estimate.
    today = datetime.date.today()
    files = {}
    for name, data in [
        ("summary.pdf", _pdf()),
        ("invoice.jpg", _jpeg()),
        ("list.png", _png()),
        ("record.pdf", _pdf()),
    ]:
        files[name] = tmp_path / name
        files[name].write_bytes(data)
    with browser_page(PHONE) as page:
        sign_in(page, base, "chenming")
        page.goto(f"{base}/settlement/claims/new/")
        hospital = Hospital.objects.get(code="H21010000001")
        choose_hospital(page, hospital)
        page.select_option("select[name=care_type]", value="inpatient")
        page.fill("input[name=admitted_on]", (today - datetime.timedelta(days=9)).isoformat())
        page.fill("input[name=discharged_on]", (today - datetime.timedelta(days=2)).isoformat())
        page.fill("input[name=items-0-code]", "X1")
        page.fill("input[name=items-0-name]", "住院费")
        page.fill("input[name=items-0-amount]", "10000.00")
        page.click("button[name=estimate]")
        page.wait_for_load_state()
        assert page.locator("#estimate-fund").inner_text() == "7,650.00"
        page.locator("#estimate-fund").scroll_into_view_if_needed()
        shots(page, "insured-claim-estimate", full_page=True)
        # Submitted, so the reviewer has a claim to open.
        page.set_input_files("input[name=doc_discharge_summary]", str(files["summary.pdf"]))
        page.set_input_files("input[name=doc_invoice]", str(files["invoice.jpg"]))
        page.set_input_files("input[name=doc_itemised_list]", str(files["list.png"]))
        page.set_input_files("input[name=doc_medical_record]", str(files["record.pdf"]))
        page.click("button[name=submit]")
        page.wait_for_url("**/settlement/claims/BX*/")
    claim = Claim.objects.get(person__name="陈明")

    # Agency reviewer: TOTP, the filings queue, a claim in the admin.
    with browser_page(*DESK) as admin:
        sign_in(admin, base, "agency_shenyang")
        # The queue of submitted filings, oldest first; on a laptop's screen the left sidebar
        # starts folded (static/js/admin-sidebar.js), so every column shows.
        admin.goto(f"{base}/admin/filings/filing/?status__exact=submitted")
        admin.evaluate("() => window.scrollTo(0, 0)")
        assert admin.locator("#result_list").count() == 1
        assert admin.locator("#result_list td.field-waiting").count() >= 1
        shots(admin, "agency-filings-queue")
        admin.goto(f"{base}/admin/settlement/claim/{claim.pk}/change/")
        assert claim.number in admin.content()
        shots(admin, "agency-claim-change")

    # Hospital clerk: the admission desk, green for 王秀兰 in Sanya, red for 陈明.
    with browser_page(*DESK) as desk:
        sign_in(desk, base, "hosp_h46020000002")
        for name, id_number, verdict, shot in [
            ("王秀兰", "232701195603120223", "eligible", "hospital-check-eligible"),
            ("陈明", "210103198512010131", "not-eligible", "hospital-check-not-eligible"),
        ]:
            desk.goto(f"{base}/hospitals/check/")
            desk.fill("input[name=id_number]", id_number)
            desk.fill("input[name=name]", name)
            desk.select_option("select[name=care_type]", value="inpatient")
            desk.click("main form button[type=submit]")
            desk.wait_for_load_state()
            answer = desk.locator("#result .verdict")
            assert answer.get_attribute("data-verdict") == verdict
            colour = "bg-success" if verdict == "eligible" else "bg-danger"
            assert colour in answer.get_attribute("class")
            shots(desk, shot)
