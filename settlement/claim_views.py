"""Insured persons' reimbursement claims: estimate, file, follow, answer a return."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from filings import uploads
from filings.pending import PendingUploads
from hospitals import access_log
from portal.audit import client_ip
from portal.lib.idchoice import row_id
from portal.models import AuditEvent
from portal.roles import agency_region
from portal.templatetags.portal_tags import yuan
from settlement import rules, services
from settlement.forms import (
    MAX_ITEMS,
    ClaimForm,
    ItemForm,
    ItemFormSet,
    ResubmitForm,
    item_rows,
)
from settlement.messages import flag_labels, message
from settlement.models import Claim, ClaimDocument, ClaimDocumentKind

ACTIONS = {
    "claim.submit": gettext_lazy("Submitted"),
    "claim.approve": gettext_lazy("Approved"),
    "claim.adjust_approve": gettext_lazy("Approved with an adjusted amount"),
    "claim.return": gettext_lazy("Returned for more information"),
    "claim.resubmit": gettext_lazy("Sent again"),
    "claim.reject": gettext_lazy("Rejected"),
    "claim.pay": gettext_lazy("Paid"),
}


def _timeline(claim: Claim) -> list[tuple[AuditEvent, str]]:
    events = AuditEvent.objects.filter(
        object_type="settlement.claim", object_id=str(claim.pk)
    ).order_by("created_at", "id")
    return [(e, ACTIONS.get(e.action, e.action)) for e in events]


def _detail_context(claim: Claim, resubmit_form=None) -> dict:
    return {
        "claim": claim,
        "events": _timeline(claim),
        "flags": flag_labels(claim.flags, claim.items),
        "documents": claim.documents.all(),
        "deadline": rules.claim_deadline(claim.discharged_on),
        "resubmit_form": resubmit_form,
    }


def _person(request):
    person = getattr(request.user, "insured", None)
    if person is None:
        raise Http404
    return person


def _own_claim(request, number: str) -> Claim:
    person = _person(request)
    return get_object_or_404(
        Claim.objects.select_related("hospital", "insured_region"), number=number, person=person
    )


@login_required
def claim_list(request):
    person = _person(request)
    claims = Claim.objects.filter(person=person).select_related("hospital")
    page = Paginator(claims, 20).get_page(request.GET.get("page"))
    return render(request, "settlement/claims.html", {"page": page, "person": person})


def _stage_documents(request, pending: PendingUploads) -> dict[str, list]:
    """Every document chosen this time through the upload pipeline now, whatever the rest of
    the form says: those that pass are kept (see filings.pending); the refusals by field."""
    refusals = {}
    for kind in ClaimDocumentKind:
        name = f"doc_{kind.value}"
        if found := pending.stage(request.FILES.getlist(name), kind.value):
            refusals[name] = found
    return refusals


def _document_label(kind: str) -> str:
    return str(ClaimDocumentKind(kind).label) if kind in ClaimDocumentKind.values else kind


ADD_ROWS = 4


def _with_more_rows(data):
    """The posted form with ADD_ROWS more empty item rows (up to the bill's limit). A count
    that is not a number ("abc", "²") is taken as none: the formset's own check of its
    management form answers that, as on any other press."""
    data = data.copy()
    data["items-TOTAL_FORMS"] = str(min(_posted_rows(data) + ADD_ROWS, MAX_ITEMS))
    return data


ROW_FIELDS = ("code", "name", "amount", "medication_days", "medication_kind")


def _with_file_rows(data, bill_items: list[dict]):
    """The posted form with the items read from the bill file as more item rows, after the
    rows with anything typed in them (the empty ones between are dropped): what was typed is
    kept, with its errors, and the file adds to it rather than replacing it."""
    fields = list(ItemForm.base_fields)
    merged = data.copy()
    for i in range(_posted_rows(data)):
        for name in fields:
            merged.pop(f"items-{i}-{name}", None)
    rows = [{name: data.get(f"items-{i}-{name}", "") for name in fields} for i in _typed_rows(data)]
    for row in item_rows(bill_items):
        rows.append({name: "" if value is None else str(value) for name, value in row.items()})
    for i, row in enumerate(rows):
        for name, value in row.items():
            merged[f"items-{i}-{name}"] = value
    merged["items-TOTAL_FORMS"] = str(len(rows))
    merged["items-INITIAL_FORMS"] = "0"
    return merged


def _typed_rows(data) -> list[int]:
    """The posted item rows with anything typed in them (a class alone is the default)."""
    return [
        i
        for i in range(_posted_rows(data))
        if any((data.get(f"items-{i}-{name}") or "").strip() for name in ROW_FIELDS)
    ]


def _posted_rows(data) -> int:
    try:
        return max(int(data.get("items-TOTAL_FORMS") or 0), 0)
    except ValueError:
        return 0


def _focus_first_new_row(formset, before: int) -> None:
    """The keyboard lands in the first of the rows just added (static/js/portal.js), not at
    the top of the page, so typing goes on where it left off."""
    if before < len(formset.forms):
        first = formset.forms[before]
        first.fields[next(iter(first.fields))].widget.attrs["data-focus-on-load"] = True


def _same_bill_message(claim: Claim) -> str:
    return _(
        "You have already claimed this bill: claim %(number)s, submitted on %(date)s, is for the "
        "same hospital, the same dates and the same total (%(total)s yuan). If this is another "
        "bill, tick “%(confirm)s” and submit again."
    ) % {
        "number": claim.number,
        "date": date_format(timezone.localtime(claim.submitted_at), "Y-m-d"),
        "total": yuan(claim.total),
        "confirm": ClaimForm.base_fields["different_bill"].label,
    }


@login_required
def claim_new(request):
    """One page: the stay, the bill (typed or uploaded), the documents. "Estimate" shows what
    the claim will likely pay without filing it; "Submit" files it. Nothing typed is lost."""
    person = _person(request)
    submitting = request.method == "POST" and "submit" in request.POST
    pending = PendingUploads(request, "claim:new")
    refusals = {}
    if request.method == "POST":
        pending.discard(request.POST.getlist("discard"))
        refusals = _stage_documents(request, pending)
    # A place chosen on the page asks for its hospitals (static/js/portal.js: `?place=`).
    place = row_id(request.GET.get("place")) if request.method != "POST" else None
    form = ClaimForm(
        request.POST or None,
        request.FILES or None,
        require_documents=submitting,
        kept_kinds=pending.kinds(),
        initial={"place_region": place} if place else None,
    )
    adding = request.method == "POST" and "add_rows" in request.POST
    rows = request.POST or None
    if request.method == "POST":
        form.is_valid()  # reads the bill file, when one was chosen
        if form.bill_items:
            # Its items go after the typed ones, which stay as they were sent.
            rows = _with_file_rows(request.POST, form.bill_items)
    formset = ItemFormSet(_with_more_rows(rows) if adding else rows, prefix="items")
    estimate = None
    if adding:
        # Four more empty rows for a longer bill: nothing is checked or filed yet, so what was
        # typed comes back as it was, without errors.
        form.errors.clear()
        for f in formset.forms:
            f.errors.clear()
        for name, errors in refusals.items():
            for refused in errors:
                form.add_error(name, refused)
    elif request.method == "POST":
        valid = form.is_valid() & formset.is_valid()
        for name, errors in refusals.items():
            for refused in errors:
                form.add_error(name, refused)
            valid = False
        items = []
        if valid:
            # The typed rows and the bill file's, one list (_with_file_rows).
            items = [item for f in formset.forms if (item := f.as_item()) is not None]
            if not items:
                form.add_error(None, _("Enter the bill's items or upload the itemised list."))
                valid = False
        if valid:
            data = form.cleaned_data
            stay = {
                "person": person,
                "hospital": data["hospital"],
                "care_type": data["care_type"],
                "admitted_on": data["admitted_on"],
                "discharged_on": data["discharged_on"],
                "items": items,
                "emergency": data["emergency"],
            }
            try:
                if submitting:
                    claim = services.claim_submit(
                        actor=request.user,
                        stored=pending.files(),
                        different_bill=data["different_bill"],
                        ip=client_ip(request),
                        **stay,
                    )
                    pending.clear()
                    messages.success(request, _("Claim submitted: your agency will review it."))
                    return redirect("settlement:claim-detail", number=claim.number)
                estimate = services.claim_estimate(**stay)
            except services.SameBill as same:
                form.same_bill = same.claim
                form.add_error(None, _same_bill_message(same.claim))
            except rules.RuleError as error:
                form.add_error(None, message(error))
            except services.SettlementError as error:
                form.add_error(None, error.message)
            except uploads.UploadRefused as refused:
                form.add_error(None, refused)
    bill_read = form.bill_items is not None
    if adding:
        _focus_first_new_row(formset, _posted_rows(rows))
    elif bill_read and formset.is_valid():
        # A browser never sends a file again: the items read from the list come back as rows
        # (after the typed ones), which the next press (estimate or submit) sends as typed
        # items. Rows in error stay as they were sent, with their errors.
        formset = ItemFormSet(
            initial=item_rows([i for f in formset.forms if (i := f.as_item()) is not None]),
            prefix="items",
        )
    return render(
        request,
        "settlement/claim_new.html",
        {
            "form": form,
            "bill_read": bill_read,
            "bill_rows": len(form.bill_items or ()),
            "typed_rows": len(_typed_rows(request.POST)) if bill_read else 0,
            "pending": pending.shown(_document_label),
            "kept_files": pending.token,
            "formset": formset,
            "estimate": estimate,
            "estimate_flags": flag_labels(estimate.flags) if estimate else [],
            "person": person,
        },
    )


@login_required
def claim_detail(request, number: str):
    claim = _own_claim(request, number)
    form = ResubmitForm() if claim.status == rules.RETURNED else None
    pending = PendingUploads(request, f"claim:{claim.number}:resubmit")  # a new, empty list
    context = _detail_context(claim, form)
    context["kept_files"] = pending.token
    return render(request, "settlement/claim_detail.html", context)


@login_required
def claim_resubmit(request, number: str):
    """The answer to a return; documents that passed the checks are kept when the rest of the
    answer does not (a bill that cannot be read, say), as on the claim form."""
    claim = _own_claim(request, number)
    if request.method != "POST":
        return redirect("settlement:claim-detail", number=number)
    pending = PendingUploads(request, f"claim:{claim.number}:resubmit")
    pending.discard(request.POST.getlist("discard"))
    refusals = pending.stage(
        request.FILES.getlist("documents"), ClaimDocumentKind.OTHER.value, claim.documents.count()
    )
    form = ResubmitForm(request.POST, request.FILES, kept=len(pending.items))
    if form.is_valid() and not refusals:
        try:
            services.claim_resubmit(
                claim=claim,
                actor=request.user,
                items=form.bill_items,
                stored=pending.files(),
                ip=client_ip(request),
            )
        except uploads.UploadRefused as refused:
            form.add_error("documents", refused)
        except rules.RuleError as error:
            form.add_error(None, message(error))
        else:
            pending.clear()
            messages.success(request, _("Sent again: your agency will review it."))
            return redirect("settlement:claim-detail", number=number)
    for refused in refusals:
        form.add_error("documents", refused)
    context = _detail_context(claim, form)
    context["pending"] = pending.shown(_document_label)
    context["kept_files"] = pending.token
    return render(request, "settlement/claim_detail.html", context)


# The access log's purpose of a claim's document opened on the site (hospitals.models.PURPOSES).
CLAIM_DOCUMENT_READ = "claim_document:web"


@login_required
def claim_document(request, number: str, pk: int):
    """The claimant, agency staff of the claim's region, or a superuser; 404 for anyone else."""
    document = (
        ClaimDocument.objects.select_related("claim__person")
        .filter(pk=pk, claim__number=number)
        .first()
    )
    if document is None:
        raise Http404
    user, claim = request.user, document.claim
    region = agency_region(user)
    allowed = (
        user.is_superuser
        or claim.person.user_id == user.pk
        or (region is not None and region.pk == claim.insured_region_id and user.is_staff)
    )
    if not allowed:
        raise Http404
    path = Path(settings.PRIVATE_MEDIA_ROOT) / document.stored_name
    if not path.is_file():
        raise Http404
    # Who opened whose discharge summary or medical record: in the access log, as a proof
    # material is (filings.views._material).
    access_log.record_file_read(
        purpose=CLAIM_DOCUMENT_READ,
        file=str(document.pk),
        user=user,
        person=claim.person,
        region=region,
    )
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=uploads.download_name(document.original_name, document.content_type),
        content_type=document.content_type,
    )
