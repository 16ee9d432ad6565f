from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Public sign-up is for insured persons only; staff accounts come from an administrator."""

    def is_open_for_signup(self, request) -> bool:
        return True


def axes_username(request, credentials) -> str | None:
    """allauth passes `email` or `username`; django-axes locks out by that and the IP."""
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email") or credentials.get("login")
    if value is None and request is not None and request.method == "POST":
        value = request.POST.get("login")
    return (value or "").strip().lower() or None
