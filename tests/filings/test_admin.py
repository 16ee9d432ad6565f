"""The agency review queue in the admin: own region only, actions through the services."""

import pytest
from django.urls import reverse

from filings.models import Filing
from portal.management.commands.demo_totp import current_code
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


def staff_login(client, username):
    client.post(reverse("account_login"), {"login": username, "password": "Demo#2026"})
    client.post(reverse("mfa_authenticate"), {"code": current_code(username)})


def test_agency_staff_see_only_their_regions_filings_and_404_for_others(client, demo):
    staff_login(client, "agency_shenyang")
    listing = client.get(reverse("admin:filings_filing_changelist")).content.decode()
    assert "BA210100000001" in listing and "BA210100000002" in listing
    assert "BA232700000001" not in listing
    own = Filing.objects.get(number="BA210100000002")
    other = Filing.objects.get(number="BA232700000001")
    assert client.get(reverse("admin:filings_filing_change", args=[own.pk])).status_code == 200
    assert client.get(reverse("admin:filings_filing_change", args=[other.pk])).status_code == 404


def test_search_by_id_number_uses_the_keyed_hash(client, demo):
    staff_login(client, "agency_shenyang")
    page = client.get(reverse("admin:filings_filing_changelist"), {"q": "21010219580101055X"})
    html = page.content.decode()
    assert "BA210100000002" in html and "BA210100000001" not in html


def test_approve_action_goes_through_the_service(client, demo):
    staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    client.post(
        reverse("admin:filings_filing_changelist"),
        {"action": "approve", "_selected_action": [filing.pk]},
    )
    filing.refresh_from_db()
    assert filing.status == "approved" and filing.valid_from is not None
    assert AuditEvent.objects.filter(object_id=str(filing.pk), action="filing.approve").exists()


def test_reject_asks_for_a_reason_first(client, demo):
    staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    url = reverse("admin:filings_filing_changelist")
    page = client.post(url, {"action": "reject", "_selected_action": [filing.pk]})
    assert page.status_code == 200 and "reason" in page.content.decode()
    assert Filing.objects.get(pk=filing.pk).status == "submitted"
    client.post(
        url,
        {
            "action": "reject",
            "_selected_action": [filing.pk],
            "apply": "1",
            "reason": "房产证与本人不符",
        },
    )
    filing.refresh_from_db()
    assert filing.status == "rejected" and filing.decision_note == "房产证与本人不符"


def test_agency_staff_of_another_region_cannot_act_on_a_filing(client, demo):
    staff_login(client, "agency_dxal")
    filing = Filing.objects.get(number="BA210100000002")
    client.post(
        reverse("admin:filings_filing_changelist"),
        {"action": "approve", "_selected_action": [filing.pk]},
    )
    assert Filing.objects.get(pk=filing.pk).status == "submitted"
