"""The admin index's "Waiting for review": each review queue the reviewer works, with how many
rows wait in it and how long the oldest has waited, counted as the queue's own list counts them
(the model admin's queryset, scoped to the reviewer's region) and linked to that list; and, in
December, next year's policies the reviewer's region has not entered yet."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib import admin
from django.db.models import Count, F, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


@dataclass(frozen=True)
class Queue:
    label: str
    count: int
    oldest: str  # how long the oldest row has waited, in words; "" when unknown or none wait
    url: str


@dataclass(frozen=True)
class PolicyGap:
    """A region whose policy of next year lacks rows its policy of this year has."""

    text: str
    url: str


class Waiting(list):
    """The queues, in the order of the index, with the policy gaps to warn of (`policy_gaps`)."""

    def __init__(self, policy_gaps: list[PolicyGap]):
        super().__init__()
        self.policy_gaps = policy_gaps


def _specs():
    from filings.models import Filing, Status, keeps_commitment_q
    from settlement.models import Claim, ClaimStatus, Settlement

    # (model, the list's query, the field holding when a row joined the queue, label)
    return [
        (Filing, {"status__exact": Status.SUBMITTED}, "submitted_at", _("Filings")),
        (
            Filing,
            {"commitment": "awaiting_review"},
            # Waiting since the proof of residence was supplied (not since the filing was).
            Min(
                "materials__uploaded_at",
                filter=keeps_commitment_q("materials__", filing="")
                & Q(
                    materials__refused_at__isnull=True,
                    materials__uploaded_at__gt=F("decided_at"),
                ),
            ),
            _("Supplemented commitment materials"),
        ),
        (
            Claim,
            {"status__exact": ClaimStatus.SUBMITTED},
            "submitted_at",
            _("Reimbursement claims"),
        ),
        (
            Settlement,
            {"status__exact": Settlement.Status.HELD},
            "created_at",
            _("Direct settlements held"),
        ),
    ]


def _in_queue(request, model_admin, query: dict):
    """The model admin's rows (scoped to the reviewer's region) that its list shows for `query`:
    each parameter through the list filter of that name, else as a field lookup."""
    filters = {
        f.parameter_name: f
        for f in model_admin.list_filter
        if isinstance(f, type) and issubclass(f, admin.SimpleListFilter)
    }
    rows = model_admin.get_queryset(request)
    for name, value in query.items():
        if name in filters:
            chosen = filters[name](request, {name: [value]}, model_admin.model, model_admin)
            rows = chosen.queryset(request, rows)
        else:
            rows = rows.filter(**{name: value})
    return rows


def waiting(site, request) -> Waiting:
    """The queues `request.user` may view, in the order of the index."""
    today = timezone.localdate()
    queues = Waiting(policy_gaps(site, request, today))
    for model, query, since, label in _specs():
        model_admin = site.get_model_admin(model)
        if not model_admin.has_view_permission(request):
            continue
        rows = _in_queue(request, model_admin, query)
        if isinstance(since, str):
            found = rows.aggregate(count=Count("pk"), oldest=Min(since))
        else:  # an aggregate over a join: the count is the rows', apart
            found = {"count": rows.count(), "oldest": rows.aggregate(oldest=since)["oldest"]}
        oldest = ""
        if found["count"] and found["oldest"] is not None:
            days = (today - timezone.localdate(found["oldest"])).days
            oldest = ngettext("%(days)s day", "%(days)s days", days) % {"days": days}
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        queues.append(Queue(str(label), found["count"], oldest, f"{changelist}?{urlencode(query)}"))
    return queues


def _policy_specs():
    from settlement.models import BenefitPolicy, CategoryPolicy

    # (model, the fields one year's rows are told apart by, the warning)
    return [
        (
            BenefitPolicy,
            ("scheme", "level"),
            _(
                "The benefit policy of %(region)s for %(year)s is missing or incomplete: from "
                "1 January, direct settlement at a hospital level it does not cover is refused."
            ),
        ),
        (
            CategoryPolicy,
            ("category",),
            _(
                "The category adjustments of %(region)s for %(year)s are missing or incomplete: "
                "from 1 January, the default adjustments apply to the categories they lack."
            ),
        ),
    ]


def policy_gaps(site, request, today: datetime.date) -> list[PolicyGap]:
    """From 1 December, each region the reviewer sees (their own; every region for a superuser)
    whose benefit policy or category adjustments of next year lack a row of this year's (a
    scheme and hospital level, a category): on 1 January settlement.services takes the policy of
    the new year, and refuses a stay without one (domain.md §3.2). Policies are often published
    late in the year, so the agency is told while there is still time to enter them."""
    if today.month != 12:
        return []
    from portal.models import Region

    year = today.year + 1
    gaps = []
    for model, key, words in _policy_specs():
        model_admin = site.get_model_admin(model)
        if not model_admin.has_view_permission(request):
            continue
        rows = model_admin.get_queryset(request).filter(year__in=[year - 1, year])
        found: dict[int, set] = {year - 1: set(), year: set()}
        for row in rows.values_list("year", "region_id", *key):
            found[row[0]].add(row[1:])
        lacking = {row[0] for row in found[year - 1] - found[year]}
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for region in Region.objects.filter(pk__in=lacking).order_by("code"):
            query = urlencode({"year__exact": year, "region__id__exact": region.pk})
            gaps.append(
                PolicyGap(
                    words % {"region": region.display_name, "year": year}, f"{changelist}?{query}"
                )
            )
    return gaps
