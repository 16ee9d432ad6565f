"""A returned filing shows the agency's reason; once the person has submitted it again, that
reason is labelled as the earlier return's, not shown as if something were still missing."""

import pytest
from django.urls import reverse

from filings import services
from tests.filings.test_draft_returned_message import _filed

pytestmark = pytest.mark.django_db
REASON = "请补充身份证复印件和社保卡复印件。"


def _page(client, filing) -> str:
    return client.get(reverse("filings:detail", args=[filing.number])).content.decode()


def test_the_return_reason_is_shown_plainly_while_the_filing_is_returned(client, demo):
    filing, _form = _filed(client, demo)
    services.filing_return(filing=filing, actor=demo["agency_shenyang"], reason=REASON)
    page = _page(client, filing)
    assert f'<div class="alert alert-info" id="decision-note">{REASON}</div>' in page
    assert "上次退回的原因" not in page


def test_after_resubmission_the_old_reason_is_labelled_as_the_earlier_returns(client, demo):
    filing, form = _filed(client, demo)
    services.filing_return(filing=filing, actor=demo["agency_shenyang"], reason=REASON)
    assert client.post(reverse("filings:edit", args=[filing.number]), form).status_code == 302
    filing.refresh_from_db()
    assert filing.status == "submitted"
    page = _page(client, filing)
    (shown,) = [part for part in page.split("<div") if REASON in part and "alert" in part]
    assert 'id="earlier-return"' in shown
    assert "上次退回的原因（您已重新提交）：" in shown
    assert 'id="decision-note"' not in page
