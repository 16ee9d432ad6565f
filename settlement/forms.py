"""Forms of the person's reimbursement claim and the reviewer's decisions."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from filings.forms import HospitalSelect, MultipleFileField, list_the_places_hospitals
from hospitals.models import CareType, Hospital
from portal.lib.idchoice import IdChoiceField, row_id
from portal.lib.text import PlainTextField, enumeration
from portal.models import Region
from portal.templatetags.portal_tags import yuan
from settlement import rules
from settlement.messages import ITEM_CLASSES, message
from settlement.models import ClaimDocumentKind

DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
MAX_ITEMS = 500
MAX_BILL_BYTES = 2 * 1024 * 1024
MAX_AMOUNT_DIGITS = 8  # digits before the point: 99,999,999.99 at most, as ItemForm
# An XLSX is a zip: what it unpacks to is checked before openpyxl unpacks anything. A bill of
# 500 rows unpacks to well under 1 MB, and spreadsheet XML packs about 10 to 1; a zip bomb (one
# cell of 300 MB packed into 310 KB) is over both.
MAX_UNPACKED_BYTES = 20 * 1024 * 1024
MAX_PACKING_RATIO = 100
PACKING_CHECKED_FROM = 1024 * 1024  # a small member may pack tighter without harm
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an .xls, or an XLSX with a password
BILL_COLUMNS = 6  # code, name, class, amount, days, kind: the rest of a row is not read
MAX_SHEET_ROWS = 10 * MAX_ITEMS  # rows of a sheet read, empty ones between items included
# Unicode category Cc but the tab: NUL, line breaks, escapes, C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
AMOUNT = re.compile(r"[0-9]+(\.[0-9]+)?")
GROUPED_AMOUNT = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")
CLASSES = list(ITEM_CLASSES.items())
MEDICATION_KINDS = [
    ("", _("Not discharge medication")),
    ("acute", _("Discharge medication, acute")),
    ("chronic", _("Discharge medication, chronic")),
    ("special", _("Discharge medication, special disease")),
]
# Documents a claim needs (domain.md §3.4); the referral form only where one applies.
REQUIRED_DOCUMENTS = [
    ClaimDocumentKind.DISCHARGE_SUMMARY,
    ClaimDocumentKind.INVOICE,
    ClaimDocumentKind.ITEMISED_LIST,
    ClaimDocumentKind.MEDICAL_RECORD,
]
OPTIONAL_DOCUMENTS = [ClaimDocumentKind.REFERRAL_FORM, ClaimDocumentKind.OTHER]


def amount_text(value: str) -> str | None:
    """An amount as people write it, as plain digits and a point: full-width digits and point,
    spaces and thousands separators (`,` or `，`, in groups of three) are read, so "1,234.56"
    and "１２３４．５６" are "1234.56". None for anything else, which Decimal would read but a
    person does not mean as an amount ("1e5", "1_000", "-5", "NaN")."""
    text = "".join(unicodedata.normalize("NFKC", value).split())  # NFKC: "，" is ","
    if GROUPED_AMOUNT.fullmatch(text):
        text = text.replace(",", "")
    return text if AMOUNT.fullmatch(text) else None


class AmountField(forms.DecimalField):
    """An amount in yuan, typed: read by `amount_text`, then the usual checks of a
    DecimalField (its digits, decimal places, least and most). A text box, not a number box:
    a browser empties a number box holding "1,234.56" before the form is sent."""

    widget = forms.TextInput
    default_error_messages = {"invalid": _("Enter an amount, such as 1234.56.")}

    def to_python(self, value):
        if isinstance(value, str):
            text = "".join(value.split())
            if text in self.empty_values:
                return None
            value = amount_text(text)
            if value is None:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if not isinstance(widget, forms.NumberInput):
            attrs.setdefault("inputmode", "decimal")  # a phone's keyboard of digits and point
        return attrs


class RowBoundField(forms.BoundField):
    """A field of an item's row, drawn as a bare widget in a table cell (not by crispy, which
    marks the fields it draws): marked `is-invalid` when it has an error, so it is drawn and
    found (static/js/portal.js) as a field in error."""

    def build_widget_attrs(self, attrs, widget=None):
        attrs = super().build_widget_attrs(attrs, widget)
        if self.errors:
            widget = widget or self.field.widget
            given = attrs.get("class") or widget.attrs.get("class") or ""
            attrs["class"] = f"{given} is-invalid".strip()
        return attrs


class ItemForm(forms.Form):
    bound_field_class = RowBoundField
    code = forms.CharField(label=_("Catalogue code"), max_length=40, required=False)
    name = forms.CharField(label=_("Item"), max_length=100, required=False)
    cls = forms.ChoiceField(label=_("Class"), choices=CLASSES, initial="A")
    amount = AmountField(
        label=_("Amount (yuan)"),
        min_value=Decimal("0.01"),
        max_digits=10,
        decimal_places=2,
        required=False,
    )
    medication_days = forms.IntegerField(
        label=_("Days of medication"), min_value=1, max_value=366, required=False
    )
    medication_kind = forms.ChoiceField(
        label=_("Discharge medication"), choices=MEDICATION_KINDS, required=False
    )

    def clean(self):
        data = super().clean()
        # A value typed but refused has its own message: these are for fields left empty.
        if data.get("medication_kind") and not self._given(data, "medication_days"):
            self.add_error("medication_days", _("How many days of medication?"))
        if not self._given(data, "amount") and (data.get("name") or data.get("code")):
            self.add_error("amount", _("Enter the amount."))
        return data

    def _given(self, data: dict, name: str) -> bool:
        return data.get(name) is not None or name in self.errors

    def as_item(self) -> dict | None:
        data = self.cleaned_data
        if not data or data.get("amount") is None:
            return None
        return _item(
            data.get("code", ""),
            data.get("name", ""),
            data["cls"],
            data["amount"],
            data.get("medication_days"),
            data.get("medication_kind"),
        )


ItemFormSet = forms.formset_factory(ItemForm, extra=4, max_num=MAX_ITEMS, validate_max=True)


def _item(code, name, cls, amount, days=None, kind=None) -> dict:
    return {
        "code": (code or "").strip(),
        "name": (name or "").strip(),
        "class": cls,
        "amount": f"{Decimal(amount):.2f}",
        "discharge_medication": {"days": int(days), "kind": kind} if kind and days else None,
    }


def parse_bill(uploaded) -> list[dict]:
    """The hospital's itemised list as CSV or XLSX: columns code, name, class, amount and
    optionally days and kind of discharge medication. Every bad row is named, with every
    problem it has; a cell is held to what the item's row on the form takes."""
    if uploaded.size > MAX_BILL_BYTES:
        raise ValidationError(_("The bill file is larger than 2 MB."))
    data = uploaded.read()
    unsaved: dict[int, set[int]] = {}
    if data[:2] == b"PK":
        rows, unsaved = _xlsx_rows(data, _file_name(uploaded))
    elif data[:8] == OLE2:
        raise ValidationError(
            _(
                "“%(name)s” is an old Excel (.xls) workbook or has a password: save it as .xlsx "
                "without a password, or as CSV, and upload it again."
            )
            % {"name": _file_name(uploaded)}
        )
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                raise ValidationError(_("The bill file is neither CSV nor XLSX.")) from None
        try:
            rows = list(csv.reader(io.StringIO(text)))
        except csv.Error:  # e.g. a field over the csv module's 131072 characters
            raise ValidationError(_("The bill file is neither CSV nor XLSX.")) from None
    # Each row keeps its number in the file, as a spreadsheet shows it (a header is row 1; empty
    # rows are skipped but counted), so "row 5" is the row the person sees as 5.
    numbered = [
        (number, [_cell_text(c) for c in row[:BILL_COLUMNS]])
        for number, row in enumerate(rows, start=1)
    ]
    numbered = [(number, row) for number, row in numbered if any(row)]
    if numbered and numbered[0][1][0].lower() in {"code", "编码", "项目编码"}:
        numbered = numbered[1:]
    if not numbered:
        raise ValidationError(_("The bill file has no items."))
    if len(numbered) > MAX_ITEMS:
        raise ValidationError(_("At most %(n)s items per claim.") % {"n": MAX_ITEMS})
    items, errors = [], []
    for number, row in numbered:
        code, name, cls, amount, days, kind = (row + [""] * BILL_COLUMNS)[:BILL_COLUMNS]
        cls = cls.upper()
        formulas = unsaved.get(number, set())
        problems = _cell_problems(number, row)  # every problem of the row, not only its first
        if formulas:
            problems.append(
                _(
                    "Row %(row)s: a formula has no saved value (the file was not saved in Excel "
                    "or WPS): open the file there and save it, or type the value instead."
                )
                % {"row": number}
            )
        if cls not in {"A", "B", "C"} and 2 not in formulas:
            problems.append(_("Row %(row)s: the class must be A, B or C.") % {"row": number})
        value, problem = _bill_amount(amount, number)
        if problem and 3 not in formulas:
            problems.append(problem)
        if kind and (
            kind not in {"acute", "chronic", "special"}
            or not (days.isascii() and days.isdigit() and 1 <= int(days) <= 366)
        ):
            problems.append(
                _("Row %(row)s: discharge medication needs days and acute, chronic or special.")
                % {"row": number}
            )
        if problems:
            errors.extend(problems)
        else:
            items.append(_item(code, name, cls, value, days or None, kind or None))
    if errors:
        raise ValidationError(errors)
    return items


