"""The admin filing page names its documents in words and, read-only as it is (a filing
changes only through its decisions), offers no Save buttons that would save nothing."""

import pytest
from django.urls import reverse

from filings.documents import kinds_for
from filings.models import Filing
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
NUMBER = "BA210100000001"  # 李建国: approved long-term filing, with its form and certificate


def test_the_filing_page_names_its_documents_and_offers_no_save(client, demo):
    filing = Filing.objects.get(number=NUMBER)
    assert set(kinds_for(filing)) >= {"filing_form", "certificate"}
    staff_login(client, "agency_shenyang")
    page = client.get(reverse("admin:filings_filing_change", args=[filing.pk])).content.decode()
    for kind, label in (("filing_form", "备案表（一式两联）"), ("certificate", "备案凭证")):
        url = reverse("document-download", args=[filing.number, kind])
        assert f'<a href="{url}">{label} (PDF)</a>' in page
    assert ">filing_form.pdf<" not in page and ">certificate.pdf<" not in page
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert 'name="_addanother"' not in page
