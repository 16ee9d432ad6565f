from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext, gettext_lazy

from portal import roles

# Where each role starts after signing in (unless the sign-in was asked for by a page, `next`).
START = {
    roles.INSURED: "filings:list",
    roles.HOSPITAL: "hospitals:home",
    roles.AGENCY: "admin:index",
    roles.ADMIN: "admin:index",
}


class PortalSite:
    """The site as allauth's emails name it ("Hello from …!", the subject's "[…]"): the portal's
    name in the reader's language and the host of `SITE_URL`. The sites framework is not
    installed, so allauth would name the host that served the request in both places."""

    @property
    def name(self) -> str:
        return gettext("Cross-region medical treatment")

    @property
    def domain(self) -> str:
        return urlsplit(settings.SITE_URL).netloc


class AccountAdapter(DefaultAccountAdapter):
    """Public sign-up is for insured persons only; staff accounts come from an administrator."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_login_attempts": gettext_lazy(
            "Too many failed sign-in attempts with this account: it is locked from this "
            "address for an hour. To sign in now, choose a new password with “Forgot your "
            "password?”."
        ),
    }

    def can_delete_email(self, email_address) -> bool:
        """An account keeps an address, and a verified one: a forgotten password is reset
        through it, and with verification mandatory, signing in needs it (with the last one
        gone, every sign-in stopped at "verify your e-mail address" with nowhere to send it)."""
        from allauth.account.models import EmailAddress

        others = EmailAddress.objects.filter(user_id=email_address.user_id).exclude(
            pk=email_address.pk
        )
        if email_address.pk and not others.exists():
            return False
        if email_address.verified and not others.filter(verified=True).exists():
            return False
        return super().can_delete_email(email_address)

    def is_open_for_signup(self, request) -> bool:
        return True

    def save_user(self, request, user, form, commit=True):
        """The new account and, for an insured person's sign-up, the binding of the agency's
        record of the person to it (`InsuredSignupForm.bind`), in one transaction: a failure
        leaves no account and the record free, so sending the form again works. The same form
        sent twice at once (a double tap) has one of them find the username taken, or the
        record bound, when it writes: that one gets the form back with the reason, as if it had
        come second, not a server error."""
        bind = getattr(form, "bind", None)
        try:
            with transaction.atomic():
                user = super().save_user(request, user, form, commit=commit)
                if commit and bind is not None:
                    bind(user)
        except IntegrityError:
            username = form.cleaned_data.get("username")
            if username and get_user_model().objects.filter(username__iexact=username).exists():
                form.add_error("username", self.validation_error("username_taken"))
            else:  # the person's record was created by the other sign-up
                form.add_error(None, form.REFUSED)
            raise ImmediateHttpResponse(_signup_again(request, form)) from None
        except forms.ValidationError as refused:  # the record was bound by the other sign-up
            form.add_error(None, refused)
            raise ImmediateHttpResponse(_signup_again(request, form)) from None
        return user

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Sent once the transaction that asked for it commits (an account's confirmation only
        once the account exists). A mail that cannot be sent is logged, not a server error for
        a sign-up that is complete: signing in sends the confirmation again."""
        # Rendered now, as allauth's own send_mail renders it (it reads the request, and the
        # reader's language, from the request being served); only the sending waits.
        request = allauth_context.request
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "email": email} | context | {"current_site": PortalSite()},
        )
        transaction.on_commit(message.send, robust=True)

    def format_email_subject(self, subject: str) -> str:
        return f"[{PortalSite().name}] {force_str(subject)}"

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Staff made to set up their first authenticator app right after signing in are not
        asked for the password they have just typed (allauth counts only re-authentications):
        within ACCOUNT_REAUTHENTICATION_TIMEOUT of the sign-in, setting up the first one and
        seeing the recovery codes it made need none. Any other change still asks."""
        required = super().is_reauthentication_required(app=app, **kwargs)
        request = allauth_context.request
        if not required or app != "allauth.mfa" or request is None:
            return required
        from portal.admin_site import must_have_totp
        from portal.middleware import recently_authenticated

        user = request.user
        match = request.resolver_match
        if match is None or not must_have_totp(user) or not recently_authenticated(request):
            return True
        authenticators = Authenticator.objects.filter(user=user)
        if match.url_name == "mfa_activate_totp":
            return authenticators.exists()
        if match.url_name == "mfa_view_recovery_codes":
            window = timezone.now() - timedelta(seconds=account_settings.REAUTHENTICATION_TIMEOUT)
            totp = authenticators.filter(type=Authenticator.Type.TOTP).first()
            return totp is None or totp.created_at < window
        return True

    def get_login_redirect_url(self, request) -> str:
        """A person lands on their filings, a clerk on the desk, agency staff on the review
        queues: not on the public home page, whose links sit behind the phone's menu."""
        start = START.get(roles.role_of(request.user))
        return reverse(start) if start else super().get_login_redirect_url(request)


class MFAAdapter(DefaultMFAAdapter):
    """Staff keep their authenticator app: without it they could no longer work (every page but
    the account pages sends them to set one up again, portal.middleware.StaffTotpMiddleware),
    and a password alone would be enough to take it off."""

    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "cannot_delete_authenticator": gettext_lazy(
            "Staff cannot deactivate their authenticator app: every staff page needs it. If your "
            "phone is lost or replaced, ask an administrator to remove it, then set up the new one."
        ),
    }

    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        from portal.admin_site import must_have_totp

        if authenticator.type == Authenticator.Type.TOTP and must_have_totp(authenticator.user):
            return False
        return super().can_delete_authenticator(authenticator)


def _signup_again(request, form):
    """The sign-up page with `form` and its errors, as allauth's view shows an invalid form."""
    from allauth.account.views import SignupView

    view = SignupView()
    view.setup(request)
    return view.form_invalid(form)


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
