"""A hospital's direct settlements, on its clerks' desk: what the hospital submitted, which
ones the agency holds or returned, and the reviewer's decision and reason."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy

from portal.models import AuditEvent
from portal.roles import clerk_hospital
from settlement.messages import breakdown_rows, flag_labels
from settlement.models import Settlement

PER_PAGE = 25
ACTIONS = {
    "settlement.approve": gettext_lazy("Approved on review"),
    "settlement.adjust_approve": gettext_lazy("Approved on review with an adjusted amount"),
    "settlement.reject": gettext_lazy("Rejected on review"),
    "settlement.return": gettext_lazy("Returned to the hospital"),
}


@login_required
def settlement_list(request):
    """Newest first, by state (the agency's queue of held ones, the returned ones to answer)
    and by settlement number; 25 a page."""
    hospital = clerk_hospital(request)
    settlements = Settlement.objects.filter(hospital=hospital)
    counts = dict(
        settlements.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    status = request.GET.get("status", "")
    if status not in Settlement.Status.values:
        status = ""
    number = request.GET.get("q", "").strip().upper()
    shown = settlements.select_related("person").order_by("-created_at", "-id")
    if status:
        shown = shown.filter(status=status)
    if number:
        shown = shown.filter(number__startswith=number)
    tabs = [("", gettext_lazy("All"), sum(counts.values()))]
    tabs += [(value, label, counts.get(value, 0)) for value, label in Settlement.Status.choices]
    return render(
        request,
        "settlement/hospital_settlements.html",
        {
            "hospital": hospital,
            "page": Paginator(shown, PER_PAGE).get_page(request.GET.get("page")),
            "tabs": tabs,
            "status": status,
            "q": number,
        },
    )


@login_required
def settlement_detail(request, number: str):
    """One settlement of this hospital (another hospital's does not exist here: 404)."""
    hospital = clerk_hospital(request)
    settlement = get_object_or_404(
        Settlement.objects.select_related("person", "insured_region"),
        number=number,
        hospital=hospital,
    )
    events = AuditEvent.objects.filter(
        object_type="settlement.settlement", object_id=str(settlement.pk)
    ).order_by("created_at", "id")
    return render(
        request,
        "settlement/hospital_settlement.html",
        {
            "hospital": hospital,
            "s": settlement,
            "breakdown": breakdown_rows(settlement.breakdown),
            "flags": flag_labels(settlement.flags),
            "events": [(e, ACTIONS.get(e.action, e.action)) for e in events],
        },
    )
