"""Insured persons' self-service: file, follow, supply materials, cancel; material downloads."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from filings import rules, services, uploads
from filings.documents import kinds_for
from filings.forms import (
    ALL_KIND_CHOICES,
    FILE_FIELDS,
    CancelForm,
    ChangeRequestForm,
    FilingForm,
    UploadForm,
)
from filings.messages import ACTION_LABELS, kind_label, message, reason_text
from filings.models import (
    HOSPITALS_DRAFT,
    OPEN_STATUSES,
    Basis,
    Filing,
    FilingType,
    Material,
    MaterialKind,
    Status,
    commitment_proof_kinds,
)
from filings.pending import PendingUploads, StoredFile
from filings.rules import RuleError
from filings.selectors import agency_sees_material, filings_of, parameters_for, timeline
from hospitals import access_log
from portal.audit import client_ip
from portal.roles import agency_region

TITLES = {
    "long_term": gettext_lazy("Long-term residence filing"),
    "temporary": gettext_lazy("Other temporary treatment filing"),
    "emergency": gettext_lazy("Emergency retro-filing"),
    "chronic_outpatient": gettext_lazy("Outpatient chronic and special disease filing"),
    "referral": gettext_lazy("Register a paper referral"),
}


# The form field a refused rule is about: its message goes beside that field (and in the
# summary at the top), not only at the top of a long form.
RULE_FIELDS = {
    "same_region": "place_region",
    "long_term_covers_place": "place_region",
    "temporary_covers_place": "start_date",
    "temporary_continue_later": "start_date",
    "not_retired": "subtype",
    "subtype_not_for_type": "subtype",
    "too_many_hospitals": "hospitals",
    "choose_hospitals": "hospitals",
    "duplicate_hospital": "hospitals",
    "hospital_elsewhere": "hospitals",
    "hospital_not_eligible": "hospitals",
    "no_choice_here": "hospitals",
    "hospital_suspended": "hospitals",
    "hospital_not_at_place": "receiving_hospital",
    "transfer_in_future": "transfer_date",
    "emergency_too_late": "transfer_date",
    "chronic_needs_own_filing": "care",
}


def _file_field_for(form, kind: str) -> str | None:
    """The upload field of `form` that takes material of `kind`: its own field (FILE_FIELDS),
    or the field whose kind is chosen (a proof of residence, a referral's scan); None when the
    form has none (the kind is then named in the summary)."""
    for name, fixed in FILE_FIELDS.items():
        if fixed is not None and fixed == kind and name in form.fields:
            return name
    if "files" not in form.fields:
        return None
    chosen = (
        {k for k, _label in form.fields["material_kind"].choices}
        if ("material_kind" in form.fields)
        else set()
    )
    if kind == services.PROOF or kind in chosen or kind == _default_kind(form.filing_type):
        return "files"
    return None


def _add_missing_materials(form, missing: list[str]) -> None:
    """Each missing kind beside its own upload field; those without one in the summary."""
    rest: list[str] = []
    for kind in missing:
        field = _file_field_for(form, kind)
        if field is None:
            rest.append(kind)
        else:
            form.add_error(field, message(RuleError("materials_incomplete", missing=[kind])))
    if rest:
        form.add_error(None, message(RuleError("materials_incomplete", missing=rest)))


def _add_rule_error(form, error: RuleError) -> None:
    """Every rule refused (the first and those in `also`) on the form, each beside the field
    it is about."""
    for each in error.every():
        _add_one_rule_error(form, each)


def _add_one_rule_error(form, error: RuleError) -> None:
    """A refused rule on the form: beside the field it is about (RULE_FIELDS), and a missing
    field beside itself, named by the form's own label, not the model's ("sub-type")."""
    fields = error.params.get("fields", []) if error.code == "incomplete" else []
    if fields:
        rest = [n for n in fields if n not in form.fields]
        for name in set(fields) - set(rest):
            form.add_error(name, _("Needed to submit the filing."))
        if rest:
            form.add_error(None, message(RuleError("incomplete", fields=rest)))
        return
    if error.code == "materials_incomplete":
        if error.params.get("proof_attached") and "basis" in form.fields:
            form.add_error(
                "basis",
                _(
                    "You attached a proof of residence, so the filing is submitted with the "
                    "proof materials: add the copies named below as well."
                ),
            )
        _add_missing_materials(form, list(error.params.get("missing", [])))
        return
    field = RULE_FIELDS.get(error.code)
    form.add_error(field if field in form.fields else None, _said(error))


def _said(error: RuleError) -> str:
    """A refusal in words; one that sends the person elsewhere links there (an emergency filed
    too late: the reimbursement claim form, domain.md §3.4)."""
    if error.code == "emergency_too_late":
        return format_html(
            '{} <a href="{}">{}</a>',
            message(error),
            reverse("settlement:claim-new"),
            _("Claim a reimbursement"),
        )
    return message(error)


def _submit_refused(filing: Filing, error: RuleError) -> str:
    """A submission refused on its own page: what is still missing, and a link to the form
    where it is filled in (an e-referral, which the person does not edit, has none)."""
    editable = filing.type != FilingType.REFERRAL or filing.referral_source == "paper"
    every = error.every()
    said = format_html_join(" ", "{}", ((_said(each),) for each in every))
    missing = any(each.code in ("incomplete", "materials_incomplete") for each in every)
    if not missing or not editable:
        return said
    return format_html(
        '{} <a class="alert-link" href="{}">{}</a>',
        said,
        reverse("filings:edit", args=[filing.number]),
        _("Edit the filing to add them"),
    )


def _person(request):
    person = getattr(request.user, "insured", None)
    if person is None:
        raise Http404
    return person


def _open_long_term(person) -> Filing | None:
    """The person's long-term filing in progress or in force (domain.md §2.6: one at a time;
    the services refuse a second)."""
    return (
        Filing.objects.filter(person=person, type=FilingType.LONG_TERM, status__in=OPEN_STATUSES)
        .select_related("insured_region")
        .only(
            "number",
            "status",
            "type",
            "valid_from",
            "valid_until",
            "extended_until",
            "insured_region",
        )
        .first()
    )


def _lock_said(filing: Filing | None, today: datetime.date) -> str:
    """Why `filing` (the person's open long-term filing) cannot be changed or cancelled today,
    as its page says it (rules.lock_refusal), or "" when it can be."""
    if filing is None or filing.status != Status.APPROVED:
        return ""
    params = parameters_for(filing.insured_region, today)
    refusal = rules.lock_refusal(filing.valid_from, filing.valid_until, params, today)
    return message(refusal) if refusal is not None else ""


def _renewable(person, today: datetime.date) -> list[Filing]:
    """The person's approved long-term filings that may be renewed today and have no renewal
    in progress or approved (one query)."""
    candidates = (
        Filing.objects.filter(
            person=person, type=FilingType.LONG_TERM, status=Status.APPROVED, valid_until__gte=today
        )
        .exclude(renewals__status__in=OPEN_STATUSES)
        .only("number", "type", "status", "valid_until")
    )
    return [
        f
        for f in candidates
        if rules.may_renew(
            filing_type=f.type, status=f.status, valid_until=f.valid_until, today=today
        )
    ]


PAST_PER_PAGE = 10


@login_required
def filing_list(request):
    person = _person(request)
    open_long_term = _open_long_term(person)
    chronic_base = services.has_chronic_base(person, timezone.localdate())
    filings = filings_of(request.user).exclude(HOSPITALS_DRAFT)
    # The filings still open (a handful at most) always; the closed ones a page at a time.
    past = filings.exclude(status__in=OPEN_STATUSES)
    page = Paginator(past, PAST_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = [_with_shown_validity(f) for f in page.object_list]
    return render(
        request,
        "filings/list.html",
        {
            "filings": [_with_shown_validity(f) for f in filings.filter(status__in=OPEN_STATUSES)],
            "page": page,
            "person": person,
            # A second long-term filing, or a chronic-disease filing with nothing to sit on
            # (domain.md §2.5), would be refused only once filled in: not offered.
            "types": {
                code: title
                for code, title in TITLES.items()
                if not (code == FilingType.LONG_TERM and open_long_term)
                and not (code == FilingType.CHRONIC and not chronic_base)
            },
            "chronic_needs_base": not chronic_base,
            "open_long_term": open_long_term,
            "open_lock": _lock_said(open_long_term, timezone.localdate()),
            "renewable": _renewable(person, timezone.localdate()),
        },
    )


ENDED_EARLY = (Status.CANCELLED, Status.REVOKED)


def _never_in_force(filing: Filing) -> bool:
    """Cancelled (or revoked) before its validity began: a renewal, a filing for a later trip.
    A final state is the filing's last change, so `updated_at` is when it ended."""
    return (
        filing.status in ENDED_EARLY
        and filing.valid_from is not None
        and filing.updated_at is not None
        and filing.valid_from > timezone.localdate(filing.updated_at)
    )


def _shown_until(filing: Filing) -> datetime.date | None:
    """The end shown for the validity: none for a filing cancelled or revoked (it reads "no
    longer in force", not the end it would have had), else the last valid day (an extension
    included)."""
    if filing.status in ENDED_EARLY:
        return None
    return filing.valid_through


def _with_shown_validity(filing: Filing) -> Filing:
    filing.never_in_force = _never_in_force(filing)  # type: ignore[attr-defined]
    filing.shown_until = _shown_until(filing)  # type: ignore[attr-defined]
    return filing


def _fingerprints(materials: list[Material]) -> dict[tuple[str, str], Material]:
    """The materials by kind and the fingerprint of their stored file (one whose file is gone
    is left out)."""
    known: dict[tuple[str, str], Material] = {}
    for m in materials:
        try:
            data = (Path(settings.PRIVATE_MEDIA_ROOT) / m.stored_name).read_bytes()
        except OSError:
            continue
        known.setdefault((m.kind, uploads.fingerprint(data, m.content_type)), m)
    return known


def _same_file_refused(same: Material) -> uploads.UploadRefused:
    if same.refused_at is not None:
        return uploads.UploadRefused(
            _("The agency refused this same file on %(d)s (as %(name)s): upload a different one.")
            % {
                "d": date_format(timezone.localdate(same.refused_at), "Y-m-d"),
                "name": same.original_name,
            }
        )
    return uploads.UploadRefused(
        _("This same file is already attached to the filing (as %(name)s).")
        % {"name": same.original_name}
    )


def _store_files(
    filing: Filing, kind: str, files, arrived: datetime.datetime | None = None
) -> tuple[int, list]:
    """Store each file that passes the checks as a material of `filing`. Returns how many were
    stored and the refusals of the others, each naming its file. Materials the agency refused
    do not count against uploads.MAX_FILES (a commitment filer must be able to supply new
    proof); a file already attached as the same kind, refused or not, is not stored again (as
    another kind it may be: an approved filing's file of the wrong kind cannot be taken off).

    `arrived`: when the request came, the moment the page decided the upload was still allowed.
    The files are stamped with it, not with the moment each is saved after its checks: a file
    sent on the commitment deadline's last minute counts as supplied that day (domain.md §2.1;
    filings/jobs.py `supplied_in_time`), as the page then told the person."""
    kind = kind or "other"
    attached = list(filing.materials.all())
    uploads.check_count(sum(m.refused_at is None for m in attached), len(files))
    known = _fingerprints(attached)
    refusals, stored = [], 0
    for f in files:
        try:
            item = uploads.check_upload(f)
            fingerprint = (kind, uploads.fingerprint(item.content, item.content_type))
            if fingerprint in known:
                raise _same_file_refused(known[fingerprint])
        except uploads.UploadRefused as refused:
            refusals.append(uploads.naming_the_file(f, refused))
            continue
        material = Material.objects.create(filing=filing, **StoredFile.write(item, kind).fields())
        if arrived is not None:  # `uploaded_at` is set on insert (auto_now_add): stamped after
            Material.objects.filter(pk=material.pk).update(uploaded_at=arrived)
            material.uploaded_at = arrived
        known[fingerprint] = material
        stored += 1
    return stored, refusals


def _attach(pending: PendingUploads, filing: Filing) -> None:
    """The files kept for the form become the filing's materials."""
    files = pending.files()
    uploads.check_count(filing.materials.count(), len(files))
    Material.objects.bulk_create(Material(filing=filing, **f.fields()) for f in files)


def _stage_uploads(request, form: FilingForm, pending: PendingUploads, existing: int) -> bool:
    """Check every uploaded file now, whatever the rest of the form says; keep those that pass.
    Returns False when a file was refused (the form then carries the reason)."""
    ok = True
    allowed_kinds = {k for k, _label in ALL_KIND_CHOICES}
    for name, fixed_kind in FILE_FIELDS.items():
        if name not in form.fields:
            continue
        files = [f for f in request.FILES.getlist(name) if f]
        if not files:
            continue
        kind = fixed_kind or request.POST.get("material_kind") or ""
        if kind not in allowed_kinds:
            kind = _default_kind(form.filing_type)
        for refused in pending.stage(files, str(kind), existing):
            form.add_error(name, refused)
            ok = False
    return ok


@login_required
def filing_new(request, filing_type: str):
    person = _person(request)
    if filing_type not in TITLES:
        raise Http404
    if filing_type == FilingType.LONG_TERM and request.method != "POST":
        open_long_term = _open_long_term(person)
        if open_long_term is not None:  # say so before anything is filled in
            return render(
                request,
                "filings/new.html",
                {
                    "title": TITLES[filing_type],
                    "filing_type": filing_type,
                    "open_long_term": open_long_term,
                    "open_lock": _lock_said(open_long_term, timezone.localdate()),
                },
            )
    if (
        filing_type == FilingType.CHRONIC
        and request.method != "POST"
        and not services.has_chronic_base(person, timezone.localdate())
    ):  # say so before anything is filled in (domain.md §2.5)
        return render(
            request,
            "filings/new.html",
            {"title": TITLES[filing_type], "filing_type": filing_type, "chronic_needs_base": True},
        )
    return _filing_form_page(request, person, filing_type, None)


@login_required
def filing_edit(request, number: str):
    """Edit a draft or a returned filing, then save it again or (re)submit it."""
    person = _person(request)
    filing = get_object_or_404(
        Filing.objects.exclude(HOSPITALS_DRAFT).select_related("place_region", "insured_region"),
        number=number,
        person=person,
    )
    if filing.status not in EDITABLE or (
        filing.type == FilingType.REFERRAL and filing.referral_source != "paper"
    ):
        messages.error(request, message(RuleError("not_editable", current=filing.status)))
        return redirect("filings:detail", number=number)
    return _filing_form_page(request, person, filing.type, filing)


EDITABLE = (Status.DRAFT, Status.RETURNED)


class _SentOnce:
    """One rendering of a new-filing form makes one filing: sent again (the browser's Back, then
    Submit; a second tap while the first is on its way; "Save as draft" twice) it shows the
    filing already made instead of filing again. The form's own token (PendingUploads.token,
    new with each rendering) names it; `cache.add` decides atomically which post files."""

    SENDING = ""  # claimed by a post still being handled
    SENDING_SECONDS = 60  # a post that failed outright does not hold the form for long
    SECONDS = 7 * 24 * 3600

    def __init__(self, request, filing_type: str, token: str):
        self.key = f"filings:sent:{request.user.pk}:{filing_type}:{token}"

    def earlier(self) -> str | None:
        """The number of the filing this form made, SENDING while it is being made, or None."""
        return cache.get(self.key)

    def claim(self) -> bool:
        return cache.add(self.key, self.SENDING, self.SENDING_SECONDS)

    def record(self, number: str) -> None:
        cache.set(self.key, number, self.SECONDS)

    def release(self) -> None:
        """Nothing was filed (a rule refused it): the form may be corrected and sent again."""
        cache.delete(self.key)


def _already_sent(request, number: str):
    """The answer to a form sent again: the filing it made, not a second one."""
    if not number:  # the first post is still being handled
        messages.info(
            request,
            _("This form is already being sent: your filing will be in the list in a moment."),
        )
        return redirect("filings:list")
    messages.info(
        request,
        format_html(
            _("This form was already sent and made filing {}: it was not filed again."),
            format_html('<a href="{}">{}</a>', reverse("filings:detail", args=[number]), number),
        ),
    )
    return redirect("filings:detail", number=number)


def _place_asked(request) -> int | None:
    """The place of treatment in the address (`?place=`): the form is shown for it, with its
    hospitals only (static/js/portal.js asks for them when the place is chosen)."""
    place = request.GET.get("place", "")
    return int(place) if place.isascii() and place.isdigit() and len(place) < 10 else None


def _fresh_form(request, person, filing_type: str, filing: Filing | None) -> FilingForm:
    initial = FilingForm.initial_from(filing) if filing else {}
    place = _place_asked(request)
    if place is not None:
        initial["place_region"] = place
    form = FilingForm(initial=initial or None, filing_type=filing_type, person=person)
    _fix_renewal_start(form, filing)
    return form


def _filing_form_page(request, person, filing_type: str, filing: Filing | None):
    if request.method != "POST" and request.GET.get("part") == "hospitals":
        # Only the place's hospitals are wanted from this page (static/js/portal.js): no new
        # rendering of the form, so no list of kept files is started (PendingUploads).
        return render(
            request,
            "filings/new.html",
            {
                "form": _fresh_form(request, person, filing_type, filing),
                "title": TITLES[filing_type],
                "filing_type": filing_type,
                "filing": filing,
            },
        )
    draft = "draft" in request.POST
    pending = PendingUploads(request, filing.number if filing else f"new:{filing_type}")
    # A new filing's form is sent once; an edited filing's page posts to the filing itself.
    once = (
        _SentOnce(request, filing_type, pending.token)
        if filing is None and request.method == "POST" and pending.token
        else None
    )
    if once is not None and (earlier := once.earlier()) is not None:
        return _already_sent(request, earlier)
    if request.method == "POST":
        pending.discard(request.POST.getlist("discard"))
        form = FilingForm(
            request.POST, request.FILES, filing_type=filing_type, person=person, draft=draft
        )
        _fix_renewal_start(form, filing)
        existing = filing.materials.count() if filing else 0
        staged = _stage_uploads(request, form, pending, existing)
        if form.is_valid() and staged:
            data = form.cleaned_data
            if once is not None and not once.claim():  # a second post of it, at the same time
                return _already_sent(request, once.earlier() or _SentOnce.SENDING)
            try:
                with transaction.atomic():
                    saved = _save(request, person, filing_type, data, filing)
                    _attach(pending, saved)
                    if not draft:
                        saved = services.filing_submit(
                            filing=saved,
                            actor=request.user,
                            ip=client_ip(request),
                            relatives_home=data.get("relatives_home", False),
                            promised=bool(data.get("promise")),
                        )
            except RuleError as error:
                if not draft:
                    _with_what_submission_needs(error, person, filing_type, data, filing, pending)
                _add_rule_error(form, error)
            except uploads.UploadRefused as refused:
                form.add_error("files" if "files" in form.fields else None, refused)
            if form.errors:
                if once is not None:
                    once.release()
            else:
                if once is not None:
                    once.record(saved.number)
                pending.clear()
                _saved_message(request, saved, filing_type, draft=draft)
                return redirect("filings:detail", number=saved.number)
    else:  # a fresh form: a new, empty list of kept files (PendingUploads)
        form = _fresh_form(request, person, filing_type, filing)
    return render(
        request,
        "filings/new.html",
        {
            "form": form,
            "title": TITLES[filing_type],
            "filing_type": filing_type,
            "filing": filing,
            "pending": pending.shown(kind_label),
            "kept_files": pending.token,
            # What the filing already carries: not to be picked again.
            "attached": [(m, kind_label(m.kind)) for m in filing.materials.all()] if filing else [],
        },
    )


def _fix_renewal_start(form: FilingForm, filing: Filing | None) -> None:
    """A renewal takes effect the day after the renewed filing ends (domain.md §2.1): its start
    is shown, not asked for (a date typed there was ignored without a word)."""
    if filing is None or filing.renews_id is None or "start_date" not in form.fields:
        return
    field = form.fields["start_date"]
    field.disabled = True
    form.initial["start_date"] = filing.start_date
    if filing.start_date and filing.start_date < timezone.localdate():
        field.help_text = _(
            "A renewal takes effect the day after the filing it renews ends (%(d)s). That day "
            "has passed: this renewal takes effect as a new filing does, once it is approved."
        ) % {"d": filing.start_date.isoformat()}
    else:
        field.help_text = _(
            "A renewal takes effect the day after the filing it renews ends: %(d)s."
        ) % {"d": filing.start_date.isoformat() if filing.start_date else "-"}


def _saved_message(request, filing: Filing, filing_type: str, *, draft: bool) -> None:
    """What saving the form did. "Save as draft" sends nothing, whatever the state it saved in
    (a draft, or a returned filing that stays returned until it is submitted again)."""
    if draft:
        if filing.status == Status.DRAFT:
            messages.info(request, _("Saved as a draft."))
        else:
            messages.info(
                request,
                _("Saved, not sent yet: the agency sees the changes once you submit the filing."),
            )
    elif filing.status == Status.APPROVED and filing_type == "temporary":
        messages.success(
            request,
            _(
                "Approved automatically. If you live there for a "
                "long time, a long-term residence filing gives "
                "better benefits (no reduction of the ratio)."
            ),
        )
    elif filing.status == Status.DRAFT:
        messages.info(request, _("Saved as a draft."))
    else:
        messages.success(request, _("Submitted: your agency will review it."))


def _default_kind(filing_type: str) -> str:
    return {"referral": "referral_scan", "emergency": "other"}.get(filing_type, "other")


def _fields(filing_type: str, data: dict) -> tuple[dict, list | None]:
    """Model field values from the form's cleaned data (only what the type uses), and the
    chosen hospitals (None when the type has none)."""
    fields: dict = {}
    place = data.get("place_region")
    if place is not None:
        fields.update(place_province=place.province, place_region=place)
    care = set(data.get("care") or ["inpatient", "general_outpatient"])
    if filing_type == "chronic_outpatient":
        care = {"chronic_outpatient"}
    if filing_type in ("emergency", "referral"):
        care = {"inpatient"}
    fields.update(
        covers_inpatient="inpatient" in care,
        covers_general_outpatient="general_outpatient" in care,
        covers_chronic_outpatient="chronic_outpatient" in care,
        start_date=data.get("start_date"),  # blank: from the day it is approved
    )
    hospitals = None
    if filing_type == "long_term":
        hospitals = list(data.get("hospitals") or [])
        fields.update(
            subtype=data.get("subtype") or "",
            basis=data.get("basis") or "",
            promised=bool(data.get("promise")) and data.get("basis") == Basis.COMMITMENT,
            agent_name=data.get("agent_name", ""),
            agent_id_number=data.get("agent_id_number") or None,
            agent_relationship=data.get("agent_relationship", ""),
        )
    elif filing_type == "temporary":
        fields.update(subtype=data.get("purpose") or "")
    elif filing_type == "emergency":
        fields.update(
            transfer_date=data.get("transfer_date"),
            diagnosis=data.get("diagnosis") or "",
            receiving_hospital=data.get("receiving_hospital"),
            discharge_settled_on=timezone.localdate() if data.get("discharge_settled") else None,
        )
    elif filing_type == "chronic_outpatient":
        fields.update(disease=data.get("disease") or "")
    elif filing_type == "referral":
        fields.update(
            receiving_hospital=data.get("receiving_hospital"),
            diagnosis=data.get("diagnosis") or "",
            referral_condition=data.get("referral_condition") or "",
            attending_doctor=data.get("attending_doctor") or "",
            director_signed_by=data.get("director_signed_by") or "",
            medical_office_signed_by=data.get("medical_office_signed_by") or "",
        )
    return fields, hospitals


def _with_what_submission_needs(
    error: RuleError, person, filing_type: str, data: dict, filing: Filing | None, pending
) -> None:
    """A form sent for submission but refused on its content (not retired, a hospital
    elsewhere...) never reached the submission's own check: what that would still ask for
    (fields, materials, counting the files kept for the form) is added to `error.also`, so
    the person is told everything at once."""
    fields, _hospitals = _fields(filing_type, data)
    if filing is None:
        unsaved = Filing(
            person=person, insured_region_id=person.region_id, type=filing_type, **fields
        )
        kinds = pending.kinds()
    else:
        unsaved = Filing.objects.get(pk=filing.pk)
        for name, value in fields.items():
            setattr(unsaved, name, value)
        kinds = pending.kinds() | set(filing.materials.values_list("kind", flat=True))
    known = {each.code for each in error.every()}
    for more in services.submission_problems(
        unsaved, kinds=kinds, relatives_home=bool(data.get("relatives_home"))
    ):
        if more.code not in known:
            error.also.append(more)


def _save(request, person, filing_type: str, data: dict, filing: Filing | None) -> Filing:
    fields, hospitals = _fields(filing_type, data)
    if filing is not None:
        return services.filing_update(
            filing=filing,
            actor=request.user,
            hospitals=hospitals,
            ip=client_ip(request),
            **fields,
        )
    if filing_type == "referral":
        fields["referral_source"] = "paper"
    return services.filing_create(
        person=person,
        actor=request.user,
        filing_type=filing_type,
        hospitals=hospitals or (),
        ip=client_ip(request),
        **fields,
    )


def _timeline(filing: Filing) -> list[tuple]:
    """(event, label, reason) for the person: internal codes become words or stay hidden."""
    labels = dict(Status.choices)
    entries = []
    for event in timeline(filing):
        if event.action in ACTION_LABELS and event.from_state == event.to_state:
            label = ACTION_LABELS[event.action]
        else:
            label = labels.get(event.to_state) or ACTION_LABELS.get(event.action, event.action)
        starts = filing.valid_from
        if (
            event.to_state == Status.APPROVED
            and starts
            and starts > timezone.localdate(event.created_at)
        ):
            # Approved to take effect later (a renewal): not "in force" on the day.
            label = _("Approved (in force from %(date)s)") % {"date": date_format(starts, "Y-m-d")}
        entries.append((event, label, reason_text(event.reason, filing.number)))
    return entries


@login_required
def filing_detail(request, number: str):
    # The request's moment: the day the page decides by, and an upload it allows is stamped
    # with it (`_store_files`).
    arrived = timezone.now()
    person = _person(request)
    filing = get_object_or_404(
        Filing.objects.exclude(HOSPITALS_DRAFT).select_related(
            "place_region",
            "place_province",
            "insured_region",
            "receiving_hospital",
            "person",
            "renews",
        ),
        number=number,
        person=person,
    )
    params = parameters_for(filing.insured_region)
    today = timezone.localdate(arrived)
    lock_until = None
    long_term_effective = filing.status == Status.APPROVED and filing.type == FilingType.LONG_TERM
    if long_term_effective and filing.valid_from and filing.valid_from <= today:
        # Locked once in force, not before (rules.lock_refusal).
        allowed = rules.change_allowed_from(filing.valid_from, params)
        lock_until = allowed if allowed > today else None
    # Within the lock period (domain.md §2.1) neither is offered: the page says from which day
    # they can be asked for (the services refuse them until then).
    can_change = long_term_effective and lock_until is None
    can_cancel = filing.status in OPEN_STATUSES and lock_until is None
    deadline = filing.commitment_deadline
    owes_proof = bool(
        filing.status == Status.APPROVED and deadline and filing.materials_accepted_at is None
    )
    # Past the commitment deadline with nothing supplied in time, the nightly run revokes the
    # filing (filings/jobs.py `supplied_in_time`): a file uploaded now would not count.
    overdue = bool(
        owes_proof
        and deadline is not None
        and deadline < today
        and _supplied_on(filing, list(filing.materials.all())) is None
    )
    # What cancelling needs first (the service's own rule), said before it is asked for; the
    # upload form then offers that kind, not silently the first one in its list.
    cancel_missing = services.cancel_copies_missing(filing) if can_cancel else []
    # Overdue, only the copies cancelling needs can still be added.
    only_kinds = cancel_missing if overdue else None
    can_upload = (not overdue or bool(cancel_missing)) and (
        filing.status in EDITABLE
        or (
            filing.status == Status.APPROVED
            and filing.type in (FilingType.LONG_TERM, FilingType.REFERRAL)
        )
    )
    upload_form = _upload_form(
        filing, only_kinds, initial={"kind": _upload_kind(request, filing, cancel_missing)}
    )
    cancel_form, change_form = CancelForm(), ChangeRequestForm()
    if request.method == "POST" and request.POST.get("action") == "renew":
        try:
            renewal = services.filing_renew(
                filing=filing, actor=request.user, ip=client_ip(request)
            )
        except RuleError as error:
            messages.error(request, message(error))
            return redirect("filings:detail", number=number)
        messages.success(
            request,
            _(
                "Renewal %(n)s is saved as a draft: add the proof materials or choose the "
                "commitment, then submit it. Once approved it takes effect on %(d)s."
            )
            % {"n": renewal.number, "d": date_format(renewal.start_date, "Y-m-d")},
        )
        return redirect("filings:edit", number=renewal.number)
    if request.method == "POST":
        action = request.POST.get("action")
        late_copy = request.POST.get("kind") in cancel_missing  # overdue, still taken
        try:
            if action == "submit":
                services.filing_submit(
                    filing=filing,
                    actor=request.user,
                    ip=client_ip(request),
                    relatives_home=bool(request.POST.get("relatives_home")),
                    promised=bool(request.POST.get("promise")),
                )
                messages.success(request, _("Submitted: your agency will review it."))
            elif action == "cancel":
                cancel_form = CancelForm(request.POST)
                if cancel_form.is_valid():
                    services.filing_cancel(
                        filing=filing,
                        actor=request.user,
                        reason=cancel_form.cleaned_data["reason"],
                        ip=client_ip(request),
                    )
                    messages.success(request, _("The filing is cancelled."))
            elif action == "change":
                change_form = ChangeRequestForm(request.POST)
                if change_form.is_valid():
                    services.filing_request_change(
                        filing=filing,
                        actor=request.user,
                        what=change_form.cleaned_data["what"],
                        ip=client_ip(request),
                    )
                    messages.success(request, _("Your request was sent to the agency."))
            elif action == "upload" and overdue and deadline and not late_copy:
                messages.error(request, _overdue_said(deadline))  # a page from before it
            elif action == "upload" and not can_upload:  # a page from before it closed
                messages.error(
                    request,
                    _("This filing is %(status)s: materials can no longer be added to it.")
                    % {"status": filing.get_status_display()},
                )
            elif action == "upload":
                upload_form = _upload_form(filing, only_kinds, request.POST, request.FILES)
                if upload_form.is_valid():
                    data = upload_form.cleaned_data
                    stored, refusals = _store_files(
                        filing, data["kind"], data["files"], arrived=arrived
                    )
                    if stored:
                        # Stored: the page is fetched again (a reload must not send the files
                        # again), and the others' refusals, named, go with it.
                        messages.success(request, _uploaded_message(filing))
                        for refused in refusals:
                            messages.error(request, " ".join(refused.messages))
                    else:
                        for refused in refusals:  # named, beside the field
                            upload_form.add_error("files", refused)
        except RuleError as error:
            form = {"cancel": cancel_form, "change": change_form}.get(action)
            shown = {"cancel": can_cancel, "change": can_change}.get(action, False)
            if form is not None and shown:  # the form again, with what was typed
                form.add_error(None, message(error))
            elif action == "submit":  # focused, with the way to what is missing
                messages.error(request, _submit_refused(filing, error), extra_tags="focus-on-load")
            else:
                messages.error(request, _said(error))
        except uploads.UploadRefused as refused:
            upload_form.add_error("files", refused)
        if lock_until is not None and action in ("cancel", "change"):
            # Sent from a page older than the lock period (whose forms are not shown): refused
            # by the service, or incomplete, it is answered with the date they become possible.
            if cancel_form.errors or change_form.errors:
                refusal = rules.lock_refusal(filing.valid_from, filing.valid_until, params, today)
                messages.error(
                    request, message(refusal or RuleError("locked", allowed_from=lock_until))
                )
            cancel_form, change_form = CancelForm(), ChangeRequestForm()
        elif (action == "cancel" and cancel_form.errors and not can_cancel) or (
            action == "change" and change_form.errors and not can_change
        ):  # sent from a page older than the filing's new state: the form is not shown now
            messages.error(
                request,
                _("This filing is now %(status)s: what you sent no longer applies to it.")
                % {"status": filing.get_status_display()},
            )
            cancel_form, change_form = CancelForm(), ChangeRequestForm()
        if not (upload_form.errors or cancel_form.errors or change_form.errors):
            return redirect("filings:detail", number=number)
    materials = list(filing.materials.all())
    supplied_on = None
    days_left = None
    if owes_proof and deadline is not None:
        supplied_on = _supplied_on(filing, materials)
        if supplied_on is None:
            days_left = (deadline - today).days
    renewal = renewal_opens_on = None
    if long_term_effective and filing.valid_until:
        renewal = services.renewal_of(filing)
        renewal_opens_on = rules.renewal_opens_on(filing.valid_until)
    state = filing.status_now(today)
    # Ended (or its validity over, before the nightly run records it): what continues it, a
    # renewal or a referral's follow-up, rather than "file again".
    continued_by = None
    if state not in OPEN_STATUSES:
        continued_by = renewal or services.renewal_of(filing)
    can_renew = renewal is None and rules.may_renew(
        filing_type=filing.type, status=filing.status, valid_until=filing.valid_until, today=today
    )
    editable = filing.status in EDITABLE and (
        filing.type != FilingType.REFERRAL or filing.referral_source == "paper"
    )
    return render(
        request,
        "filings/detail.html",
        {
            "filing": filing,
            "state": state,
            "continued_by": continued_by,
            "events": _timeline(filing),
            "materials": [(m, kind_label(m.kind)) for m in materials],
            "hospitals": filing.hospitals.all(),
            "upload_form": upload_form,
            "cancel_form": cancel_form,
            "change_form": change_form,
            "lock_until": lock_until,
            "days_left": days_left,
            "overdue_said": _overdue_said(deadline) if overdue and deadline else "",
            "supplied_on": supplied_on,
            "valid_until": _shown_until(filing),
            "never_in_force": _never_in_force(filing),
            "documents": kinds_for(filing),
            "can_upload": can_upload,
            # A photo of a material opens in the browser (material_preview); a PDF downloads.
            "previewable": PREVIEWABLE,
            "can_edit": editable,
            # domain.md §2.1, §2.6: a renewal, reviewed before this filing ends, takes effect
            # the day after it ends.
            "renewal": renewal,
            "can_renew": can_renew,
            "renewal_opens_on": renewal_opens_on
            if renewal_opens_on and renewal_opens_on > today
            else None,
            "renewal_starts_on": rules.renewal_start(filing.valid_until) if can_renew else None,
            "can_submit": filing.status in EDITABLE,
            # A filing by commitment that holds a proof of residence is submitted with the
            # proof materials (services.filing_submit): its page asks for no promise.
            "proof_attached": any(
                m.refused_at is None and m.kind in commitment_proof_kinds(filing.subtype)
                for m in materials
            ),
            # The written commitment's period: the person's region's (§2.1: 6 months so far).
            "commitment_months": parameters_for(filing.insured_region).commitment_months,
            "ask_relatives_home": filing.type == FilingType.LONG_TERM
            and any(m.kind == MaterialKind.PROPERTY_CERTIFICATE for m in materials),
            "can_change": can_change,
            "can_cancel": can_cancel,
            "cancel_missing": cancel_missing,
            "cancel_needs": message(RuleError("cancel_needs_copies", missing=cancel_missing))
            if cancel_missing
            else "",
        },
    )


def _upload_form(filing: Filing, only_kinds: list[str] | None, *args, **kwargs) -> UploadForm:
    """The filing's upload form; `only_kinds`: the kinds it still takes, when not all."""
    form = UploadForm(*args, filing_type=filing.type, **kwargs)
    if only_kinds is not None:
        field: Any = form.fields["kind"]  # a ChoiceField
        field.choices = [(k, label) for k, label in field.choices if k in only_kinds]
    return form


def _overdue_said(deadline: datetime.date) -> str:
    return _(
        "The deadline to supply the materials (%(d)s) has passed without them: the filing will "
        "be revoked, and materials uploaded now no longer count. Once it is revoked, you can "
        "file again with a proof of residence."
    ) % {"d": date_format(deadline, "Y-m-d")}


def _upload_kind(request, filing: Filing, cancel_missing: list[str]) -> str | None:
    """The kind the upload form offers first: the one asked for (`?kind=`, the cancel form's
    link), else a copy cancelling needs when the filing owes no promised proof (a commitment
    filing's proof comes first), else the form's first."""
    offered = {k for k, _label in UploadForm(filing_type=filing.type).fields["kind"].choices}
    asked = request.GET.get("kind")
    if asked in offered:
        return asked
    owes_proof = filing.commitment_deadline and filing.materials_accepted_at is None
    if cancel_missing and not owes_proof and cancel_missing[0] in offered:
        return cancel_missing[0]
    return None


def _uploaded_message(filing: Filing) -> str:
    """What becomes of files just added: a draft's or a returned filing's wait for the person
    to submit it (the agency sees nothing before); an approved filing's go to the agency."""
    if filing.status == Status.DRAFT:
        return _(
            "Materials kept with the draft. The agency sees them only once you submit the "
            "filing: submit it when it is complete."
        )
    if filing.status == Status.RETURNED:
        return _(
            "Materials kept with the filing. The agency sees them once you submit the filing "
            "again: submit it when it is complete."
        )
    return _("Materials uploaded: the agency will check them.")


def _supplied_on(filing: Filing, materials: list[Material]) -> datetime.date | None:
    """The day the person last supplied the materials a commitment filing promised, while they
    await the agency's review (domain.md §2.1): uploaded after approval, by the deadline, not
    refused, as the nightly revocation counts them (filings/jobs.py `supplied_in_time`). None when
    nothing supplied awaits review."""
    days = [
        timezone.localdate(m.uploaded_at)
        for m in materials
        if m.kind in commitment_proof_kinds(filing.subtype)
        and m.refused_at is None
        and (filing.decided_at is None or m.uploaded_at > filing.decided_at)
        and timezone.localdate(m.uploaded_at) <= filing.commitment_deadline
    ]
    return max(days, default=None)


def _material(request, pk: int) -> tuple[Material, Path]:
    """The material and its file, for the owner, agency staff of the filing's region, or a
    superuser; 404 for anyone else."""
    material = Material.objects.select_related("filing__person").filter(pk=pk).first()
    user = request.user
    if material is None:
        raise Http404
    filing = material.filing
    region = agency_region(user)
    allowed = (
        user.is_superuser
        or filing.person.user_id == user.pk
        or (
            region is not None
            and region.pk == filing.insured_region_id
            and user.is_staff
            and agency_sees_material(material, filing)
        )
    )
    if not allowed:
        raise Http404
    path = Path(settings.PRIVATE_MEDIA_ROOT) / material.stored_name
    if not path.is_file():
        raise Http404
    # Who opened whose proof (a household register, a lease): in the access log, for the agency
    # reader with their region.
    access_log.record_file_read(
        purpose=MATERIAL_READ, file=str(material.pk), user=user, person=filing.person, region=region
    )
    return material, path


# The access log's purpose of a proof material opened on the site (hospitals.models.PURPOSES).
MATERIAL_READ = "material:web"


@login_required
def material_download(request, pk: int):
    material, path = _material(request, pk)
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=uploads.download_name(material.original_name, material.content_type),
        content_type=material.content_type,
    )


PREVIEWABLE = {"image/jpeg", "image/png"}


@login_required
def material_preview(request, pk: int):
    """An image material shown inline (the admin's preview). Images were re-encoded on upload,
    so what is shown is Pillow's output; PDFs are never shown inline, only downloaded."""
    material, path = _material(request, pk)
    if material.content_type not in PREVIEWABLE:
        raise Http404
    response = FileResponse(path.open("rb"), content_type=material.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def material_remove(request, pk: int):
    """Take a material back from one's own draft or returned filing, then back to editing it."""
    person = _person(request)
    material = get_object_or_404(
        Material.objects.select_related("filing"), pk=pk, filing__person=person
    )
    number = material.filing.number
    try:
        services.material_remove(material=material, actor=request.user, ip=client_ip(request))
    except RuleError as error:
        messages.error(request, message(error))
        return redirect("filings:detail", number=number)
    messages.success(
        request, _("%(name)s was taken off the filing.") % {"name": material.original_name}
    )
    return redirect("filings:edit", number=number)
