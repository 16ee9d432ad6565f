"""Every write of a filing: one function per transition (domain.md §2.6).

Each is atomic, re-reads the row with select_for_update(), checks the transition table, saves
with update_fields, writes an audit event and notifies the person after commit. Concurrent
decisions on one filing: the first wins, the others get RuleError("already_decided").
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from filings import rules
from filings.models import Basis, Filing, FilingType, Status
from filings.rules import RuleError
from filings.selectors import parameters_for
from portal import audit
from portal.notifications import notify

PREFIX = {
    "long_term": "BA",
    "referral": "ZZ",
    "emergency": "JZ",
    "temporary": "LS",
    "chronic_outpatient": "MT",
}


def _number(filing_type: str, region_code: str) -> str:
    day = timezone.localdate()
    return f"{PREFIX[filing_type]}{region_code}{day:%y%m%d}{secrets.token_hex(3).upper()}"


def _notify(filing: Filing, subject: str, body: str) -> None:
    user = filing.person.user
    if user is not None:
        notify(user=user, subject=subject, body=body, url=f"/filings/{filing.number}/")


def filing_create(*, person, actor, filing_type: str, hospitals=(), ip=None, **fields) -> Filing:
    """A draft filing for `person`. A second open long-term filing is refused (the partial
    unique constraint decides under concurrency)."""
    if fields.get("place_region") is not None and fields["place_region"].pk == person.region_id:
        if filing_type != FilingType.REFERRAL:
            raise RuleError("same_region")
    for _attempt in range(3):
        try:
            with transaction.atomic():
                filing = Filing.objects.create(
                    number=_number(filing_type, person.region.code),
                    person=person,
                    insured_region_id=person.region_id,
                    type=filing_type,
                    status=Status.DRAFT,
                    **fields,
                )
                if hospitals:
                    filing.hospitals.set(hospitals)
                audit.record(
                    action="filing.create",
                    actor=actor,
                    obj=filing,
                    region=person.region,
                    to_state=Status.DRAFT,
                    ip=ip,
                )
                return filing
        except IntegrityError as exc:
            if "one_open_long_term_filing_per_person" in str(exc) or (
                filing_type == FilingType.LONG_TERM
                and Filing.objects.filter(
                    person=person,
                    type=FilingType.LONG_TERM,
                    status__in=["draft", "submitted", "returned", "approved"],
                ).exists()
            ):
                raise RuleError("open_long_term_exists") from exc
            # a number collision: try another number
    raise RuleError("transition_not_allowed", current="", target=Status.DRAFT)


def _transition(
    filing_id: int,
    target: str,
    *,
    actor,
    action: str,
    reason: str = "",
    ip=None,
    updates: Callable[[Filing], dict] | None = None,
) -> Filing:
    with transaction.atomic():
        filing = (
            Filing.objects.select_for_update(of=("self",))
            .select_related("person__user", "insured_region")
            .get(pk=filing_id)
        )
        rules.check_transition(filing.status, target, filing_type=filing.type)
        changes = updates(filing) if updates else {}
        previous = filing.status
        filing.status = target
        for name, value in changes.items():
            setattr(filing, name, value)
        filing.save(update_fields=["status", "updated_at", *changes])
        audit.record(
            action=action,
            actor=actor,
            obj=filing,
            region=filing.insured_region,
            from_state=previous,
            to_state=target,
            reason=reason,
            ip=ip,
        )
        with override("zh-hans"):
            _notify(
                filing,
                _("Your filing %(n)s: %(s)s")
                % {"n": filing.number, "s": filing.get_status_display()},
                reason or _("The status of your filing has changed."),
            )
    return filing


def _approval_updates(filing: Filing, actor, today: datetime.date) -> dict:
    params = parameters_for(filing.insured_region, today)
    valid_from, valid_until = rules.validity(filing.type, params, today, filing.start_date)
    changes = {
        "valid_from": valid_from,
        "valid_until": valid_until,
        "decided_at": timezone.now(),
        "decided_by": actor if getattr(actor, "pk", None) else None,
    }
    if filing.type == FilingType.LONG_TERM and filing.basis == Basis.COMMITMENT:
        changes["commitment_deadline"] = rules.commitment_deadline(today, params)
    if filing.type == FilingType.REFERRAL and params.referral_course_days:
        changes["course_days"] = params.referral_course_days
    return changes


def filing_submit(*, filing: Filing, actor, ip=None) -> Filing:
    """Submit a draft (or resubmit a returned filing). Other temporary filings are approved
    automatically on submission when the person is insured and active (domain.md §2.4)."""
    today = timezone.localdate()
    if (
        filing.type in rules.AUTOMATIC_TYPES
        and filing.status == Status.DRAFT
        and filing.person.active
    ):
        return _transition(
            filing.pk,
            Status.APPROVED,
            actor=actor,
            action="filing.auto_approve",
            ip=ip,
            updates=lambda f: {"submitted_at": timezone.now(), **_approval_updates(f, None, today)},
        )
    return _transition(
        filing.pk,
        Status.SUBMITTED,
        actor=actor,
        action="filing.submit",
        ip=ip,
        updates=lambda f: {"submitted_at": timezone.now()},
    )


def filing_approve(*, filing: Filing, actor, note: str = "", ip=None) -> Filing:
    today = timezone.localdate()
    return _transition(
        filing.pk,
        Status.APPROVED,
        actor=actor,
        action="filing.approve",
        reason=note,
        ip=ip,
        updates=lambda f: {**_approval_updates(f, actor, today), "decision_note": note},
    )


def filing_reject(*, filing: Filing, actor, reason: str, ip=None) -> Filing:
    if not (reason or "").strip():
        raise RuleError("reason_required")
    return _transition(
        filing.pk,
        Status.REJECTED,
        actor=actor,
        action="filing.reject",
        reason=reason,
        ip=ip,
        updates=lambda f: {
            "decision_note": reason,
            "decided_at": timezone.now(),
            "decided_by": actor,
        },
    )


def filing_return(*, filing: Filing, actor, reason: str, ip=None) -> Filing:
    """Ask for more materials: the person edits and resubmits."""
    if not (reason or "").strip():
        raise RuleError("reason_required")
    return _transition(
        filing.pk,
        Status.RETURNED,
        actor=actor,
        action="filing.return",
        reason=reason,
        ip=ip,
        updates=lambda f: {"decision_note": reason},
    )


def filing_accept_materials(*, filing: Filing, actor, ip=None) -> Filing:
    """Supplemented commitment materials accepted: the filing turns two-way."""
    with transaction.atomic():
        locked = (
            Filing.objects.select_for_update(of=("self",))
            .select_related("person__user", "insured_region")
            .get(pk=filing.pk)
        )
        if locked.basis != Basis.COMMITMENT or locked.status != Status.APPROVED:
            raise RuleError("not_commitment")
        if locked.materials_accepted_at is not None:
            raise RuleError("already_decided", current=locked.status, target=locked.status)
        if not locked.materials.exists():
            raise RuleError("materials_missing")
        locked.materials_accepted_at = timezone.now()
        locked.save(update_fields=["materials_accepted_at", "updated_at"])
        audit.record(
            action="filing.accept_materials",
            actor=actor,
            obj=locked,
            region=locked.insured_region,
            from_state=locked.status,
            to_state=locked.status,
            reason="two_way",
            ip=ip,
        )
        with override("zh-hans"):
            _notify(
                locked,
                _("Your materials were accepted"),
                _("Filing %(n)s is now two-way: you can also settle directly at home.")
                % {"n": locked.number},
            )
    return locked


def filing_cancel(
    *, filing: Filing, actor, reason: str = "", ip=None, today: datetime.date | None = None
) -> Filing:
    """Cancel; an effective long-term filing only after the region's lock period."""
    today = today or timezone.localdate()

    def updates(f: Filing) -> dict:
        if f.status == Status.APPROVED and f.type == FilingType.LONG_TERM:
            rules.check_change_allowed(f.valid_from, parameters_for(f.insured_region, today), today)
        return {}

    return _transition(
        filing.pk,
        Status.CANCELLED,
        actor=actor,
        action="filing.cancel",
        reason=reason,
        ip=ip,
        updates=updates,
    )


