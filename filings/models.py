"""Filings (备案) and the per-region filing parameters of domain.md §2."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField

from hospitals.models import Hospital
from portal.models import InsuredPerson, Province, Region, place_name


class FilingType(models.TextChoices):
    LONG_TERM = "long_term", _("Long-term residence")
    REFERRAL = "referral", _("Referral")
    EMERGENCY = "emergency", _("Emergency")
    TEMPORARY = "temporary", _("Other temporary treatment")
    CHRONIC = "chronic_outpatient", _("Outpatient chronic and special diseases")


class LongTermSubtype(models.TextChoices):
    RESETTLED_RETIREE = "resettled_retiree", _("Resettled retiree")
    LONG_TERM_RESIDENT = "long_term_resident", _("Long-term resident")
    STATIONED_WORKER = "stationed_worker", _("Worker stationed elsewhere")


class TemporaryPurpose(models.TextChoices):
    """Why the person goes elsewhere (domain.md §2.4). Two keep the home benefit level (§3.3):
    study, for a residents' scheme member, and maternity within the person's own province."""

    BUSINESS_TRIP = "business_trip", _("Business trip")
    STUDY = "study", _("Study")
    TRAINING = "training", _("Training")
    VISITING_RELATIVES = "visiting_relatives", _("Visiting relatives")
    TRAVEL = "travel", _("Travel")
    MATERNITY = "maternity", _("Maternity (giving birth)")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, awaiting review")
    APPROVED = "approved", _("Approved (effective)")
    REJECTED = "rejected", _("Rejected")
    RETURNED = "returned", _("Returned for more materials")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
    REVOKED = "revoked", _("Revoked")


OPEN_STATUSES = [Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.APPROVED]


class Basis(models.TextChoices):
    MATERIALS = "materials", _("Proof materials")
    COMMITMENT = "commitment", _("Written commitment (告知承诺)")


class ReferralCondition(models.TextChoices):
    A = "a", _("(a) the region's institutions cannot treat this critical patient")
    B = "b", _("(b) the examination or treatment is beyond their equipment or technology")


class ReferralSource(models.TextChoices):
    E_REFERRAL = "e_referral", _("Electronic referral by the hospital")
    PAPER = "paper", _("Paper referral registered by the person")
    # domain.md §2.2: the receiving hospital's written notice for continued treatment or a
    # readmission within the treatment cycle (the filing `renews` the referral it follows).
    FOLLOW_UP = "follow_up", _("Follow-up notice by the receiving hospital")


# An e-referral its hospital has only started (not yet stamped and sent to the agency), or
# discarded so: the hospital's draft, not the person's filing. Neither listed nor shown to the
# person (404): the referral appears once the hospital sends it, and a discarded draft never.
HOSPITALS_DRAFT = Q(type=FilingType.REFERRAL, referral_source=ReferralSource.E_REFERRAL) & (
    Q(status=Status.DRAFT) | Q(status=Status.CANCELLED, submitted_at__isnull=True)
)


class Filing(models.Model):
    number = models.CharField(_("filing number"), max_length=24, unique=True)
    person = models.ForeignKey(
        InsuredPerson,
        on_delete=models.PROTECT,
        related_name="filings",
        verbose_name=_("insured person"),
    )
    # The place of insurance at filing time: its agency reviews the filing.
    insured_region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("insured in"),
        db_index=False,  # filing_region_recent leads with it
    )
    type = models.CharField(_("type"), max_length=20, choices=FilingType.choices)
    subtype = models.CharField(
        _("sub-type"),
        max_length=20,
        choices=[*LongTermSubtype.choices, *TemporaryPurpose.choices],
        blank=True,
        help_text=_("Long-term filings: who the person is; temporary filings: why they go."),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )

    place_province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("province of treatment"),
    )
    place_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("place of treatment")
    )
    covers_inpatient = models.BooleanField(_("inpatient care"), default=True)
    covers_general_outpatient = models.BooleanField(_("general outpatient care"), default=True)
    covers_chronic_outpatient = models.BooleanField(
        _("outpatient chronic and special diseases"), default=False
    )

    start_date = models.DateField(_("requested start date"), null=True, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    # Long-term: proof materials or commitment (告知承诺).
    basis = models.CharField(_("basis"), max_length=12, choices=Basis.choices, blank=True)
    # Said at submission: the property certificate is of a relative's home, so the filing
    # carries proof of the relationship (domain.md §2.1).
    relatives_home = models.BooleanField(_("home of a relative"), default=False)
    # The person ticked the written commitment (filings.forms.PROMISE) on the form: kept with a
    # draft, so the tick is still there when they come back to submit it (domain.md §2.1).
    promised = models.BooleanField(_("written commitment ticked"), default=False, db_default=False)
    commitment_deadline = models.DateField(_("commitment deadline"), null=True, blank=True)
    materials_accepted_at = models.DateTimeField(_("materials accepted"), null=True, blank=True)
    hospitals = models.ManyToManyField(
        Hospital, blank=True, related_name="chosen_by_filings", verbose_name=_("chosen hospitals")
    )

    # Referral (转诊转院).
    referral_source = models.CharField(
        _("referral source"), max_length=12, choices=ReferralSource.choices, blank=True
    )
    issuing_hospital = models.ForeignKey(
        Hospital,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("referring hospital"),
    )
    receiving_hospital = models.ForeignKey(
        Hospital,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("receiving hospital"),
    )
    diagnosis = models.CharField(_("diagnosis"), max_length=200, blank=True)
    referral_condition = models.CharField(
        _("referral condition"), max_length=1, choices=ReferralCondition.choices, blank=True
    )
    attending_doctor = models.CharField(_("attending doctor"), max_length=60, blank=True)
    director_signed_by = models.CharField(_("department director"), max_length=60, blank=True)
    director_signed_at = models.DateTimeField(_("director signed"), null=True, blank=True)
    medical_office_signed_by = models.CharField(_("medical office"), max_length=60, blank=True)
    medical_office_signed_at = models.DateTimeField(
        _("medical office signed"), null=True, blank=True
    )
    course_days = models.PositiveSmallIntegerField(_("course length (days)"), null=True, blank=True)
    treatment_started_on = models.DateField(_("treatment started on"), null=True, blank=True)
    extended_until = models.DateField(_("extended until"), null=True, blank=True)

    # Emergency (急诊抢救).
    transfer_date = models.DateField(_("emergency transfer date"), null=True, blank=True)
    discharge_settled_on = models.DateField(_("discharge settled on"), null=True, blank=True)

    # Outpatient chronic and special diseases.
    disease = models.CharField(_("disease"), max_length=100, blank=True)

    # Agent filing (代办).
    agent_name = models.CharField(_("agent's name"), max_length=60, blank=True)
    agent_id_number = EncryptedCharField(
        _("agent's ID number"), max_length=18, blank=True, null=True
    )
    agent_relationship = models.CharField(_("agent's relationship"), max_length=40, blank=True)

    # A long-term filing that renews an approved one before its validity ends (domain.md §2.1:
    # Daxinganling, 12 months, then re-file); it takes effect the day after that one ends.
    renews = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewals",
        verbose_name=_("renews or follows up filing"),
        db_index=False,  # one_renewal_per_filing serves the open ones
    )

    decision_note = models.TextField(_("note to the person"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("filing")
        verbose_name_plural = _("filings")
        constraints = [
            # domain.md §2.6: at most one effective long-term filing per person. The database
            # decides under concurrency: one long-term filing in progress per person; one
            # approved long-term filing per person that renews nothing; and a filing renewed
            # by at most one filing that is not final. A renewal may be approved while the
            # filing it renews is (their validities follow each other: the service sets them);
            # an unrelated second filing next to an approved one is refused by the service.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(type="long_term", status__in=["draft", "submitted", "returned"]),
                name="one_pending_long_term_filing_per_person",
            ),
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(type="long_term", status="approved", renews__isnull=True),
                name="one_approved_long_term_filing_per_person",
            ),
            models.UniqueConstraint(
                fields=["renews"],
                condition=Q(
                    renews__isnull=False,
                    status__in=["draft", "submitted", "returned", "approved"],
                ),
                name="one_renewal_per_filing",
            ),
        ]
        indexes = [
            models.Index(
                fields=["valid_until"],
                condition=Q(status="approved"),
                name="filing_approved_valid_until",
            ),
            models.Index(
                fields=["commitment_deadline"],
                condition=Q(
                    status="approved", basis="commitment", materials_accepted_at__isnull=True
                ),
                name="filing_commitment_due",
            ),
            # The nightly job's started referrals (course over, domain.md §2.2): few rows,
            # and an index-only scan for the course lengths in use.
            models.Index(
                fields=["treatment_started_on", "course_days"],
                condition=Q(status="approved", type="referral", treatment_started_on__isnull=False),
                name="filing_referral_course",
            ),
            models.Index(fields=["person", "status"], name="filing_person_status"),
            # The admin's list, newest first: an agency's region (which also serves the
            # foreign key), and every region for a superuser. Without them a list page sorts a
            # region's whole history (about a second at a million filings; bench_admin.py).
            models.Index(
                fields=["insured_region", "-created_at", "-id"], name="filing_region_recent"
            ),
            models.Index(fields=["-created_at", "-id"], name="filing_recent"),
            # The reviewer's queue (status "submitted", oldest submitted first: ReviewQueue)
            # and its count on the admin's index: the few waiting rows of a region, read in
            # the queue's order, not its whole history scanned and sorted.
            models.Index(
                fields=["insured_region", "submitted_at", "id"],
                condition=Q(status="submitted"),
                name="filing_submitted_queue",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.get_type_display()}"

    def covers(self, care_type: str) -> bool:
        return bool(getattr(self, f"covers_{care_type}", False))

    def get_status_display(self) -> str:
        """The state's label; an approved filing whose validity starts later (a renewal, a
        filing for a trip next month) says from when it is in force, not just "in force"."""
        if self.not_yet_in_force:
            return _("Approved (in force from %(date)s)") % {
                "date": date_format(self.valid_from, "Y-m-d")
            }
        return str(Status(self.status).label) if self.status in Status.values else self.status

    @property
    def valid_through(self) -> datetime.date | None:
        """The last day the filing is valid: `valid_until`, or a referral's extension
        (`extended_until`) when that is later. None: open-ended, or not set yet."""
        if self.valid_until is None:
            return None
        return max(self.valid_until, self.extended_until or self.valid_until)

    def status_now(self, today: datetime.date | None = None) -> str:
        """The state as of `today` (a Status value), before the nightly run records it
        (filings/jobs.py, at 01:05): an approved filing whose validity is over (`valid_through`
        before today: ended, or cut short by a long-term filing) reads as expired. Pages show
        this; the rules and services go by `status`."""
        today = today or timezone.localdate()
        if self.status == Status.APPROVED and self.valid_through and self.valid_through < today:
            return Status.EXPIRED
        return self.status

    @property
    def current_status(self) -> str:
        """`status_now()` for templates."""
        return self.status_now()

    def get_current_status_display(self) -> str:
        """The label of `status_now()`: "Expired" for an approved filing whose validity is over,
        "Approved (in force from D)" for one that starts later, else the state's label."""
        if self.status_now() == Status.EXPIRED and self.status != Status.EXPIRED:
            return str(Status.EXPIRED.label)
        return self.get_status_display()

    @property
    def place(self) -> str:
        """The place of treatment as its language writes it: "黑龙江省哈尔滨市", "Harbin,
        Heilongjiang"."""
        return place_name(self.place_province, self.place_region)

    @property
    def is_hospitals_draft(self) -> bool:
        """An e-referral its hospital has only started, or discarded so (`HOSPITALS_DRAFT`)."""
        return (
            self.type == FilingType.REFERRAL
            and self.referral_source == ReferralSource.E_REFERRAL
            and (
                self.status == Status.DRAFT
                or (self.status == Status.CANCELLED and self.submitted_at is None)
            )
        )

    def care_labels(self) -> list[str]:
        """The care the filing covers, in words ("Inpatient", "General outpatient", ...)."""
        return [
            str(label)
            for flag, label in [
                (self.covers_inpatient, _("Inpatient")),
                (self.covers_general_outpatient, _("General outpatient")),
                (self.covers_chronic_outpatient, _("Outpatient chronic and special diseases")),
            ]
            if flag
        ]

    @property
    def not_yet_in_force(self) -> bool:
        """Approved, with a validity that starts after today."""
        return (
            self.status == Status.APPROVED
            and self.valid_from is not None
            and self.valid_from > timezone.localdate()
        )

    @property
    def two_way(self) -> bool:
        """domain.md §2.1: long-term with accepted materials settles at home too."""
        return (
            self.type == FilingType.LONG_TERM
            and self.status == Status.APPROVED
            and (self.basis == Basis.MATERIALS or self.materials_accepted_at is not None)
        )


