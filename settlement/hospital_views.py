"""A hospital's direct settlements, on its clerks' desk: what the hospital submitted, which
ones the agency holds or returned, and the reviewer's decision and reason; as CSV for the
hospital's accounts."""

from __future__ import annotations

import csv
import datetime

from dateutil.relativedelta import relativedelta
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hospitals import access_log
from portal.lib.text import plain, spreadsheet_text
from portal.middleware import export
from portal.models import AuditEvent
from portal.roles import clerk_hospital
from settlement.clearing_views import BOM, Echo
from settlement.messages import breakdown_rows, flag_labels
from settlement.models import Settlement

PER_PAGE = 25
# The list pages through the newest 2,500 at most (100 pages): a deeper page is the last one,
# not an OFFSET into a hospital's whole history; older bills are found by month or number.
MAX_LISTED = 100 * PER_PAGE
# Bills the fund pays nothing on: their split is shown as not paid, not as amounts.
UNPAID = {Settlement.Status.REJECTED, Settlement.Status.RETURNED}
ACTIONS = {
    "settlement.approve": gettext_lazy("Approved on review"),
    "settlement.adjust_approve": gettext_lazy("Approved on review with an adjusted amount"),
    "settlement.reject": gettext_lazy("Rejected on review"),
    "settlement.return": gettext_lazy("Returned to the hospital"),
}


# The access log's purpose of a clerk's read of the settlements on these pages ("Direct
# settlement (web page)"); a person's row read again by the same clerk within
# READ_LOG_FOLD_SECONDS counts on the row already written (AccessLog.calls).
READ_PURPOSE = "settlement:web"
READ_LOG_FOLD_SECONDS = 600


def _record_reads(request, hospital, subjects) -> None:
    """One access-log row per patient read (masked name and ID, amounts, the reviewer's
    reason): the agency's access log answers "who read this person's settlements" by the
    person's ID number (a row per page naming no one could not)."""
    access_log.record_reads(
        fold=f"{READ_PURPOSE}:{request.user.pk}:{hospital.pk}",
        seconds=READ_LOG_FOLD_SECONDS,
        subjects=subjects,
        actor_id=request.user.pk,
        hospital_id=hospital.pk,
        purpose=READ_PURPOSE,
        outcome="found",
    )


def _month(text: str) -> datetime.date | None:
    """The first day of a month typed as YYYY-MM (an <input type="month">), or None."""
    try:
        return datetime.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        return None


def _filtered(request, hospital):
    """The hospital's settlements under the list's filters, the filters as understood (state,
    settlement number or any part of it, such as the tail a patient reads out, month of
    discharge), and the settlements under every filter but the state (what the state tabs
    count)."""
    status = request.GET.get("status", "")
    if status not in Settlement.Status.values:
        status = ""
    # Control characters out (a NUL is refused by PostgreSQL: a 500), at most a number's length.
    number = plain(request.GET.get("q", ""))[:24].upper()
    month_text = request.GET.get("month", "").strip()
    month = _month(month_text)
    scope = Settlement.objects.filter(hospital=hospital)
    if number:
        scope = scope.filter(number__contains=number)
    if month:
        # A date range, not EXTRACT(MONTH): an index on the discharge date can serve it.
        scope = scope.filter(
            discharged_on__gte=month, discharged_on__lt=month + relativedelta(months=1)
        )
    shown = scope.filter(status=status) if status else scope
    filters = {
        "status": status,
        "q": number,
        "month": month_text if month else "",
        "month_error": bool(month_text) and month is None,
    }
    return shown.select_related("person").order_by("-created_at", "-id"), filters, scope


@login_required
def settlement_list(request):
    """Newest first, by state (the agency's queue of held ones, the returned ones to answer),
    settlement number and month of discharge; 25 a page, the newest MAX_LISTED at most (a page
    past the last is the last)."""
    hospital = clerk_hospital(request)
    shown, filters, scope = _filtered(request, hospital)
    # The tabs count what the number and month leave, so a tab's count is what it lists.
    # COUNT(*), not COUNT(id): read from settlement_hospital_status alone (an index-only scan).
    by_status = scope.values("status").annotate(n=Count("*"))
    counts = {row["status"]: row["n"] for row in by_status.order_by()}
    tabs = [("", gettext_lazy("All"), sum(counts.values()))]
    tabs += [(value, label, counts.get(value, 0)) for value, label in Settlement.Status.choices]
    page = Paginator(shown[:MAX_LISTED], PER_PAGE).get_page(request.GET.get("page"))
    _record_reads(
        request, hospital, [(s.person.id_hash, s.insured_region_id) for s in page.object_list]
    )
    return render(
        request,
        "settlement/hospital_settlements.html",
        {
            "hospital": hospital,
            "page": page,
            "max_listed": MAX_LISTED,
            "tabs": tabs,
            **filters,
        },
    )


@export
@login_required
def settlement_csv(request):
    """The list's settlements under the same filters, every page, as CSV (UTF-8 with a byte
    order mark, so a spreadsheet reads the Chinese): the patient masked, as on the page."""
    hospital = clerk_hospital(request)
    shown, filters, _scope = _filtered(request, hospital)
    writer = csv.writer(Echo())
    header = [
        _("Settlement number"),
        _("Admitted on"),
        _("Discharged on"),
        _("Care type"),
        _("Patient"),
        _("ID number"),
        _("Category"),
        _("Total"),
        _("Fund pays"),
        _("Person pays"),
        _("Status"),
        _("Reviewer's reason"),
    ]

    # Every patient the file names, before it is sent (it streams: a download cut short was
    # read in part all the same).
    _record_reads(
        request,
        hospital,
        shown.order_by().values_list("person__id_hash", "insured_region_id").distinct(),
    )

    def content():
        yield BOM
        yield writer.writerow(header)
        for s in shown.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    *map(
                        spreadsheet_text,
                        [
                            s.number,
                            s.admitted_on.isoformat(),
                            s.discharged_on.isoformat(),
                            s.get_care_type_display(),
                            s.person.masked_name,
                            s.person.masked_id,
                            s.get_category_display(),
                        ],
                    ),
                    s.total,
                    # The fund pays nothing on a rejected or returned bill: no split to show.
                    *(("", "") if s.status in UNPAID else (s.fund_pay, s.person_pay)),
                    spreadsheet_text(s.get_status_display()),
                    spreadsheet_text(s.review_reason),
                ]
            )

    name = "-".join(p for p in [hospital.code, "settlements", filters["month"]] if p)
    response = StreamingHttpResponse(content(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@login_required
def settlement_detail(request, number: str):
    """One settlement of this hospital (another hospital's does not exist here: 404)."""
    hospital = clerk_hospital(request)
    settlement = get_object_or_404(
        Settlement.objects.select_related("person", "insured_region"),
        number=number,
        hospital=hospital,
    )
    _record_reads(request, hospital, [(settlement.person.id_hash, settlement.insured_region_id)])
    events = AuditEvent.objects.filter(
        object_type="settlement.settlement", object_id=str(settlement.pk)
    ).order_by("created_at", "id")
    return render(
        request,
        "settlement/hospital_settlement.html",
        {
            "hospital": hospital,
            "s": settlement,
            "breakdown": breakdown_rows(settlement.breakdown),
            "flags": flag_labels(settlement.flags, settlement.items),
            "events": [(e, ACTIONS.get(e.action, e.action)) for e in events],
        },
    )
