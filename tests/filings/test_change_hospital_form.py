"""The admin's "change the receiving hospital" form lists the hospitals of the referral's place
of treatment, not every hospital of the country; one elsewhere is given by its code."""

from __future__ import annotations

import pytest
from django.urls import reverse

from filings.models import Filing
from hospitals.models import Hospital
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


def _act(client, referral, **data):
    return client.post(
        reverse("admin:filings_filing_changelist"),
        {"action": "change_receiving_hospital", "_selected_action": [referral.pk], **data},
    )


def test_the_form_lists_only_the_hospitals_of_the_place_of_treatment(client, demo):
    staff_login(client, "agency_dxal")
    referral = Filing.objects.get(number="ZZ232700000001")  # to Harbin
    html = _act(client, referral).content.decode()
    harbin = Hospital.objects.filter(region=referral.place_region).exclude(
        suspended_on__isnull=False
    )
    elsewhere = Hospital.objects.exclude(region=referral.place_region)
    assert all(f'<option value="{h.pk}"' in html for h in harbin)
    assert not any(f'<option value="{h.pk}"' in html for h in elsewhere)
    assert 'name="hospital_code"' in html


def test_a_hospital_elsewhere_is_chosen_by_its_code(client, demo):
    staff_login(client, "agency_dxal")
    referral = Filing.objects.get(number="ZZ232700000001")
    page = _act(client, referral, apply="1", hospital_code="H00000000000", reason="转院")
    assert page.status_code == 200 and "没有" in page.content.decode()
    _act(client, referral, apply="1", hospital_code="h46020000002", reason="转院")
    referral.refresh_from_db()
    assert referral.receiving_hospital.code == "H46020000002"
    assert referral.place_region.code == "460200"


def test_filing_list_headers_sort_only_on_indexed_columns(client, demo):
    from filings.admin import FilingAdmin

    assert FilingAdmin.sortable_by == ["number"]
    staff_login(client, "agency_dxal")
    html = client.get(reverse("admin:filings_filing_changelist")).content.decode()
    assert 'class="sortable column-number' in html
    for column in ("submitted", "validity", "commitment_deadline", "status", "kind"):
        assert f'class="sortable column-{column}' not in html
    # The default order stays: newest first.
    response = client.get(reverse("admin:filings_filing_changelist"))
    assert response.context["cl"].get_ordering(
        response.wsgi_request, response.context["cl"].queryset
    )[:1] == ["-created_at"]
