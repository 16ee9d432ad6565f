"""The estimator: "What will I pay there?" under each category a person could file under.

The place decides which categories are possible (one's own pooling region: local only); the
category and its adjustment come from the eligibility module's `decide()` over a hypothetical
filing at that place, so a resettled retiree's reduction is decided exactly as at the admission
desk (the region's `resettled_reduction` and the person's long-term filing sub-type).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from filings.models import TemporaryPurpose
from hospitals import eligibility
from hospitals.eligibility_selectors import find_person
from hospitals.models import Level
from portal.models import Province, Region
from portal.templatetags.portal_tags import yuan
from settlement import engine
from settlement.forms import AmountField
from settlement.models import (
    AnnualAccumulation,
    BenefitPolicy,
    Category,
    CategoryPolicy,
    SettledCategory,
    Settlement,
)

CATEGORIES = [
    *(
        (c.value, c.label)
        for c in (SettledCategory.LONG_TERM, SettledCategory.TEMPORARY, SettledCategory.REFERRAL)
    ),
    (Category.UNAPPROVED_TRANSFER.value, Category.UNAPPROVED_TRANSFER.label),
]
LOCAL_LABEL = SettledCategory.LOCAL.label
# Filing states in which the person's long-term sub-type is still theirs.
LIVE_STATES = {"approved", "submitted", "returned"}
UNAPPROVED_SHARE = Decimal("0.50")  # domain.md §2.2


def _money_field(label, help_text=""):
    return AmountField(
        label=label,
        help_text=help_text,
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
    )


class EstimateForm(forms.Form):
    province = forms.ChoiceField(
        label=gettext_lazy("Province of treatment"),
        required=False,
        help_text=gettext_lazy("Narrows the list of pooling regions."),
    )
    region = forms.ChoiceField(label=gettext_lazy("Pooling region of treatment"))
    level = forms.TypedChoiceField(
        label=gettext_lazy("Hospital level"), choices=Level.choices, coerce=int, initial=3
    )
    care_type = forms.ChoiceField(
        label=gettext_lazy("Care type"),
        choices=[(code, label) for code, label in eligibility.CARE_LABELS.items()],
        initial="inpatient",
    )
    purpose = forms.ChoiceField(
        label=gettext_lazy("Why you would go (other temporary treatment)"),
        required=False,
        choices=[("", gettext_lazy("Not stated")), *TemporaryPurpose.choices],
        help_text=gettext_lazy(
            "Study for a residents' scheme member, and maternity within your own province, keep "
            "your home benefit level."
        ),
    )
    estimated_total = _money_field(
        gettext_lazy("Estimated total of the bill"),
        gettext_lazy("Counted as fully in scope (class A). Or give the class A/B/C split below."),
    )
    class_a = _money_field(gettext_lazy("Class A amount (fully in scope)"))
    class_b = _money_field(gettext_lazy("Class B amount (first self-pay share)"))
    class_c = _money_field(gettext_lazy("Self-paid amount (class C)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["estimated_total"].initial = Decimal("10000")
        provinces = list(Province.objects.order_by("code"))
        self.fields["province"].choices = [("", "---------")] + [
            (p.code, p.display_name) for p in provinces
        ]
        chosen = self.data.get("province") if self.is_bound else None
        regions = Region.objects.select_related("province").order_by("province__code", "code")
        if chosen in {p.code for p in provinces}:  # not any text: PostgreSQL refuses a NUL
            regions = regions.filter(province__code=chosen)
        groups: dict[str, list[tuple[str, str]]] = {}
        for region in regions:
            groups.setdefault(region.province.display_name, []).append(
                (region.code, region.display_name)
            )
        self.fields["region"].choices = [("", "---------"), *groups.items()]
        self.regions = {r.code: r for r in regions}

    def clean(self):
        data = super().clean()
        split = [data.get(f"class_{c}") for c in "abc"]
        total = data.get("estimated_total")
        if total is not None and any(split):
            raise forms.ValidationError(
                _("Enter either an estimated total or the class A/B/C split, not both.")
            )
        refused = {"estimated_total", "class_a", "class_b", "class_c"} & set(self.errors)
        if not total and not any(split) and not refused:  # (a refused amount says why)
            raise forms.ValidationError(
                _("Enter an estimated total or the class A/B/C amounts of the bill.")
            )
        if data.get("region"):
            data["region_obj"] = self.regions[data["region"]]
        return data

    def items(self) -> list[engine.Item]:
        data = self.cleaned_data
        if data.get("estimated_total"):
            return [engine.Item(data["estimated_total"], "A")]
        return [
            engine.Item(data[f"class_{c.lower()}"], c) for c in "ABC" if data[f"class_{c.lower()}"]
        ]


def explain(*, extra: Decimal, best_label) -> str:
    """How much dearer a category is than the cheapest one. Why it is dearer is its terms, put
    in words once beside it (includes/benefit_terms.html), not again here."""
    if not extra:
        return _("The cheapest here.")
    return _("You would pay %(extra)s more than with %(best)s.") % {
        "extra": yuan(extra),
        "best": best_label,
    }


def _hypothetical(kind: str, subtype: str, region: Region, today) -> eligibility.FilingView:
    return eligibility.FilingView(
        number="",
        type=kind,
        subtype=subtype,
        status="approved",
        place_region_code=region.code,
        place_region_name=region.display_name,
        covers=frozenset(eligibility.CARE_TYPES),
        valid_from=today,
        two_way=kind == "long_term",
    )


def _temporary_notes(*, found, region: Region, purpose: str, home_level: bool) -> list[str]:
    """What the purpose of other temporary treatment does to its level (domain.md §3.3), and, when
    none is stated, which purpose would keep the home level here."""
    person = found.person
    if home_level and purpose == "study":
        return [_("As a residents' scheme student there, you keep your home benefit level.")]
    if home_level and purpose == "maternity":
        return [_("Giving birth within your own province keeps your home benefit level.")]
    if purpose == "study":
        return [_("Only residents' scheme members keep the home level when studying elsewhere.")]
    if purpose == "maternity":
        return [
            _("Maternity keeps the home level only within your own province; %(place)s is not.")
            % {"place": region.display_name}
        ]
    notes = []
    if person.scheme == "resident":
        notes.append(_("Going there to study? Choose Study above: you would keep the home level."))
    if eligibility.same_province(region.code, person.region_code):
        notes.append(
            _("Going there to give birth? Choose Maternity above: you would keep the home level.")
        )
    return notes


def categories_at(
    *, found, region: Region, care_type: str, today, regional: dict, purpose: str = ""
) -> list[dict]:
    """The categories possible at `region`, each with its adjustment, via eligibility.decide.
    `purpose` is the stated purpose of other temporary treatment (TemporaryPurpose), or ""."""
    place = eligibility.HospitalView(
        code="",
        name="",
        region_code=region.code,
        region_name=region.display_name,
        services=frozenset(eligibility.CARE_TYPES),
    )
    if region.code == found.person.region_code:
        decision = eligibility.decide(
            person=found.person,
            hospital=place,
            care_type=care_type,
            visit_date=today,
            filings=found.filings,
            adjustments=regional,
        )
        return [
            {
                "code": "local",
                "label": LOCAL_LABEL,
                "adjustment": decision.adjustment,
                "notes": [str(r) for r in decision.reasons],
                "eligible": decision.eligible,
            }
        ]
    subtype = next(
        (f.subtype for f in found.filings if f.type == "long_term" and f.status in LIVE_STATES),
        "",
    )
    rows = []
    for code, label in CATEGORIES:
        kind = "referral" if code == "unapproved_transfer" else code
        filing = _hypothetical(kind, purpose if kind == "temporary" else subtype, region, today)
        decision = eligibility.decide(
            person=found.person,
            hospital=place,
            care_type=care_type,
            visit_date=today,
            filings=[filing],
            adjustments=regional,
        )
        adjustment = decision.adjustment
        notes = []
        if code == "unapproved_transfer":
            # domain.md §3.3: as a referral (its terms just decided, the region's referral
            # row's), the fund paying 50% of that.
            adjustment = dataclasses.replace(adjustment, fund_share=UNAPPROVED_SHARE)
        elif code == "long_term" and adjustment.ratio_reduction_points:
            notes.append(
                _(
                    "As a resettled retiree insured in %(region)s, your ratio is reduced by "
                    "%(p)s points."
                )
                % {"region": found.person.region_name, "p": adjustment.ratio_reduction_points}
            )
        elif code == "temporary":
            notes = _temporary_notes(
                found=found,
                region=region,
                purpose=purpose,
                home_level=decision.policy == eligibility.LONG_TERM,
            )
        rows.append(
            {
                "code": code,
                "label": label,
                "adjustment": adjustment,
                "notes": notes,
                "eligible": True,
            }
        )
    return rows


def _regional(region_id: int, year: int) -> dict[str, eligibility.Adjustment]:
    return {
        c.category: c.as_engine()
        for c in CategoryPolicy.objects.filter(region_id=region_id, year=year)
    }


@login_required
def estimate(request):
    person = getattr(request.user, "insured", None)
    if person is None:
        raise Http404
    form = EstimateForm(request.GET or None)
    rows: list[dict] = []
    policy = place = ytd = None
    held = Decimal("0")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        place = data["region_obj"]
        today = timezone.localdate()
        year = today.year
        policy = BenefitPolicy.objects.filter(
            region=person.region, scheme=person.scheme, year=year, level=data["level"]
        ).first()
        found = find_person(id_number=person.id_number, name=person.name)
        if policy is not None and found is not None:
            ytd = AnnualAccumulation.objects.filter(person=person, year=year).first()
            # As *My settlements* shows it: the accumulation reserves a stay held for review
            # against the cap (so the estimate counts it), but the fund has not paid it yet.
            held = Settlement.objects.filter(
                person=person, policy_year=year, status=Settlement.Status.HELD
            ).aggregate(total=Sum("fund_pay"))["total"] or Decimal("0")
            engine_ytd = (
                engine.YearToDate(ytd.fund_paid, ytd.outpatient_deductible_paid)
                if ytd
                else engine.YearToDate()
            )
            rows = categories_at(
                found=found,
                region=place,
                care_type=data["care_type"],
                today=today,
                regional=_regional(person.region_id, year),
                purpose=data.get("purpose", ""),
            )
            items = form.items()
            for row in rows:
                row["split"] = engine.split(
                    policy=policy.as_engine(),
                    items=items,
                    adjustment=row["adjustment"],
                    ytd=engine_ytd,
                    outpatient=data["care_type"] != "inpatient",
                )
            best = min(rows, key=lambda r: r["split"].person_pay)
            for row in rows:
                row["extra"] = row["split"].person_pay - best["split"].person_pay
                row["why"] = explain(extra=row["extra"], best_label=best["label"])
    return render(
        request,
        "settlement/estimate.html",
        {
            "form": form,
            "rows": rows,
            "policy": policy,
            "person": person,
            "place": place,
            "local": bool(rows) and rows[0]["code"] == "local",
            "ytd": ytd,
            "paid": ytd.fund_paid - held if ytd else None,
            "held": held,
            "no_policy": form.is_bound and form.is_valid() and policy is None,
        },
    )
