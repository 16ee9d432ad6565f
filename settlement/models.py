"""Benefit policies, settlements of hospital bills and annual accumulations (domain.md §3)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hospitals.models import ApiKey, CareType, Hospital, Level
from portal.models import InsuredPerson, Region, Scheme
from settlement import engine


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
    deductible = models.DecimalField(_("deductible"), max_digits=10, decimal_places=2)
    ratio = models.DecimalField(_("payment ratio"), max_digits=4, decimal_places=3)
    annual_cap = models.DecimalField(_("annual cap"), max_digits=12, decimal_places=2)
    class_b_rate = models.DecimalField(
        _("class B first self-pay rate"), max_digits=4, decimal_places=3, default=Decimal("0.10")
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
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.year} {self.get_category_display()}"

    def clean(self) -> None:
        try:
            engine.validate_adjustment(self.category, self.ratio_reduction_points)
        except engine.RuleError:
            cap = engine.MAX_REDUCTION_POINTS.get(self.category, 0)
            raise ValidationError(
                {
                    "ratio_reduction_points": _(
                        "At most %(cap)s points for this category (domain rule 3.3)."
                    )
                    % {"cap": cap}
                }
            ) from None

    def as_engine(self) -> engine.Adjustment:
        return engine.Adjustment(
            self.ratio_reduction_points, self.deductible_multiplier, self.fund_share
        )


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

    number = models.CharField(_("settlement number"), max_length=24, unique=True)
    hospital = models.ForeignKey(
        Hospital, on_delete=models.PROTECT, related_name="settlements", verbose_name=_("hospital")
    )
    api_key = models.ForeignKey(
        ApiKey, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        InsuredPerson,
        on_delete=models.PROTECT,
        related_name="settlements",
        verbose_name=_("insured person"),
    )
    insured_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("insured in")
    )
    idempotency_key = models.CharField(max_length=128, blank=True)
    request_hash = models.CharField(max_length=64)
    category = models.CharField(_("category"), max_length=20)
    policy_year = models.PositiveSmallIntegerField(_("policy year"))
    care_type = models.CharField(_("care type"), max_length=20, choices=CareType.choices)
    admitted_on = models.DateField(_("admitted on"))
    discharged_on = models.DateField(_("discharged on"))
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    fund_pay = models.DecimalField(_("fund pays"), max_digits=12, decimal_places=2)
    person_pay = models.DecimalField(_("person pays"), max_digits=12, decimal_places=2)
    breakdown = models.JSONField(_("breakdown"), default=dict)
    flags = models.JSONField(_("flags"), default=list)
    items = models.JSONField(_("items"), default=list)
    # What the person had already used this year when settled, so a re-check reproduces it.
    ytd_fund_paid = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    ytd_deductible_paid = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    adjustment = models.JSONField(default=dict)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        constraints = [
            models.UniqueConstraint(
                fields=["hospital", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="one_settlement_per_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(total=models.F("fund_pay") + models.F("person_pay")),
                name="fund_plus_person_is_total",
            ),
        ]

    def __str__(self) -> str:
        return self.number
