"""Insured persons' self-service: file, follow, supply materials, cancel; material downloads."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from filings import rules, services, uploads
from filings.documents import kinds_for
from filings.forms import CancelForm, FilingForm, UploadForm
from filings.messages import message
from filings.models import Filing, FilingType, Material, Status
from filings.rules import RuleError
from filings.selectors import filings_of, is_working_day_function, parameters_for, timeline
from portal.audit import client_ip
from portal.roles import agency_region

TITLES = {
    "long_term": gettext_lazy("Long-term residence filing"),
    "temporary": gettext_lazy("Other temporary treatment filing"),
    "emergency": gettext_lazy("Emergency retro-filing"),
    "chronic_outpatient": gettext_lazy("Outpatient chronic and special disease filing"),
    "referral": gettext_lazy("Register a paper referral"),
}


def _person(request):
    person = getattr(request.user, "insured", None)
    if person is None:
        raise Http404
    return person


@login_required
def filing_list(request):
    person = _person(request)
    return render(
        request,
        "filings/list.html",
        {
            "filings": filings_of(request.user),
            "person": person,
            "types": TITLES,
        },
    )


def _store_files(filing: Filing, kind: str, files) -> None:
    uploads.check_count(filing.materials.count(), len(files))
    checked = [uploads.check_upload(f) for f in files]
    for item in checked:
        stored = uploads.store(item, settings.PRIVATE_MEDIA_ROOT)
        Material.objects.create(
            filing=filing,
            kind=kind or "other",
            stored_name=stored,
            original_name=item.original_name,
            content_type=item.content_type,
            size=len(item.content),
        )


@login_required
def filing_new(request, filing_type: str):
    person = _person(request)
    if filing_type not in TITLES:
        raise Http404
    form = FilingForm(
        request.POST or None, request.FILES or None, filing_type=filing_type, person=person
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                filing = _create(request, person, filing_type, data)
                if data.get("files"):
                    _store_files(
                        filing,
                        data.get("material_kind") or _default_kind(filing_type),
                        data["files"],
                    )
                if "draft" not in request.POST:
                    filing = services.filing_submit(
                        filing=filing, actor=request.user, ip=client_ip(request)
                    )
        except RuleError as error:
            form.add_error(None, message(error))
        except uploads.UploadRefused as refused:
            form.add_error("files", refused)
        else:
            if filing.status == Status.APPROVED and filing_type == "temporary":
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
            return redirect("filings:detail", number=filing.number)
    return render(
        request,
        "filings/new.html",
        {"form": form, "title": TITLES[filing_type], "filing_type": filing_type},
    )


def _default_kind(filing_type: str) -> str:
    return {"referral": "referral_scan", "emergency": "other"}.get(filing_type, "other")


def _create(request, person, filing_type: str, data: dict) -> Filing:
    place = data["place_region"]
    fields = {"place_province": place.province, "place_region": place}
    care = set(data.get("care") or ["inpatient", "general_outpatient"])
    if filing_type == "chronic_outpatient":
        care = {"chronic_outpatient"}
    if filing_type in ("emergency", "referral"):
        care = {"inpatient"}
    fields.update(
        covers_inpatient="inpatient" in care,
        covers_general_outpatient="general_outpatient" in care,
        covers_chronic_outpatient="chronic_outpatient" in care,
        start_date=data.get("start_date") or timezone.localdate(),
    )
    hospitals = []
    if filing_type == "long_term":
        params = parameters_for(person.region)
        hospitals = list(data.get("hospitals") or [])
        rules.check_hospital_choice(
            [
                rules.HospitalChoice(h.code, h.region.code, h.level, h.kind, h.ownership)
                for h in hospitals
            ],
            params,
            place.code,
        )
        fields.update(
            subtype=data["subtype"],
            basis=data["basis"],
            agent_name=data.get("agent_name", ""),
            agent_id_number=data.get("agent_id_number") or None,
            agent_relationship=data.get("agent_relationship", ""),
        )
    elif filing_type == "emergency":
        rules.check_emergency_retro_filing(
            transfer_date=data["transfer_date"],
            today=timezone.localdate(),
            discharge_settled=data.get("discharge_settled", False),
            is_working_day=is_working_day_function(),
        )
        fields.update(
            transfer_date=data["transfer_date"],
            diagnosis=data["diagnosis"],
            receiving_hospital=data["receiving_hospital"],
        )
    elif filing_type == "chronic_outpatient":
        fields.update(disease=data["disease"])
    elif filing_type == "referral":
        fields.update(
            receiving_hospital=data["receiving_hospital"],
            diagnosis=data["diagnosis"],
            referral_condition=data["referral_condition"],
            attending_doctor=data["attending_doctor"],
            director_signed_by=data["director_signed_by"],
            medical_office_signed_by=data["medical_office_signed_by"],
            referral_source="paper",
        )
    return services.filing_create(
        person=person,
        actor=request.user,
        filing_type=filing_type,
        hospitals=hospitals,
        ip=client_ip(request),
        **fields,
    )


@login_required
def filing_detail(request, number: str):
    person = _person(request)
    filing = get_object_or_404(
        Filing.objects.select_related(
            "place_region", "place_province", "insured_region", "receiving_hospital", "person"
        ),
        number=number,
        person=person,
    )
    upload_form, cancel_form = UploadForm(), CancelForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "submit":
                services.filing_submit(filing=filing, actor=request.user, ip=client_ip(request))
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
            elif action == "upload":
                upload_form = UploadForm(request.POST, request.FILES)
                if upload_form.is_valid():
                    _store_files(
                        filing, upload_form.cleaned_data["kind"], upload_form.cleaned_data["files"]
                    )
                    messages.success(request, _("Materials uploaded: the agency will check them."))
        except RuleError as error:
            messages.error(request, message(error))
        except uploads.UploadRefused as refused:
            upload_form.add_error("files", refused)
        if not (upload_form.errors or cancel_form.errors):
            return redirect("filings:detail", number=number)
    params = parameters_for(filing.insured_region)
    today = timezone.localdate()
    lock_until = None
    if (
        filing.status == Status.APPROVED
        and filing.type == FilingType.LONG_TERM
        and filing.valid_from
    ):
        allowed = rules.change_allowed_from(filing.valid_from, params)
        lock_until = allowed if allowed > today else None
    days_left = (
        (filing.commitment_deadline - today).days
        if filing.commitment_deadline and filing.materials_accepted_at is None
        else None
    )
    return render(
        request,
        "filings/detail.html",
        {
            "filing": filing,
            "events": [
                (e, dict(Status.choices).get(e.to_state, e.action)) for e in timeline(filing)
            ],
            "materials": filing.materials.all(),
            "hospitals": filing.hospitals.all(),
            "upload_form": upload_form,
            "cancel_form": cancel_form,
            "lock_until": lock_until,
            "days_left": days_left,
            "documents": kinds_for(filing),
            "can_upload": filing.status in (Status.DRAFT, Status.RETURNED)
            or (filing.status == Status.APPROVED and days_left is not None),
            "can_submit": filing.status in (Status.DRAFT, Status.RETURNED),
            "can_cancel": filing.status
            in (Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.APPROVED),
        },
    )


@login_required
def material_download(request, pk: int):
    """The owner, agency staff of the filing's region, or a superuser; 404 for anyone else."""
    material = Material.objects.select_related("filing__person").filter(pk=pk).first()
    user = request.user
    if material is None:
        raise Http404
    filing = material.filing
    region = agency_region(user)
    allowed = (
        user.is_superuser
        or filing.person.user_id == user.pk
        or (region is not None and region.pk == filing.insured_region_id and user.is_staff)
    )
    if not allowed:
        raise Http404
    path = Path(settings.PRIVATE_MEDIA_ROOT) / material.stored_name
    if not path.is_file():
        raise Http404
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=material.original_name,
        content_type=material.content_type,
    )
