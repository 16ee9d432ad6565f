"""Signing a demo account in through the real pages, as its user does."""

from __future__ import annotations

from django.urls import reverse

from portal.demo import TOTP_SECRETS
from portal.management.commands.demo_totp import current_code


def staff_login(client, username: str) -> None:
    """A real sign-in: the password, then the TOTP code for staff (the admin and exports need a
    recent, two-factor one). Signs out whoever the client was first."""
    client.logout()
    client.post(reverse("account_login"), {"login": username, "password": "Demo#2026"})
    if username in TOTP_SECRETS:
        client.post(reverse("mfa_authenticate"), {"code": current_code(username)})
