"""Writes of the hospitals app: suspension, API keys, the access log, directory search keys."""

from __future__ import annotations

import datetime
import hashlib
import re
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


# The words hospital names are made of, so that an abbreviation can take one letter per word the
# way people shorten names: 哈尔滨|医科|大学 → 哈医大 → `hyd`. Matched longest first; a character
# outside these words is a word of its own. Place names first, then the words of institutions.
NAME_WORDS = frozenset(
    """
    中国 北京 天津 上海 重庆 河北 山西 内蒙古 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东
    河南 湖北 湖南 广东 广西 海南 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆 香港 澳门
    哈尔滨 大兴安岭 三亚 沈阳 大连 南岗 香坊 地区 院区
    中国人民解放军 解放军 人民 医科 医学院 大学 学院 附属 医院 总医院 中医药 中医 中西医 结合
    专科 儿童 妇幼 妇产 保健 胸科 肿瘤 中心 传染病 防治 康复 骨科 心脑血管 口腔 眼科 精神
    卫生 远东 中德 农垦 职工
    """.split()
)
_LONGEST_WORD = max(map(len, NAME_WORDS))
_ORDINAL = re.compile(r"第[一二三四五六七八九十百零〇]+")


def name_words(name: str) -> list[str]:
    """哈尔滨医科大学附属第一医院 → 哈尔滨, 医科, 大学, 附属, 第一, 医院 (non-Chinese dropped)."""
    words: list[str] = []
    i = 0
    while i < len(name):
        ordinal = _ORDINAL.match(name, i)
        if ordinal:
            words.append(ordinal.group())
            i = ordinal.end()
            continue
        for size in range(min(_LONGEST_WORD, len(name) - i), 1, -1):
            if name[i : i + size] in NAME_WORDS:
                words.append(name[i : i + size])
                i += size
                break
        else:
            if "\u4e00" <= name[i] <= "\u9fff":
                words.append(name[i])
            i += 1
    return words


def search_keys(name: str) -> tuple[str, str]:
    """Full pinyin and the initials of a Chinese name, for the directory search.

    The initials are two space-separated tokens: one letter per character, then one letter per
    word (see NAME_WORDS). 哈尔滨医科大学附属第一医院 → `haerbinyikedaxuefushudiyiyiyuan` and
    `hebykdxfsdyyy hydfdy`; a search by initials matches the start of either token.
    """
    syllables = lazy_pinyin(name, errors="ignore")
    by_char = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore"))
    by_word = "".join(
        lazy_pinyin(word, style=Style.FIRST_LETTER, errors="ignore")[0] for word in name_words(name)
    )
    return "".join(syllables).lower(), f"{by_char} {by_word}".lower().strip()[:100]


def hospital_fill_search_keys(hospital: Hospital) -> None:
    hospital.pinyin, hospital.initials = search_keys(hospital.name)


SUSPEND = "hospital.suspend"
RESUME = "hospital.resume"
ACTIVE = "active"
SUSPENDED = "suspended"


class SuspensionError(Exception):
    """A suspension step that does not apply; `code` says why (for a message)."""

    def __init__(self, code: str):
        self.code = code
        super().__init__(code)


def _drop_hospital_snapshots() -> None:
    from hospitals.eligibility_selectors import clear_caches

    clear_caches()


def suspended_state(suspended_on: datetime.date) -> str:
    """`suspended:2026-11-01`: the audit state of a suspension carries its effective date."""
    return f"{SUSPENDED}:{suspended_on.isoformat()}"


@transaction.atomic
def hospital_suspend(
    *,
    hospital: Hospital,
    actor,
    suspended_on: datetime.date,
    reason: str,
    ip: str | None = None,
) -> Hospital:
    """Suspend a hospital from direct settlement from `suspended_on` (which may lie ahead).

    Preconditions: the hospital is not suspended; a reason is given. Effects: sets
    `suspended_on` and `suspension_reason`, writes a `hospital.suspend` audit event (from
    `active` to `suspended:<date>`, with the reason) that stays as the suspension's history, and
    after commit drops this process's hospital snapshot so the eligibility check sees it at once.
    """
    reason = (reason or "").strip()
    if not reason:
        raise SuspensionError("reason_required")
    hospital = Hospital.objects.select_for_update().select_related("region").get(pk=hospital.pk)
    if hospital.suspended_on is not None:
        raise SuspensionError("already_suspended")
    hospital.suspended_on = suspended_on
    hospital.suspension_reason = reason
    hospital.save(update_fields=["suspended_on", "suspension_reason"])
    audit.record(
        action=SUSPEND,
        actor=actor,
        obj=hospital,
        region=hospital.region,
        from_state=ACTIVE,
        to_state=suspended_state(suspended_on),
        reason=reason,
        ip=ip,
    )
    transaction.on_commit(_drop_hospital_snapshots)
    return hospital


