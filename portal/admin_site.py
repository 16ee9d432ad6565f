"""The Django admin, reached only through allauth's login (rate-limited, MFA) and with TOTP."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def must_have_totp(user) -> bool:
    """Staff, superusers and agency staff reach other people's records (proof materials, claim
    documents, PDFs, clearing statements): they work only with an authenticator app (TOTP).
    Hospital clerks are none of these."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.is_staff or user.is_superuser or hasattr(user, "agency_staff"))


class PortalAdminSite(admin.AdminSite):
    site_header = gettext_lazy("Cross-region medical treatment: agency administration")
    site_title = gettext_lazy("Agency administration")
    index_title = gettext_lazy("Review and configuration")

    # The index and the sidebar in the order of the reviewers' work: the queues first, the
    # directory and the platform next, the job schedules (superusers edit them) last; any other
    # app after these, alphabetically as Django sorts them.
    APP_ORDER = ["filings", "settlement", "hospitals", "portal", "django_celery_beat"]

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        rank = {label: i for i, label in enumerate(self.APP_ORDER)}
        return sorted(apps, key=lambda app: rank.get(app["app_label"], len(rank)))

    def index(self, request, extra_context=None):
        """The index, with what waits in each review queue first (portal.admin_queues)."""
        from portal.admin_queues import waiting

        return super().index(request, {"queues": waiting(self, request), **(extra_context or {})})

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and has_totp(user))

    def login(self, request, extra_context=None):
        """Never show Django's own login form: send people through allauth instead."""
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = reverse("admin:index")  # never onward to another site
        user = request.user
        if not user.is_authenticated:
            query = urlencode({REDIRECT_FIELD_NAME: next_url})
            return HttpResponseRedirect(f"{resolve_url('account_login')}?{query}")
        if not (user.is_active and user.is_staff):
            raise PermissionDenied
        if not has_totp(user):
            messages.warning(
                request,
                _("Staff must set up an authenticator app (TOTP) before using the administration."),
            )
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return HttpResponseRedirect(next_url)
