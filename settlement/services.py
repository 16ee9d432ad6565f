"""Direct settlement of a hospital bill (POST /api/v1/settlements)."""

from __future__ import annotations

import datetime
import hashlib
import json
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from hospitals import access_log, eligibility
from hospitals.eligibility_selectors import find_person, hospital_view
from hospitals.models import Hospital
from portal.models import InsuredPerson
from settlement import engine
from settlement.models import AnnualAccumulation, BenefitPolicy, CategoryPolicy, Settlement

REVIEW_THRESHOLD = Decimal("100000.00")
HOLD_FLAGS = {
    "unapproved_transfer",
    "discharge_medication_excess",
    "above_review_threshold",
    "emergency_without_filing",
}


class SettlementError(Exception):
    def __init__(self, code: str, message: str, *, status: int, reasons=None):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status
        self.reasons = list(reasons or [])


def request_hash(payload: dict) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


@dataclass
class Outcome:
    settlement: Settlement
    created: bool


def _existing(hospital_id: int, key: str, digest: str) -> Settlement | None:
    if not key:
        return None
    found = Settlement.objects.filter(hospital_id=hospital_id, idempotency_key=key).first()
    if found is not None and found.request_hash != digest:
        raise SettlementError(
            "idempotency_conflict",
            _("This Idempotency-Key was already used with a different request body."),
            status=409,
        )
    return found


def _items(raw: list[dict]) -> list[engine.Item]:
    items = []
    for item in raw:
        med = item.get("discharge_medication")
        items.append(
            engine.Item(
                amount=Decimal(str(item["amount"])),
                cls=item["class"],
                code=item.get("code", ""),
                name=item.get("name", ""),
                first_self_pay_rate=(
                    Decimal(str(item["first_self_pay_rate"]))
                    if item.get("first_self_pay_rate") is not None
                    else None
                ),
                medication=engine.Medication(int(med["days"]), med["kind"]) if med else None,
            )
        )
    return items


def settle(
    *, hospital_id: int, api_key_id: int | None, payload: dict, idempotency_key: str = ""
) -> Outcome:
    """Decide eligibility, split the bill and record it, once per Idempotency-Key."""
    digest = request_hash(payload)
    existing = _existing(hospital_id, idempotency_key, digest)
    if existing is not None:
        return Outcome(existing, False)
    visit = payload["visit"]
    admitted: datetime.date = visit["admitted_on"]
    discharged: datetime.date = visit["discharged_on"]
    found = find_person(id_number=payload["id_number"], name=payload["name"])
    hospital = hospital_view(hospital_id)
    access_log.record(
        api_key_id=api_key_id,
        hospital_id=hospital_id,
        subject_hash=found.id_hash if found else "",
        subject_region_id=found.region_id if found else None,
        purpose="settlement",
        outcome="found" if found else "not_found",
    )
    if found is None or hospital is None:
        raise SettlementError(
            "not_found", _("No insured person with this ID number and name."), status=404
        )
    decision = eligibility.decide(
        person=found.person,
        hospital=hospital,
        care_type=visit["care_type"],
        visit_date=admitted,
        filings=found.filings,
    )
    flags: list[str] = []
    category, adjustment = decision.category, decision.adjustment
    if not decision.eligible:
        # domain.md §2.3: emergency care outside the region is treated as filed.
        if visit.get("emergency") and category == eligibility.NONE:
            category = eligibility.EMERGENCY
            adjustment = eligibility.DEFAULT_ADJUSTMENTS[eligibility.EMERGENCY]
            flags.append("emergency_without_filing")
        else:
            raise SettlementError(
                "not_eligible",
                _("Direct settlement is not possible here."),
                status=422,
                reasons=[str(r) for r in decision.reasons],
            )
    year = engine.policy_year(admitted, discharged)
    person = InsuredPerson.objects.only("pk", "scheme", "region_id").get(pk=found.person_id)
    level = Hospital.objects.only("level").get(pk=hospital_id).level
    policy = BenefitPolicy.objects.filter(
        region_id=person.region_id, scheme=person.scheme, year=year, level=level
    ).first()
    if policy is None:
        raise SettlementError(
            "no_policy",
            _("No benefit policy of the insured region for %(year)s.") % {"year": year},
            status=422,
        )
    policy_key = category
    if category == eligibility.LONG_TERM and adjustment.ratio_reduction_points:
        policy_key = "resettled"
    if visit.get("transfer_approved") is False and category != eligibility.LOCAL:
        policy_key = "unapproved_transfer"
        flags.append("unapproved_transfer")
        base = (
            adjustment
            if adjustment.ratio_reduction_points
            else eligibility.DEFAULT_ADJUSTMENTS[eligibility.REFERRAL]
        )
        adjustment = eligibility.Adjustment(
            base.ratio_reduction_points, base.deductible_multiplier, Decimal("0.50")
        )
    regional = CategoryPolicy.objects.filter(
        region_id=person.region_id, year=year, category=policy_key
    ).first()
    if regional is not None:
        adjustment = regional.as_engine()
    outpatient = visit["care_type"] != "inpatient"
    items = _items(payload["items"])
    with transaction.atomic():
        AnnualAccumulation.objects.bulk_create(
            [AnnualAccumulation(person_id=person.pk, year=year)], ignore_conflicts=True
        )
        ytd_row = AnnualAccumulation.objects.select_for_update().get(person_id=person.pk, year=year)
        # Under the person's lock a concurrent twin with the same key has committed by now.
        existing = _existing(hospital_id, idempotency_key, digest)
        if existing is not None:
            return Outcome(existing, False)
        result = engine.split(
            policy=policy.as_engine(),
            items=items,
            adjustment=engine.Adjustment(
                adjustment.ratio_reduction_points,
                adjustment.deductible_multiplier,
                adjustment.fund_share,
            ),
            ytd=engine.YearToDate(ytd_row.fund_paid, ytd_row.outpatient_deductible_paid),
            outpatient=outpatient,
        )
        flags += list(result.flags)
        if result.total > REVIEW_THRESHOLD:
            flags.append("above_review_threshold")
        status = Settlement.Status.HELD if HOLD_FLAGS & set(flags) else Settlement.Status.SETTLED
        try:
            with transaction.atomic():
                settlement = Settlement.objects.create(
                    number=f"JS{timezone.localdate():%Y%m%d}{secrets.token_hex(4).upper()}",
                    hospital_id=hospital_id,
                    api_key_id=api_key_id,
                    person_id=person.pk,
                    insured_region_id=person.region_id,
                    idempotency_key=idempotency_key,
                    request_hash=digest,
                    category=category,
                    policy_year=year,
                    care_type=visit["care_type"],
                    admitted_on=admitted,
                    discharged_on=discharged,
                    total=result.total,
                    fund_pay=result.fund_pay,
                    person_pay=result.person_pay,
                    breakdown=result.breakdown(),
                    flags=flags,
                    status=status,
                    items=json.loads(json.dumps(payload["items"], default=str)),
                    ytd_fund_paid=ytd_row.fund_paid,
                    ytd_deductible_paid=ytd_row.outpatient_deductible_paid,
                    adjustment={
                        "points": adjustment.ratio_reduction_points,
                        "multiplier": str(adjustment.deductible_multiplier),
                        "share": str(adjustment.fund_share),
                    },
                )
        except IntegrityError:
            existing = _existing(hospital_id, idempotency_key, digest)
            if existing is None:
                raise
            return Outcome(existing, False)
        AnnualAccumulation.objects.filter(pk=ytd_row.pk).update(
            fund_paid=F("fund_paid") + result.fund_pay,
            outpatient_deductible_paid=F("outpatient_deductible_paid")
            + (result.deductible if outpatient else Decimal("0")),
        )
    return Outcome(settlement, True)


