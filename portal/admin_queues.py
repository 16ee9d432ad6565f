"""The admin index's "Waiting for review": each review queue the reviewer works, with how many
rows wait in it and how long the oldest has waited, counted as the queue's own list counts them
(the model admin's queryset, scoped to the reviewer's region) and linked to that list."""

from __future__ import annotations

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


def waiting(site, request) -> list[Queue]:
    """The queues `request.user` may view, in the order of the index."""
    today = timezone.localdate()
    queues = []
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