class BenefitsStart(models.TextChoices):
    ON_APPROVAL = "on_approval", _("On approval")
    DAY_AFTER = "day_after", _("The day after approval")


class FilingParameters(models.Model):
    """A region's filing parameters (domain.md §2.1–2.2), versioned by effective date."""

    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="filing_parameters",
        verbose_name=_("pooling region"),
    )
    effective_from = models.DateField(_("effective from"))
    benefits_start = models.CharField(
        _("when benefits start"),
        max_length=12,
        choices=BenefitsStart.choices,
        default=BenefitsStart.ON_APPROVAL,
    )
    lock_months = models.PositiveSmallIntegerField(
        _("no change or cancellation for (months)"), default=6
    )
    long_term_validity_months = models.PositiveSmallIntegerField(
        _("long-term validity (months, empty = open-ended)"), null=True, blank=True
    )
    max_hospitals = models.PositiveSmallIntegerField(
        _("hospitals to choose (0 = any designated institution)"), default=0
    )
    commitment_months = models.PositiveSmallIntegerField(
        _("commitment supplement period (months)"), default=6
    )
    referral_validity_months = models.PositiveSmallIntegerField(
        _("referral validity (months)"), null=True, blank=True
    )
    referral_start_window_months = models.PositiveSmallIntegerField(
        _("referral: start treatment within (months)"), null=True, blank=True
    )
    referral_course_days = models.PositiveSmallIntegerField(
        _("referral: one course of at most (days)"), null=True, blank=True
    )
    temporary_validity_months = models.PositiveSmallIntegerField(
        _("other temporary validity (months)"), default=6
    )

    class Meta:
        ordering = ["region", "-effective_from"]
        verbose_name = _("filing parameters")
        verbose_name_plural = _("filing parameters")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "effective_from"], name="one_parameter_set_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} ≥ {self.effective_from}"


