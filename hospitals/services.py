"""Writes of the hospitals app: API keys, the access log, directory search keys."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from pypinyin import Style, lazy_pinyin

from hospitals.models import AccessLog, ApiKey, Hospital
from portal import audit

KEY_PREFIX_LEN = 8


def digest(plain_key: str) -> str:
    """Keys are long random strings: one SHA-256 is enough and keeps the hot path cheap."""
    return hashlib.sha256(plain_key.encode()).hexdigest()


def search_keys(name: str) -> tuple[str, str]:
    """Full pinyin and initials of a Chinese name: 哈尔滨医科大学 → haerbinyikedaxue, hebykdx."""
    syllables = lazy_pinyin(name, errors="ignore")
    initials = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")
    return "".join(syllables).lower(), "".join(initials).lower()


def hospital_fill_search_keys(hospital: Hospital) -> None:
    hospital.pinyin, hospital.initials = search_keys(hospital.name)


@transaction.atomic
def api_key_create(*, hospital: Hospital, actor=None, name: str = "") -> tuple[ApiKey, str]:
    """Create a key; returns the row and the plain key, which is shown once and never stored."""
    prefix = secrets.token_hex(KEY_PREFIX_LEN // 2)
    plain = f"{prefix}.{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        hospital=hospital,
        name=name,
        prefix=prefix,
        digest=digest(plain),
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record(action="api_key.create", actor=actor, obj=key, region=hospital.region)
    return key, plain


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor=None) -> ApiKey:
    """Revoke a key (idempotent). Once committed, this process drops its snapshot of active
    keys so the very next call with the key gets 401; other processes drop theirs at their next
    reload (hospitals.auth.CACHE_SECONDS)."""
    from hospitals import auth  # auth imports `digest` from here

    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record(action="api_key.revoke", actor=actor, obj=key, region=key.hospital.region)
        transaction.on_commit(auth.keys.clear)
    return key


def access_log_record(
    *,
    subject_hash: str,
    purpose: str,
    outcome: str,
    actor=None,
    api_key_id: int | None = None,
    hospital_id: int | None = None,
    agency_region=None,
    subject_region_id: int | None = None,
) -> AccessLog:
    """Append one row: who read whose record (by keyed hash), for what, with which outcome."""
    return AccessLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        api_key_id=api_key_id,
        hospital_id=hospital_id,
        agency_region=agency_region,
        subject_hash=subject_hash,
        subject_region_id=subject_region_id,
        purpose=purpose,
        outcome=outcome,
    )
