"""Request-wide behaviour: language from the query, security headers, session lifetime, TOTP for
staff and the recent re-authentication that sensitive actions ask for."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.login import get_authentication_records
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _

from portal import roles
from portal.admin_site import has_totp, must_have_totp


class ApiLanguageMiddleware:
    """The hospital API answers in the request's Accept-Language (api.md): a language cookie the
    portal's pages set (a clerk's browser that also calls the API) is not read for it. Placed
    before LocaleMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The JSON API only: its documentation pages are read in the portal's language.
        api = request.path.startswith("/api/v1/")
        if api and settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
            request.COOKIES = {
                k: v for k, v in request.COOKIES.items() if k != settings.LANGUAGE_COOKIE_NAME
            }
        return self.get_response(request)


class QueryLanguageMiddleware:
    """`?lang=en` switches the language for this request and remembers it in the cookie."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.codes = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        lang = request.GET.get("lang")
        if lang not in self.codes:
            return self.get_response(request)
        translation.activate(lang)
        request.LANGUAGE_CODE = lang
        response = self.get_response(request)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            lang,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            samesite="Lax",
        )
        return response


class PermissionsPolicyMiddleware:
    """The portal never uses the camera, microphone, location or payments: say so to browsers.

    SecurityMiddleware sets nosniff and Referrer-Policy, and django-csp the CSP; neither sets
    Permissions-Policy.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class MethodNotAllowedPageMiddleware:
    """A page opened in a way it is not used (a GET on a button's address, typed or from the
    history) is answered with a page in the user's language and a way back, not Django's empty
    405. The API's answers (JSON, with their own body) are left as they are."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 405 or response.content:
            return response
        page = render(request, "405.html", status=405)
        page.headers["Allow"] = response.headers.get("Allow", "")
        return page


# Session keys of SessionTimeoutMiddleware, in epoch seconds so the session stays JSON.
SIGNED_IN_AT = "portal_signed_in_at"
LAST_SEEN_AT = "portal_last_seen_at"
# Set in the session a sign-out leaves behind: a form still open in another tab, sent after it,
# is told it was not saved. Consumed by the next form sent signed out, dropped on signing in.
SIGNED_OUT_AT = "portal_signed_out_at"
STAFF_ROLES = {roles.AGENCY, roles.HOSPITAL, roles.ADMIN}


def is_staff_user(user) -> bool:
    return bool(user.is_staff) or roles.role_of(user) in STAFF_ROLES


def idle_seconds(user) -> int:
    """How long `user`'s session lasts without a request (SessionTimeoutMiddleware)."""
    if is_staff_user(user):
        return settings.SESSION_IDLE_SECONDS_STAFF
    return settings.SESSION_IDLE_SECONDS_INSURED


