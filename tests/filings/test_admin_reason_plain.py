"""A reviewer's reason is kept as typed text is kept (portal.lib.text.plain): one made only of
spaces and invisible characters (a zero-width space pasted from a chat) is no reason, and is
refused as an empty one, in the page's language."""

import pytest
from django.urls import reverse

from filings.admin import ChangeHospitalForm, ExtendForm, ReasonForm
from filings.models import Filing
from portal.models import AuditEvent
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
INVISIBLE = "   \u200b\u200d\ufeff "


@pytest.mark.parametrize("form_class", [ReasonForm, ExtendForm, ChangeHospitalForm])
def test_a_reason_of_invisible_characters_is_refused_as_empty(form_class):
    form = form_class({"reason": INVISIBLE})
    assert not form.is_valid()
    assert form.has_error("reason", "required")


def test_a_reason_is_kept_without_its_invisible_characters():
    form = ReasonForm({"reason": "\u200b 房产证与本人不符\u200b "})
    assert form.is_valid()
    assert form.cleaned_data["reason"] == "房产证与本人不符"


def test_rejecting_with_a_reason_of_invisible_characters_changes_nothing(client, demo):
    filing = Filing.objects.get(number="BA210100000002")  # submitted, Shenyang's
    staff_login(client, "agency_shenyang")
    page = client.post(
        reverse("admin:filings_filing_changelist"),
        {"action": "reject", "_selected_action": [filing.pk], "apply": "1", "reason": INVISIBLE},
    )
    assert page.status_code == 200
    assert "该字段是必填项。" in page.content.decode()
    filing.refresh_from_db()
    assert (filing.status, filing.decision_note) == ("submitted", "")
    assert not AuditEvent.objects.filter(object_id=str(filing.pk), action="filing.reject").exists()
