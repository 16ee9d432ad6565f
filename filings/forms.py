"""Self-service filing forms (thin: the rules live in rules.py and services.py)."""

from __future__ import annotations

import copy

from dateutil.relativedelta import relativedelta
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from filings import rules
from filings.models import (
    Basis,
    Filing,
    LongTermSubtype,
    MaterialKind,
    ReferralCondition,
    TemporaryPurpose,
)
from hospitals.models import Hospital
from portal.lib import idnumbers, text
from portal.lib.idchoice import IdChoiceField, IdMultipleChoiceField, row_id
from portal.models import Region

# How far ahead a filing may start (its form's `start_date`).
START_AHEAD_MONTHS = rules.START_AHEAD_MONTHS


class _ByRegion:
    """A hospital choice widget whose options carry their pooling region (`data-region`), so
    static/js/portal.js can show only the hospitals of the place chosen."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)  # type: ignore[misc]
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-region"] = str(instance.region_id)
        return option


def list_the_places_hospitals(field: forms.ModelChoiceField, place: int | None) -> None:
    """Have a hospital field's widget list only the hospitals of the pooling region `place`,
    or, with none known, no hospital and a help text to choose the place first (not the whole
    country's: 32,000 hospitals, megabytes on a phone; static/js/portal.js fetches the place's
    when it is chosen, and without JavaScript the form sent back lists them). The field still
    accepts any hospital."""
    # A copy of the field shares its widget: giving the copy the place's hospitals sets the
    # widget's choices, and the field keeps its own queryset.
    shown = copy.copy(field)
    if place is not None:
        shown.queryset = field.queryset.filter(region_id=place)
        return
    shown.queryset = field.queryset.none()
    field.help_text = " ".join(str(t) for t in (field.help_text, CHOOSE_PLACE_FIRST) if t)


class HospitalCheckboxes(_ByRegion, forms.CheckboxSelectMultiple):
    pass


class HospitalSelect(_ByRegion, forms.Select):
    pass


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def upload_attrs() -> dict:
    """A proof file input's attributes: what it accepts, and what static/js/portal.js needs to
    set aside, as soon as it is chosen, a file the upload check would refuse for its size or
    type (uploads.MAX_BYTES; a phone's HEIC photo), with the reason in the reader's language.
    On a phone's slow connection nothing is sent only to be refused; the server still checks."""
    from filings.uploads import MAX_BYTES

    return {
        "accept": ".jpg,.jpeg,.png,.pdf",
        "data-max-bytes": MAX_BYTES,
        "data-too-big": _(
            "%(name)s is larger than 10 MB and was not added: choose a smaller photo or scan."
        ),
        "data-wrong-type": _(
            "%(name)s is not a JPEG, PNG or PDF file and was not added (a photo in HEIC: "
            "set the camera to “Most compatible”, or send a screenshot of it)."
        ),
    }


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs=upload_attrs()))
        # An empty file is refused by the upload check (uploads.check_upload), with the file's
        # name: Django's own check would say it a second time, without it.
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            files = [single(d, initial) for d in data if d]
        else:
            files = [single(data, initial)] if data else []
        if self.required and not files:  # no file at all: the field's own check never ran
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return files


PROOF_CHOICES = [
    (k.value, k.label)
    for k in (
        MaterialKind.HOUSEHOLD_REGISTER,
        MaterialKind.PROPERTY_CERTIFICATE,
        MaterialKind.RESIDENCE_CERTIFICATE,
        MaterialKind.POSTING_CERTIFICATE,
    )
]
# What a chronic-disease filing is given (domain.md §2.5: the disease as recognised at home), the
# diagnosis certificate first: a certificate sent without changing the kind is filed as one.
CHRONIC_KIND_CHOICES = [
    (k.value, k.label)
    for k in (
        MaterialKind.DIAGNOSIS_CERTIFICATE,
        MaterialKind.HOSPITALISATION_SUMMARY,
        MaterialKind.OTHER,
    )
]
# Every kind a person may upload, the referral extension's included (domain.md §2.2).
ALL_KIND_CHOICES = list(MaterialKind.choices)
# File fields of the filing form and the kind of material each one holds (None: the kind
# chosen in `material_kind`).
FILE_FIELDS = {
    "files": None,
    "file_relationship_proof": MaterialKind.RELATIONSHIP_PROOF,
    "file_id_copy": MaterialKind.ID_COPY,
    "file_social_security_copy": MaterialKind.SOCIAL_SECURITY_COPY,
    "file_payment_record": MaterialKind.PAYMENT_RECORD,
    "file_agent_id_copy": MaterialKind.AGENT_ID_COPY,
}


