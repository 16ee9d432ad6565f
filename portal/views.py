from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language as switch_language
from kombu import Connection

from portal.adapters import START
from portal.models import Preference
from portal.roles import role_of


def home(request):
    role = role_of(request.user)
    start = START.get(role)
    return render(
        request,
        "portal/home.html",
        {"role": role, "start_url": reverse(start) if start else None},
    )


def csrf_failure(request, reason=""):
    """A form sent from a page that is no longer valid (signed out or in again in another tab,
    or open for too long): say so in the user's language, with the way back to the form."""
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = ""
    return render(request, "403_csrf.html", {"back": back}, status=403)


def set_language(request):
    """Django's language switch; a signed-in user's choice is also kept for their emails."""
    response = switch_language(request)
    if request.method == "POST":
        Preference.remember(request.user, request.POST.get("language", ""))
    return response


@require_POST
def keep_alive(request):
    """A request of its own, sent by a page being filled in (static/js/portal.js) while its
    user types, or when they answer the warning that the session is about to end: like any
    request, it counts as activity (SessionTimeoutMiddleware). 204 signed in; 401 after the
    session ended (the page then says what it can no longer send)."""
    if not request.user.is_authenticated:
        return HttpResponse(status=401)
    return HttpResponse(status=204)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def notifications(request):
    """The user's messages, the unread ones marked as new. Opening the page changes nothing (a
    link from another site cannot mark anything read); "Mark all as read" (a POST, with its
    CSRF token) marks every unread message read and comes back to the same page."""
    if request.method == "POST":
        request.user.notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
        page_number = request.POST.get("page", "")
        query = f"?page={page_number}" if page_number.isdecimal() else ""
        return redirect(reverse("notifications") + query)
    qs = request.user.notifications.all()
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/notifications.html",
        {"page": page, "email_language": Preference.language_of(request.user.pk)},
    )


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


def _broker_ok() -> bool:
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    status = 200 if all(checks.values()) else 503
    body = {k: "ok" if v else "unreachable" for k, v in checks.items()}
    body["status"] = "ok" if status == 200 else "degraded"
    return JsonResponse(body, status=status)


def favicon(request):
    """/favicon.ico, which browsers ask for whatever a page links (the API docs, a PDF): the
    project's icon (its static URL is read when asked: a manifest storage knows it only once
    the files are collected)."""
    from django.http import HttpResponsePermanentRedirect
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("img/favicon.svg"))
