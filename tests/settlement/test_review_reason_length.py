"""A reviewer's reason goes into the person's notification and email: at most 1000
characters, as a filing's, refused on the form with a message."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal.models import Notification
from settlement.forms import AdjustForm, ReasonForm
from tests.settlement.test_claims import _admin_login, _approve_adjusted, _submit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("form_class", [ReasonForm, AdjustForm])
def test_a_reason_of_1000_characters_is_taken_and_one_more_is_refused(form_class):
    data = {"fund_pay": "100.00"}
    assert form_class({**data, "reason": "核" * 1000}).is_valid()
    form = form_class({**data, "reason": "核" * 1001})
    assert not form.is_valid()
    assert "1000" in str(form.errors["reason"])
    assert 'maxlength="1000"' in str(form["reason"])


def test_a_20000_character_reason_rejects_nothing_and_tells_no_one(client, demo):
    claim = _submit()
    before = Notification.objects.count()
    _admin_login(client, "agency_shenyang")
    page = client.post(
        reverse("admin:settlement_claim_changelist"),
        {
            "action": "reject",
            "_selected_action": [claim.pk],
            "apply": "1",
            "reason": "x" * 20000,
        },
    )
    assert page.status_code == 200 and "1000" in page.content.decode()
    claim.refresh_from_db()
    assert claim.status == "submitted"
    assert Notification.objects.count() == before
    adjusted = _approve_adjusted(client, claim, "7000.00", "y" * 20000)
    assert adjusted.status_code == 200
    claim.refresh_from_db()
    assert claim.status == "submitted"
