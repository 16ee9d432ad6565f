"""Forms of the person's reimbursement claim and the reviewer's decisions."""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from filings.forms import MultipleFileField
from hospitals.models import CareType, Hospital
from settlement import rules
from settlement.messages import ITEM_CLASSES, message
from settlement.models import ClaimDocumentKind

DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
MAX_ITEMS = 500
MAX_BILL_BYTES = 2 * 1024 * 1024
MAX_AMOUNT_DIGITS = 8  # digits before the point: 99,999,999.99 at most, as ItemForm
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


class ItemForm(forms.Form):
    code = forms.CharField(label=_("Catalogue code"), max_length=40, required=False)
    name = forms.CharField(label=_("Item"), max_length=100, required=False)
    cls = forms.ChoiceField(label=_("Class"), choices=CLASSES, initial="A")
    amount = forms.DecimalField(
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
    optionally days and kind of discharge medication. Every bad row is named."""
    if uploaded.size > MAX_BILL_BYTES:
        raise ValidationError(_("The bill file is larger than 2 MB."))
    data = uploaded.read()
    if data[:2] == b"PK":
        rows = _xlsx_rows(data)
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
        (number, [str(c if c is not None else "").strip() for c in row])
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
        code, name, cls, amount, days, kind = (row + [""] * 6)[:6]
        cls = cls.upper()
        try:
            value = Decimal(amount.replace(",", ""))
        except InvalidOperation:
            value = None
        if value is not None and not value.is_finite():  # NaN and Infinity
            value = None
        problems = []  # every problem of the row, not only its first
        if cls not in {"A", "B", "C"}:
            problems.append(_("Row %(row)s: the class must be A, B or C.") % {"row": number})
        if (
            value is None
            or value <= 0
            or value.as_tuple().exponent < -2
            or value.adjusted() > MAX_AMOUNT_DIGITS - 1  # as a typed item: at most 10 digits
        ):
            problems.append(_("Row %(row)s: the amount is not valid.") % {"row": number})
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


def _xlsx_rows(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ValidationError(_("The XLSX file cannot be read.")) from exc
    sheet = workbook.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True, max_row=MAX_ITEMS + 2)]


class ClaimForm(forms.Form):
    hospital = forms.ModelChoiceField(
        label=_("Hospital"),
        queryset=Hospital.objects.select_related("region").order_by("region__code", "code"),
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

    def __init__(self, *args, require_documents: bool = True, kept_kinds=(), **kwargs):
        """`kept_kinds`: the kinds of the documents already uploaded and kept for this form
        (filings.pending), which count as given."""
        super().__init__(*args, **kwargs)
        self.bill_items: list[dict] | None = None
        self.require_documents = require_documents
        self.kept_kinds = set(kept_kinds)
        for kind in REQUIRED_DOCUMENTS + OPTIONAL_DOCUMENTS:
            self.fields[f"doc_{kind.value}"] = MultipleFileField(label=kind.label, required=False)
            needed = require_documents and kind in REQUIRED_DOCUMENTS
            if needed and kind.value not in self.kept_kinds:
                self.fields[f"doc_{kind.value}"].widget.attrs["required"] = True

    def document_fields(self):
        return [self[f"doc_{kind.value}"] for kind in REQUIRED_DOCUMENTS + OPTIONAL_DOCUMENTS]

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
                field = "admitted_on" if error.code == "discharge_before_admission" else None
                self.add_error(field or "discharged_on", message(error))
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


class ReasonForm(forms.Form):
    """The reviewer's reason (required to reject, return or adjust)."""

    reason = forms.CharField(label=_("Reason (shown to the person)"), widget=forms.Textarea)


class AdjustForm(forms.Form):
    fund_pay = forms.DecimalField(
        label=_("Fund pays (yuan)"), min_value=0, max_digits=12, decimal_places=2
    )
    reason = forms.CharField(label=_("Reason for the adjustment"), widget=forms.Textarea)
    takes_objects = True

    def __init__(self, *args, objects=(), **kwargs):
        """`objects`: the claims or settlements being adjusted. The amount is checked against
        the smallest of their totals here, so a figure over it comes back on this page with
        what was typed, rather than as a refusal on the list."""
        super().__init__(*args, **kwargs)
        totals = [obj.total for obj in objects]
        self.most = min(totals) if totals else None
        if self.most is not None:
            self.fields["fund_pay"].max_value = self.most
            self.fields["fund_pay"].widget.attrs["max"] = str(self.most)
            self.fields["fund_pay"].help_text = _("From 0.00 to the bill's total, %(total)s.") % {
                "total": self.most
            }

    def clean_fund_pay(self):
        amount = self.cleaned_data["fund_pay"]
        if self.most is not None and amount > self.most:
            raise forms.ValidationError(
                _("At most the bill's total, %(total)s.") % {"total": self.most}
            )
        return amount