def _admin_page_referred_from(request: HttpRequest) -> str | None:
    """The admin page (path and query) the request was sent from, when it is this site's."""
    referer = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(referer)
    if not parts.path.startswith("/admin/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"


class SessionTimeoutMiddleware:
    """Sign people out after a quiet spell, and staff after a working day whatever they do.

    Staff (agency, hospital, superusers) expire SESSION_IDLE_SECONDS_STAFF after their last
    request and SESSION_ABSOLUTE_SECONDS_STAFF after signing in; everyone else
    SESSION_IDLE_SECONDS_INSURED after their last request. The sign-in time is the first
    response sent signed in (the sign-in request itself); signing out empties the session, so
    the next sign-in starts a new clock. A session whose user can no longer be loaded (made
    inactive, deleted) is emptied as well. The hospital API authenticates each request with a
    Bearer key, not a session, and is left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            return self.get_response(request)
        ended = False  # a session that was signed in and no longer is
        if not request.user.is_authenticated:
            if auth.SESSION_KEY in request.session:
                # AuthenticationMiddleware refused the stored user (inactive or gone).
                auth.logout(request)
                ended = True
            else:
                ended = self._ended_before(request)
        else:
            expired = self._expired_message(request)
            if expired:
                return self._sign_out(request, expired)
        signed_in = request.user.is_authenticated
        response = self.get_response(request)
        if request.user.is_authenticated:
            now = time.time()
            request.session.setdefault(SIGNED_IN_AT, now)
            request.session[LAST_SEEN_AT] = now
            request.session.pop(SIGNED_OUT_AT, None)
        elif signed_in:
            # Signed out by this request (the sign-out page): remembered for a form still open
            # in another tab.
            request.session[SIGNED_OUT_AT] = time.time()
        elif request.method == "POST":
            request.session.pop(SIGNED_OUT_AT, None)
            if ended and not _anyones_form(request) and self._sent_to_sign_in(request, response):
                # A form sent after signing out elsewhere (another tab, another device): say
                # why the sign-in page came instead, and that nothing was saved. Not for a form
                # anyone may send signed out (confirming one's e-mail address after sign-up).
                messages.warning(request, self._not_saved())
        return response

    @staticmethod
    def _not_saved() -> str:
        return _(
            "You were no longer signed in, so what you sent was not saved. Sign in, "
            "then fill in the form again."
        )

    @staticmethod
    def _ended_before(request: HttpRequest) -> bool:
        """Whether this anonymous request comes from a session that was signed in: one a
        sign-out marked, or a session cookie that no longer maps to any session (signed out
        on another device, the session deleted)."""
        if request.session.get(SIGNED_OUT_AT):
            return True
        cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        return bool(cookie) and request.session.session_key is None

    @staticmethod
    def _sent_to_sign_in(request: HttpRequest, response) -> bool:
        login_path = resolve_url(settings.LOGIN_URL)
        return (
            response.status_code == 302
            and response.get("Location", "").split("?")[0] == login_path
            and request.path != login_path
        )

    def _expired_message(self, request: HttpRequest) -> str | None:
        """What to tell the user when their session is over, else None."""
        session = request.session
        last_seen = session.get(LAST_SEEN_AT)
        if last_seen is None:
            return None
        now = time.time()
        if is_staff_user(request.user):
            absolute = settings.SESSION_ABSOLUTE_SECONDS_STAFF
            if now - session.get(SIGNED_IN_AT, last_seen) >= absolute:
                return _("Your session ended %(hours)d hours after you signed in.") % {
                    "hours": absolute // 3600
                }
        idle = idle_seconds(request.user)
        if now - last_seen >= idle:
            return _("You were signed out after %(minutes)d minutes without activity.") % {
                "minutes": idle // 60
            }
        return None

    def _sign_out(self, request: HttpRequest, message: str) -> HttpResponseRedirect:
        auth.logout(request)
        again = _("Please sign in again.")  # not inside the f-string: makemessages reads it
        messages.info(request, f"{message} {again}")
        if request.method == "POST":  # the form it carried is lost with the session
            messages.warning(request, self._not_saved())
        login_url = resolve_url(settings.LOGIN_URL)
        if request.method == "GET":
            login_url = _with_next(login_url, request.get_full_path())
        return HttpResponseRedirect(login_url)


# What a staff member without an authenticator may still open: the account pages (signing in
# and out, setting the authenticator up), the language switch, static files, the hospital API
# (a key, not a session) and the pages anyone sees signed out.
TOTP_FREE_PATHS = ("/accounts/", "/i18n/", "/api/", "/favicon.ico")
TOTP_FREE_VIEWS = {
    "home",
    "healthz",
    "verify-page",
    "hospitals:directory",
    "hospitals:detail",
}


# The session's note of the page a staff member wanted when sent to set up TOTP.
AFTER_TOTP = "portal_after_totp"


class StaffTotpMiddleware:
    """Staff, superusers and agency staff without an authenticator app are sent to set one up
    from every page but those TOTP_FREE_PATHS and TOTP_FREE_VIEWS name: no proof material,
    claim document, PDF, statement or dashboard reaches an account that has not passed TOTP
    (the admin checks the same: PortalAdminSite.has_permission). Placed after
    SessionTimeoutMiddleware (an expired session is signed out first) and before
    RecentAuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith((*TOTP_FREE_PATHS, settings.STATIC_URL)):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in TOTP_FREE_VIEWS:
            return None
        user = request.user
        if not must_have_totp(user):
            return None
        if has_totp(user):
            # Set up: the page they were sent from has been offered (after_totp); it is done.
            request.session.pop(AFTER_TOTP, None)
            return None
        if request.method == "GET":
            # Offered again once the authenticator is set up (templates/mfa/recovery_codes).
            request.session[AFTER_TOTP] = request.get_full_path()
        messages.warning(
            request, _("Staff must set up an authenticator app (TOTP) before using the portal.")
        )
        return HttpResponseRedirect(reverse("mfa_activate_totp"))


def after_totp(request) -> str | None:
    """The page a staff member opened before being sent to set up an authenticator app, once it
    is set up (offered on the recovery codes page that follows)."""
    wanted = request.session.get(AFTER_TOTP) if hasattr(request, "session") else None
    if not wanted or not must_have_totp(request.user) or not has_totp(request.user):
        return None
    if not url_has_allowed_host_and_scheme(wanted, allowed_hosts=None):
        return None  # "//elsewhere/...": only a path of this site is offered
    return wanted


# Admin actions that approve something or export rows (filings, claims, held settlements).
SENSITIVE_ADMIN_ACTIONS = {
    "approve",
    "approve_clean",
    "approve_adjusted",
    "accept_materials",
    "export_admin_action",
}
# Other admin actions that move money or change who may settle: asked for the same way.
DECISIVE_ADMIN_ACTIONS = {
    "mark_paid",  # a claim paid out
    "revoke",  # a hospital's API key
    "suspend",  # a hospital's direct settlement
    "resume",
    "void_settlement",  # a settled bill taken back: the fund no longer pays it
}


def export(view):
    """Marks a view that exports records (CSV, a statement's PDF): it asks for a recent
    authentication (RecentAuthenticationMiddleware). Applied outermost, over login_required."""
    view.sensitive_action = "export"
    return view


def sensitive_action(request: HttpRequest, view_func=None) -> str | None:
    """Which sensitive action ("reveal", "approve", "decide", "export") the request is, if
    any."""
    marked = getattr(view_func, "sensitive_action", None)
    if marked is not None:
        return marked
    match = request.resolver_match
    if match is None:
        return None
    name = match.url_name or ""
    if "admin" in match.namespaces:
        if name == "portal_insuredperson_reveal":
            return "reveal"
        if name.endswith("_export"):  # django-import-export, form and download
            return "export"
        if request.method == "POST" and name.endswith("_changelist"):
            action = request.POST.get("action")
            if action in SENSITIVE_ADMIN_ACTIONS:
                return "approve"
            if action in DECISIVE_ADMIN_ACTIONS:
                return "decide"
    return None


def recently_authenticated(request: HttpRequest) -> bool:
    """Signed in or re-authenticated (password or TOTP) within ACCOUNT_REAUTHENTICATION_TIMEOUT.

    allauth records every authentication of the session (sign-in, its MFA step and each
    re-authentication) with its time.
    """
    records = get_authentication_records(request, request.user)
    if not records:
        return False
    latest = max(record.get("at", 0) for record in records)
    return time.time() - latest < account_settings.REAUTHENTICATION_TIMEOUT


# A decision that asks for input first (a reason, an adjusted amount) is two posts: the action,
# which opens its form, then the form sent ("apply"). The recent authentication is checked on the
# first; the second is accepted within FORM_GRACE_SECONDS of it, so a reviewer who typed a reason
# for a few minutes is not sent away to re-authenticate and made to type it again.
FORM_OPENED = "portal_sensitive_form_opened"
FORM_GRACE_SECONDS = 15 * 60


def _form_key(request: HttpRequest, action: str) -> str:
    """The decision a form is for: the list (its path and filters), the action and the rows
    ticked. "All rows of the list" (select_across) is never one."""
    selected = ",".join(sorted(request.POST.getlist("_selected_action")))
    return f"{request.get_full_path()}|{action}|{request.POST.get('action', '')}|{selected}"


def _opens_a_form(request: HttpRequest, action: str) -> bool:
    return (
        action in ("approve", "decide")
        and "apply" not in request.POST
        and request.POST.get("select_across") != "1"
        and bool(request.POST.getlist("_selected_action"))
    )


def _remember_form_opened(request: HttpRequest, action: str, response) -> None:
    """After a recently authenticated post that answered with a form (a page, not a redirect:
    an action without a form is done at once and remembers nothing)."""
    if _opens_a_form(request, action) and response.status_code == 200:
        request.session[FORM_OPENED] = {"key": _form_key(request, action), "at": time.time()}


def _completes_a_form_opened_recently(request: HttpRequest, action: str) -> bool:
    """The form of the same action on the same rows of the same list, opened under a recent
    authentication less than FORM_GRACE_SECONDS ago, is being sent (again, after a
    correction, too); never for all rows of a list."""
    if action not in ("approve", "decide") or "apply" not in request.POST:
        return False
    if request.POST.get("select_across") == "1":
        return False
    opened = request.session.get(FORM_OPENED) or {}
    if opened.get("key") != _form_key(request, action):
        return False
    return time.time() - float(opened.get("at", 0)) <= FORM_GRACE_SECONDS


class RecentAuthenticationMiddleware:
    """Ask for the password or a TOTP code again before a sensitive action.

    Revealing an ID number, approving in the admin, paying a claim, revoking an API key,
    suspending or resuming a hospital and exporting need an authentication within
    the last ACCOUNT_REAUTHENTICATION_TIMEOUT seconds; otherwise the user goes to allauth's
    re-authentication page (TOTP when they have it) and comes back through `next`. A POSTed
    admin action is not replayed: the user returns to the list and selects again.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        opened = getattr(request, "_sensitive_form_action", None)
        if opened is not None:
            _remember_form_opened(request, opened, response)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated:
            return None
        action = sensitive_action(request, view_func)
        if action is None:
            return None
        if recently_authenticated(request):
            request._sensitive_form_action = action  # remembered if it answers with a form
            return None
        if _completes_a_form_opened_recently(request, action):
            return None
        methods = get_adapter().get_reauthentication_methods(request.user)
        if not methods:
            raise PermissionDenied  # no password and no authenticator to confirm with
        # Staff in the admin all have TOTP: the code is quicker and proves the second factor.
        urls = {method["id"]: method["url"] for method in methods}
        url = urls.get("mfa_reauthenticate", methods[0]["url"])
        back = request.get_full_path()
        if action in ("approve", "decide"):
            messages.warning(
                request,
                _(
                    "Please confirm it is you before approving. Nothing was changed: select "
                    "the rows and run the action again."
                )
                if action == "approve"
                else _(
                    "Please confirm it is you before this decision. Nothing was changed: select "
                    "the rows and run the action again."
                ),
            )
            # Back to the page the decision was made on (the object's own page, a filtered
            # queue), not to the whole list the action was posted to.
            back = _admin_page_referred_from(request) or back
        return HttpResponseRedirect(_with_next(url, back))


def _anyones_form(request: HttpRequest) -> bool:
    """A form anyone may send signed out (the account pages: confirming one's e-mail address,
    signing up, asking for a new password): it loses nothing by a session that ended."""
    return request.path.startswith("/accounts/")


class PrivatePagesMiddleware:
    """A page or download for a signed-in user (a filing, an ID card copy, a PDF with a name and
    a diagnosis, the desk's answer) or for a hospital's key carries personal data: it is sent
    with `Cache-Control: private, no-store`, so a shared computer's browser (a community centre,
    a hospital desk) or a proxy keeps no copy, unless the view set a policy of its own."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        keyed = request.path.startswith("/api/") and "HTTP_AUTHORIZATION" in request.META
        if (signed_in or keyed) and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
