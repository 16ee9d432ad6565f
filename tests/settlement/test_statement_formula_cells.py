"""A clearing statement's CSV opened in Excel or WPS by the other region's agency: a hospital code
or a settlement number typed by someone else is never a formula there (behind an apostrophe, as
the hospitals' and the dashboard's CSVs), and amounts stay numbers. An XLSX made from such text
has it as text cells, shown without an apostrophe."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from hospitals.models import Hospital
from portal.lib.text import spreadsheet_text_xlsx
from portal.models import InsuredPerson, Region
from settlement import clearing
from settlement.models import ClearingStatement, Settlement
from tests.signin import staff_login

pytestmark = pytest.mark.django_db

PERIOD = datetime.date(2026, 10, 1)
FORMULA = "=2+5"


@pytest.fixture
def statement(demo) -> ClearingStatement:
    """Harbin's statement to Daxinganling for PERIOD, with one stay at a hospital whose code
    was stored as a formula (before codes were checked)."""
    harbin = Hospital.objects.filter(region__code="230100").first()
    harbin.pk, harbin.code, harbin.name = None, FORMULA, "公式医院"
    harbin.save()
    wang = InsuredPerson.objects.get(name="王秀兰")
    Settlement.objects.create(
        number="-JS2026100001",
        hospital=harbin,
        person=wang,
        insured_region=Region.objects.get(code="232700"),
        request_hash="test",
        category="referral",
        policy_year=2026,
        care_type="inpatient",
        admitted_on=datetime.date(2026, 10, 2),
        discharged_on=datetime.date(2026, 10, 12),
        total=Decimal("2000.00"),
        fund_pay=Decimal("750.00"),
        person_pay=Decimal("1250.00"),
        status="settled",
    )
    clearing.generate_statements(period=PERIOD)
    return ClearingStatement.objects.get(
        period=PERIOD, treatment_region__code="230100", insured_region__code="232700"
    )


def _rows(client, statement) -> list[list[str]]:
    response = client.get(reverse("settlement:statement-csv", args=[statement.number]))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("username", ["agency_dxal", "admin"])
def test_a_hospital_code_like_a_formula_is_plain_text_in_the_statement_csv(
    client, statement, username
):
    staff_login(client, username)
    rows = _rows(client, statement)
    line = next(row for row in rows if row[1:2] == ["'" + FORMULA])
    assert line[0] == "'-JS2026100001"  # the settlement number too
    assert line[3:6] == ["2000.00", "750.00", "1250.00"]  # amounts stay numbers
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "@", "\t"))]
    assert rows[0][1] == statement.number  # a number that is no formula is as it was


def test_a_region_named_like_a_formula_is_plain_text_in_the_statement_csv(client, statement):
    Region.objects.filter(code="230100").update(name="@SUM(1)")
    staff_login(client, "agency_dxal")
    rows = _rows(client, statement)
    assert rows[2][1].startswith("'@SUM(1)")


def test_an_xlsx_has_formula_like_texts_as_text_cells_without_an_apostrophe():
    from openpyxl import Workbook, load_workbook

    book = Workbook()
    sheet = book.active
    texts = [FORMULA, "-2+3", "+86 10", "@SUM(A1)", "#N/A", "医院"]
    for text in texts:
        sheet.append([text, 12])
    assert sheet["A1"].data_type == "f"  # what openpyxl (and so an export) makes of "=2+5"
    out = io.BytesIO()
    book.save(out)

    sheet = load_workbook(io.BytesIO(spreadsheet_text_xlsx(out.getvalue()))).active
    for row, text in enumerate(texts, start=1):
        cell = sheet.cell(row=row, column=1)
        assert (cell.value, cell.data_type) == (text, "s")
        assert cell.quotePrefix == (text != "医院")
        assert sheet.cell(row=row, column=2).value == 12
