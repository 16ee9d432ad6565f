"""The demo benefit policies of domain.md §4 for every region, this year and last (idempotent)."""

from __future__ import annotations

from decimal import Decimal as D

from django.db import transaction
from django.utils import timezone

from portal.models import Region
from settlement.models import BenefitPolicy, CategoryPolicy

# scheme: {level: (deductible, ratio)}, annual cap
FIGURES = {
    "employee": (
        {3: (D("1000"), D("0.85")), 2: (D("800"), D("0.90")), 1: (D("500"), D("0.95"))},
        D("300000"),
    ),
    "resident": (
        {3: (D("1200"), D("0.60")), 2: (D("800"), D("0.70")), 1: (D("300"), D("0.80"))},
        D("150000"),
    ),
}
ADJUSTMENTS = {
    "referral": (10, D("1.00"), D("1.00")),
    "emergency": (10, D("1.00"), D("1.00")),
    "temporary": (20, D("1.50"), D("1.00")),
    "unapproved_transfer": (10, D("1.00"), D("0.50")),
}


@transaction.atomic
def seed(out) -> list:
    year = timezone.localdate().year
    for region in Region.objects.all():
        for y in (year - 1, year):
            for scheme, (levels, cap) in FIGURES.items():
                for level, (deductible, ratio) in levels.items():
                    BenefitPolicy.objects.update_or_create(
                        region=region,
                        scheme=scheme,
                        year=y,
                        level=level,
                        defaults={
                            "deductible": deductible,
                            "ratio": ratio,
                            "annual_cap": cap,
                            "class_b_rate": D("0.10"),
                        },
                    )
            adjustments = dict(ADJUSTMENTS)
            if region.measures == Region.Measures.DAXINGANLING and region.code == "232700":
                adjustments["resettled"] = (5, D("1.00"), D("1.00"))
            for category, (points, multiplier, share) in adjustments.items():
                CategoryPolicy.objects.update_or_create(
                    region=region,
                    year=y,
                    category=category,
                    defaults={
                        "ratio_reduction_points": points,
                        "deductible_multiplier": multiplier,
                        "fund_share": share,
                    },
                )
    return []