def _file_name(uploaded) -> str:
    return Truncator(uploaded.name or "").chars(60)


def _cell_text(value) -> str:
    """A cell as text. A number as the spreadsheet shows it, to Excel's 15 significant digits:
    a sum saved as 33.330000000000005 is the 33.33 the person sees."""
    if value is None:
        return ""
    if isinstance(value, float):
        try:
            return format(Decimal(format(value, ".15g")), "f")
        except InvalidOperation:  # NaN and infinity: refused as amounts below
            return str(value)
    return str(value).strip()


def _cell_problems(number: int, row: list[str]) -> list[str]:
    """A control character anywhere in the cells read; a code or name longer than an item's
    row on the form takes (ItemForm)."""
    problems = []
    if any(CONTROL.search(cell) for cell in row):
        problems.append(
            _(
                "Row %(row)s: a cell holds a control character (such as NUL): remove it and "
                "upload the file again."
            )
            % {"row": number}
        )
    code, name = (row + ["", ""])[:2]
    most = ItemForm.base_fields["code"].max_length
    if most is not None and len(code) > most:
        problems.append(
            _("Row %(row)s: the catalogue code is longer than %(max)s characters.")
            % {"row": number, "max": most}
        )
    most = ItemForm.base_fields["name"].max_length
    if most is not None and len(name) > most:
        problems.append(
            _("Row %(row)s: the item name is longer than %(max)s characters.")
            % {"row": number, "max": most}
        )
    return problems


