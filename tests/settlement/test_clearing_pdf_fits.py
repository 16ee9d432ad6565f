"""The clearing statement's PDF keeps every column on the A4 page in both languages, even at the
largest amount a settlement can hold: the agency that pays reads each figure whole."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.utils import timezone

from settlement import clearing
from settlement.clearing_views import render_pdf
from settlement.models import ClearingDiscrepancy, Settlement
from tests.settling import settle_today

pytestmark = pytest.mark.django_db
LARGEST = Decimal("9999999999.99")  # rules.MAX_BILL_TOTAL
FUND, PERSON = Decimal("8888888888.88"), Decimal("1111111111.11")
# A4 is 595.28 points wide; static/pdf/pdf.css leaves a margin of 16 mm (45.35 pt) each side.
RIGHT_EDGE = 595.28 - 45.35
WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>'
)


def _words(content: bytes, tmp_path) -> list[tuple[float, float, str]]:
    """Each word of the PDF with where it starts and ends across the page, in points."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is missing: run `make run` (it installs it)")
    path = tmp_path / "statement.pdf"
    path.write_bytes(content)
    out = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [(float(x0), float(x1), word) for x0, x1, word in WORD.findall(out)]


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_the_statement_pdf_keeps_the_largest_amounts_on_the_page(demo, lang, tmp_path):
    last_month = clearing.month_start(timezone.localdate()) - datetime.timedelta(days=1)
    settlement = settle_today(
        "10000.00", admitted_on=last_month - datetime.timedelta(days=2), discharged_on=last_month
    )
    Settlement.objects.filter(pk=settlement.pk).update(
        total=LARGEST, fund_pay=FUND, person_pay=PERSON
    )
    (statement,) = clearing.generate_statements(period=clearing.month_start(last_month))
    assert (statement.total, statement.fund_pay, statement.person_pay) == (LARGEST, FUND, PERSON)
    ClearingDiscrepancy.objects.create(
        statement=statement,
        settlement_number=settlement.number,
        kind=ClearingDiscrepancy.Kind.AMOUNT,
        amount=LARGEST,
        description="金额有误",
    )

    words = _words(render_pdf(statement, lang=lang), tmp_path)

    beyond = [word for _start, end, word in words if end > RIGHT_EDGE]
    assert not beyond, beyond
    amounts = [word for _start, _end, word in words]
    # Each amount whole: in the summary, the hospital's row and the total row (and the
    # discrepancy's amount in question).
    assert amounts.count("9,999,999,999.99") >= 3 + 1
    assert amounts.count("8,888,888,888.88") >= 3
    assert amounts.count("1,111,111,111.11") >= 3
