"""An insured person's direct settlements: what each stay cost, what the fund paid, what the
agency decided on one it held, and how much of this year's annual cap is used."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from settlement.models import AnnualAccumulation, BenefitPolicy, Settlement

PER_PAGE = 20


@login_required
def settlement_list(request):
    person = getattr(request.user, "insured", None)
    if person is None:
        raise Http404
    year = timezone.localdate().year
    ytd = AnnualAccumulation.objects.filter(person=person, year=year).first()
    fund_paid = ytd.fund_paid if ytd else Decimal("0")
    # A bill held for the agency's review is counted against the cap until it is decided (so
    # two bills cannot both use the same room), but the fund has not paid it yet.
    held = Settlement.objects.filter(
        person=person, policy_year=year, status=Settlement.Status.HELD
    ).aggregate(total=Sum("fund_pay"))["total"] or Decimal("0")
    # The cap is set per hospital level; one figure is shown only when every level shares it.
    caps = set(
        BenefitPolicy.objects.filter(
            region_id=person.region_id, scheme=person.scheme, year=year
        ).values_list("annual_cap", flat=True)
    )
    cap = caps.pop() if len(caps) == 1 else None
    settlements = (
        Settlement.objects.filter(person=person)
        .select_related("hospital")
        .order_by("-discharged_on", "-created_at", "-id")
    )
    return render(
        request,
        "settlement/my_settlements.html",
        {
            "year": year,
            "ytd": ytd,
            "paid": fund_paid - held,
            "held": held,
            "cap": cap,
            "left": max(cap - fund_paid, Decimal("0")) if cap is not None else None,
            "page": Paginator(settlements, PER_PAGE).get_page(request.GET.get("page")),
        },
    )
