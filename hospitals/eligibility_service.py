"""One check at the admission desk: decide, record the access, shape the answer."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hospitals import access_log, eligibility
from hospitals.eligibility_selectors import (
    Found,
    category_adjustments,
    find_person,
    has_benefit_policy,
    hospital_view,
)
from portal.lib import idnumbers

PURPOSE = "eligibility"


def check(
    *,
    hospital_id: int,
    id_number: str,
    name: str,
    care_type: str,
    visit_date: datetime.date | None = None,
    actor=None,
    api_key_id: int | None = None,
    channel: str = "api",
) -> tuple[eligibility.Decision | None, Found | None]:
    """Decide for one visit and write one access-log row with the outcome.

    Returns (None, None) for an unknown person or a name mismatch: the caller answers both alike.
    """
    visit_date = visit_date or timezone.localdate()
    found = find_person(id_number=id_number, name=name)
    hospital = hospital_view(hospital_id)
    decision = None
    if found is not None and hospital is not None:
        decision = eligibility.decide(
            person=found.person,
            hospital=hospital,
            care_type=care_type,
            visit_date=visit_date,
            filings=found.filings,
            adjustments=category_adjustments(found.region_id, visit_date.year),
        )
        decision = _with_policy_note(decision, found, hospital_id, visit_date.year)
    if decision is None:
        outcome = "not_found"
    else:
        outcome = "eligible" if decision.eligible else "not_eligible"
    access_log.record(
        actor_id=getattr(actor, "pk", None),
        api_key_id=api_key_id,
        hospital_id=hospital_id,
        subject_hash=found.id_hash if found else idnumbers.id_hash(id_number),
        subject_region_id=found.region_id if found else None,
        purpose=f"{PURPOSE}:{channel}",
        outcome=outcome,
    )
    return decision, found


def _with_policy_note(
    decision: eligibility.Decision, found: Found, hospital_id: int, year: int
) -> eligibility.Decision:
    """domain.md §3.2: the deductible, ratio and cap are the place of insurance's policy of the
    year. Without one for the visit's year (a new year the region has not entered yet), the
    settlement refuses the stay (422), so the check says so beside its decision, which it does
    not change."""
    if has_benefit_policy(
        region_id=found.region_id, scheme=found.person.scheme, year=year, hospital_id=hospital_id
    ):
        return decision
    note = _(
        "No benefit policy of the insured region for %(year)s yet: direct settlement in "
        "%(year)s will be refused until the region enters it."
    ) % {"year": year}
    return dataclasses.replace(decision, reasons=[*decision.reasons, note])


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def as_dict(decision: eligibility.Decision, found: Found) -> dict:
    """The response body of POST /api/v1/eligibility (shared/api.md)."""
    filing = decision.filing
    person = found.person
    return {
        "eligible": decision.eligible,
        "category": decision.category,
        "two_way": decision.two_way,
        "reasons": [str(r) for r in decision.reasons],
        "insured": {
            "name": person.masked_name,
            "id_number": person.masked_id,
            "scheme": person.scheme,
            "region": {"code": person.region_code, "name": person.region_name},
        },
        "filing": None
        if filing is None
        else {
            "number": filing.number,
            "type": filing.type,
            "subtype": filing.subtype,
            "status": filing.status,
            "valid_from": filing.valid_from.isoformat() if filing.valid_from else None,
            "valid_until": filing.valid_until.isoformat() if filing.valid_until else None,
            "place_of_treatment": {
                "code": filing.place_region_code,
                "name": filing.place_region_name,
            },
            "hospitals": list(filing.hospitals) or None,
            "commitment_deadline": filing.commitment_deadline.isoformat()
            if filing.commitment_deadline and filing.materials_outstanding
            else None,
        },
        "benefit": {
            "ratio_reduction_points": decision.adjustment.ratio_reduction_points,
            "deductible_multiplier": _money(decision.adjustment.deductible_multiplier),
            "fund_share": _money(decision.adjustment.fund_share),
        },
    }
