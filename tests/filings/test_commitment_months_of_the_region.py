"""Rule 2.1: the commitment period is the place of insurance's (FilingParameters.
commitment_months, 6 months in every demo region). Every place that words the commitment says
the region's figure: the long-term form's help and promise, the filing page's promise, and the
printed filing form's promise (before approval)."""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from filings import documents
from filings.models import Filing, FilingParameters
from portal.models import Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_months(demo):
    """Shenyang (陈明's region) with a commitment period of 3 months from yesterday on."""
    shenyang = Region.objects.get(code="210100")
    row = FilingParameters.objects.filter(region=shenyang).order_by("-effective_from").first()
    row.pk = None
    row.effective_from = timezone.localdate() - datetime.timedelta(days=1)
    row.commitment_months = 3
    row.save()
    return shenyang


def test_rule_2_1_the_commitment_is_worded_with_the_regions_period(client, demo, three_months):
    client.force_login(demo["chenming"])
    page = client.get(reverse("filings:new", args=["long_term"]))
    form = page.context["form"]
    assert "3个月" in str(form.fields["promise"].label)
    assert "3个月内补交材料" in str(form.fields["basis"].help_text)
    assert "6个月" not in page.content.decode()
    harbin = Region.objects.get(code="230100")
    client.post(
        reverse("filings:new", args=["long_term"]),
        {
            "place_region": harbin.pk,
            "subtype": "long_term_resident",
            "care": ["inpatient"],
            "basis": "commitment",
            "draft": "1",
        },
    )
    filing = Filing.objects.get(person__name="陈明")
    detail = client.get(reverse("filings:detail", args=[filing.number])).content.decode()
    assert 'id="promise"' in detail and "3个月内补交证明材料" in detail
    assert "6个月" not in detail
    # The printed filing form of the unsent filing prints the promise as ticked.
    pdf = documents.render(filing, documents.FILING_FORM, "zh-hans")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "3个月内补交证明材料" in text.replace(" ", "").replace("\n", "")
    assert "6个月内" not in text.replace(" ", "").replace("\n", "")
