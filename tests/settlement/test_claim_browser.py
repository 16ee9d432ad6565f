"""A person files a claim with documents on a phone, a reviewer adjusts and approves it in the
admin, and the person sees the amounts (Playwright + Debian's Chromium)."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from hospitals.models import Hospital
from settlement.models import Claim
from tests.browser import browser_page, choose_hospital, no_horizontal_scroll, sign_in
from tests.filings.corpus import _jpeg, _pdf, _png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_person_claims_with_documents_reviewer_adjusts_and_approves_person_sees_amounts(
    live_server, tmp_path
):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    base = live_server.url
    files = {}
    for name, data in [
        ("summary.pdf", _pdf()),
        ("invoice.jpg", _jpeg()),
        ("list.png", _png()),
        ("record.pdf", _pdf()),
    ]:
        files[name] = tmp_path / name
        files[name].write_bytes(data)
    today = datetime.date.today()
    with browser_page(375) as page:
        sign_in(page, base, "chenming")
        page.goto(f"{base}/settlement/claims/")
        page.click("a[href='/settlement/claims/new/']")
        page.wait_for_url("**/claims/new/")
        hospital = Hospital.objects.get(code="H21010000001")
        choose_hospital(page, hospital)
        page.select_option("select[name=care_type]", value="inpatient")
        page.fill("input[name=admitted_on]", (today - datetime.timedelta(days=9)).isoformat())
        page.fill("input[name=discharged_on]", (today - datetime.timedelta(days=2)).isoformat())
        page.fill("input[name=items-0-code]", "X1")
        page.fill("input[name=items-0-name]", "住院费")
        page.fill("input[name=items-0-amount]", "10000.00")
        # On a phone each item is a card of labelled fields, none squeezed into a narrow column.
        assert page.locator("label[for=id_items-0-amount]").is_visible()
        assert page.locator("input[name=items-0-amount]").bounding_box()["width"] >= 120
        page.click("button[name=estimate]")
        page.wait_for_load_state()
        assert page.locator("#estimate-fund").inner_text() == "7,650.00"
        # Typed values survive the estimate; the files are chosen now.
        assert page.input_value("input[name=items-0-amount]") == "10000.00"
        page.set_input_files("input[name=doc_discharge_summary]", str(files["summary.pdf"]))
        page.set_input_files("input[name=doc_invoice]", str(files["invoice.jpg"]))
        page.set_input_files("input[name=doc_itemised_list]", str(files["list.png"]))
        page.set_input_files("input[name=doc_medical_record]", str(files["record.pdf"]))
        page.click("button[name=submit]")
        page.wait_for_url("**/settlement/claims/BX*/")
        assert page.locator("#status").inner_text() == "已提交"
        assert no_horizontal_scroll(page)
        detail_url = page.url
    claim = Claim.objects.get(person__name="陈明")
    assert claim.documents.count() == 4
    with browser_page(1280, 900) as admin:
        sign_in(admin, base, "agency_shenyang")
        admin.goto(f"{base}/admin/settlement/claim/?status__exact=submitted")
        admin.check(f"input[name=_selected_action][value='{claim.pk}']")
        admin.select_option("select[name=action]", value="approve_adjusted")
        admin.click("button[name=index]")
        admin.wait_for_load_state()
        admin.fill("input[name=fund_pay]", "7100.00")
        admin.fill("textarea[name=reason]", "部分项目不予支付")
        admin.click("input[name=apply]")
        admin.wait_for_load_state()
    claim.refresh_from_db()
    assert claim.status == "approved"
    with browser_page(375) as page:
        sign_in(page, base, "chenming")
        page.goto(detail_url)
        assert page.locator("#status").inner_text() == "已批准"
        assert page.locator("#approved-fund").inner_text() == "7,100.00"
        assert page.locator("#approved-person").inner_text() == "2,900.00"
        assert "部分项目不予支付" in page.locator("#timeline").inner_text()
        assert no_horizontal_scroll(page)