def _bill_amount(text: str, number: int) -> tuple[Decimal | None, str | None]:
    """The amount of a row as an item's row on the form reads it (AmountField), or why not."""
    plain = amount_text(text)
    if plain is None:
        return None, _("Row %(row)s: the amount is not valid.") % {"row": number}
    value = Decimal(plain)  # digits and a point only: finite
    if len(plain.partition(".")[2]) > 2:
        return None, _("Row %(row)s: the amount has more than 2 decimal places.") % {"row": number}
    if value <= 0:
        return None, _("Row %(row)s: the amount must be more than 0.") % {"row": number}
    if value.adjusted() > MAX_AMOUNT_DIGITS - 1:  # as a typed item: at most 10 digits
        return None, _("Row %(row)s: the amount is over %(max)s.") % {
            "row": number,
            "max": "99999999.99",
        }
    return value, None


def item_rows(items: list[dict]) -> list[dict]:
    """Items as the initial values of the item rows (ItemForm), e.g. those read from a bill file,
    which a browser cannot send again."""
    return [
        {
            "code": item["code"],
            "name": item["name"],
            "cls": item["class"],
            "amount": Decimal(item["amount"]),
            "medication_days": (item["discharge_medication"] or {}).get("days"),
            "medication_kind": (item["discharge_medication"] or {}).get("kind", ""),
        }
        for item in items
    ]