def as_dict(s: Settlement) -> dict:
    return {
        "number": s.number,
        "category": s.category,
        "policy_year": s.policy_year,
        "total": f"{s.total:.2f}",
        "fund_pay": f"{s.fund_pay:.2f}",
        "person_pay": f"{s.person_pay:.2f}",
        "breakdown": s.breakdown,
        "flags": s.flags,
        "status": s.status,
    }


def recheck(*, year: int, batch: int = 5000) -> dict[str, int]:
    """Recompute every stored settlement of `year` (after a policy correction, say) and write
    the ones whose split changed, in bulk: fetch with values(), compute, bulk_update."""
    policies: dict[tuple, engine.Policy] = {
        (p.region_id, p.scheme, p.level): p.as_engine()
        for p in BenefitPolicy.objects.filter(year=year)
    }
    checked = changed = 0
    last_id = 0
    fields = (
        "id",
        "items",
        "care_type",
        "insured_region_id",
        "person__scheme",
        "hospital__level",
        "fund_pay",
        "adjustment",
        "ytd_fund_paid",
        "ytd_deductible_paid",
        "flags",
    )
    while True:
        rows = list(
            Settlement.objects.filter(policy_year=year, id__gt=last_id)
            .order_by("id")
            .values(*fields)[:batch]
        )
        if not rows:
            break
        last_id = rows[-1]["id"]
        updates = []
        for row in rows:
            policy = policies.get(
                (row["insured_region_id"], row["person__scheme"], row["hospital__level"])
            )
            if policy is None:
                continue
            adj = row["adjustment"] or {}
            result = engine.split(
                policy=policy,
                items=_items(row["items"]),
                adjustment=engine.Adjustment(
                    int(adj.get("points", 0)),
                    Decimal(adj.get("multiplier", "1")),
                    Decimal(adj.get("share", "1")),
                ),
                ytd=engine.YearToDate(row["ytd_fund_paid"], row["ytd_deductible_paid"]),
                outpatient=row["care_type"] != "inpatient",
            )
            checked += 1
            if result.fund_pay != row["fund_pay"]:
                updates.append(
                    Settlement(
                        id=row["id"],
                        fund_pay=result.fund_pay,
                        person_pay=result.person_pay,
                        total=result.total,
                        breakdown=result.breakdown(),
                        flags=sorted({*row["flags"], "rechecked_changed"}),
                    )
                )
        _write_back(updates)
        changed += len(updates)
    return {"checked": checked, "changed": changed}


def _write_back(updates: list[Settlement]) -> None:
    """One set-based write per batch: on PostgreSQL COPY into a temporary table and one
    UPDATE … FROM (bulk_update's CASE expressions are two orders of magnitude slower)."""
    from django.db import connection

    if not updates:
        return
    if connection.vendor != "postgresql":
        Settlement.objects.bulk_update(
            updates, ["fund_pay", "person_pay", "total", "breakdown", "flags"], batch_size=500
        )
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE settlement_recheck (id bigint, fund_pay numeric, "
            "person_pay numeric, total numeric, breakdown jsonb, flags jsonb) ON COMMIT DROP"
        )
        with cursor.copy("COPY settlement_recheck FROM STDIN") as copy:
            for s in updates:
                copy.write_row(
                    (
                        s.id,
                        s.fund_pay,
                        s.person_pay,
                        s.total,
                        json.dumps(s.breakdown),
                        json.dumps(s.flags),
                    )
                )
        cursor.execute(
            "UPDATE settlement_settlement s SET fund_pay = r.fund_pay, "
            "person_pay = r.person_pay, total = r.total, breakdown = r.breakdown, "
            "flags = r.flags FROM settlement_recheck r WHERE s.id = r.id"
        )