class WorkingDayCorrection(models.Model):
    """An agency administrator's correction of the holiday calendar (a new year's make-up days
    published late, a local holiday): overrides the `holidays` library for that date."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["-date"]
        verbose_name = _("working-day correction")
        verbose_name_plural = _("working-day corrections")

    def __str__(self) -> str:
        return f"{self.date} {'✓' if self.is_working_day else '✗'}"


class MaterialKind(models.TextChoices):
    HOUSEHOLD_REGISTER = "household_register", _("Household register")
    PROPERTY_CERTIFICATE = "property_certificate", _("Property certificate")
    RELATIONSHIP_PROOF = "relationship_proof", _("Proof of relationship")
    RESIDENCE_CERTIFICATE = "residence_certificate", _("Residence certificate")
    POSTING_CERTIFICATE = "posting_certificate", _("Employer's posting certificate")
    ID_COPY = "id_copy", _("ID card copy")
    SOCIAL_SECURITY_COPY = "social_security_copy", _("Social security card copy")
    PAYMENT_RECORD = "payment_record", _("Payment record (residents' scheme)")
    AGENT_ID_COPY = "agent_id_copy", _("Agent's ID card copy")
    REFERRAL_SCAN = "referral_scan", _("Referral form scan")
    # What a referral's extension needs once treatment has started (domain.md §2.2).
    HOSPITALISATION_SUMMARY = "hospitalisation_summary", _("Hospitalisation summary")
    DIAGNOSIS_CERTIFICATE = "diagnosis_certificate", _("Diagnosis certificate")
    OTHER = "other", _("Other")


# What keeps a commitment (domain.md §2.1, filing by commitment): one proof of residence, or, for
# a worker stationed elsewhere, the employer's posting certificate. A copy of the ID card or any
# other file alone does not.
COMMITMENT_PROOF_KINDS = (
    MaterialKind.HOUSEHOLD_REGISTER.value,
    MaterialKind.PROPERTY_CERTIFICATE.value,
    MaterialKind.RESIDENCE_CERTIFICATE.value,
    MaterialKind.POSTING_CERTIFICATE.value,
)
# ... of which the posting certificate counts only for a worker stationed elsewhere.
RESIDENCE_PROOF_KINDS = COMMITMENT_PROOF_KINDS[:3]


def commitment_proof_kinds(subtype: str) -> tuple[str, ...]:
    """The kinds that keep the commitment of a long-term filing of this sub-type."""
    if subtype == LongTermSubtype.STATIONED_WORKER:
        return COMMITMENT_PROOF_KINDS
    return RESIDENCE_PROOF_KINDS


def keeps_commitment_q(prefix: str = "", filing: str = "filing__") -> Q:
    """The materials (`prefix`: the path to them) that keep a commitment, as a query: a proof
    of residence, or a posting certificate of a worker stationed elsewhere (`filing`: the path
    from the material to its filing)."""
    return Q(**{f"{prefix}kind__in": RESIDENCE_PROOF_KINDS}) | Q(
        **{
            f"{prefix}kind": MaterialKind.POSTING_CERTIFICATE.value,
            f"{filing}subtype": LongTermSubtype.STATIONED_WORKER.value,
        }
    )


class StoredUpload(models.Model):
    """A file that passed the upload pipeline (filings/uploads.py), stored under a random name
    outside any public URL; a concrete model adds its owner and its `kind` with choices."""

    stored_name = models.CharField(max_length=80, unique=True, editable=False)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("file type"), max_length=40)
    size = models.PositiveIntegerField(_("size"))
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"


class Material(StoredUpload):
    """A proof material of a filing.

    One uploaded after the filing was approved is a supplement (domain.md §2.1: the materials a
    commitment filing promised): pending until the agency accepts the filing's materials
    (`Filing.materials_accepted_at`) or refuses it (`refused_at`)."""

    filing = models.ForeignKey(
        Filing, on_delete=models.CASCADE, related_name="materials", verbose_name=_("filing")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=MaterialKind.choices)
    refused_at = models.DateTimeField(_("refused"), null=True, blank=True)

    class Meta(StoredUpload.Meta):
        verbose_name = _("material")
        verbose_name_plural = _("materials")
