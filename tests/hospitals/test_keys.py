"""API keys: created by command or in the admin (shown once, stored hashed), revoked at once in
this process, last-used times, and agency staff scoped to their own region's hospitals."""

import pytest
from django.urls import reverse

from hospitals import auth
from hospitals.eligibility_selectors import clear_caches
from hospitals.models import Hospital
from hospitals.services import api_key_create, api_key_revoke
from portal.management.commands.demo_totp import current_code
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db
URL = "/api/v1/eligibility"
WANG = {"id_number": "232701195603120223", "name": "王秀兰", "care_type": "inpatient"}


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_caches()
    auth.keys.clear()
    yield
    clear_caches()
    auth.keys.clear()


def ask(client, plain: str):
    return client.post(
        URL, WANG, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}"
    )


def staff_login(client, username: str) -> None:
    client.post(reverse("account_login"), {"login": username, "password": "Demo#2026"})
    client.post(reverse("mfa_authenticate"), {"code": current_code(username)})


def test_revoked_key_gets_401_on_the_very_next_call_in_the_same_process(
    client, demo, django_capture_on_commit_callbacks
):
    key, plain = api_key_create(hospital=Hospital.objects.get(code="H46020000002"))
    assert ask(client, plain).status_code == 200  # the key is now in this process's snapshot
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        api_key_revoke(key=key)
    assert auth.keys.clear in callbacks  # dropped only once the revocation is committed
    response = ask(client, plain)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_key_revoked_by_the_admin_action_gets_401_at_once(
    client, demo, django_capture_on_commit_callbacks
):
    from django.test import Client

    key, plain = api_key_create(hospital=Hospital.objects.get(code="H23270000001"))
    api = Client()
    assert ask(api, plain).status_code == 200
    staff_login(client, "agency_dxal")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:hospitals_apikey_changelist"),
            {"action": "revoke", "_selected_action": [key.pk]},
        )
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_key.revoke", object_id=str(key.pk)).exists()
    assert ask(api, plain).status_code == 401
