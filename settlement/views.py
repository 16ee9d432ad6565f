"""The estimator: "What will I pay there?" under each category a person could file under."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hospitals.eligibility import DEFAULT_ADJUSTMENTS
from hospitals.models import Level
from settlement import engine
from settlement.models import BenefitPolicy, CategoryPolicy

CATEGORIES = [
    ("long_term", _("Long-term residence filing")),
    ("temporary", _("Other temporary treatment filing")),
    ("referral", _("Referral")),
    ("unapproved_transfer", _("Transfer without an approved referral")),
]


class EstimateForm(forms.Form):
    level = forms.TypedChoiceField(
        label=_("Hospital level"), choices=Level.choices, coerce=int, initial=3
    )
    outpatient = forms.BooleanField(
        label=_("Outpatient visit (deductible per year)"), required=False
    )
    class_a = forms.DecimalField(
        label=_("Class A amount (fully in scope)"),
        min_value=0,
        max_digits=10,
        decimal_places=2,
        initial=Decimal("10000"),
    )
    class_b = forms.DecimalField(
        label=_("Class B amount (first self-pay share)"),
        min_value=0,
        max_digits=10,
        decimal_places=2,
        initial=Decimal("0"),
    )
    class_c = forms.DecimalField(
        label=_("Self-paid amount (class C)"),
        min_value=0,
        max_digits=10,
        decimal_places=2,
        initial=Decimal("0"),
    )


def _adjustment(region, year, category: str, resettled: bool) -> engine.Adjustment:
    key = "resettled" if category == "long_term" and resettled else category
    regional = CategoryPolicy.objects.filter(region=region, year=year, category=key).first()
    if regional is not None:
        return regional.as_engine()
    base = DEFAULT_ADJUSTMENTS.get(key, DEFAULT_ADJUSTMENTS["long_term"])
    share = Decimal("0.50") if category == "unapproved_transfer" else base.fund_share
    points = 10 if category == "unapproved_transfer" else base.ratio_reduction_points
    return engine.Adjustment(points, base.deductible_multiplier, share)


@login_required
def estimate(request):
    person = getattr(request.user, "insured", None)
    if person is None:
        raise Http404
    form = EstimateForm(request.GET or None)
    rows, policy = [], None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        year = timezone.localdate().year
        policy = BenefitPolicy.objects.filter(
            region=person.region, scheme=person.scheme, year=year, level=data["level"]
        ).first()
        if policy is not None:
            items = [
                engine.Item(data[f"class_{c.lower()}"], c)
                for c in "ABC"
                if data[f"class_{c.lower()}"] > 0
            ]
            resettled = person.retired and person.region.measures == "daxinganling"
            for code, label in CATEGORIES:
                adjustment = _adjustment(person.region, year, code, resettled)
                result = engine.split(
                    policy=policy.as_engine(),
                    items=items,
                    adjustment=adjustment,
                    outpatient=data["outpatient"],
                )
                rows.append(
                    {"code": code, "label": label, "split": result, "adjustment": adjustment}
                )
            best = min(r["split"].person_pay for r in rows)
            for row in rows:
                row["extra"] = row["split"].person_pay - best
    return render(
        request,
        "settlement/estimate.html",
        {"form": form, "rows": rows, "policy": policy, "person": person},
    )