CHOOSE_PLACE_FIRST = _("Choose the place of treatment first: its hospitals are then listed here.")
# The written commitment (domain.md §2.1) before approval, word for word as the filing form
# prints it then (templates/pdf/_filing_form_sheet.html); once approved, the form prints the day.
PROMISE = _(
    "I promise to supply the proof materials within %(n)s months of the day the filing takes "
    "effect. Until they are accepted, direct settlement is possible only at the place of "
    "residence; if they are not supplied by then, the filing is revoked. Settlements made "
    "before revocation stand."
)


class FilingForm(forms.Form):
    """One form for every type; `FIELDS` says which fields each type shows. A draft needs only
    the place; the services decide what a submission needs."""

    FIELDS = {
        "long_term": [
            "place_region",
            "subtype",
            "start_date",
            "care",
            "hospitals",
            "basis",
            "promise",
            "material_kind",
            "files",
            "relatives_home",
            "file_relationship_proof",
            "file_id_copy",
            "file_social_security_copy",
            "file_payment_record",
            "agent_name",
            "agent_id_number",
            "agent_relationship",
            "file_agent_id_copy",
        ],
        "temporary": ["place_region", "purpose", "start_date", "care"],
        "emergency": [
            "place_region",
            "receiving_hospital",
            "transfer_date",
            "diagnosis",
            "discharge_settled",
            "files",
        ],
        "chronic_outpatient": ["place_region", "disease", "start_date", "material_kind", "files"],
        "referral": [
            "place_region",
            "receiving_hospital",
            "diagnosis",
            "referral_condition",
            "attending_doctor",
            "director_signed_by",
            "medical_office_signed_by",
            "files",
        ],
    }

    place_region = IdChoiceField(
        label=_("Place of treatment (pooling region)"),
        queryset=Region.objects.select_related("province"),
    )
    # No sub-type chosen for the person: the first one (resettled retirees) would make a
    # non-retiree's draft fail before they have read the choices.
    subtype = forms.ChoiceField(
        label=_("Who you are"), choices=[("", "---------"), *LongTermSubtype.choices]
    )
    # A temporary filing's reason (stored as its sub-type). Optional: most reasons change
    # nothing; two keep the home benefit level (domain.md §3.3), so the help says which.
    purpose = forms.ChoiceField(
        label=_("Why you go"),
        choices=[("", _("Not stated")), *TemporaryPurpose.choices],
        required=False,
        help_text=_(
            "Benefits are reduced for other temporary treatment, except for a residents' scheme "
            "member who goes to study, and for maternity within your own province: these keep "
            "your home benefit level."
        ),
    )
    start_date = forms.DateField(
        label=_("From"),
        initial=timezone.localdate,
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    # domain.md §2.5: outpatient chronic and special diseases are settled elsewhere only for a
    # disease the place of insurance recognised (expert review), on a filing of their own that
    # the agency reviews, on top of this one; a temporary filing, approved at once, never
    # covers them itself (services.check_filing refuses it however it is posted).
    care = forms.MultipleChoiceField(
        label=_("Care covered"),
        widget=forms.CheckboxSelectMultiple,
        choices=[
            ("inpatient", _("Inpatient")),
            ("general_outpatient", _("General outpatient")),
        ],
        initial=["inpatient", "general_outpatient"],
        help_text=_(
            "Outpatient treatment of a chronic or special disease needs a filing of its own, "
            "on top of this one, for a disease your place of insurance has recognised."
        ),
    )
    hospitals = IdMultipleChoiceField(
        label=_("Designated hospitals you choose (where your region asks for it)"),
        queryset=Hospital.objects.filter(
            Q(ownership="public", kind="general", level__gte=2) | Q(resettlement_designated=True),
            suspended_on__isnull=True,
        ).select_related("region"),
        required=False,
        widget=HospitalCheckboxes,
    )
    # Nothing chosen for the person (domain.md §2.1): a commitment chosen by default was kept by
    # people who attached their proof anyway, and their filing became one-way and revocable.
    basis = forms.ChoiceField(
        label=_("Proof"),
        choices=Basis.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _(
                "Choose how you prove your residence: the proof materials or the commitment."
            )
        },
    )
    # The commitment is a promise in writing (domain.md §2.1): its words, as the filing form
    # prints them, ticked before a filing by commitment is submitted (shown with that choice
    # only: static/css/portal.css).
    promise = forms.BooleanField(label=_("I promise to supply the proof materials"), required=False)
    material_kind = forms.ChoiceField(
        label=_("Kind of material"), choices=MaterialKind.choices, required=False
    )
    files = MultipleFileField(
        label=_("Files (JPEG, PNG or PDF, at most 10 MB each)"), required=False
    )
    relatives_home = forms.BooleanField(
        label=_("The property is a relative's home (add the proof of the relationship)"),
        required=False,
    )
    file_relationship_proof = MultipleFileField(label=_("Proof of relationship"), required=False)
    file_id_copy = MultipleFileField(label=_("ID card copy"), required=False)
    file_social_security_copy = MultipleFileField(
        label=_("Social security card copy"), required=False
    )
    file_payment_record = MultipleFileField(
        label=_("Payment record (residents' scheme)"), required=False
    )
    file_agent_id_copy = MultipleFileField(label=_("Agent's ID card copy"), required=False)
    agent_name = text.PlainTextField(
        label=_("Agent's name (if someone files for you)"), max_length=60, required=False
    )
    agent_id_number = idnumbers.IdNumberFormField(label=_("Agent's ID number"), required=False)
    agent_relationship = text.PlainTextField(
        label=_("Agent's relationship"), max_length=40, required=False
    )
    receiving_hospital = IdChoiceField(
        label=_("Hospital"), queryset=Hospital.objects.all(), widget=HospitalSelect
    )
    transfer_date = forms.DateField(
        label=_("Date of the emergency transfer"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    discharge_settled = forms.BooleanField(
        label=_("Already discharged and settled"), required=False
    )
    diagnosis = text.PlainTextField(label=_("Diagnosis"), max_length=200)
    disease = text.PlainTextField(
        label=_("Chronic or special disease (as recognised at home)"), max_length=100
    )
    referral_condition = forms.ChoiceField(
        label=_("Referral condition"), choices=ReferralCondition.choices
    )
    attending_doctor = text.PlainTextField(label=_("Attending doctor"), max_length=60)
    director_signed_by = text.PlainTextField(
        label=_("Department director who signed"), max_length=60
    )
    medical_office_signed_by = text.PlainTextField(
        label=_("Medical office that stamped"), max_length=60
    )

    def __init__(self, *args, filing_type: str, person, draft: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.filing_type, self.person, self.draft = filing_type, person, draft
        keep = set(self.FIELDS[filing_type])
        if person.scheme != "resident":
            keep.discard("file_payment_record")  # only residents' scheme members give it
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]
        # In the order FIELDS gives, not the order of declaration: an upload after the field
        # it belongs to, a chronic disease before the materials.
        self.order_fields(self.FIELDS[filing_type])
        if "place_region" in self.fields:
            self.fields["place_region"].queryset = Region.objects.select_related(
                "province"
            ).exclude(pk=person.region_id)
        if filing_type == "long_term":
            from filings.selectors import parameters_for

            params = parameters_for(person.region)
            months = params.commitment_months
            if params.max_hospitals == 0:
                # The region asks for no choice (Liaoning): boxes the rules would refuse
                # ("no_choice_here") are not offered, and the place says why.
                del self.fields["hospitals"]
                self.fields["place_region"].help_text = _(
                    "%(region)s does not ask you to choose hospitals: any connected designated "
                    "institution at the place of residence will do."
                ) % {"region": person.region.display_name}
            self.fields["promise"].label = PROMISE % {"n": months}
            self.fields["basis"].help_text = _(
                "With the commitment you file now and supply the materials within %(n)s "
                "months; until then direct settlement is possible only at the place of residence."
            ) % {"n": months}
            self.fields["material_kind"].choices = PROOF_CHOICES
            self.fields["material_kind"].label = _("Proof of residence")
            self.fields["files"].label = _("Proof of residence, as files (JPEG, PNG or PDF)")
            if not person.retired:
                # Said before the choice, not only once the filing is refused (domain.md §2.1:
                # resettlement is for retirees, whom the agency's record names).
                self.fields["subtype"].help_text = _(
                    "Resettled retiree: only if your agency's record shows you as retired (it "
                    "does not yet). If you have retired, ask your agency to update your record "
                    "first."
                )
        if filing_type == "referral":
            self.fields["files"].label = _(
                "Referral form scan (JPEG, PNG or PDF, at most 10 MB each)"
            )
            self.fields["files"].help_text = _(
                "Required: the referral form the referring hospital signed and stamped."
            )
        elif filing_type == "emergency":
            self.fields["files"].label = _(
                "The hospital's emergency or transfer certificate, if you have it (JPEG, PNG or "
                "PDF, at most 10 MB each)"
            )
        if filing_type == "chronic_outpatient":
            self.fields["material_kind"].choices = CHRONIC_KIND_CHOICES
        if draft:
            for name, field in self.fields.items():
                if name != "place_region":
                    field.required = False
        if "hospitals" in self.fields:
            self.fields["hospitals"].help_text = self._hospitals_help()
        self._show_the_places_hospitals()

    def _hospitals_help(self) -> str:
        """How many hospitals the person's own region asks them to choose (a region that asks
        for none has no such field: see __init__)."""
        from filings.selectors import parameters_for

        region = self.person.region
        return _(
            "%(region)s asks you to choose up to %(n)s public general hospitals of secondary "
            "level or above at the place of residence."
        ) % {"region": region.display_name, "n": parameters_for(region).max_hospitals}

    def _show_the_places_hospitals(self) -> None:
        """Once the place is known (sent, or the filing's), only its hospitals are listed: a
        phone is not handed the whole country's. The field still accepts any hospital, so one
        chosen elsewhere is refused by the rules with its name, not as an unknown choice."""
        place = self.data.get(self.add_prefix("place_region")) if self.is_bound else None
        place = row_id(place or self.initial.get("place_region"))
        for name in ("hospitals", "receiving_hospital"):
            if name in self.fields:
                list_the_places_hospitals(self.fields[name], place)

    @staticmethod
    def initial_from(filing: Filing) -> dict:
        """The form's values for editing `filing`."""
        care = [
            c for c in ("inpatient", "general_outpatient", "chronic_outpatient") if filing.covers(c)
        ]
        kinds = [m.kind for m in filing.materials.all()]
        proof_kinds = {k for k, _label in PROOF_CHOICES}
        # The kind of the proof already given (long-term), else of the last material chosen by
        # kind (chronic disease); the field's first choice only when there is none.
        chosen = [k for k in kinds if k in proof_kinds] or [
            k for k in kinds if k not in FILE_FIELDS.values()
        ]
        return {
            "place_region": filing.place_region_id,
            "subtype": filing.subtype,
            "purpose": filing.subtype if filing.type == "temporary" else "",
            "material_kind": chosen[-1] if chosen else None,
            "start_date": filing.start_date,
            "care": care,
            "hospitals": list(filing.hospitals.values_list("pk", flat=True)),
            "basis": filing.basis,
            "promise": filing.promised,
            "agent_name": filing.agent_name,
            "agent_id_number": filing.agent_id_number or "",
            "agent_relationship": filing.agent_relationship,
            "receiving_hospital": filing.receiving_hospital_id,
            "transfer_date": filing.transfer_date,
            "discharge_settled": filing.discharge_settled_on is not None,
            "diagnosis": filing.diagnosis,
            "disease": filing.disease,
            "referral_condition": filing.referral_condition,
            "attending_doctor": filing.attending_doctor,
            "director_signed_by": filing.director_signed_by,
            "medical_office_signed_by": filing.medical_office_signed_by,
        }

    def clean_transfer_date(self):
        """An emergency transfer has happened, and within the 12 months a claim can still go
        back to (domain.md §3.4): a future day or a mistyped year is refused beside the date."""
        transfer = self.cleaned_data.get("transfer_date")
        if transfer is None:
            return transfer
        today = timezone.localdate()
        if transfer > today:
            raise forms.ValidationError(_("The transfer date cannot be after today."))
        if transfer < today - relativedelta(months=12):
            raise forms.ValidationError(
                _(
                    "The transfer was more than 12 months ago (before %(d)s): it can no longer "
                    "be filed. Ask your agency."
                )
                % {"d": (today - relativedelta(months=12)).isoformat()}
            )
        return transfer

    def clean_start_date(self):
        """A filing takes effect from today at the earliest (treatment before it is claimed,
        or, in an emergency, filed after the transfer), and is not made years ahead."""
        start = self.cleaned_data.get("start_date")
        if start is None or self.fields["start_date"].disabled:
            # A renewal's start is fixed (the day after the renewed filing ends), not asked
            # for: once that day has passed, it takes effect as a new filing does (rules.validity).
            return start
        today = timezone.localdate()
        latest = rules.latest_start(today)
        if start < today:
            raise forms.ValidationError(
                _(
                    "A filing takes effect from today at the earliest. For treatment before "
                    "today, claim a reimbursement (or, after an emergency, file an emergency)."
                )
            )
        if start > latest:
            raise forms.ValidationError(
                _("A filing can start at most %(n)s months ahead, on %(d)s at the latest.")
                % {"n": START_AHEAD_MONTHS, "d": latest.isoformat()}
            )
        return start

    def clean(self):
        data = super().clean()
        # A draft saves with whatever is typed (README: only the place is needed): the agent's
        # name and ID number go together on submission only (services check it again).
        if self.filing_type == "long_term" and not self.draft:
            missing = not data.get("agent_id_number") and "agent_id_number" not in self.errors
            if data.get("agent_name") and missing:  # (a malformed one has its own message)
                self.add_error("agent_id_number", _("The agent's ID number is required."))
            if data.get("basis") == Basis.COMMITMENT and not data.get("promise"):
                self.add_error(
                    "promise",
                    _("Tick the box to make the commitment, or choose the proof materials."),
                )
        return data


# The kinds of material a filing of each type may be given on its page (domain.md §2.1, §2.2):
# a long-term filing's proofs and copies, a referral's form and what its extension needs.
UPLOAD_KINDS = {
    "long_term": [
        *PROOF_CHOICES,
        MaterialKind.RELATIONSHIP_PROOF,
        MaterialKind.ID_COPY,
        MaterialKind.SOCIAL_SECURITY_COPY,
        MaterialKind.PAYMENT_RECORD,
        MaterialKind.AGENT_ID_COPY,
        MaterialKind.OTHER,
    ],
    "referral": [
        MaterialKind.REFERRAL_SCAN,
        MaterialKind.HOSPITALISATION_SUMMARY,
        MaterialKind.DIAGNOSIS_CERTIFICATE,
        MaterialKind.OTHER,
    ],
    "chronic_outpatient": CHRONIC_KIND_CHOICES,
}


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind of material"), choices=ALL_KIND_CHOICES)
    files = MultipleFileField(label=_("Files (JPEG, PNG or PDF, at most 10 MB each)"))

    def __init__(self, *args, filing_type: str = "", **kwargs):
        """Only the kinds a filing of `filing_type` takes are offered (and accepted)."""
        super().__init__(*args, **kwargs)
        kinds = UPLOAD_KINDS.get(filing_type)
        if kinds:
            self.fields["kind"].choices = [
                k if isinstance(k, tuple) else (k.value, k.label) for k in kinds
            ]


class CancelForm(forms.Form):
    reason = text.PlainTextField(
        label=_("Why do you want to cancel?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # A cancelled filing cannot be restored (domain.md §2.6: cancelled is final): asked for,
    # and checked here, not only by the browser.
    confirm = forms.BooleanField(
        label=_("I understand a cancelled filing cannot be restored"),
        error_messages={
            "required": _("Tick the box to confirm: a cancelled filing cannot be restored.")
        },
    )


class ChangeRequestForm(forms.Form):
    what = text.PlainTextField(
        label=_("What do you want to change?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class StartTreatmentForm(forms.Form):
    """The day treatment started under a referral (the agency's admin action, the receiving
    hospital's page)."""

    started_on = forms.DateField(
        label=_("Treatment started on"),
        initial=timezone.localdate,
        # ISO in every language: a date input takes only YYYY-MM-DD as its value.
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
