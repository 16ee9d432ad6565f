"""`Authorization: Bearer <key>` for hospital systems; the hospital comes from the key."""

from __future__ import annotations

import threading
import time

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from hospitals.models import ApiKey
from hospitals.services import digest

CACHE_SECONDS = 10  # a revoked key stops working within this time in every process
LAST_USED_EVERY = 60


class _KeyCache:
    def __init__(self):
        self.lock = threading.Lock()
        self.entries: dict[str, tuple[float, ApiKey | None]] = {}

    def get(self, key_digest: str) -> ApiKey | None:
        now = time.monotonic()
        hit = self.entries.get(key_digest)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        key = (
            ApiKey.objects.filter(digest=key_digest, revoked_at__isnull=True)
            .only("id", "hospital_id", "prefix", "last_used_at", "revoked_at")
            .first()
        )
        with self.lock:
            if len(self.entries) > 50_000:
                self.entries.clear()
            self.entries[key_digest] = (now, key)
        return key

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


keys = _KeyCache()


class HospitalKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            raise exceptions.NotAuthenticated(_("An API key is required (Authorization: Bearer)."))
        parts = header.split()
        if len(parts) != 2 or parts[0] != self.keyword:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header."))
        key = keys.get(digest(parts[1]))
        if key is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > LAST_USED_EVERY:
            key.last_used_at = now
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return (None, key)

    def authenticate_header(self, request):
        return self.keyword


class HasHospitalKey(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, ApiKey)


class HospitalKeyScheme(OpenApiAuthenticationExtension):
    target_class = "hospitals.auth.HospitalKeyAuthentication"
    name = "hospitalKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Hospital API key"}
