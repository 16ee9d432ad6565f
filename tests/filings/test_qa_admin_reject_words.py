"""Rejecting a filing is worded with one term in Chinese, the status's: the action, its page,
the message after it and the status all say 不予通过 / 未通过, never 驳回."""

import pytest
from django.urls import reverse

from filings.models import Filing
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
NUMBER = "BA210100000002"  # submitted, agency_shenyang's region


def test_the_reject_action_its_page_and_its_message_use_the_statuss_word(client, demo):
    filing = Filing.objects.get(number=NUMBER)
    staff_login(client, "agency_shenyang")
    url = reverse("admin:filings_filing_changelist")
    asked = client.post(url, {"action": "reject", "_selected_action": filing.pk}).content.decode()
    assert "不予通过备案" in asked and "驳回" not in asked
    done = client.post(
        url,
        {"action": "reject", "_selected_action": filing.pk, "apply": "1", "reason": "材料不符"},
        follow=True,
    ).content.decode()
    filing.refresh_from_db()
    assert filing.status == "rejected"
    assert "已不予通过" in done and "驳回" not in done
    assert str(filing.get_status_display()) == "未通过"
