"""The adjustment form's amounts as a person reads them: thousands grouped ("10,000.00")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.settlement.test_claims import _admin_login, _approve_adjusted, _submit

pytestmark = pytest.mark.django_db


def test_the_adjustment_forms_limit_is_grouped_in_its_help_and_its_error(client, demo):
    claim = _submit()
    _admin_login(client, "agency_shenyang")
    url = reverse("admin:settlement_claim_changelist")
    form_page = client.post(url, {"action": "approve_adjusted", "_selected_action": [claim.pk]})
    html = form_page.content.decode()
    assert "0.00 至 10,000.00：账单中政策范围内的金额" in html
    assert "10000.00" not in html.split("0.00 至", 1)[1][:40]
    refused = _approve_adjusted(client, claim, "99999", "发票金额有误").content.decode()
    assert "最多 10,000.00：统筹基金不支付自费项目" in refused