def filing_expire(*, filing: Filing, actor=None) -> Filing:
    return _transition(filing.pk, Status.EXPIRED, actor=actor, action="filing.expire")


def filing_revoke(*, filing: Filing, actor=None, reason: str = "") -> Filing:
    return _transition(
        filing.pk, Status.REVOKED, actor=actor, action="filing.revoke", reason=reason
    )


def referral_start(
    *,
    hospital,
    actor,
    person,
    receiving_hospital,
    diagnosis: str,
    condition: str,
    attending_doctor: str,
    ip=None,
) -> Filing:
    """An e-referral started by a designated hospital of the person's own region (draft until
    the department director signs and the medical office stamps it)."""
    if person.region_id != hospital.region_id:
        raise RuleError("referral_other_region")
    if receiving_hospital.region_id == person.region_id:
        raise RuleError("same_region")
    region = receiving_hospital.region
    return filing_create(
        person=person,
        actor=actor,
        filing_type=FilingType.REFERRAL,
        ip=ip,
        place_province_id=region.province_id,
        place_region=region,
        receiving_hospital=receiving_hospital,
        issuing_hospital=hospital,
        diagnosis=diagnosis,
        referral_condition=condition,
        attending_doctor=attending_doctor,
        referral_source="e_referral",
        covers_general_outpatient=False,
        start_date=timezone.localdate(),
    )


def referral_sign(*, filing: Filing, hospital, actor, step: str, signer: str, ip=None) -> Filing:
    """Record the director's signature, then the medical office's stamp (which submits the
    referral to the agency). Each step is recorded with who and when."""
    if not (signer or "").strip():
        raise RuleError("reason_required")
    with transaction.atomic():
        locked = (
            Filing.objects.select_for_update(of=("self",))
            .select_related("insured_region", "person__user")
            .get(pk=filing.pk)
        )
        if locked.issuing_hospital_id != hospital.pk or locked.status != Status.DRAFT:
            raise RuleError("transition_not_allowed", current=locked.status, target="signed")
        now = timezone.now()
        if step == "director":
            locked.director_signed_by, locked.director_signed_at = signer, now
            fields = ["director_signed_by", "director_signed_at"]
        elif step == "office":
            if locked.director_signed_at is None:
                raise RuleError("director_first")
            locked.medical_office_signed_by, locked.medical_office_signed_at = signer, now
            fields = ["medical_office_signed_by", "medical_office_signed_at"]
        else:
            raise RuleError("transition_not_allowed", current=locked.status, target=step)
        locked.save(update_fields=[*fields, "updated_at"])
        audit.record(
            action=f"referral.sign_{step}",
            actor=actor,
            obj=locked,
            region=locked.insured_region,
            reason=signer,
            ip=ip,
        )
    if step == "office":
        return filing_submit(filing=locked, actor=actor, ip=ip)
    return locked
