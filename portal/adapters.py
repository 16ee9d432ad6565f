from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from portal import roles

# Where each role starts after signing in (unless the sign-in was asked for by a page, `next`).
START = {
    roles.INSURED: "filings:list",
    roles.HOSPITAL: "hospitals:home",
    roles.AGENCY: "admin:index",
    roles.ADMIN: "admin:index",
}


class AccountAdapter(DefaultAccountAdapter):
    """Public sign-up is for insured persons only; staff accounts come from an administrator."""

    def is_open_for_signup(self, request) -> bool:
        return True

    def get_login_redirect_url(self, request) -> str:
        """A person lands on their filings, a clerk on the desk, agency staff on the review
        queues: not on the public home page, whose links sit behind the phone's menu."""
        start = START.get(roles.role_of(request.user))
        return reverse(start) if start else super().get_login_redirect_url(request)


def axes_username(request, credentials) -> str | None:
    """allauth passes `email` or `username`; django-axes locks out by that and the IP."""
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email") or credentials.get("login")
    if value is None and request is not None and request.method == "POST":
        value = request.POST.get("login")
    value = (value or "").strip().lower()
    if not value:
        return None
    return _account_of(value) or value


def _account_of(login: str) -> str | None:
    """The username of the account a login names, by username or by email address: failures
    typed as "li" and as "li@example.cn" count against the one account (5, not 5 of each)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if "@" in login:
        username = (
            EmailAddress.objects.filter(email__iexact=login)
            .values_list("user__username", flat=True)
            .first()
        ) or User.objects.filter(email__iexact=login).values_list("username", flat=True).first()
    else:
        username = (
            User.objects.filter(username__iexact=login).values_list("username", flat=True).first()
        )
    return username.lower() if username else None
