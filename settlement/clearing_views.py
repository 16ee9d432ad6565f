"""Download a clearing statement as CSV (for Excel) or PDF: only the agencies of its two regions
and superusers; to anyone else it does not exist (404)."""

from __future__ import annotations

import csv

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from portal.lib.text import spreadsheet_text
from portal.middleware import export
from settlement import clearing
from settlement.models import ClearingLine, ClearingStatement, Settlement

BOM = "\ufeff"


def _visible_statement(request, number: str) -> ClearingStatement:
    statement = clearing.visible_statements(request.user).filter(number=number).first()
    if statement is None:
        raise Http404
    return statement


def _region(region) -> str:
    return f"{region.display_name} ({region.code})"


def _successor(statement: ClearingStatement) -> ClearingStatement | None:
    try:
        return statement.superseded_by
    except ClearingStatement.DoesNotExist:
        return None


class Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(statement: ClearingStatement):
    """The statement's rows for its CSV. Text cells (numbers, names, hospital codes, which another
    region's staff typed) go through spreadsheet_text: none opens as a formula in Excel or WPS;
    amounts and counts stay numbers."""
    text = spreadsheet_text
    successor = _successor(statement)
    yield [_("Clearing statement"), text(statement.number)]
    yield [_("Month"), f"{statement.period:%Y-%m}"]
    yield [_("Place of treatment"), text(_region(statement.treatment_region))]
    yield [_("Place of insurance"), text(_region(statement.insured_region))]
    yield [_("Version"), statement.version]
    yield [_("Status"), text(statement.get_status_display())]
    yield [_("Supersedes"), text(statement.supersedes.number) if statement.supersedes else ""]
    yield [_("Superseded by"), text(successor.number) if successor else ""]
    yield [_("Settlements"), statement.settlement_count]
    yield [_("Total"), statement.total]
    yield [_("Fund payments"), statement.fund_pay]
    yield [_("Paid by persons"), statement.person_pay]
    yield []
    yield [
        _("Settlement number"),
        _("Hospital code"),
        _("Discharged on"),
        _("Total"),
        _("Fund pays"),
        _("Person pays"),
        _("Since issued"),
    ]
    lines = (
        ClearingLine.objects.filter(statement=statement)
        .order_by("settlement__hospital__code", "settlement__number")
        .values_list(
            "settlement__number",
            "settlement__hospital__code",
            "settlement__discharged_on",
            "total",
            "fund_pay",
            "person_pay",
            "settlement__status",
        )
    )
    # A settlement voided after the statement was issued (services.settlement_void) stays on it
    # as issued; the line says so, and a corrected statement leaves it off.
    voided = _("voided: a corrected statement leaves it off")
    for number, code, discharged_on, total, fund_pay, person_pay, now in lines.iterator(2000):
        since = voided if now == Settlement.Status.VOIDED else ""
        yield [
            text(number),
            text(code),
            discharged_on.isoformat(),
            total,
            fund_pay,
            person_pay,
            since,
        ]


@export
def statement_csv(request, number: str):
    statement = _visible_statement(request, number)
    writer = csv.writer(Echo())

    def content():
        # The byte order mark makes Excel read the file as UTF-8 (Chinese names intact).
        yield BOM
        for row in _csv_rows(statement):
            yield writer.writerow(row)

    response = StreamingHttpResponse(content(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{statement.number}.csv"'
    return response


def render_pdf(statement: ClearingStatement, *, lang: str, link=lambda number: "") -> bytes:
    """The statement as A4 PDF in `lang`: totals, per-hospital subtotals, discrepancies."""
    from portal.lib import pdf

    with translation.override(lang):
        english = lang.startswith("en")
        hospitals = [
            {**row, "display": (row["name_en"] if english and row["name_en"] else row["name"])}
            for row in clearing.hospital_subtotals(statement)
        ]
        successor = _successor(statement)
        context = {
            "lang": lang,
            "statement": statement,
            "treatment": _region(statement.treatment_region),
            "insured": _region(statement.insured_region),
            "hospitals": hospitals,
            "discrepancies": list(
                statement.discrepancies.select_related("reported_by").order_by("created_at", "id")
            ),
            "supersedes": statement.supersedes,
            "correction_reason": clearing.correction_reason(statement),
            "supersedes_url": link(statement.supersedes.number) if statement.supersedes else "",
            "successor": successor,
            "successor_url": link(successor.number) if successor else "",
            "printed": timezone.localtime(),
        }
        return pdf.render_template("pdf/clearing_statement.html", context)


@export
def statement_pdf(request, number: str):
    statement = _visible_statement(request, number)
    lang = "en" if (get_language() or "").startswith("en") else "zh-hans"
    content = render_pdf(
        statement,
        lang=lang,
        link=lambda n: request.build_absolute_uri(reverse("settlement:statement-pdf", args=[n])),
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement.number}.pdf"'
    return response
