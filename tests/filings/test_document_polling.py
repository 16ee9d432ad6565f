"""A PDF being prepared: the page says so in a status region and asks again by itself without
reloading (a reload sends a screen reader back to the top, axe's meta-refresh); the download
starts when the PDF is ready."""

import pytest
from django.urls import reverse

from filings import documents
from filings.models import Filing
from tests.browser import browser_page, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
WANG = "BA232700000001"


def test_the_pending_pdf_downloads_by_itself_when_ready_without_a_reload(
    live_server, demo, monkeypatch, settings, tmp_path
):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)
    monkeypatch.setattr("filings.document_views.WAIT_SECONDS", 0)
    monkeypatch.setattr("filings.document_views.REFRESH_EVERY", 1)
    monkeypatch.setattr("filings.document_views.render_document.delay", lambda *a: None)
    url = live_server.url + reverse("document-download", args=[WANG, "certificate"])
    with browser_page(390, 844) as page:
        sign_in(page, live_server.url, "wangxiulan")
        page.goto(url)
        status = page.locator("#document-waiting[role=status]")
        assert "正在生成" in status.inner_text()
        page.evaluate("window.notReloaded = true")
        page.wait_for_timeout(2500)  # two asks, still 202
        assert page.evaluate("window.notReloaded") is True
        # The worker finishes: the next ask starts the download.
        filing = Filing.objects.select_related("person", "insured_region").get(number=WANG)
        documents.cached_or_render(filing, "certificate", "zh-hans")
        with page.expect_download(timeout=10_000) as download:
            pass
        assert download.value.suggested_filename == f"certificate-{WANG}.pdf"
        assert "已生成" in status.inner_text()
