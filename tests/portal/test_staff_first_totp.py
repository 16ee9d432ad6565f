"""A new staff member's first sign-in: sent to set up an authenticator app, they are not asked
again for the password they have just typed, and once it is set up the recovery codes page
offers the page they had opened."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.urls import reverse

from portal import staff
from tests.portal.factories import AgencyStaffFactory, UserFactory
from tests.portal.test_staff_mfa_everywhere import _code

pytestmark = pytest.mark.django_db

WANTED = "/admin/filings/filing/?status=submitted"
SETUP = reverse("mfa_activate_totp")


def _new_reviewer(client):
    user = UserFactory(username="newrev", is_staff=True, authenticator=False)
    staff.agency_staff_saved(staff=AgencyStaffFactory(user=user))  # as the admin makes one
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client.post(reverse("account_login"), {"login": "newrev", "password": "pass-word-123"})
    return user


def test_set_up_right_after_signing_in_asks_no_password_and_leads_back(client):
    user = _new_reviewer(client)
    sent = client.get(WANTED)
    assert sent.status_code == 302 and sent["Location"] == SETUP
    page = client.get(SETUP)
    assert page.status_code == 200  # the set-up form, not "confirm access" with the password
    secret = page.context["form"].secret
    done = client.post(SETUP, {"code": _code(secret)})
    assert done.status_code == 302
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    codes = client.get(done["Location"])
    assert codes.status_code == 200
    assert codes.context["after_totp"] == WANTED
    assert f'href="{WANTED}"'.encode() in codes.content
    assert client.get(WANTED).status_code == 200  # the reviewer is where they wanted to be
    assert client.get(reverse("mfa_view_recovery_codes")).context["after_totp"] is None


def test_a_sign_in_older_than_the_reauthentication_timeout_still_asks(client, settings):
    _new_reviewer(client)
    session = client.session
    for record in session["account_authentication_methods"]:
        record["at"] -= settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1
    session.save()
    page = client.get(SETUP)
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("account_reauthenticate"))


def test_changing_an_existing_authenticator_still_asks(client, demo):
    from tests.signin import staff_login

    staff_login(client, "agency_dxal")  # signed in just now, with an authenticator
    page = client.get(reverse("mfa_generate_recovery_codes"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("account_reauthenticate"))


def test_only_a_path_of_this_site_is_offered(client):
    user = _new_reviewer(client)
    session = client.session
    session["portal_after_totp"] = "//elsewhere.example/admin/"
    session.save()
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert client.get(reverse("mfa_index")).context["after_totp"] is None
