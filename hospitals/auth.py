"""`Authorization: Bearer <key>` for hospital systems; the hospital comes from the key.

The hot path makes no query for the key: each process keeps a snapshot of the active keys
(digest → key id, hospital id), reloaded every CACHE_SECONDS. A revocation drops the revoking
process's snapshot at once and leaves a mark in the shared cache (Redis in production), which
every process reads at most once every REVOCATION_CHECK_SECONDS: a revoked key stops working
everywhere within about a second (within CACHE_SECONDS should the cache be unreachable).
"Last used" times are collected in memory and written in one statement at each reload. In
production-like processes the reload runs in the snapshot-refresher thread
(hospitals.eligibility_selectors), off the request path.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time

from django.core.cache import cache
from django.db import connection
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from redis.exceptions import RedisError
from rest_framework import authentication, exceptions, permissions

from hospitals.models import ApiKey
from hospitals.services import digest

CACHE_SECONDS = 30
REVOCATION_CHECK_SECONDS = 1
# In the shared cache: when a key was last revoked, anywhere.
REVOKED_MARK = "hospitals:api-keys:revoked"

logger = logging.getLogger(__name__)


# What an unreachable cache raises (Redis in production, nothing in the local memory cache).
CACHE_ERRORS = (RedisError, OSError)


def _revoked_mark():
    try:
        return cache.get(REVOKED_MARK)
    except CACHE_ERRORS:  # the periodic reload still applies
        logger.warning("API key revocation mark unreadable", exc_info=True)
        return None


def mark_revoked() -> None:
    """Tell every process that a key was revoked (after the revocation is committed)."""
    try:
        cache.set(REVOKED_MARK, time.time_ns(), timeout=None)
    except CACHE_ERRORS:
        logger.warning("API key revocation mark not written", exc_info=True)


class _KeySnapshot:
    def __init__(self):
        self.lock = threading.Lock()
        self.loaded_at = -1e9
        self.by_digest: dict[str, tuple[int, int]] = {}
        self.used: dict[int, object] = {}
        self.unknown: set[str] = set()
        self.mark = None
        self.mark_checked_at = -1e9

    def get(self, key_digest: str) -> ApiKey | None:
        hit = self.ids(key_digest)
        return None if hit is None else ApiKey(id=hit[0], hospital_id=hit[1])

    def ids(self, key_digest: str) -> tuple[int, int] | None:
        """(key id, hospital id) of an active key, or None."""
        if (self.stale() and not self._in_background()) or self._revoked_elsewhere():
            self.reload()
        hit = self.by_digest.get(key_digest)
        if hit is None:
            hit = self._lookup(key_digest)
            if hit is None:
                return None
        self.used[hit[0]] = time.time()
        return hit

    def _revoked_elsewhere(self) -> bool:
        """A key revoked by any process since this snapshot was loaded (the shared cache is
        read at most once every REVOCATION_CHECK_SECONDS)."""
        now = time.monotonic()
        if now - self.mark_checked_at < REVOCATION_CHECK_SECONDS:
            return False
        self.mark_checked_at = now
        mark = _revoked_mark()
        return mark is not None and mark != self.mark

    def stale(self) -> bool:
        return time.monotonic() - self.loaded_at > CACHE_SECONDS

    def _in_background(self) -> bool:
        """True when the refresher thread reloads the snapshot; the first load is still done
        here (nothing to serve from before it)."""
        from hospitals.eligibility_selectors import _refresher

        if self.loaded_at < 0 or not _refresher.active():
            return False
        if self.refresh_stale not in _refresher.jobs:
            _refresher.jobs.append(self.refresh_stale)
        return True

    def refresh_stale(self) -> bool:
        if self.stale():
            self.reload()
            return True
        return False

    def _lookup(self, key_digest: str) -> tuple[int, int] | None:
        """A key created since the last reload works at once; unknown digests are remembered
        (boundedly) so a flood of wrong keys does not become a flood of queries."""
        if key_digest in self.unknown:
            return None
        row = (
            ApiKey.objects.filter(digest=key_digest, revoked_at__isnull=True)
            .values_list("pk", "hospital_id")
            .first()
        )
        with self.lock:
            if row is None:
                if len(self.unknown) > 10_000:
                    self.unknown.clear()
                self.unknown.add(key_digest)
                return None
            self.by_digest[key_digest] = row
        return row

    def reload(self) -> None:
        with self.lock:
            self.flush_last_used()
            # Read before the keys: a revocation committed meanwhile leaves a newer mark.
            self.mark, self.mark_checked_at = _revoked_mark(), time.monotonic()
            self.by_digest = {
                d: (pk, hospital_id)
                for d, pk, hospital_id in ApiKey.objects.filter(
                    revoked_at__isnull=True
                ).values_list("digest", "pk", "hospital_id")
            }
            self.unknown = set()
            self.loaded_at = time.monotonic()

    def flush_last_used(self) -> None:
        """One UPDATE by primary key per key used since the last flush, sent as one batch
        (a CASE over thousands of keys costs seconds of CPU in Django and in PostgreSQL), in key
        order: the batch is one transaction, and processes flushing at the same time must take
        the row locks in the same order or deadlock."""
        used, self.used = self.used, {}
        if not used:
            return
        adapt = connection.ops.adapt_datetimefield_value
        rows = [
            (adapt(datetime.datetime.fromtimestamp(when, datetime.UTC)), pk)
            for pk, when in sorted(used.items())
        ]
        meta = ApiKey._meta
        column = meta.get_field("last_used_at").column
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {meta.db_table} SET {column} = %s WHERE {meta.pk.column} = %s", rows
            )

    def clear(self) -> None:
        with self.lock:
            self.flush_last_used()
            self.loaded_at = -1e9
            self.by_digest = {}


keys = _KeySnapshot()
KEYWORD = "Bearer"


def key_ids(header: str) -> tuple[int, int]:
    """(key id, hospital id) for an `Authorization` header value; raises 401 exceptions."""
    if not header:
        raise exceptions.NotAuthenticated(_("An API key is required (Authorization: Bearer)."))
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != KEYWORD.lower():  # RFC 9110: case-insensitive
        raise exceptions.AuthenticationFailed(_("Invalid Authorization header."))
    hit = keys.ids(digest(parts[1]))
    if hit is None:
        raise exceptions.AuthenticationFailed(_("Unknown or revoked API key."))
    return hit


class HospitalKeyAuthentication(authentication.BaseAuthentication):
    keyword = KEYWORD

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        key_id, hospital_id = key_ids(header)
        return (None, ApiKey(id=key_id, hospital_id=hospital_id))

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
