"""Benefit policies, settlements of hospital bills and annual accumulations (domain.md §3)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Abs
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from filings.models import StoredUpload
from hospitals.models import ApiKey, CareType, Hospital, Level
from portal.models import InsuredPerson, Region, Scheme
from settlement import engine


def adds_up(total: str, *parts: str):
    """`total == sum(parts)` as a check constraint. Exact on PostgreSQL (numeric); SQLite keeps
    decimals as floating point, so allow less than half a cent there (amounts have 2 places)."""
    difference = F(total)
    for part in parts:
        difference = difference - F(part)
    return LessThan(Abs(difference), Value(Decimal("0.005")))


# A rate that is a share of an amount: 0 to 1.
SHARE = [MinValueValidator(0), MaxValueValidator(1)]


class BenefitPolicy(models.Model):
    """The place of insurance's policy by scheme, year and hospital level."""

    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="benefit_policies",
        verbose_name=_("pooling region"),
    )
    scheme = models.CharField(_("scheme"), max_length=10, choices=Scheme.choices)
    year = models.PositiveSmallIntegerField(_("policy year"))
    level = models.PositiveSmallIntegerField(_("hospital level"), choices=Level.choices)
    # Amounts are never negative and rates are shares of the amount (0 to 1): the admin's form
    # says so beside the field (validators), and the database refuses any other (constraints),
    # since a class B rate of 1.5 would take fund money from the bill's class A items.
    deductible = models.DecimalField(
        _("deductible"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    ratio = models.DecimalField(
        _("payment ratio"), max_digits=4, decimal_places=3, validators=SHARE
    )
    annual_cap = models.DecimalField(
        _("annual cap"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    class_b_rate = models.DecimalField(
        _("class B first self-pay rate"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.10"),
        validators=SHARE,
    )

    class Meta:
        ordering = ["region", "-year", "scheme", "-level"]
        verbose_name = _("benefit policy")
        verbose_name_plural = _("benefit policies")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "scheme", "year", "level"],
                name="one_policy_per_region_scheme_year_level",
            ),
            models.CheckConstraint(
                condition=Q(ratio__gte=0, ratio__lte=1), name="policy_ratio_between_0_and_1"
            ),
            models.CheckConstraint(
                condition=Q(class_b_rate__gte=0, class_b_rate__lte=1),
                name="policy_class_b_rate_between_0_and_1",
            ),
            models.CheckConstraint(
                condition=Q(deductible__gte=0, annual_cap__gte=0),
                name="policy_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year} {self.get_scheme_display()} {self.get_level_display()}"

    def as_engine(self) -> engine.Policy:
        return engine.Policy(self.deductible, self.ratio, self.annual_cap, self.class_b_rate)


class Category(models.TextChoices):
    REFERRAL = "referral", _("Referral")
    EMERGENCY = "emergency", _("Emergency")
    TEMPORARY = "temporary", _("Other temporary treatment")
    UNAPPROVED_TRANSFER = "unapproved_transfer", _("Transfer without an approved referral")
    RESETTLED = "resettled", _("Resettled persons (long-term)")


class SettledCategory(models.TextChoices):
    """The category a bill was settled under: the eligibility decision's (hospitals.eligibility)."""

    LOCAL = "local", _("Local settlement (your own pooling region)")
    LONG_TERM = "long_term", _("Long-term residence filing")
    REFERRAL = "referral", _("Referral")
    EMERGENCY = "emergency", _("Emergency")
    TEMPORARY = "temporary", _("Other temporary treatment filing")


# domain.md §3.3: the fund pays 50% of what it would otherwise pay for a transfer without an
# approved referral.
UNAPPROVED_TRANSFER_SHARE = Decimal("0.50")


class CategoryPolicy(models.Model):
    """domain.md §3.3: a region's adjustment for one category, capped per category."""

    region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="category_policies",
        verbose_name=_("pooling region"),
    )
    year = models.PositiveSmallIntegerField(_("policy year"))
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    ratio_reduction_points = models.PositiveSmallIntegerField(_("ratio reduction (points)"))
    deductible_multiplier = models.DecimalField(
        _("deductible multiplier"), max_digits=4, decimal_places=2, default=Decimal("1.00")
    )
    fund_share = models.DecimalField(
        _("fund share"), max_digits=4, decimal_places=2, default=Decimal("1.00")
    )

    class Meta:
        ordering = ["region", "-year", "category"]
        verbose_name = _("category adjustment")
        verbose_name_plural = _("category adjustments")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year", "category"],
                name="one_adjustment_per_region_year_category",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        category__in=["referral", "emergency", "unapproved_transfer"],
                        ratio_reduction_points__lte=10,
                    )
                    | Q(category="temporary", ratio_reduction_points__lte=20)
                    | Q(category="resettled", ratio_reduction_points__lte=5)
                ),
                name="reduction_within_the_category_cap",
                violation_error_message=_("The ratio reduction exceeds the cap of its category."),
            ),
            # domain.md §3.3: only a transfer without an approved referral pays a share (50%);
            # a share on another category would cut its ratio past the category's cap.
            models.CheckConstraint(
                condition=Q(category="unapproved_transfer", fund_share=UNAPPROVED_TRANSFER_SHARE)
                | (~Q(category="unapproved_transfer") & Q(fund_share=1)),
                name="fund_share_of_the_category",
                violation_error_message=_(
                    "Only a transfer without an approved referral pays a share of the fund's "
                    "payment, and that share is 0.50."
                ),
            ),
            # ... and a resettled person's deductible is unchanged.
            models.CheckConstraint(
                condition=~Q(category="resettled") | Q(deductible_multiplier=1),
                name="resettled_deductible_unchanged",
                violation_error_message=_("A resettled person's deductible is unchanged (1.00)."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year} {self.get_category_display()}"

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        if self.category == Category.UNAPPROVED_TRANSFER:
            # domain.md §3.3: "as referral", the fund paying 50% of that: a row of its own could
            # only disagree with the region's referral row.
            raise ValidationError(
                {
                    "category": ValidationError(
                        _(
                            "A transfer without an approved referral is settled on the region's "
                            "referral terms, the fund paying 50% of that (domain rule 3.3): it "
                            "has no row of its own. Set the referral row instead."
                        ),
                        code="unapproved_transfer_follows_referral",
                    )
                }
            )
        if self.ratio_reduction_points is not None:
            try:
                engine.validate_adjustment(self.category, self.ratio_reduction_points)
            except engine.RuleError:
                cap = engine.MAX_REDUCTION_POINTS.get(self.category, 0)
                errors["ratio_reduction_points"] = ValidationError(
                    _("At most %(cap)s points for this category (domain rule 3.3)."),
                    code="reduction_above_cap",
                    params={"cap": cap},
                )
        # domain.md §3.3: the fund pays 50% for a transfer without an approved referral, and
        # all of its payment otherwise (a share would cut the ratio past the category's cap); a
        # multiplier below 1 would lower the deductible, which §3.3 never allows, and a resettled
        # person's deductible is unchanged.
        share = (
            UNAPPROVED_TRANSFER_SHARE
            if self.category == Category.UNAPPROVED_TRANSFER
            else Decimal("1.00")
        )
        if self.fund_share is not None and self.fund_share != share:
            errors["fund_share"] = ValidationError(
                _("The fund share of this category is %(share)s (domain rule 3.3)."),
                code="fund_share_of_the_category",
                params={"share": share},
            )
        if self.deductible_multiplier is not None and self.deductible_multiplier < 1:
            errors["deductible_multiplier"] = ValidationError(
                _("The deductible multiplier must be at least 1."), code="multiplier_below_one"
            )
        elif self.category == Category.RESETTLED and self.deductible_multiplier not in (None, 1):
            errors["deductible_multiplier"] = ValidationError(
                _("A resettled person's deductible is unchanged: the multiplier is 1.00."),
                code="resettled_deductible_unchanged",
            )
        if errors:
            raise ValidationError(errors)

    def as_engine(self) -> engine.Adjustment:
        return engine.Adjustment(
            self.ratio_reduction_points, self.deductible_multiplier, self.fund_share
        )


# The parts of a split (engine.Split.breakdown) in the engine's order, then a reviewer's
# adjustment: the order every page and the API list them in.
BREAKDOWN_ORDER = (*engine.BREAKDOWN_PARTS, "adjustment")


class BreakdownField(models.JSONField):
    """A split's parts, read back in BREAKDOWN_ORDER (any other key after them): PostgreSQL's
    jsonb keeps an object's keys in an order of its own (shorter keys first), so a part list
    read from the database would not follow the engine's."""

    def from_db_value(self, value, expression, connection):
        parts = super().from_db_value(value, expression, connection)
        if not isinstance(parts, dict):
            return parts
        rank = {key: place for place, key in enumerate(BREAKDOWN_ORDER)}
        return dict(sorted(parts.items(), key=lambda part: rank.get(part[0], len(rank))))


class AnnualAccumulation(models.Model):
    person = models.ForeignKey(InsuredPerson, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    fund_paid = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    outpatient_deductible_paid = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0")
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "year"], name="one_ytd_per_year")]

    def __str__(self) -> str:
        return f"{self.person_id} {self.year}"