@transaction.atomic
def hospital_resume(
    *, hospital: Hospital, actor, reason: str = "", ip: str | None = None
) -> Hospital:
    """Resume direct settlement at a suspended hospital.

    Precondition: the hospital is suspended. Effects: clears `suspended_on` and
    `suspension_reason` on the hospital only; the suspension itself stays in its audit event, and
    a `hospital.resume` event (from `suspended:<date>` to `active`) closes it in the history.
    """
    hospital = Hospital.objects.select_for_update().select_related("region").get(pk=hospital.pk)
    if hospital.suspended_on is None:
        raise SuspensionError("not_suspended")
    was = suspended_state(hospital.suspended_on)
    hospital.suspended_on = None
    hospital.suspension_reason = ""
    hospital.save(update_fields=["suspended_on", "suspension_reason"])
    audit.record(
        action=RESUME,
        actor=actor,
        obj=hospital,
        region=hospital.region,
        from_state=was,
        to_state=ACTIVE,
        reason=(reason or "").strip(),
        ip=ip,
    )
    transaction.on_commit(_drop_hospital_snapshots)
    return hospital


@transaction.atomic
def api_key_create(
    *, hospital: Hospital, actor=None, name: str = "", ip=None
) -> tuple[ApiKey, str]:
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
    audit.record(action="api_key.create", actor=actor, obj=key, region=hospital.region, ip=ip)
    return key, plain


@transaction.atomic
def api_key_revoke(*, key: ApiKey, actor=None, ip=None) -> ApiKey:
    """Revoke a key (idempotent: a revoked key is returned as it is). Once committed, this
    process drops its snapshot of active keys so the very next call with the key gets 401,
    and marks the revocation in the shared cache, so other processes reload theirs within
    hospitals.auth.REVOCATION_CHECK_SECONDS."""
    from hospitals import auth  # auth imports `digest` from here

    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit.record(
            action="api_key.revoke", actor=actor, obj=key, region=key.hospital.region, ip=ip
        )
        transaction.on_commit(auth.keys.clear)
        transaction.on_commit(auth.mark_revoked)
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


# --- Hospital clerks' accounts: invited by the agency of the hospital's region ----------------


class InvitationError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def clerk_invite(*, hospital: Hospital, email: str, actor, ip=None):
    """A new account for a clerk of `hospital`: the email is its login (and username), verified
    by the invitation itself, with no password until the clerk sets one through the link the
    invitation carries (`hospitals.tasks.send_clerk_invitation`, queued on commit). Audited.
    An address that already has an account is refused: that account is assigned as it is."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.utils.translation import gettext as _

    from hospitals.models import HospitalStaff
    from hospitals.tasks import send_clerk_invitation
    from portal.roles import check_agency_region

    check_agency_region(actor, hospital.region_id)
    users = get_user_model().objects
    email = users.normalize_email(email.strip()).lower()
    with transaction.atomic():
        taken = (
            users.filter(email__iexact=email).exists()
            or users.filter(username__iexact=email).exists()
            or EmailAddress.objects.filter(email__iexact=email).exists()
        )
        if taken:
            raise InvitationError(
                _("An account with this email address exists: choose it when adding a clerk.")
            )
        user = users.create_user(username=email, email=email)  # no usable password
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        staff = HospitalStaff.objects.create(user=user, hospital=hospital)
        audit.record(
            action="hospital_staff.invite",
            actor=actor,
            obj=staff,
            region=hospital.region,
            reason=email,
            ip=ip,
        )
        transaction.on_commit(lambda: send_clerk_invitation.delay(user.pk))
    return staff


def clerk_invitation_resend(*, staff, actor, ip=None) -> bool:
    """Send the invitation again to a clerk who has not set a password yet (the link of the
    last one may have expired). False, and nothing sent, once the clerk has signed up."""
    from hospitals.tasks import send_clerk_invitation
    from portal.roles import check_agency_region

    check_agency_region(actor, staff.hospital.region_id)
    if staff.user.has_usable_password():
        return False
    with transaction.atomic():
        audit.record(
            action="hospital_staff.invite_again",
            actor=actor,
            obj=staff,
            region=staff.hospital.region,
            reason=staff.user.email,
            ip=ip,
        )
        transaction.on_commit(lambda: send_clerk_invitation.delay(staff.user_id))
    return True
