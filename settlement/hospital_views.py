"""A hospital's direct settlements, on its clerks' desk: what the hospital submitted, which
ones the agency holds or returned, and the reviewer's decision and reason; as CSV for the
hospital's accounts."""

from __future__ import annotations

import csv
import datetime

from dateutil.relativedelta import relativedelta
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hospitals import access_log
from portal.lib import idnumbers
from portal.lib.text import plain, spreadsheet_text
from portal.middleware import export
from portal.models import AuditEvent
from portal.roles import clerk_hospital
from settlement import services
from settlement.clearing_views import BOM, Echo
from settlement.messages import breakdown_rows, flag_labels
from settlement.models import Settlement

PER_PAGE = 25
# The list pages through the newest 2,500 at most (100 pages): a deeper page is the last one,
# not an OFFSET into a hospital's whole history; older bills are found by month or number.
MAX_LISTED = 100 * PER_PAGE
# Bills the fund pays nothing on: their split is shown as not paid, not as amounts.
UNPAID = {Settlement.Status.REJECTED, Settlement.Status.RETURNED, Settlement.Status.VOIDED}
ACTIONS = {
    "settlement.approve": gettext_lazy("Approved on review"),
    "settlement.adjust_approve": gettext_lazy("Approved on review with an adjusted amount"),
    "settlement.reject": gettext_lazy("Rejected on review"),
    "settlement.void": gettext_lazy("Voided by the agency"),
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
    """The first day of a month typed as YYYY-MM (an <input type="month">), or None. A month
    whose end is past the last date there is (9999-12: a browser's month box takes it) is no
    month either: the list filters up to the next month's first day."""
    try:
        month = datetime.datetime.strptime(text, "%Y-%m").date()
        month + relativedelta(months=1)  # the range's end: past the calendar for 9999-12
    except (ValueError, OverflowError):
        return None
    return month


def _filtered(request, hospital, month: datetime.date | None = None):
    """The hospital's settlements under the list's filters, the filters as understood (state,
    settlement number or any part of it, such as the tail a patient reads out, month of
    discharge: `month` if given, else the list's), and the settlements under every filter but
    the state (what the state tabs count)."""
    status = request.GET.get("status", "")
    if status not in Settlement.Status.values:
        status = ""
    # Control characters out (a NUL is refused by PostgreSQL: a 500), at most a number's length.
    number = plain(request.GET.get("q", ""))[:24].upper()
    month_text = request.GET.get("month", "").strip()
    typed = _month(month_text)
    month = month or typed
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
        "month": f"{month:%Y-%m}" if month else "",
        "month_error": bool(month_text) and typed is None,
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


# What the CSV prints of each settlement, read as plain values: no model per row, none of its
# JSON (items, breakdown, flags, adjustment) decoded.
CSV_COLUMNS = (
    "number",
    "admitted_on",
    "discharged_on",
    "care_type",
    "person__name",
    "person__id_number",
    "category",
    "total",
    "fund_pay",
    "person_pay",
    "status",
    "review_reason",
)
# Rows written to the response at a time.
CSV_ROWS_A_WRITE = 500


def _export_month(request) -> datetime.date:
    """The month of discharge a CSV holds: the list's, or the current one when it names none
    (or one that is no month). One month at a time: a hospital's whole history, 100,000 rows,
    held a web worker for half a minute and came back cut short past its timeout."""
    return _month(request.GET.get("month", "").strip()) or timezone.localdate().replace(day=1)


def _labels(name: str) -> dict[str, str]:
    """A choice field's labels in the request's language, looked up once for a whole file."""
    field = Settlement._meta.get_field(name)
    assert isinstance(field, models.Field)
    return {value: str(label) for value, label in field.flatchoices}


@export
@login_required
def settlement_csv(request):
    """The list's settlements under the same filters, of one month of discharge (the list's,
    else the current one: `_export_month`), as CSV (UTF-8 with a byte order mark, so a
    spreadsheet reads the Chinese): the patient masked, as on the page."""
    hospital = clerk_hospital(request)
    shown, filters, _scope = _filtered(request, hospital, month=_export_month(request))
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
    care_types, categories, states = _labels("care_type"), _labels("category"), _labels("status")

    # A month's rows, read at once (through a cursor, PostgreSQL plans for the first rows and
    # walks every settlement in creation order for them), with the patient each names.
    rows = list(shown.values_list(*CSV_COLUMNS, "person__id_hash", "insured_region_id"))
    # Every patient the file names, before it is sent (it streams: a download cut short was
    # read in part all the same).
    _record_reads(request, hospital, [values[-2:] for values in rows])

    def row(
        number,
        admitted_on,
        discharged_on,
        care_type,
        name,
        id_number,
        category,
        total,
        fund_pay,
        person_pay,
        status,
        review_reason,
    ) -> str:  # CSV_COLUMNS, in their order
        return writer.writerow(
            [
                *map(
                    spreadsheet_text,
                    [
                        number,
                        admitted_on.isoformat(),
                        discharged_on.isoformat(),
                        care_types.get(care_type, care_type),
                        idnumbers.mask_name(name),
                        idnumbers.mask(id_number or ""),
                        categories.get(category, category),
                    ],
                ),
                total,
                # The fund pays nothing on a rejected or returned bill: no split to show.
                *(("", "") if status in UNPAID else (fund_pay, person_pay)),
                spreadsheet_text(states.get(status, status)),
                spreadsheet_text(review_reason),
            ]
        )

    def content():
        yield BOM + writer.writerow(header)
        for start in range(0, len(rows), CSV_ROWS_A_WRITE):
            yield "".join(row(*values[:-2]) for values in rows[start : start + CSV_ROWS_A_WRITE])

    name = "-".join([hospital.code, "settlements", filters["month"]])
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
    # The same stay settled before by this hospital, both standing: likely a bill sent twice.
    # (An earlier settlement at another hospital is the agency's to see, not this one's.)
    sent_before = None
    if settlement.status in services.STANDING:
        twin = services.earlier_twin(
            services.stay_of(settlement),
            total=settlement.total,
            before_id=settlement.pk,
            same_hospital=True,
        )
        sent_before = Settlement.objects.filter(pk=twin).first() if twin else None
    return render(
        request,
        "settlement/hospital_settlement.html",
        {
            "hospital": hospital,
            "s": settlement,
            "breakdown": breakdown_rows(settlement.breakdown),
            "flags": flag_labels(settlement.flags, settlement.items),
            "sent_before": sent_before,
            "events": [(e, ACTIONS.get(e.action, e.action)) for e in events],
        },
    )