def _check_unpacked(data: bytes, name: str) -> None:
    """Refuse a workbook that would unpack into far more than a bill (a zip bomb), or that is
    no zip at all, before openpyxl unpacks anything. zipfile never gives more than the sizes
    the archive declares for a member (and fails on a member that would), so these bound it."""
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ValidationError(
            _("“%(name)s” is not an XLSX workbook that can be read: save it as .xlsx or CSV.")
            % {"name": name}
        ) from exc
    unpacked = sum(member.file_size for member in members)
    packed_tight = any(
        member.file_size > PACKING_CHECKED_FROM
        and member.file_size > MAX_PACKING_RATIO * max(member.compress_size, 1)
        for member in members
    )
    if unpacked > MAX_UNPACKED_BYTES or packed_tight:
        raise ValidationError(
            _(
                "“%(name)s” unpacks to far more than a bill can hold (over %(mb)s MB, or packed "
                "over %(ratio)s to 1): it is not read. Export the bill again, or save it as CSV."
            )
            % {"name": name, "mb": MAX_UNPACKED_BYTES // (1024 * 1024), "ratio": MAX_PACKING_RATIO}
        )


def _xlsx_rows(data: bytes, name: str) -> tuple[list[list], dict[int, set[int]]]:
    """The rows of the workbook's one visible sheet that holds anything (a hidden sheet is
    not what the person sees, so it is never read), and, by row number, the columns whose
    formula has no saved value (openpyxl reads those as empty)."""
    from openpyxl import load_workbook

    _check_unpacked(data, name)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        filled = []
        for sheet in workbook.worksheets:
            if sheet.sheet_state != "visible":
                continue
            rows, blanks = _sheet_rows(sheet)
            if any(any(_cell_text(c) for c in row) for row in rows):
                filled.append((sheet.title, rows, blanks))
        workbook.close()
        if len(filled) > 1:
            raise ValidationError(
                _(
                    "The bill is on more than one sheet of “%(name)s” (%(sheets)s): put it on "
                    "one sheet and upload the file again."
                )
                % {
                    "name": name,
                    "sheets": enumeration(Truncator(sheet[0]).chars(31) for sheet in filled),
                }
            )
        if not filled:
            return [], {}
        title, rows, blanks = filled[0]
        return rows, _unsaved_formulas(data, title, blanks)
    except ValidationError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ValidationError(_("The XLSX file cannot be read.")) from exc


def _sheet_rows(sheet) -> tuple[list[list], set[tuple[int, int]]]:
    """The sheet's values from row 1, the bill's columns only; reading stops past the most items
    a bill may have (the count is refused after) or MAX_SHEET_ROWS rows. With them, the empty
    cells of rows of items that read as an empty number (row, column): a formula whose result
    was never saved reads so (a spreadsheet saves an empty text result as text)."""
    rows, blanks, filled = [], set(), 0
    for number, cells in enumerate(
        sheet.iter_rows(max_row=MAX_SHEET_ROWS, max_col=BILL_COLUMNS), start=1
    ):
        row = [cell.value for cell in cells]
        rows.append(row)
        if any(_cell_text(c) for c in row):
            filled += 1
            blanks |= {
                (number, column)
                for column, cell in enumerate(cells)
                if cell.value is None and cell.data_type == "n"
            }
            if filled > MAX_ITEMS + 1:  # the header and one too many
                break
    return rows, blanks


def _unsaved_formulas(data: bytes, title: str, blanks: set[tuple[int, int]]) -> dict[int, set[int]]:
    """Of the blank cells, those that hold a formula (a file written by a program that keeps a
    formula without computing it), by row. The sheet is read again, formulas as written, only
    when a row of items lacks a code, name, class or amount."""
    from openpyxl import load_workbook

    if not any(column < 4 for _number, column in blanks):
        return {}
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    last = max(number for number, _column in blanks)
    written = workbook[title].iter_rows(max_row=last, max_col=BILL_COLUMNS, values_only=True)
    unsaved: dict[int, set[int]] = {}
    for number, row in enumerate(written, start=1):
        for column, formula in enumerate(row):
            if (number, column) in blanks and formula is not None:
                unsaved.setdefault(number, set()).add(column)
    workbook.close()
    return unsaved


# Date errors shown beside the admission date (the others beside the discharge date).
ADMISSION_ERRORS = {"discharge_before_admission", "admission_too_early", "stay_too_long"}


class ClaimForm(forms.Form):
    # The place first, then its hospitals (static/js/portal.js fetches them when the place is
    # chosen; without JavaScript the form sent back lists them): a phone is not handed the
    # whole country's hospitals. The place only narrows the list; the hospital says where.
    place_region = IdChoiceField(
        label=_("Place of treatment (pooling region)"),
        queryset=Region.objects.select_related("province"),
        required=False,
    )
    hospital = IdChoiceField(
        label=_("Hospital"),
        queryset=Hospital.objects.select_related("region").order_by("region__code", "code"),
        widget=HospitalSelect,
    )
    care_type = forms.ChoiceField(label=_("Care"), choices=CareType.choices)
    admitted_on = forms.DateField(label=_("Admitted on (or date of the visit)"), widget=DATE)
    discharged_on = forms.DateField(label=_("Discharged on"), widget=DATE)
    emergency = forms.BooleanField(label=_("It was an emergency"), required=False)
    bill_file = forms.FileField(
        label=_("Itemised list from the hospital (CSV or XLSX, optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    # Shown once the person's earlier claim for the same bill has been named (claim_views).
    different_bill = forms.BooleanField(
        label=_("This is another bill, not the one I claimed before"), required=False
    )

    def __init__(self, *args, require_documents: bool = True, kept_kinds=(), **kwargs):
        """`kept_kinds`: the kinds of the documents already uploaded and kept for this form
        (filings.pending), which count as given."""
        super().__init__(*args, **kwargs)
        self._show_the_places_hospitals()
        self.bill_items: list[dict] | None = None
        self.same_bill = None  # the earlier claim this one repeats, when the view found one
        self.require_documents = require_documents
        self.kept_kinds = set(kept_kinds)
        for kind in REQUIRED_DOCUMENTS + OPTIONAL_DOCUMENTS:
            self.fields[f"doc_{kind.value}"] = MultipleFileField(label=kind.label, required=False)
            needed = require_documents and kind in REQUIRED_DOCUMENTS
            if needed and kind.value not in self.kept_kinds:
                self.fields[f"doc_{kind.value}"].widget.attrs["required"] = True

    def document_fields(self):
        return [self[f"doc_{kind.value}"] for kind in REQUIRED_DOCUMENTS + OPTIONAL_DOCUMENTS]

    def _show_the_places_hospitals(self) -> None:
        """The hospitals of the place sent (or of the hospital sent, or the initial place) are
        listed; none before a place is known. The field still accepts any hospital."""
        place = None
        if self.is_bound:
            place = row_id(self.data.get(self.add_prefix("place_region")))
            chosen = row_id(self.data.get(self.add_prefix("hospital")))
            if place is None and chosen is not None:
                place = (
                    Hospital.objects.filter(pk=chosen).values_list("region_id", flat=True).first()
                )
        if place is None:
            place = row_id(self.initial.get("place_region"))
        list_the_places_hospitals(self.fields["hospital"], place)

    def clean_bill_file(self):
        uploaded = self.cleaned_data.get("bill_file")
        if uploaded:
            self.bill_items = parse_bill(uploaded)
        return uploaded

    def clean(self):
        data = super().clean()
        if self.require_documents:
            for kind in REQUIRED_DOCUMENTS:
                given = data.get(f"doc_{kind.value}") or kind.value in self.kept_kinds
                if not given and f"doc_{kind.value}" not in self.errors:
                    self.add_error(f"doc_{kind.value}", _("This document is required."))
        admitted, discharged = data.get("admitted_on"), data.get("discharged_on")
        if admitted and discharged:
            try:
                rules.check_claim_dates(
                    admitted_on=admitted, discharged_on=discharged, today=timezone.localdate()
                )
            except rules.RuleError as error:
                field = "admitted_on" if error.code in ADMISSION_ERRORS else "discharged_on"
                self.add_error(field, message(error))
        return data


class ResubmitForm(forms.Form):
    documents = MultipleFileField(label=_("More documents (JPEG, PNG or PDF)"), required=False)
    bill_file = forms.FileField(
        label=_("Corrected itemised list (CSV or XLSX, optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args, kept: int = 0, **kwargs):
        """`kept`: documents already uploaded and kept for this answer (filings.pending)."""
        super().__init__(*args, **kwargs)
        self.kept = kept

    def clean_bill_file(self):
        uploaded = self.cleaned_data.get("bill_file")
        self.bill_items = parse_bill(uploaded) if uploaded else None
        return uploaded

    def clean(self):
        data = super().clean()
        given = data.get("documents") or data.get("bill_file") or self.kept
        if not given and not self.errors:
            raise ValidationError(_("Add the documents or the corrected list asked for."))
        return data


# A reviewer's reason goes into the person's notification and email: as long as a filing's.
MAX_REASON = 1000


class ReasonForm(forms.Form):
    """The reviewer's reason (required to reject, return, adjust or void): kept without
    invisible characters, so a reason of spaces and zero-width spaces is no reason."""

    reason = PlainTextField(
        label=_("Reason (shown to the person)"), widget=forms.Textarea, max_length=MAX_REASON
    )


class VoidForm(ReasonForm):
    """The reason a settlement is voided: the person and the hospital's clerks both read it."""

    reason = PlainTextField(
        label=_("Reason (shown to the person and the hospital)"),
        widget=forms.Textarea,
        max_length=MAX_REASON,
    )


class AdjustForm(forms.Form):
    fund_pay = AmountField(
        label=_("Fund pays (yuan)"), min_value=0, max_digits=12, decimal_places=2
    )
    reason = PlainTextField(
        label=_("Reason for the adjustment"), widget=forms.Textarea, max_length=MAX_REASON
    )
    takes_objects = True

    def __init__(self, *args, objects=(), **kwargs):
        """`objects`: the claims or settlements being adjusted. The amount is checked against
        the smallest of what the fund may pay of them (`services.fund_limit`: the in-scope
        amount, within the year's cap left) here, so a figure over it comes back on this page
        with what was typed, rather than as a refusal on the list."""
        from settlement.services import fund_limit

        super().__init__(*args, **kwargs)
        limits = [fund_limit(obj) for obj in objects]
        self.most = min(limits) if limits else None
        if self.most is not None:
            self.fields["fund_pay"].max_value = self.most
            self.fields["fund_pay"].help_text = _(
                "From 0.00 to %(limit)s: the bill's amount within the policy's scope, within "
                "what is left of the year's cap."
            ) % {"limit": yuan(self.most)}

    def clean_fund_pay(self):
        amount = self.cleaned_data["fund_pay"]
        if self.most is not None and amount > self.most:
            raise forms.ValidationError(
                _("At most %(limit)s: the fund does not pay self-paid items, nor beyond the cap.")
                % {"limit": yuan(self.most)}
            )
        return amount
