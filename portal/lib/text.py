"""Text put together from translated pieces, and free text as typed, made safe to keep."""

from __future__ import annotations

import unicodedata

from django import forms

# What makes a spreadsheet read a cell as a formula (or, for tab and CR, shift it so it is).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A sentence that ends in one of these (Chinese punctuation) is followed at once, without a space.
_FULL_WIDTH_ENDS = ("。", "！", "？", "；", "：", "）", "」", "”")


def sentences(*parts: str) -> str:
    """Sentences in a row as their language writes them: `"补齐。" + "补交期限…"` with no space
    between, `"outstanding." + " Deadline…"` with one. Empty parts are left out."""
    text = ""
    for part in parts:
        if not part:
            continue
        if text and not text.endswith(_FULL_WIDTH_ENDS):
            text += " "
        text += part
    return text


def enumeration(items) -> str:
    """Items listed as the reader's language lists them: "甲、乙、丙" in Chinese, "a, b, c" in
    English."""
    from django.utils.translation import pgettext

    return pgettext("list separator", ", ").join(str(item) for item in items)


def plain(value: str) -> str:
    """A name or a short free text as it is kept and printed: NFC, without invisible format
    characters (a right-to-left override that would print a signature's date backwards, a
    zero-width space that makes a name "not found"), without control characters, trimmed.
    Full-width letters stay as typed (NFC, not NFKC): they are a person's writing."""
    value = unicodedata.normalize("NFC", value or "")
    return "".join(
        ch for ch in value if unicodedata.category(ch) not in ("Cf", "Cc") or ch in "\n\t"
    ).strip()


class PlainTextField(forms.CharField):
    """A form's name or free text, cleaned by `plain` before its length and required checks."""

    def to_python(self, value):
        value = super().to_python(value)
        return plain(value) if value else value


def spreadsheet_text(value) -> str:
    """A text cell of a CSV as plain text in Excel or WPS: one that would start a formula, such
    as a reviewer's reason "=HYPERLINK(...)", gets a leading apostrophe, which the spreadsheet
    shows as text. For text columns only: an amount stays a number, a negative one too."""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def spreadsheet_text_xlsx(workbook: bytes) -> bytes:
    """An XLSX export whose cells are all data, never formulas: a text that would start one
    ("=HYPERLINK(...)", "-2+3") is a text cell marked as text (Excel's quotePrefix), so Excel
    and WPS neither run it nor show an apostrophe, and it stays text when the cell is edited.
    The XLSX counterpart of `spreadsheet_text`, whose apostrophe a typed cell would show."""
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(workbook))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                # openpyxl reads any text that starts with "=" as a formula ("f"), and "#N/A" as
                # an error ("e"): both were texts when they were written.
                text = cell.data_type in ("f", "e") or (
                    cell.data_type == "s" and str(cell.value).startswith(FORMULA_START)
                )
                if text:
                    cell.data_type = "s"
                    cell.quotePrefix = True
    out = BytesIO()
    book.save(out)
    return out.getvalue()
