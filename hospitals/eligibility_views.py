"""The admission-desk page: the same decision as POST /api/v1/eligibility, for a clerk."""

from __future__ import annotations

import logging
import math
import time

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hospitals.eligibility_service import as_dict, check
from hospitals.models import CareType, Hospital
from portal import audit
from portal.lib import idnumbers, text
from portal.roles import clerk

logger = logging.getLogger(__name__)

# "No insured person with this ID number and name" tells a name guessed wrong: one account gets
# so many of those answers per window, then no answers at all until the window ends (trying
# names against an ID number until one shows the person's filing).
MISSES_PER_WINDOW = 20
MISS_WINDOW_SECONDS = 600


class EligibilityForm(forms.Form):
    id_number = idnumbers.IdNumberFormField(
        label=_("Resident ID number"), attrs={"autofocus": True}
    )
    name = text.PlainTextField(label=_("Name"), max_length=60)
    care_type = forms.ChoiceField(
        label=_("Care type"), choices=CareType.choices, initial=CareType.INPATIENT
    )
    # Empty unless typed: a page left open past midnight then checks for the new day, as the
    # API's default does, not for the day the page was opened.
    visit_date = forms.DateField(
        label=_("Visit date"),
        required=False,
        help_text=_("Leave empty for today: each check is then made for the day it is made."),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_visit_date(self):
        """A visit within a year either way of today: a stay being settled, an admission being
        planned. A mistyped year (0001, 9999) is told as such, not answered red."""
        visit = self.cleaned_data.get("visit_date")
        if visit is None:
            return visit
        today = timezone.localdate()
        earliest, latest = today - relativedelta(years=1), today + relativedelta(years=1)
        if not earliest <= visit <= latest:
            raise forms.ValidationError(
                _("Enter a visit date within a year of today, from %(a)s to %(b)s.")
                % {"a": earliest.isoformat(), "b": latest.isoformat()}
            )
        return visit


CATEGORY_LABELS = {
    "local": _("Local: the person's own pooling region"),
    "long_term": _("Long-term residence filing"),
    "referral": _("Referral"),
    "emergency": _("Emergency"),
    "temporary": _("Other temporary treatment"),
    "none": _("None: no filing covers this visit"),
}


def _labels(result: dict) -> dict:
    """Words for the clerk beside the codes of the API answer."""
    from filings.models import Status

    labels = {"category": CATEGORY_LABELS.get(result["category"], result["category"])}
    if result.get("filing"):
        status = result["filing"]["status"]
        labels["status"] = Status(status).label if status in Status.values else status
        codes = result["filing"].get("hospitals") or []
        named = {h.code: h for h in Hospital.objects.filter(code__in=codes)}
        # "三亚市人民医院 (H46020000002)", as the clerk knows them; an unknown code as it is.
        labels["hospitals"] = text.enumeration(named.get(c, c) for c in codes)
    return labels


def _misses(user_id: int, scope: str = "desk") -> tuple[str, float]:
    """The cache key counting this account's (for `scope` "api", this API key's) "not found"
    answers in the current window, and the seconds until the window ends."""
    now = time.time()
    window = int(now // MISS_WINDOW_SECONDS)
    return (
        f"hospitals:{scope}-misses:{user_id}:{window}",
        MISS_WINDOW_SECONDS - now % MISS_WINDOW_SECONDS,
    )


def _count_miss(key: str) -> int:
    cache.add(key, 0, MISS_WINDOW_SECONDS + 5)
    try:
        return cache.incr(key)
    except ValueError:  # the window's counter expired between the two calls
        cache.set(key, 1, MISS_WINDOW_SECONDS + 5)
        return 1


def _wait_error(seconds: float) -> str:
    minutes = max(math.ceil(seconds / 60), 1)
    return ngettext(
        "Too many checks found no one. Wait %(minutes)d minute, then check again.",
        "Too many checks found no one. Wait %(minutes)d minutes, then check again.",
        minutes,
    ) % {"minutes": minutes}


@login_required
def eligibility_check(request):
    staff = clerk(request)
    result = not_found = labels = None
    status = 200
    if request.method == "POST":
        form = EligibilityForm(request.POST)
        misses, wait = _misses(request.user.pk)
        if (cache.get(misses) or 0) >= MISSES_PER_WINDOW:
            form.add_error(None, _wait_error(wait))
            status = 429
        elif form.is_valid():
            data = form.cleaned_data
            visit = data["visit_date"] or timezone.localdate()
            decision, found = check(
                hospital_id=staff.hospital_id,
                id_number=data["id_number"],
                name=data["name"],
                care_type=data["care_type"],
                visit_date=visit,
                actor=request.user,
                channel="web",
            )
            if decision is None:
                not_found = True
                if _count_miss(misses) == MISSES_PER_WINDOW:
                    _limit_reached(request, staff)
            else:
                result = as_dict(decision, found)
                labels = _labels(result)
                labels["checked_for"] = {
                    "day": visit,
                    "care": dict(CareType.choices)[data["care_type"]],
                }
    else:
        form = EligibilityForm()
    return render(
        request,
        "hospitals/eligibility_check.html",
        {
            "form": form,
            "result": result,
            "not_found": not_found,
            "labels": labels,
            "hospital": staff.hospital,
        },
        status=status,
    )


def _limit_reached(request, staff) -> None:
    """Recorded once per window: the agency sees which account tried names."""
    logger.warning(
        "Desk check limit reached: user %s, hospital %s", request.user.pk, staff.hospital_id
    )
    audit.record(
        action="hospital_staff.check_limit",
        actor=request.user,
        obj=staff,
        region=staff.hospital.region,
        reason=f"{MISSES_PER_WINDOW} not-found answers within {MISS_WINDOW_SECONDS // 60} minutes",
        ip=audit.client_ip(request),
    )
