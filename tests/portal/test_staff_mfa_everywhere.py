"""Agency staff and superusers work only with an authenticator app (TOTP), on every page and not
only in the admin: without one, each page that shows other people's records (proof materials,
claim documents, filing PDFs, clearing statements, the dashboard) sends them to set one up. The
account pages, signing out and the pages anyone sees signed out stay open. Staff cannot take
their authenticator off again."""

from __future__ import annotations

import time

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from portal.management.commands.demo_totp import current_code
from tests.portal import test_permission_matrix as matrix

pytestmark = pytest.mark.django_db

world = matrix.world
SETUP = reverse("mfa_activate_totp")

# The portal's own pages with other people's records, each with the object of agency X's region.
RECORDS = [
    ("filings:material", "a"),
    ("filings:material-preview", "a"),
    ("document-download", "a"),
    ("settlement:claim-document", "a"),
    ("settlement:statement-csv", "x"),
    ("settlement:statement-pdf", "x"),
]
PAGES = ["settlement:dashboard", "notifications", "admin:index"]


def _without_totp(world, actor) -> Client:
    user = world["users"][actor]
    Authenticator.objects.filter(user=user).delete()
    client = Client()
    client.force_login(user)
    return client


def _url(world, name, owner=None) -> str:
    if owner is not None:
        return reverse(name, kwargs=world["objects"][name][owner])
    return reverse(name, kwargs=world["kwargs"].get(name, {}))


@pytest.mark.parametrize(("name", "owner"), RECORDS)
def test_agency_staff_without_an_authenticator_open_none_of_their_regions_records(
    world, name, owner
):
    response = _without_totp(world, matrix.X).get(_url(world, name, owner))
    assert response.status_code == 302 and response["Location"] == SETUP


@pytest.mark.parametrize("name", [*PAGES, "settlement:dashboard-csv"])
def test_agency_staff_without_an_authenticator_are_sent_to_set_one_up(world, name):
    response = _without_totp(world, matrix.X).get(_url(world, name))
    assert response.status_code == 302 and response["Location"] == SETUP


@pytest.mark.parametrize(("name", "owner"), RECORDS)
def test_a_superuser_without_an_authenticator_opens_no_record(world, name, owner):
    response = _without_totp(world, matrix.SU).get(_url(world, name, owner))
    assert response.status_code == 302 and response["Location"] == SETUP


def test_a_post_is_sent_to_the_set_up_too_and_changes_nothing(world):
    from filings.models import Material

    pk = world["objects"]["filings:material-remove"]["a"]["pk"]
    client = _without_totp(world, matrix.SU)
    response = client.post(reverse("filings:material-remove", args=[pk]))
    assert response.status_code == 302 and response["Location"] == SETUP
    assert Material.objects.filter(pk=pk).exists()


def test_with_the_authenticator_the_same_records_open(world):
    client = Client()
    client.force_login(world["users"][matrix.X])
    for name, owner in RECORDS:
        assert client.get(_url(world, name, owner)).status_code in (200, 202, 302), name
        response = client.get(_url(world, name, owner))
        assert response.get("Location") != SETUP, name


@pytest.mark.parametrize(
    "name",
    ["home", "healthz", "hospitals:directory", "hospitals:detail", "verify-page"],
)
def test_the_public_pages_stay_open_without_an_authenticator(world, name):
    response = _without_totp(world, matrix.X).get(_url(world, name))
    assert response.status_code in (200, 503), name  # healthz: 503 without a broker


@pytest.mark.parametrize(
    "name", ["account_logout", "account_email", "account_change_password", "mfa_index"]
)
def test_the_account_pages_stay_open_without_an_authenticator(world, name):
    response = _without_totp(world, matrix.X).get(reverse(name))
    assert response.status_code == 200, name


def test_signing_out_and_switching_the_language_work_without_an_authenticator(world):
    client = _without_totp(world, matrix.X)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_a_password_alone_leads_to_the_set_up_and_the_code_opens_the_records(world):
    """The whole way of a reviewer an administrator made without an authenticator: the password
    signs in, every record sends to the set-up, and once the app's code is confirmed the
    records open."""
    user = world["users"][matrix.X]
    Authenticator.objects.filter(user=user).delete()
    client = Client()
    client.post(reverse("account_login"), {"login": user.username, "password": "Demo#2026"})
    assert "_auth_user_id" in client.session
    material = _url(world, "filings:material", "a")
    assert client.get(material)["Location"] == SETUP
    # Just signed in: the set-up asks for no password again (tests/portal/test_staff_first_totp.py).
    page = client.get(SETUP)
    assert page.status_code == 200
    response = client.post(SETUP, {"code": _code(page.context["form"].secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert client.get(material).status_code == 200


def _code(secret: str) -> str:
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))


def _signed_in_with_totp(username: str, code: str | None = None) -> Client:
    client = Client()
    client.post(reverse("account_login"), {"login": username, "password": "Demo#2026"})
    client.post(reverse("mfa_authenticate"), {"code": code or current_code(username)})
    assert "_auth_user_id" in client.session
    # allauth asks for the password again before any change to the authenticators.
    client.post(reverse("account_reauthenticate"), {"password": "Demo#2026"})
    return client


@pytest.mark.parametrize("username", ["agency_dxal", "admin"])
def test_staff_cannot_deactivate_their_authenticator(demo, username):
    client = _signed_in_with_totp(username)
    url = reverse("mfa_deactivate_totp") + "?lang=en"
    page = client.get(url).content.decode()
    assert "Staff cannot deactivate their authenticator app" in page
    assert 'type="submit"' not in page.split("<main", 1)[-1]  # no button that would fail
    response = client.post(url)
    assert response.status_code == 200
    assert "Staff cannot deactivate their authenticator app" in response.content.decode()
    assert Authenticator.objects.filter(user=demo[username], type=Authenticator.Type.TOTP).exists()


def test_an_insured_person_may_deactivate_an_authenticator_of_their_own(demo):
    from allauth.mfa.totp.internal.auth import TOTP

    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"
    TOTP.activate(demo["wangxiulan"], secret)
    client = _signed_in_with_totp("wangxiulan", _code(secret))
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(
        user=demo["wangxiulan"], type=Authenticator.Type.TOTP
    ).exists()