class Settlement(models.Model):
    class Status(models.TextChoices):
        SETTLED = "settled", _("Settled")
        HELD = "held_for_review", _("Held for review")
        REJECTED = "rejected", _("Rejected on review")
        RETURNED = "returned", _("Returned to the hospital")
        # Taken back by the agency after it was settled or held (a duplicate, a bill settled
        # wrongly): the fund does not pay it (services.settlement_void).
        VOIDED = "voided", _("Voided")

    number = models.CharField(_("settlement number"), max_length=24, unique=True)
    hospital = models.ForeignKey(
        Hospital,
        on_delete=models.PROTECT,
        related_name="settlements",
        verbose_name=_("hospital"),
        db_index=False,  # settlement_hospital_new and the other hospital_* indexes lead with it
    )
    api_key = models.ForeignKey(
        ApiKey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API key"),
    )
    person = models.ForeignKey(
        InsuredPerson,
        on_delete=models.PROTECT,
        related_name="settlements",
        verbose_name=_("insured person"),
    )
    insured_region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("insured in"),
        db_index=False,  # settlement_region_recent leads with it
    )
    idempotency_key = models.CharField(_("Idempotency-Key"), max_length=128, blank=True)
    request_hash = models.CharField(max_length=64)
    category = models.CharField(_("category"), max_length=20, choices=SettledCategory.choices)
    policy_year = models.PositiveSmallIntegerField(_("policy year"))
    care_type = models.CharField(_("care type"), max_length=20, choices=CareType.choices)
    admitted_on = models.DateField(_("admitted on"))
    discharged_on = models.DateField(_("discharged on"))
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    fund_pay = models.DecimalField(_("fund pays"), max_digits=12, decimal_places=2)
    person_pay = models.DecimalField(_("person pays"), max_digits=12, decimal_places=2)
    breakdown = BreakdownField(_("breakdown"), default=dict)
    flags = models.JSONField(_("flags"), default=list)
    items = models.JSONField(_("items"), default=list)
    # What the person had already used this year when the bill was split (a re-check splits
    # it against the year as it is then: services.recheck).
    ytd_fund_paid = models.DecimalField(
        _("fund paid earlier in the year"), max_digits=12, decimal_places=2, default=0
    )
    ytd_deductible_paid = models.DecimalField(
        _("deductible paid earlier in the year"), max_digits=10, decimal_places=2, default=0
    )
    adjustment = models.JSONField(default=dict)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    # Set by the agency's review of a held settlement (the engine's amount stays beside it).
    original_fund_pay = models.DecimalField(
        _("fund payment before review"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    review_reason = models.TextField(_("review reason"), blank=True)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    # The state a voided settlement was in (settled or held for review): what the hospital API,
    # whose contract knows no voided state, still answers for it (services.as_dict).
    voided_from = models.CharField(
        _("state before it was voided"),
        max_length=16,
        choices=Status.choices,
        blank=True,
        db_default="",  # rows written in bulk by SQL leave it out
    )
    # The person's earlier direct settlement (settled or held when this one was made) for days
    # of the same stay (services.overlapping): the same bill sent again without its
    # Idempotency-Key, or a stay settled at two hospitals. Settled as sent (the hospital's
    # answer does not change); the agency finds these in its list and voids the one the fund
    # must not pay.
    overlaps = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("overlaps settlement"),
        db_index=False,  # settlement_twins, partial: most rows have none
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        # A hospital's own list, newest first (settlement/hospital_views.py).
        indexes = [
            models.Index(fields=["hospital", "-created_at"], name="settlement_hospital_new"),
            # Its state tabs (a count per state) and the desk's count of returned bills, read
            # from the index; its month of discharge, as a date range.
            models.Index(fields=["hospital", "status"], name="settlement_hospital_status"),
            models.Index(fields=["hospital", "discharged_on"], name="settlement_hospital_month"),
            # The admin's list, newest first (an agency's region; every region for a
            # superuser), and the agency's queue of held settlements, oldest first (few rows
            # among millions): a list page reads a page, not a region's history.
            models.Index(
                fields=["insured_region", "-created_at", "-id"], name="settlement_region_recent"
            ),
            models.Index(fields=["-created_at", "-id"], name="settlement_recent"),
            models.Index(
                fields=["insured_region", "created_at", "id"],
                condition=Q(status="held_for_review"),
                name="settlement_held_queue",
            ),
            # The agency's list of settlements that overlap an earlier one (few rows), and the
            # later twins of one that is voided (services._mark_twins_again).
            models.Index(
                fields=["insured_region", "-created_at", "-id"],
                condition=Q(overlaps__isnull=False),
                name="settlement_overlapping",
            ),
            models.Index(
                fields=["overlaps"],
                condition=Q(overlaps__isnull=False),
                name="settlement_twins",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["hospital", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="one_settlement_per_idempotency_key",
            ),
            models.CheckConstraint(
                condition=adds_up("total", "fund_pay", "person_pay"),
                name="fund_plus_person_is_total",
            ),
        ]

    def __str__(self) -> str:
        return self.number


SettlementStatus = Settlement.Status  # by a dotted path of its own (portal.notices.CHOICES)


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned for more information")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")
    REJECTED = "rejected", _("Rejected")


class Claim(models.Model):
    """domain.md §3.4: a reimbursement claim when direct settlement did not happen."""

    number = models.CharField(_("claim number"), max_length=24, unique=True)
    person = models.ForeignKey(
        InsuredPerson, on_delete=models.PROTECT, related_name="claims", verbose_name=_("claimant")
    )
    insured_region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("insured in"),
        db_index=False,  # claim_queue and claim_region_recent lead with it
    )
    hospital = models.ForeignKey(
        Hospital, on_delete=models.PROTECT, related_name="claims", verbose_name=_("hospital")
    )
    care_type = models.CharField(_("care type"), max_length=20, choices=CareType.choices)
    admitted_on = models.DateField(_("admitted on"))
    discharged_on = models.DateField(_("discharged on"))
    items = models.JSONField(_("items"), default=list)
    category = models.CharField(_("category"), max_length=20, choices=SettledCategory.choices)
    policy_year = models.PositiveSmallIntegerField(_("policy year"))
    adjustment = models.JSONField(default=dict)
    # The engine's split when submitted (what the person was told the claim would likely pay).
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    estimated_fund_pay = models.DecimalField(
        _("estimated fund payment"), max_digits=12, decimal_places=2
    )
    breakdown = BreakdownField(_("breakdown"), default=dict)
    flags = models.JSONField(_("flags"), default=list)
    # What the reviewer decided.
    approved_fund_pay = models.DecimalField(
        _("approved fund payment"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    approved_person_pay = models.DecimalField(
        _("approved person's share"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ClaimStatus.choices, default=ClaimStatus.SUBMITTED
    )
    reason = models.TextField(_("reason"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("reimbursement claim")
        verbose_name_plural = _("reimbursement claims")
        indexes = [
            models.Index(fields=["insured_region", "status"], name="claim_queue"),
            # The admin's list, newest first (an agency's region; every region for a
            # superuser): a list page reads a page, not a region's history.
            models.Index(
                fields=["insured_region", "-submitted_at", "-id"], name="claim_region_recent"
            ),
            models.Index(fields=["-submitted_at", "-id"], name="claim_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(discharged_on__gte=models.F("admitted_on")),
                name="claim_discharge_after_admission",
            ),
            models.CheckConstraint(
                condition=Q(approved_fund_pay__isnull=True)
                | Q(
                    adds_up("total", "approved_fund_pay", "approved_person_pay"),
                    approved_fund_pay__gte=0,
                    approved_fund_pay__lte=models.F("total"),
                ),
                name="claim_approved_split_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def fund_pay(self) -> Decimal:
        """What the fund pays: the approved amount once decided, the estimate before."""
        if self.approved_fund_pay is not None:
            return self.approved_fund_pay
        return self.estimated_fund_pay


class ClaimDocumentKind(models.TextChoices):
    DISCHARGE_SUMMARY = "discharge_summary", _("Discharge summary or diagnosis certificate")
    INVOICE = "invoice", _("Invoices")
    ITEMISED_LIST = "itemised_list", _("Itemised expense list")
    MEDICAL_RECORD = "medical_record", _("Medical record copy")
    REFERRAL_FORM = "referral_form", _("Referral form")
    OTHER = "other", _("Other")


class ClaimDocument(StoredUpload):
    """A supporting document, through the same upload pipeline as filing materials."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind"), max_length=24, choices=ClaimDocumentKind.choices)

    class Meta(StoredUpload.Meta):
        verbose_name = _("claim document")
        verbose_name_plural = _("claim documents")


class StatementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    SUPERSEDED = "superseded", _("Superseded")


class ClearingStatement(models.Model):
    """domain.md §3.5: one month of direct settlements between a place of treatment and a place
    of insurance. Locked once issued; a correction is a new statement that supersedes it."""

    number = models.CharField(_("statement number"), max_length=32, unique=True)
    period = models.DateField(_("month"), help_text=_("The first day of the month."))
    treatment_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("place of treatment")
    )
    insured_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("place of insurance")
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    status = models.CharField(
        _("status"), max_length=12, choices=StatementStatus.choices, default=StatementStatus.DRAFT
    )
    settlement_count = models.PositiveIntegerField(_("settlements"), default=0)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=0)
    fund_pay = models.DecimalField(_("fund payments"), max_digits=14, decimal_places=2, default=0)
    person_pay = models.DecimalField(
        _("paid by persons"), max_digits=14, decimal_places=2, default=0
    )
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-period", "treatment_region", "insured_region", "-version"]
        verbose_name = _("clearing statement")
        verbose_name_plural = _("clearing statements")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "treatment_region", "insured_region", "version"],
                name="one_statement_version_per_pair_and_month",
            ),
            models.UniqueConstraint(
                fields=["period", "treatment_region", "insured_region"],
                condition=~Q(status="superseded"),
                name="one_current_statement_per_pair_and_month",
            ),
            models.CheckConstraint(
                condition=adds_up("total", "fund_pay", "person_pay"),
                name="statement_fund_plus_person_is_total",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class ClearingLine(models.Model):
    """One direct settlement on a statement, with its amounts as cleared."""

    statement = models.ForeignKey(ClearingStatement, on_delete=models.PROTECT, related_name="lines")
    settlement = models.ForeignKey(Settlement, on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField(max_digits=12, decimal_places=2)
    fund_pay = models.DecimalField(max_digits=12, decimal_places=2)
    person_pay = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "settlement"], name="one_line_per_settlement_per_statement"
            )
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}:{self.settlement_id}"


class DiscrepancyStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CONFIRMED = "confirmed", _("Confirmed, to be corrected")
    DISMISSED = "dismissed", _("Dismissed")
    CORRECTED = "corrected", _("Corrected by a new statement")


class ClearingDiscrepancy(models.Model):
    """A discrepancy reported against a statement: never an edit of a settled amount."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("Amount error")
        MISSING = "missing", _("Missing settlement")
        DUPLICATE = "duplicate", _("Duplicate settlement")
        OTHER = "other", _("Other")

    statement = models.ForeignKey(
        ClearingStatement, on_delete=models.PROTECT, related_name="discrepancies"
    )
    settlement_number = models.CharField(_("settlement number"), max_length=24, blank=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    amount = models.DecimalField(
        _("amount in question"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    description = models.TextField(_("description"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=DiscrepancyStatus.choices,
        default=DiscrepancyStatus.OPEN,
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("reported"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("clearing discrepancy")
        verbose_name_plural = _("clearing discrepancies")

    def __str__(self) -> str:
        return f"{self.statement} {self.get_kind_display()}"
