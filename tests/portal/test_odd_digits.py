"""Characters that Python calls digits but int() does not read (superscripts ² ³) are refused
like any other bad value, never a server error."""

import time

import pytest
from django.test import RequestFactory
from django.urls import reverse

from filings import document_views
from filings.models import Filing
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
ODD = ["²", "³"]


@pytest.mark.parametrize("odd", ODD)
def test_a_place_code_of_odd_digits_is_refused_on_the_new_filing_form(client, demo, odd):
    client.force_login(demo["chenming"])
    for kind in ("emergency", "long_term", "referral"):
        response = client.post(f"/filings/new/{kind}/", {"place_region": odd, "draft": "1"})
        assert response.status_code == 200  # the form again, with its messages
        assert response.context["form"].errors


@pytest.mark.parametrize("odd", ODD)
def test_a_pending_documents_page_asked_since_odd_digits_starts_counting_now(demo, odd):
    filing = Filing.objects.select_related("person__user").get(number="BA210100000001")
    request = RequestFactory().get(f"/documents/{filing.number}/filing_form.pdf", {"since": odd})
    request.user = filing.person.user
    response = document_views._pending(request, filing)
    assert response.status_code == 202  # "being prepared", counting from now
    assert b"since=" + str(int(time.time()))[:6].encode() in response.content


@pytest.mark.parametrize("odd", ODD)
def test_the_admins_policy_year_filter_ignores_odd_digits(client, demo, odd):
    staff_login(client, "agency_dxal")
    for model in ("claim", "settlement"):
        url = reverse(f"admin:settlement_{model}_changelist")
        assert client.get(url, {"policy_year": odd}).status_code in (200, 302)
