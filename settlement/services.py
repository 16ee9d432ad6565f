"""Direct settlement of a hospital bill (POST /api/v1/settlements)."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import itertools
import json
import secrets
import selectors
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from hospitals import access_log, eligibility
from hospitals.eligibility_selectors import find_person, hospital_view
from hospitals.models import Hospital
from hospitals.selectors import active_clerks
from portal import audit
from portal.lib import idnumbers, versions
from portal.lib.text import plain
from portal.models import InsuredPerson
from portal.notices import params_of
from portal.notifications import notify
from portal.roles import check_agency_region
from settlement import engine, rules
from settlement.engine import money
from settlement.models import (
    UNAPPROVED_TRANSFER_SHARE,
    AnnualAccumulation,
    BenefitPolicy,
    CategoryPolicy,
    Claim,
    Settlement,
)

REVIEW_THRESHOLD = Decimal("100000.00")
CENTS = Decimal("0.01")
HOLD_FLAGS = {
    "unapproved_transfer",
    "discharge_medication_excess",
    "above_review_threshold",
    "emergency_without_filing",
    "referral_course_exceeded",
    "referral_before_course",
    # A stay with days the person has claimed already (domain.md §3: paid once).
    "overlapping_claim",
    # A bill whose fund share the annual cap reserved by a held bill cut: decided after it.
    "cap_reserved_by_held",
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


def _policy_for(person, hospital_id: int, year: int) -> BenefitPolicy:
    """The place of insurance's policy of `year` for the person's scheme at the hospital's
    level (SettlementError 422 when the region has none)."""
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
    return policy


def _terms(
    *,
    person,
    hospital_id: int,
    year: int,
    category: str,
    adjustment,
    transfer_approved,
    policy_key: str = "",
) -> tuple[BenefitPolicy, eligibility.Adjustment, list[str]]:
    """The place of insurance's policy for the stay's year and hospital level, and the
    adjustment of category policy `policy_key` (the category's own unless the decision says
    otherwise, `Decision.policy`; domain.md §3.3): the region's own, else the demo default."""
    flags: list[str] = []
    policy = _policy_for(person, hospital_id, year)
    policy_key = policy_key or category
    unapproved = transfer_approved is False and category != eligibility.LOCAL
    if unapproved:
        # domain.md §3.3: a transfer without an approved referral is settled as a referral
        # (the region's referral terms: deductible and ratio), and the fund pays 50% of that.
        policy_key = eligibility.REFERRAL
        flags.append("unapproved_transfer")
        adjustment = eligibility.DEFAULT_ADJUSTMENTS[eligibility.REFERRAL]
    regional = CategoryPolicy.objects.filter(
        region_id=person.region_id, year=year, category=policy_key
    ).first()
    if regional is not None:
        adjustment = regional.as_engine()
    if unapproved:
        adjustment = dataclasses.replace(adjustment, fund_share=UNAPPROVED_TRANSFER_SHARE)
    return policy, adjustment, flags


# The access log's purpose for a settlement read again (GET /api/v1/settlements/{number}, the
# same bill sent again): under "settlement" (the admin's purpose filter takes every
# "settlement:..." code), read and not written.
READ_PURPOSE = "settlement:read"


def _as_emergency(
    decision: eligibility.Decision, emergency: bool
) -> tuple[str, engine.Adjustment, list[str]] | None:
    """An emergency's category, or None when the stay is not settled as one.

    domain.md §2.3: emergency care outside the region is treated as filed (when no filing
    covers the stay); §3.3: the other-temporary reduction is for non-emergency care, so an
    emergency under a temporary filing is settled as an emergency. A better filing (long-term,
    referral) keeps its own category."""
    if not emergency:
        return None
    adjustment = eligibility.DEFAULT_ADJUSTMENTS[eligibility.EMERGENCY]
    if decision.category == eligibility.NONE:
        return eligibility.EMERGENCY, adjustment, ["emergency_without_filing"]
    if decision.category == eligibility.TEMPORARY:
        if decision.adjustment.ratio_reduction_points < adjustment.ratio_reduction_points:
            return None  # a temporary filing at the home level (§3.3) is better still
        return eligibility.EMERGENCY, adjustment, []
    return None


def decide_stay(
    *,
    found,
    hospital,
    care_type: str,
    admitted_on: datetime.date,
    discharged_on: datetime.date,
    settled_on: datetime.date | None = None,
) -> eligibility.Decision:
    """Which filing a stay is settled under: the one covering the day of admission or, when none
    did, one in force on the day of discharge or on the day the hospital settles it
    (`settled_on`). domain.md §2.3: a person may file retroactively any time before discharge
    settlement (出院结算前补办备案), and the hospital then settles directly. A reimbursement
    claim gives no `settled_on`: the person paid in full at discharge, so a filing made after
    that covers nothing of the stay."""
    # The admission, then the days after it a filing may have begun: the discharge, and the day
    # of the discharge settlement itself (a filing completed after discharge).
    later = sorted(d for d in {discharged_on, settled_on or discharged_on} if d > admitted_on)
    decisions = []
    for day in [admitted_on, *later]:
        decision = eligibility.decide(
            person=found.person,
            hospital=hospital,
            care_type=care_type,
            visit_date=day,
            filings=found.filings,
        )
        if decision.category != eligibility.NONE:
            return decision
        decisions.append(decision)
    return decisions[0]  # no filing on any of those days: why not, on the day of admission


def settle(
    *,
    hospital_id: int,
    api_key_id: int | None,
    payload: dict,
    idempotency_key: str = "",
    before_lookup: Callable[[], object] | None = None,
) -> Outcome:
    """Decide eligibility, split the bill and record it, once per Idempotency-Key.
    `before_lookup()` runs before the person is looked up (not for a bill sent again under
    its key): the API's budget of "not found" answers, which raises when it is spent."""
    digest = request_hash(payload)
    existing = _existing(hospital_id, idempotency_key, digest)
    if existing is not None:
        # The same bill again: its answer is personal data read again, so it is logged too.
        access_log.record(
            api_key_id=api_key_id,
            hospital_id=hospital_id,
            subject_hash=InsuredPerson.objects.filter(pk=existing.person_id)
            .values_list("id_hash", flat=True)
            .first()
            or "",
            subject_region_id=existing.insured_region_id,
            purpose=READ_PURPOSE,
            outcome="found",
        )
        return Outcome(existing, False)
    visit = payload["visit"]
    admitted: datetime.date = visit["admitted_on"]
    discharged: datetime.date = visit["discharged_on"]
    if before_lookup is not None:
        before_lookup()
    found = find_person(id_number=payload["id_number"], name=payload["name"])
    hospital = hospital_view(hospital_id)

    def log(outcome: str) -> None:
        access_log.record(
            api_key_id=api_key_id,
            hospital_id=hospital_id,
            subject_hash=found.id_hash if found else idnumbers.id_hash(payload["id_number"]),
            subject_region_id=found.region_id if found else None,
            purpose="settlement",
            outcome=outcome,
        )

    if found is None or hospital is None:
        log("not_found")
        raise SettlementError(
            "not_found", _("No insured person with this ID number and name."), status=404
        )
    decision = decide_stay(
        found=found,
        hospital=hospital,
        care_type=visit["care_type"],
        admitted_on=admitted,
        discharged_on=discharged,
        settled_on=timezone.localdate(),
    )
    flags: list[str] = []
    category, adjustment = decision.category, decision.adjustment
    as_emergency = _as_emergency(decision, bool(visit.get("emergency")))
    if as_emergency is not None:
        category, adjustment, flags = as_emergency
    # Emergency care is treated as filed (the filing is what it stands in for: not an inactive
    # insurance, a suspended hospital or care the hospital does not settle directly); nothing
    # else makes a stay settle here.
    treated_as_filed = (
        as_emergency and decision.category == eligibility.NONE and not decision.blocked
    )
    if not decision.eligible and not treated_as_filed:
        log("not_eligible")
        raise SettlementError(
            "not_eligible",
            _("Direct settlement is not possible here."),
            status=422,
            reasons=[str(r) for r in decision.reasons],
        )
    # The access log says what the hospital learnt: that the person may settle here.
    log("eligible")
    year = engine.policy_year(admitted, discharged)
    person = InsuredPerson.objects.only("pk", "scheme", "region_id").get(pk=found.person_id)
    policy, adjustment, extra = _terms(
        person=person,
        hospital_id=hospital_id,
        year=year,
        category=category,
        adjustment=adjustment,
        transfer_approved=visit.get("transfer_approved"),
        policy_key="" if as_emergency else decision.policy,
    )
    flags += extra
    outpatient = visit["care_type"] != "inpatient"
    items = _items(payload["items"])
    with transaction.atomic():
        ytd_row = _lock_year(person.pk, year)
        # Under the person's lock a concurrent twin with the same key has committed by now.
        existing = _existing(hospital_id, idempotency_key, digest)
        if existing is not None:
            return Outcome(existing, False)
        result = engine.split(
            policy=policy.as_engine(),
            items=items,
            adjustment=adjustment,
            ytd=engine.YearToDate(ytd_row.fund_paid, ytd_row.outpatient_deductible_paid),
            outpatient=outpatient,
        )
        flags += list(result.flags)
        if _cut_by_held_bills(
            result,
            person_id=person.pk,
            year=year,
            ytd=ytd_row,
            policy=policy.as_engine(),
            items=items,
            adjustment=adjustment,
            outpatient=outpatient,
        ):
            flags.append("cap_reserved_by_held")
        outside = _outside_the_course(decision, hospital, admitted, discharged)
        if outside:
            flags.append(outside)
        stay = {
            "person_id": person.pk,
            "hospital_id": hospital_id,
            "care_type": visit["care_type"],
            "admitted_on": admitted,
            "discharged_on": discharged,
        }
        # Days the person claimed already (a claim not rejected): the agency decides which
        # of the two the fund pays (claim_approve and settlement_approve refuse the second).
        if overlapping(Claim.objects.filter(status__in=_CLAIM_STANDS), **stay).exists():
            flags.append("overlapping_claim")
        if result.total > REVIEW_THRESHOLD:
            flags.append("above_review_threshold")
        status = Settlement.Status.HELD if HOLD_FLAGS & set(flags) else Settlement.Status.SETTLED
        # An earlier settlement of this stay, marked for the agency, the hospital's answer
        # unchanged (under the person's lock for the year, so a twin sent at the same moment
        # and discharged in the same year is seen).
        overlaps_id = earlier_twin(stay, total=result.total)
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
                    overlaps_id=overlaps_id,
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


def _cut_by_held_bills(
    result: engine.Split,
    *,
    person_id: int,
    year: int,
    ytd: AnnualAccumulation,
    policy: engine.Policy,
    items: list[engine.Item],
    adjustment: engine.Adjustment,
    outpatient: bool,
) -> bool:
    """Whether the annual cap cut `result` only because held bills reserve part of it (a held
    bill counts against the year until decided). Paid as it is, the bill would keep the cut
    when the held one is rejected or returned and frees its reservation; held as well, it is
    decided after it, against the year as it is then (settlement_approve's `split_now`)."""
    if "over_annual_cap" not in result.flags:
        return False
    reserved = Settlement.objects.filter(
        person_id=person_id, policy_year=year, status=Settlement.Status.HELD
    ).aggregate(total=Sum("fund_pay"))["total"]
    if not reserved:
        return False
    free = engine.split(
        policy=policy,
        items=items,
        adjustment=adjustment,
        ytd=engine.YearToDate(
            max(ytd.fund_paid - reserved, Decimal("0")), ytd.outpatient_deductible_paid
        ),
        outpatient=outpatient,
    )
    return free.fund_pay > result.fund_pay


def _outside_the_course(
    decision: eligibility.Decision,
    hospital: eligibility.HospitalView,
    admitted: datetime.date,
    discharged: datetime.date,
) -> str | None:
    """domain.md §2.2: a referral for one course of treatment (Daxinganling: 60 days) is started
    by its first stay settled here; a stay running past the course (an extension included), or
    admitted before it began, is held for the agency (the flag returned), which alone can
    extend a course or accept a stay outside it."""
    filing = decision.filing
    if not decision.eligible or filing is None or filing.type != "referral":
        return None
    from filings.services import referral_course_for_stay

    return referral_course_for_stay(
        number=filing.number, admitted_on=admitted, discharged_on=discharged, hospital=hospital.code
    )


# The states the hospital API answers with: api.md's contract knows no voided settlement.
def as_dict(s: Settlement) -> dict:
    """The API's body of a settlement, in its state now: as a rejected or returned one says so,
    a voided one says "voided" (its other fields as computed), so a hospital's system that reads
    it again, or resends it under its Idempotency-Key, learns that the fund does not pay it (a
    held one voided would otherwise wait for a decision for ever)."""
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


# The settlements that stand against a stay (and that a re-check recomputes): a rejected,
# returned or voided settlement no longer stands.
STANDING = (Settlement.Status.SETTLED.value, Settlement.Status.HELD.value)
_RECHECKED = STANDING


def recheck(*, year: int, batch: int = 5000) -> dict[str, int]:
    """Recompute every standing (settled or held) settlement of `year` that no agency has
    decided on — after a policy correction, say — and write the ones whose fund payment (or
    outpatient deductible) changed, in bulk, with the persons' annual accumulations (fund paid,
    outpatient deductible paid) moved by the change. A settlement a reviewer decided on
    (approved as computed or adjusted: `reviewed_at`, `original_fund_pay`) keeps the decision.

    Each person's settlements are recomputed in the order the engine counted them in (their
    ids: each was made under the lock of the person's year), against the year to date as it
    is now: what the re-check leaves alone (claims, decided settlements) counts first, then each
    recomputed settlement's new payment and deductible before the next one's, so the year's
    payments never exceed the annual cap.

    Each batch is one plain query for just the columns the engine needs (JSON as text, decoded
    here once; adjustments and new flag lists cached by their stored text). The next batch is
    read before this one is written, and the write (`_write_back`) runs in the database while
    the next batch is computed."""
    policies: dict[tuple, engine.Policy] = {
        (p.region_id, p.scheme, p.level): p.as_engine()
        for p in BenefitPolicy.objects.filter(year=year)
    }
    adjustments: dict[str, engine.Adjustment] = {}
    new_flags: dict[str, str] = {}
    loads, split, to_items, year_to_date = json.loads, engine.split, _items, engine.YearToDate
    zero = Decimal("0")
    # Per person: the year's fund payments and outpatient deductible so far, in the order of
    # the recomputation.
    used: dict[int, list[Decimal]] = {}
    checked = changed = 0
    pending = _written(0)
    try:
        rows = _recheck_rows(year, 0, batch)
        used.update(_year_left_alone(year, {row[1] for row in rows}))
        while rows:
            updates = []
            for (
                pk,
                person,
                items,
                care,
                region,
                scheme,
                level,
                fund_pay,
                adj,
                flags,
                old_deductible,
            ) in rows:
                so_far = used[person]
                outpatient = care != "inpatient"
                # The outpatient deductible counts towards the year's; an admission's does not.
                old_ytd_deductible = Decimal(old_deductible or "0") if outpatient else zero
                policy = policies.get((region, scheme, level))
                if policy is None:
                    so_far[0] += fund_pay
                    so_far[1] += old_ytd_deductible
                    continue
                adjustment = adjustments.get(adj)
                if adjustment is None:
                    adjustment = adjustments[adj] = _stored_adjustment(adj)
                result = split(
                    policy=policy,
                    items=to_items(loads(items)),
                    adjustment=adjustment,
                    ytd=year_to_date(so_far[0], so_far[1]),
                    outpatient=outpatient,
                )
                ytd_deductible = result.deductible if outpatient else zero
                so_far[0] += result.fund_pay
                so_far[1] += ytd_deductible
                checked += 1
                if result.fund_pay != fund_pay or ytd_deductible != old_ytd_deductible:
                    flagged = new_flags.get(flags)
                    if flagged is None:
                        flagged = new_flags[flags] = json.dumps(
                            sorted({*loads(flags), "rechecked_changed"})
                        )
                    updates.append(
                        (
                            pk,
                            result.fund_pay,
                            result.person_pay,
                            result.total,
                            _breakdown_json(result),
                            flagged,
                            fund_pay,
                            # The outpatient deductible paid follows by the change (the fund
                            # paid by the change of fund_pay).
                            ytd_deductible - old_ytd_deductible,
                        )
                    )
            changed += pending()  # the previous batch's write, done meanwhile
            pending = _written(0)
            next_rows = _recheck_rows(year, rows[-1][0], batch)
            used.update(_year_left_alone(year, {row[1] for row in next_rows} - used.keys()))
            pending = _write_back(updates)
            rows = next_rows
    finally:
        changed += pending()  # (on an error too: the connection is free again afterwards)
    return {"checked": checked, "changed": changed}


def _rechecked(year: int) -> Q:
    """The settlements of `year` a re-check recomputes: standing (settled or held), and not
    decided on by a reviewer."""
    return Q(
        policy_year=year,
        status__in=_RECHECKED,
        original_fund_pay__isnull=True,
        reviewed_at__isnull=True,
    )


def _year_left_alone(year: int, person_ids: set[int]) -> dict[int, list[Decimal]]:
    """For each of the persons: the fund payments and outpatient deductible of `year` that a
    re-check does not recompute (claims, decided settlements), as the annual accumulation has
    them now: [fund paid, outpatient deductible paid], less the settlements it recomputes."""
    if not person_ids:
        return {}
    left = {
        person: [fund, deductible]
        for person, fund, deductible in AnnualAccumulation.objects.filter(
            year=year, person_id__in=person_ids
        ).values_list("person_id", "fund_paid", "outpatient_deductible_paid")
    }
    deductible = Cast(
        KeyTextTransform("deductible", "breakdown"),
        DecimalField(max_digits=12, decimal_places=2),
    )
    recomputed = (
        Settlement.objects.filter(_rechecked(year), person_id__in=person_ids)
        .values("person_id")
        .annotate(
            fund=Sum("fund_pay"),
            deductible=Sum(deductible, filter=~Q(care_type="inpatient"), default=0),
        )
        .order_by()
    )
    for row in recomputed:
        fund, deductible_paid = left.get(row["person_id"], [Decimal("0"), Decimal("0")])
        left[row["person_id"]] = [
            # SQLite sums decimals as floats: back to cents.
            max(fund - Decimal(row["fund"]).quantize(CENTS), Decimal("0")),
            max(deductible_paid - Decimal(row["deductible"]).quantize(CENTS), Decimal("0")),
        ]
    return {person: left.get(person, [Decimal("0"), Decimal("0")]) for person in person_ids}


def _breakdown_json(r: engine.Split) -> str:
    """json.dumps(r.breakdown()), formatted at once."""
    return (
        f'{{"self_paid": "{r.self_paid:.2f}", "first_self_pay": "{r.first_self_pay:.2f}", '
        f'"deductible": "{r.deductible:.2f}", "coinsurance": "{r.coinsurance:.2f}", '
        f'"over_cap": "{r.over_cap:.2f}", '
        f'"not_covered_medication": "{r.not_covered_medication:.2f}"}}'
    )


def _stored_adjustment(text: str) -> engine.Adjustment:
    adj = json.loads(text) or {}
    return engine.Adjustment(
        int(adj.get("points", 0)),
        Decimal(adj.get("multiplier", "1")),
        Decimal(adj.get("share", "1")),
    )


def _recheck_rows(year: int, after_id: int, batch: int) -> list[tuple]:
    """The next `batch` settlements to re-check after `after_id` (`_rechecked`), in id order
    (keyset, so each query is a short index range): id, person, items, care type, insured
    region, scheme, hospital level, fund pay, adjustment, flags, the deductible of the stored
    breakdown — JSON columns as text, money as Decimal."""
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    # SQLite hands back money as floats: read it as text (its 15 significant digits).
    fund = "s.fund_pay" if postgres else "CAST(s.fund_pay AS TEXT)"
    deductible = (
        "s.breakdown ->> 'deductible'" if postgres else "json_extract(s.breakdown, '$.deductible')"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.id, s.person_id, s.items, s.care_type, s.insured_region_id, p.scheme, "
            f"h.level, {fund}, s.adjustment, s.flags, {deductible} "
            f"FROM {Settlement._meta.db_table} s "
            f"JOIN {InsuredPerson._meta.db_table} p ON p.id = s.person_id "
            f"JOIN {Hospital._meta.db_table} h ON h.id = s.hospital_id "
            "WHERE s.policy_year = %s AND s.status IN (%s, %s) AND s.original_fund_pay IS NULL "
            "AND s.reviewed_at IS NULL AND s.id > %s ORDER BY s.id LIMIT %s",
            [year, *_RECHECKED, after_id, batch],
        )
        rows = cursor.fetchall()
    if not postgres:
        rows = [(*r[:7], Decimal(r[7]), *r[8:]) for r in rows]
    return rows


def _written(count: int):
    return lambda: count


def _write_back(updates: list[tuple]):
    """Write (id, fund_pay, person_pay, total, breakdown JSON, flags JSON, fund_pay as read,
    change of outpatient deductible paid) rows in one set-based statement,
    skipping any reviewed, rejected, returned, voided or changed since it was read, and move the
    annual accumulations of the rows written by their changes. Returns a function that waits
    for the write and gives the number of rows written.

    On PostgreSQL: one statement, UPDATE … FROM jsonb_to_recordset($1) … RETURNING feeding the
    UPDATE of the accumulations (bulk_update's CASE expressions are two orders of magnitude
    slower), sent without waiting for it, so the caller computes meanwhile; the connection
    must not be used before the function has been called."""
    from django.db import connection

    if not updates:
        return _written(0)
    if connection.vendor != "postgresql":
        return _write_back_orm(updates)
    from psycopg import errors, pq

    # The rows as one JSON array: every piece is JSON already (decimals are JSON numbers).
    records = ",".join(
        [
            f'{{"id":{r[0]},"fund_pay":{r[1]},"person_pay":{r[2]},"total":{r[3]},'
            f'"breakdown":{r[4]},"flags":{r[5]},"read_fund_pay":{r[6]},'
            f'"deductible_change":{r[7]}}}'
            for r in updates
        ]
    )
    connection.ensure_connection()
    conn = connection.connection
    pgconn = conn.pgconn
    if not conn.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE:
        # In an atomic block that has not queried yet: let psycopg open the transaction
        # (its BEGIN, with the connection's isolation level), which a bare send would skip.
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    pgconn.send_query_params(
        (
            f"WITH written AS (UPDATE {Settlement._meta.db_table} s SET fund_pay = r.fund_pay, "
            "person_pay = r.person_pay, total = r.total, breakdown = r.breakdown, "
            "flags = r.flags FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, "
            "fund_pay numeric, person_pay numeric, total numeric, breakdown jsonb, flags jsonb, "
            "read_fund_pay numeric, deductible_change numeric) "
            "WHERE s.id = r.id AND s.status IN ($2, $3) AND s.original_fund_pay IS NULL "
            "AND s.reviewed_at IS NULL AND s.fund_pay = r.read_fund_pay "
            "RETURNING s.person_id, s.policy_year, r.fund_pay - r.read_fund_pay AS fund_change, "
            "r.deductible_change), "
            f"moved AS (UPDATE {AnnualAccumulation._meta.db_table} a "
            "SET fund_paid = a.fund_paid + w.fund_change, "
            "outpatient_deductible_paid = a.outpatient_deductible_paid + w.deductible_change "
            "FROM (SELECT person_id, policy_year, sum(fund_change) AS fund_change, "
            "sum(deductible_change) AS deductible_change FROM written "
            "GROUP BY person_id, policy_year) w "
            "WHERE a.person_id = w.person_id AND a.year = w.policy_year) "
            "SELECT count(*) FROM written"
        ).encode(),
        [f"[{records}]".encode(), *(s.encode() for s in _RECHECKED)],
    )
    with selectors.DefaultSelector() as selector:  # the connection does not block: flush
        selector.register(pgconn.socket, selectors.EVENT_WRITE)
        while pgconn.flush():
            selector.select()

    def wait() -> int:
        count, error = 0, None
        while (result := pgconn.get_result()) is not None:  # blocks until it is done
            if result.status == pq.ExecStatus.TUPLES_OK:
                count = int(result.get_value(0, 0))
            elif result.status != pq.ExecStatus.COMMAND_OK and error is None:
                error = errors.error_from_result(result, encoding=conn.info.encoding)
        if error is not None:
            with connection.wrap_database_errors:  # as Django's own queries raise it
                raise error
        return count

    return wait


def _write_back_orm(updates: list[tuple]):
    """_write_back on SQLite: the same rows and accumulations through the ORM."""
    by_id = {u[0]: u for u in updates}
    with transaction.atomic():
        standing = {
            pk: (person, year)
            for pk, person, year, fund in Settlement.objects.filter(
                pk__in=list(by_id),
                status__in=_RECHECKED,
                original_fund_pay__isnull=True,
                reviewed_at__isnull=True,
            ).values_list("pk", "person_id", "policy_year", "fund_pay")
            if fund == by_id[pk][6]
        }
        objects = [
            Settlement(
                id=pk,
                fund_pay=fund,
                person_pay=person,
                total=total,
                breakdown=json.loads(breakdown),
                flags=json.loads(flags),
            )
            for pk, fund, person, total, breakdown, flags, *_rest in updates
            if pk in standing
        ]
        Settlement.objects.bulk_update(
            objects, ["fund_pay", "person_pay", "total", "breakdown", "flags"], batch_size=500
        )
        moves: dict[tuple, list[Decimal]] = {}
        for pk, (person, year) in standing.items():
            move = moves.setdefault((person, year), [Decimal("0"), Decimal("0")])
            move[0] += by_id[pk][1] - by_id[pk][6]
            move[1] += by_id[pk][7]
        for (person, year), (fund_change, deductible_change) in moves.items():
            AnnualAccumulation.objects.filter(person_id=person, year=year).update(
                fund_paid=F("fund_paid") + fund_change,
                outpatient_deductible_paid=F("outpatient_deductible_paid") + deductible_change,
            )
    return _written(len(objects))


# Reimbursement claims and the review of held settlements (domain.md §3.4) -----------------


@dataclass
class ClaimEstimate:
    category: str
    year: int
    adjustment: engine.Adjustment
    result: engine.Split
    flags: list[str]


def claim_estimate(
    *,
    person: InsuredPerson,
    hospital: Hospital,
    care_type: str,
    admitted_on: datetime.date,
    discharged_on: datetime.date,
    items: list[dict],
    emergency: bool = False,
    exclude_claim_id: int | None = None,
) -> ClaimEstimate:
    """What a claim will likely pay: the same decision and engine as direct settlement.

    A stay outside the region without a filing that covered it is paid as a transfer without
    an approved referral (50%, domain.md §2.2), or as an emergency when it was one (§2.3). A
    stay a filing covered, or at home, is paid at its category's level even where it could not
    be settled directly."""
    rules.check_bill_total(sum(Decimal(str(item["amount"])) for item in items))
    found = find_person(id_number=person.id_number, name=person.name)
    view = hospital_view(hospital.pk)
    if found is None or view is None:
        raise SettlementError("not_found", _("Unknown person or hospital."), status=404)
    decision = decide_stay(
        found=found,
        hospital=view,
        care_type=care_type,
        admitted_on=admitted_on,
        discharged_on=discharged_on,
    )
    flags: list[str] = []
    category, adjustment, transfer_approved = decision.category, decision.adjustment, None
    as_emergency = _as_emergency(decision, emergency)
    if as_emergency is not None:
        category, adjustment, flags = as_emergency
    elif category == eligibility.NONE:
        # No filing covered the stay: a transfer without an approved referral.
        category = eligibility.REFERRAL
        adjustment = eligibility.DEFAULT_ADJUSTMENTS[eligibility.REFERRAL]
        transfer_approved = False
    # Otherwise a filing covered the stay (or it was at home), and only direct settlement was
    # not possible there (one-way at home, a hospital without it for this care): the claim is
    # paid at that category's level.
    year = engine.policy_year(admitted_on, discharged_on)
    policy, adjustment, extra = _terms(
        person=person,
        hospital_id=hospital.pk,
        year=year,
        category=category,
        adjustment=adjustment,
        transfer_approved=transfer_approved,
        policy_key="" if category != decision.category else decision.policy,
    )
    flags += extra
    ytd = AnnualAccumulation.objects.filter(person=person, year=year).first()
    outpatient = care_type != "inpatient"
    result = engine.split(
        policy=policy.as_engine(),
        items=_items(items),
        adjustment=adjustment,
        ytd=engine.YearToDate(ytd.fund_paid, ytd.outpatient_deductible_paid)
        if ytd
        else engine.YearToDate(),
        outpatient=outpatient,
    )
    flags += list(result.flags)
    if any(not (item.get("code") or "").strip() for item in items):
        flags.append("not_in_catalogue")
    if _duplicate_bill(person, hospital, care_type, admitted_on, discharged_on, exclude_claim_id):
        flags.append("duplicate_bill")
    if result.total > REVIEW_THRESHOLD:
        flags.append("above_review_threshold")
    return ClaimEstimate(category, year, adjustment, result, sorted(set(flags)))


def overlapping(
    rows, *, person_id: int, hospital_id: int, care_type: str, admitted_on, discharged_on
):
    """The claims or settlements of `rows` (a queryset) for days of the same stay (domain.md
    §3: the fund pays one stay once, by direct settlement or by a claim): the person's, at the
    same hospital with a day in common, or, for an admission, an admission anywhere else with
    a night in common (a person is in one hospital at a time; a transfer discharges from one
    and admits to the other on the same day)."""
    same_hospital = Q(hospital_id=hospital_id, admitted_on__lte=discharged_on) & Q(
        discharged_on__gte=admitted_on
    )
    where = same_hospital
    if care_type == "inpatient":
        where |= Q(care_type="inpatient", admitted_on__lt=discharged_on) & Q(
            discharged_on__gt=admitted_on
        )
    return rows.filter(where, person_id=person_id)


# A claim that counts against a stay until it is rejected (returned, it comes back).
_CLAIM_STANDS = (rules.SUBMITTED, rules.RETURNED, rules.APPROVED, rules.PAID)


def stay_of(row: Settlement | Claim) -> dict:
    """A settlement's or claim's stay, as `overlapping` and `earlier_twin` take it."""
    return {
        "person_id": row.person_id,
        "hospital_id": row.hospital_id,
        "care_type": row.care_type,
        "admitted_on": row.admitted_on,
        "discharged_on": row.discharged_on,
    }


def _duplicate_bill(person, hospital, care_type, admitted_on, discharged_on, exclude_claim_id):
    """Another claim, not rejected, or a direct settlement, settled or held, for days of this
    stay (`overlapping`): not only one for the very same dates."""
    stay = {
        "person_id": person.pk,
        "hospital_id": hospital.pk,
        "care_type": care_type,
        "admitted_on": admitted_on,
        "discharged_on": discharged_on,
    }
    claims = overlapping(Claim.objects.filter(status__in=_CLAIM_STANDS), **stay)
    if exclude_claim_id:
        claims = claims.exclude(pk=exclude_claim_id)
    settled = overlapping(Settlement.objects.filter(status__in=_RECHECKED), **stay)
    return claims.exists() or settled.exists()


def _already_paid(row, *, claims: bool, settlements: bool) -> None:
    """Refuse (RuleError "stay_paid_already", naming it) a decision that would pay `row`, a
    claim or held settlement, while the fund has paid days of the same stay already: a
    settlement settled or a claim approved or paid, other than `row` (domain.md §3)."""
    stay = stay_of(row)
    found: tuple[str, Settlement | Claim] | None = None
    if settlements:
        settled = Settlement.objects.filter(status=Settlement.Status.SETTLED)
        if isinstance(row, Settlement):
            settled = settled.exclude(pk=row.pk)
        first = overlapping(settled, **stay).select_related("hospital").first()
        if first is not None:
            found = (_("direct settlement %(number)s") % {"number": first.number}, first)
    if claims and found is None:
        approved = Claim.objects.filter(status__in=[rules.APPROVED, rules.PAID])
        if isinstance(row, Claim):
            approved = approved.exclude(pk=row.pk)
        other_claim = overlapping(approved, **stay).select_related("hospital").first()
        if other_claim is not None:
            found = (_("claim %(number)s") % {"number": other_claim.number}, other_claim)
    if found is not None:
        what, other = found
        raise rules.RuleError(
            "stay_paid_already",
            _(
                "The fund has already paid for days of this stay: %(paid)s at %(hospital)s, "
                "%(admitted)s to %(discharged)s. Reject or return this one rather than pay the "
                "stay twice."
            )
            % {
                "paid": what,
                "hospital": other.hospital,
                "admitted": f"{other.admitted_on:%Y-%m-%d}",
                "discharged": f"{other.discharged_on:%Y-%m-%d}",
            },
            number=other.number,
        )


class SameBill(rules.RuleError):
    """The bill was claimed already: `claim` is the earlier claim, not rejected."""

    def __init__(self, claim):
        super().__init__("same_bill", number=claim.number)
        self.claim = claim


def same_bill(person, hospital, admitted_on, discharged_on, total):
    """The person's own claim, not rejected, for the same hospital, dates and total: most likely
    the same form sent twice (a second press of Submit, or the browser's back and send again).
    A rejected claim may be claimed again."""
    from settlement.models import Claim

    earlier = (
        Claim.objects.filter(
            person=person, hospital=hospital, admitted_on=admitted_on, discharged_on=discharged_on
        )
        .exclude(status=rules.REJECTED)
        .order_by("-submitted_at", "-id")
    )
    # The total compared here, not in SQL: SQLite keeps a decimal as a float.
    return next((claim for claim in earlier if claim.total == total), None)


def _claim_number(region_code: str) -> str:
    return f"BX{region_code}{timezone.localdate():%y%m%d}{secrets.token_hex(3).upper()}"


def claim_submit(
    *,
    person: InsuredPerson,
    actor,
    hospital: Hospital,
    care_type: str,
    admitted_on: datetime.date,
    discharged_on: datetime.date,
    items: list[dict],
    documents: Sequence[tuple[str, object]] = (),
    stored=(),
    emergency: bool = False,
    different_bill: bool = False,
    ip=None,
):
    """File a claim with its documents (already checked by the upload pipeline; `stored`: those
    already written, see filings.pending).

    Refused 12 months after discharge (domain.md §3.4), with the date it lapsed; and refused
    as the same bill claimed again (`SameBill`, naming the earlier claim) unless the person
    says it is another bill (`different_bill`)."""
    from settlement.models import Claim

    rules.check_claim_dates(
        admitted_on=admitted_on, discharged_on=discharged_on, today=timezone.localdate()
    )
    estimate = claim_estimate(
        person=person,
        hospital=hospital,
        care_type=care_type,
        admitted_on=admitted_on,
        discharged_on=discharged_on,
        items=items,
        emergency=emergency,
    )
    # domain.md §3.4: "the referral form where one applies": a stay under an approved referral.
    if estimate.category == eligibility.REFERRAL and "unapproved_transfer" not in estimate.flags:
        given = {kind for kind, _file in documents} | {f.kind for f in stored}
        if "referral_form" not in given:
            raise rules.RuleError("referral_form_needed")
    flags = _claim_flags(estimate, discharged_on)
    with transaction.atomic():
        # One submission of a person's at a time, so that two presses of Submit cannot both
        # find no earlier claim and both file one.
        list(InsuredPerson.objects.select_for_update().filter(pk=person.pk))
        if not different_bill:
            earlier = same_bill(person, hospital, admitted_on, discharged_on, estimate.result.total)
            if earlier is not None:
                raise SameBill(earlier)
        claim = Claim.objects.create(
            number=_claim_number(person.region.code),
            person=person,
            insured_region_id=person.region_id,
            hospital=hospital,
            care_type=care_type,
            admitted_on=admitted_on,
            discharged_on=discharged_on,
            items=json.loads(json.dumps(items, default=str)),
            category=estimate.category,
            policy_year=estimate.year,
            adjustment=_adjustment_dict(estimate.adjustment),
            total=estimate.result.total,
            estimated_fund_pay=estimate.result.fund_pay,
            breakdown=estimate.result.breakdown(),
            flags=flags,
        )
        _store_documents(claim, list(documents), list(stored))
        audit.record(
            action="claim.submit",
            actor=actor,
            obj=claim,
            region=person.region,
            to_state=rules.SUBMITTED,
            ip=ip,
        )
    return claim


def _claim_flags(estimate: ClaimEstimate, discharged_on: datetime.date) -> list[str]:
    """A claim's reason codes as filed, or sent again after a return: the estimate's, and
    "late_claim" when it is made after the calendar year of discharge (domain.md §3.4)."""
    flags = set(estimate.flags)
    if rules.is_late_claim(discharged_on=discharged_on, today=timezone.localdate()):
        flags.add("late_claim")
    return sorted(flags)


def _adjustment_dict(adjustment) -> dict:
    return {
        "points": adjustment.ratio_reduction_points,
        "multiplier": str(adjustment.deductible_multiplier),
        "share": str(adjustment.fund_share),
    }


def adjustment_from(terms: dict | None) -> engine.Adjustment:
    """The adjustment `_adjustment_dict` stored on a claim or settlement."""
    terms = terms or {}
    return engine.Adjustment(
        int(terms.get("points", 0)),
        Decimal(terms.get("multiplier", "1.00")),
        Decimal(terms.get("share", "1.00")),
    )


def _store_documents(claim, documents, stored=()) -> None:
    """The claim's documents: `documents` (kind, CheckedFile) written now, `stored`
    (filings.pending.StoredFile) already written while the form was being corrected."""
    from filings import uploads
    from filings.pending import StoredFile
    from settlement.models import ClaimDocument

    uploads.check_count(claim.documents.count(), len(documents) + len(stored))
    files = [StoredFile.write(checked, kind) for kind, checked in documents] + list(stored)
    ClaimDocument.objects.bulk_create(ClaimDocument(claim=claim, **f.fields()) for f in files)


# The version of a claim a reviewer decides on (its last change): a review page posts the
# version it showed, and a decision on an older one is refused (portal.lib.versions).
claim_version = versions.last_change


def settlement_version(settlement) -> str:
    """The version of a held settlement a reviewer decides on: what a re-check may change
    under it (the split), with its state. A settlement has no change time of its own."""
    parts = [settlement.status, settlement.fund_pay, settlement.person_pay, settlement.total]
    parts.append(settlement.reviewed_at and settlement.reviewed_at.isoformat())
    return hashlib.sha256(repr([str(p) for p in parts]).encode()).hexdigest()[:16]


def _check_seen(version: str, seen_version: str | None) -> None:
    versions.check_seen(version, seen_version, rules.RuleError)


def _claim_transition(
    claim_id: int,
    target: str,
    *,
    actor,
    action: str,
    reason: str = "",
    ip=None,
    changes=None,
    seen_version: str | None = None,
):
    """One reviewed move of a claim: row lock, transition table, the version the reviewer saw
    (`seen_version`), audit event, notification."""
    from settlement.models import Claim

    with transaction.atomic():
        claim = (
            Claim.objects.select_for_update(of=("self",))
            .select_related("person__user", "insured_region")
            .get(pk=claim_id)
        )
        check_agency_region(actor, claim.insured_region_id)
        rules.check_claim_transition(claim.status, target)
        _check_seen(claim_version(claim), seen_version)
        updates = changes(claim) if changes else {}
        previous = claim.status
        claim.status = target
        for name, value in updates.items():
            setattr(claim, name, value)
        claim.save(update_fields=["status", "updated_at", *updates])
        audit.record(
            action=action,
            actor=actor,
            obj=claim,
            region=claim.insured_region,
            from_state=previous,
            to_state=target,
            reason=reason,
            ip=ip,
        )
        user = claim.person.user
        if user is not None:
            notify(
                user=user,
                notice="claim_status",
                params=params_of(n=claim.number, claim_status=target, text=reason),
                url=f"/settlement/claims/{claim.number}/",
            )
    return claim


def _year_so_far(row, counted_already: bool) -> tuple[BenefitPolicy, engine.YearToDate]:
    """The row's benefit policy and the person's year to date as it stands now (without the
    row's own payment when `counted_already`)."""
    person = row.person
    policy = _policy_for(person, row.hospital_id, row.policy_year)
    ytd = AnnualAccumulation.objects.filter(person_id=person.pk, year=row.policy_year).first()
    paid = ytd.fund_paid if ytd else Decimal("0")
    deductible = ytd.outpatient_deductible_paid if ytd else Decimal("0")
    if counted_already:
        paid = max(paid - row.fund_pay, Decimal("0"))
        deductible = max(deductible - outpatient_deductible(row), Decimal("0"))
    return policy, engine.YearToDate(paid, deductible)


def split_now(row, *, counted_already: bool = False) -> engine.Split:
    """A claim's or held settlement's split against the person's year to date as it stands
    now, with the category and adjustment decided when it was filed. The split stored then is
    of that day: a held settlement rejected since frees part of the annual cap, one approved
    uses it up. `counted_already`: the row's own payment is in the year to date (a held
    settlement counts against the cap until decided) and is taken out of it first."""
    return _split_and_limit(row, counted_already)[0]


def _split_and_limit(row, counted_already: bool) -> tuple[engine.Split, Decimal]:
    """`split_now`, and the most an adjusted payment may be against the same year to date.
    domain.md §3.2: an adjusted payment is a reviewer's figure, but the fund never pays a
    self-paid item (nor a class-B item's first self-pay, nor medication over the limits) and
    never more than what is left of the year's cap: at most the lesser of the split's in-scope
    amount and the cap left."""
    policy, ytd = _year_so_far(row, counted_already)
    split = engine.split(
        policy=policy.as_engine(),
        items=_items(row.items),
        adjustment=adjustment_from(row.adjustment),
        ytd=ytd,
        outpatient=row.care_type != "inpatient",
    )
    return split, min(split.in_scope, max(policy.annual_cap - ytd.fund_paid, Decimal("0")))


def _lock_year(person_id: int, year: int) -> AnnualAccumulation:
    """The person's accumulation of the year (made if missing), locked before a split is taken
    against it: a settlement and a review decision of the same person at once cannot both count
    the same part of the annual cap."""
    AnnualAccumulation.objects.bulk_create(
        [AnnualAccumulation(person_id=person_id, year=year)], ignore_conflicts=True
    )
    return AnnualAccumulation.objects.select_for_update().get(person_id=person_id, year=year)


def fund_limit(row) -> Decimal:
    """The most a reviewer may adjust a claim's or a held settlement's fund payment to, the
    year as it stands now. A held settlement counts against the year until decided, so its
    own payment is taken out of the year first."""
    return _split_and_limit(row, counted_already=isinstance(row, Settlement))[1]


def _outpatient(row, split: engine.Split) -> Decimal:
    """The outpatient deductible `split` takes (per year, domain.md §3.2.2): none for an
    admission."""
    return Decimal("0") if row.care_type == "inpatient" else split.deductible


def claim_approve(
    *,
    claim,
    actor,
    fund_pay: Decimal | None = None,
    reason: str = "",
    ip=None,
    only_if_estimate_stands: bool = False,
    seen_version: str | None = None,
):
    """Approve a submitted claim as estimated, or adjusted to `fund_pay` (a reason is then
    required). "As estimated" is the engine's split now (`split_now`), not the one stored
    at submission, so a cap used or freed since is counted; the claim keeps the split it was
    approved on. The fund's payment, and an outpatient claim's deductible, are added to the
    person's annual accumulation. `only_if_estimate_stands` (a bulk approval from the queue,
    where the reviewer sees the estimate): refused with "estimate_changed", changing nothing,
    when the fund would now pay another amount than the estimate (a cap used since, by a held
    settlement's reservation say), so no claim is approved unseen at 0.00. Refused
    ("stay_paid_already", naming it) while a settled settlement or another approved or paid
    claim covers days of the same stay (domain.md §3: a stay is paid once). `seen_version` (a
    reviewer's page): refused with "changed_since_opened", changing nothing, when the claim
    changed since (resubmitted with another bill, say), so an amount typed for the old bill is
    not paid on the new one."""
    adjusted = fund_pay is not None and money(fund_pay) != split_now(claim).fund_pay
    reason = plain(reason)
    if adjusted and not reason:
        raise rules.RuleError("reason_required")

    def changes(current):
        _lock_year(current.person_id, current.policy_year)
        # Under the claim's and the year's locks (a settlement of the person waits on the
        # latter): not while the fund has paid these days already.
        _already_paid(current, claims=True, settlements=True)
        # The year as it is now.
        now, limit = _split_and_limit(current, counted_already=False)
        if only_if_estimate_stands and now.fund_pay != current.estimated_fund_pay:
            raise rules.RuleError(
                "estimate_changed", now=now.fund_pay, estimated=current.estimated_fund_pay
            )
        amount = money(fund_pay) if fund_pay is not None else now.fund_pay
        if amount != now.fund_pay:
            rules.check_adjusted_amount(amount=amount, limit=limit)
        AnnualAccumulation.objects.filter(
            person_id=current.person_id, year=current.policy_year
        ).update(
            fund_paid=F("fund_paid") + amount,
            # The deductible of the split approved on, not of the one estimated at submission.
            outpatient_deductible_paid=F("outpatient_deductible_paid") + _outpatient(current, now),
        )
        return {
            "estimated_fund_pay": now.fund_pay,
            "breakdown": now.breakdown(fund_pay=amount),
            "approved_fund_pay": amount,
            "approved_person_pay": current.total - amount,
            "decided_at": timezone.now(),
            "reason": reason,
        }

    return _claim_transition(
        claim.pk,
        rules.APPROVED,
        actor=actor,
        action="claim.adjust_approve" if adjusted else "claim.approve",
        reason=reason,
        ip=ip,
        changes=changes,
        seen_version=seen_version,
    )


def claim_reject(*, claim, actor, reason: str, ip=None, seen_version: str | None = None):
    reason = plain(reason)  # a reason of spaces or invisible characters is none
    if not reason:
        raise rules.RuleError("reason_required")
    return _claim_transition(
        claim.pk,
        rules.REJECTED,
        actor=actor,
        action="claim.reject",
        reason=reason,
        ip=ip,
        changes=lambda c: {"decided_at": timezone.now(), "reason": reason},
        seen_version=seen_version,
    )


def claim_return(*, claim, actor, reason: str, ip=None, seen_version: str | None = None):
    """Back to the person for what is missing; they correct and resubmit."""
    reason = plain(reason)  # a reason of spaces or invisible characters is none
    if not reason:
        raise rules.RuleError("reason_required")
    return _claim_transition(
        claim.pk,
        rules.RETURNED,
        actor=actor,
        action="claim.return",
        reason=reason,
        ip=ip,
        changes=lambda c: {"reason": reason},
        seen_version=seen_version,
    )


def claim_resubmit(*, claim, actor, items=None, documents=(), stored=(), ip=None):
    """The person answers a return: corrected items and/or more documents, re-estimated. The
    claim was made in time (claim_submit refuses a late one): answering the agency's return is
    not a new claim, so the 12 months (domain.md §3.4) do not lapse it, however long the answer
    took."""
    rules.check_stay_dates(
        admitted_on=claim.admitted_on,
        discharged_on=claim.discharged_on,
        today=timezone.localdate(),
    )

    def changes(current):
        new_items = items if items is not None else current.items
        estimate = claim_estimate(
            person=current.person,
            hospital=current.hospital,
            care_type=current.care_type,
            admitted_on=current.admitted_on,
            discharged_on=current.discharged_on,
            items=new_items,
            # An emergency stays one: without a filing (its flag), and under a temporary
            # filing, where it is settled as an emergency (its category) and has no flag.
            emergency="emergency_without_filing" in current.flags
            or current.category == eligibility.EMERGENCY,
            exclude_claim_id=current.pk,
        )
        _store_documents(current, list(documents), list(stored))
        return {
            "items": json.loads(json.dumps(new_items, default=str)),
            # What the estimate was made on is what an approval pays on (`claim_approve`).
            "category": estimate.category,
            "policy_year": estimate.year,
            "adjustment": _adjustment_dict(estimate.adjustment),
            "total": estimate.result.total,
            "estimated_fund_pay": estimate.result.fund_pay,
            "breakdown": estimate.result.breakdown(),
            "flags": _claim_flags(estimate, current.discharged_on),
            "reason": "",
            "submitted_at": timezone.now(),
        }

    return _claim_transition(
        claim.pk, rules.SUBMITTED, actor=actor, action="claim.resubmit", ip=ip, changes=changes
    )


def claim_mark_paid(*, claim, actor, ip=None, seen_version: str | None = None):
    return _claim_transition(
        claim.pk,
        rules.PAID,
        actor=actor,
        action="claim.pay",
        ip=ip,
        changes=lambda c: {"paid_at": timezone.now()},
        seen_version=seen_version,
    )


def claims_bulk_approve(*, claims, actor, ip=None) -> tuple[int, int]:
    """Approve the clean ones (no reason code) as estimated; the others are left for a person
    to look at. Returns (approved, skipped)."""
    approved = skipped = 0
    for claim in claims:
        if claim.status != rules.SUBMITTED or not rules.is_clean(claim.flags):
            skipped += 1
            continue
        try:
            claim_approve(claim=claim, actor=actor, ip=ip)
        except rules.RuleError:
            skipped += 1
        else:
            approved += 1
    return approved, skipped


def earlier_twin(
    stay: dict, *, total: Decimal, before_id: int | None = None, same_hospital: bool = False
) -> int | None:
    """The id of the earliest standing settlement (settled or held) that settles this stay
    again (`stay` as for `overlapping`; only those made before `before_id`, when given): an
    admission with a day in common at the same hospital or a night in common at another
    (`overlapping`), or an outpatient visit of the same care on the same days at the same
    hospital for the same total (two visits of a day may be two bills; the same bill twice
    has the same total). With `same_hospital`, only the stay's hospital's. None when there
    is none."""
    rows = Settlement.objects.filter(status__in=STANDING, care_type=stay["care_type"])
    if before_id is not None:
        rows = rows.filter(pk__lt=before_id)
    if same_hospital:
        rows = rows.filter(hospital_id=stay["hospital_id"])
    if stay["care_type"] == "inpatient":
        rows = overlapping(rows, **stay)
    else:
        rows = rows.filter(
            person_id=stay["person_id"],
            hospital_id=stay["hospital_id"],
            admitted_on=stay["admitted_on"],
            discharged_on=stay["discharged_on"],
            total=total,
        )
    return rows.order_by("id").values_list("pk", flat=True).first()


def _mark_twins_again(settlement: Settlement) -> None:
    """A settlement that no longer stands (voided, rejected, returned) is no longer the earlier
    one of the later settlements marked as its twins: each is marked with its next earlier
    standing twin, or none (a bill sent three times stays marked once the first is voided)."""
    for later in Settlement.objects.filter(overlaps=settlement).only(
        "pk", "person_id", "hospital_id", "care_type", "admitted_on", "discharged_on", "total"
    ):
        twin = earlier_twin(stay_of(later), total=later.total, before_id=later.pk)
        Settlement.objects.filter(pk=later.pk).update(overlaps_id=twin)


def _settlement_transition(
    settlement_id: int,
    target: str,
    *,
    actor,
    action: str,
    reason: str = "",
    ip=None,
    changes=None,
    seen_version: str | None = None,
    check=rules.check_settlement_transition,
    tell=None,
) -> Settlement:
    """`tell(settlement, reason)` says what was done to whom it concerns: by default the
    review's decision (_tell_of_the_review)."""
    with transaction.atomic():
        settlement = (
            Settlement.objects.select_for_update(of=("self",))
            .select_related("insured_region", "hospital", "person__user")
            .get(pk=settlement_id)
        )
        check_agency_region(actor, settlement.insured_region_id)
        check(settlement.status, target)
        _check_seen(settlement_version(settlement), seen_version)
        updates = changes(settlement) if changes else {}
        previous = settlement.status
        settlement.status = target
        settlement.reviewed_at = timezone.now()
        for name, value in updates.items():
            setattr(settlement, name, value)
        settlement.save(update_fields=["status", "reviewed_at", *updates])
        if target not in STANDING:
            _mark_twins_again(settlement)
        audit.record(
            action=action,
            actor=actor,
            obj=settlement,
            region=settlement.insured_region,
            from_state=previous,
            to_state=target,
            reason=reason,
            ip=ip,
        )
        (tell or _tell_of_the_review)(settlement, reason)
    return settlement


class _Decision(NamedTuple):
    hospital_id: int
    number: str
    status: str
    reason: str


# The decisions of one reviewer's action on several held settlements, collected for the
# hospitals' clerks (see reviews_told_together); None outside such an action.
_told_together: ContextVar[list[_Decision] | None] = ContextVar(
    "settlement_reviews_told_together", default=None
)


@contextmanager
def reviews_told_together() -> Iterator[None]:
    """Within it, the decisions on held settlements reach each hospital's clerks as one message
    per hospital, once every decision is taken: approving 40 held bills of one hospital is one
    message on its desk and in its clerks' mailboxes, not 40. A hospital with one decision gets
    the usual message, with the reason. The persons are still told each of their own bill. A
    refused decision (a rule error) is not told."""
    decisions: list[_Decision] = []
    token = _told_together.set(decisions)
    try:
        yield
    finally:
        _told_together.reset(token)
        for hospital_id, told in itertools.groupby(sorted(decisions), key=lambda d: d.hospital_id):
            _tell_the_clerks(hospital_id, list(told))


def _tell_of_the_review(settlement: Settlement, reason: str) -> None:
    """The agency's decision on a held settlement, with its reason, to the clerks of the
    hospital that submitted it (the settlement's page on their desk, or one message for several
    decisions: reviews_told_together) and to the person (their settlements' page), each in
    their own language."""
    decision = _Decision(settlement.hospital_id, settlement.number, settlement.status, reason)
    together = _told_together.get()
    if together is None:
        _tell_the_clerks(settlement.hospital_id, [decision])
    else:
        together.append(decision)  # the decision's last step: its commit follows
    params = {"n": settlement.number, "settlement_status": settlement.status}
    if reason.strip():
        params["text"] = reason
    notify(
        user=settlement.person.user,
        notice="settlement_reviewed_person",
        params={**params, "hospital": settlement.hospital.code},
        url=reverse("settlement:settlements"),
    )


def _tell_the_clerks(hospital_id: int, decisions: list[_Decision]) -> None:
    """One message to each active clerk of the hospital: the decision, or how many of each."""
    if len(decisions) == 1:
        (decision,) = decisions
        notice = "settlement_reviewed"
        params: dict[str, object] = {"n": decision.number, "settlement_status": decision.status}
        if decision.reason.strip():
            params["text"] = decision.reason
        url = reverse("hospital-settlement", args=[decision.number])
    else:
        states = [d.status for d in decisions]
        notice = "settlements_reviewed"
        params = {
            "count": len(decisions),
            **{status: states.count(status) for status in Settlement.Status.values},
        }
        # The list opens on what needs the hospital's work (returned), else on the one state.
        returned = Settlement.Status.RETURNED.value
        shown: str | None = returned if returned in states else None
        if shown is None and len(set(states)) == 1:
            shown = states[0]
        url = reverse("hospital-settlements") + (f"?status={shown}" if shown else "")
    for clerk in active_clerks([hospital_id]):
        notify(user=clerk.user, notice=notice, params=params, url=url)


def settlement_approve(
    *,
    settlement,
    actor,
    fund_pay: Decimal | None = None,
    reason: str = "",
    ip=None,
    seen_version: str | None = None,
) -> Settlement:
    """A held settlement stands, as computed or adjusted (reason required); the engine's
    amount is kept beside the adjusted one and the annual accumulation follows. "As computed"
    is the engine's split now (`split_now`): the cap may have been used or freed since the
    bill was held. Refused ("stay_paid_already") while an approved or paid claim covers days
    of the same stay."""
    amount = money(fund_pay) if fund_pay is not None else None
    adjusted = amount is not None and amount != split_now(settlement, counted_already=True).fund_pay
    reason = plain(reason)
    if adjusted and not reason:
        raise rules.RuleError("reason_required")

    def changes(current):
        _lock_year(current.person_id, current.policy_year)
        # Under the row's and the year's locks: not while a claim for these days is paid (held
        # as "overlapping_claim"; claim_approve refuses the other way round).
        _already_paid(current, claims=True, settlements=False)
        now, limit = _split_and_limit(current, counted_already=True)
        if amount is None or not adjusted:
            held_deductible = outpatient_deductible(current)
            if now.fund_pay == current.fund_pay and _outpatient(current, now) == held_deductible:
                return {"review_reason": reason}
            # Recomputed: the year's fund payments and outpatient deductible follow the split
            # it is approved on (another bill rejected since may have freed the deductible).
            AnnualAccumulation.objects.filter(
                person_id=current.person_id, year=current.policy_year
            ).update(
                fund_paid=F("fund_paid") + (now.fund_pay - current.fund_pay),
                outpatient_deductible_paid=F("outpatient_deductible_paid")
                + (_outpatient(current, now) - held_deductible),
            )
            return {
                "fund_pay": now.fund_pay,
                "person_pay": now.person_pay,
                "breakdown": now.breakdown(),
                "review_reason": reason,
            }
        rules.check_adjusted_amount(amount=amount, limit=limit)
        # The engine's split now beside the adjusted amount: its parts and the adjustment add
        # up to the person's share; the year's outpatient deductible follows that split.
        AnnualAccumulation.objects.filter(
            person_id=current.person_id, year=current.policy_year
        ).update(
            fund_paid=F("fund_paid") + (amount - current.fund_pay),
            outpatient_deductible_paid=F("outpatient_deductible_paid")
            + (_outpatient(current, now) - outpatient_deductible(current)),
        )
        return {
            "original_fund_pay": now.fund_pay,
            "fund_pay": amount,
            "person_pay": current.total - amount,
            "breakdown": now.breakdown(fund_pay=amount),
            "review_reason": reason,
        }

    return _settlement_transition(
        settlement.pk,
        rules.SETTLED,
        actor=actor,
        action="settlement.adjust_approve" if adjusted else "settlement.approve",
        reason=reason,
        ip=ip,
        changes=changes,
        seen_version=seen_version,
    )


def outpatient_deductible(row) -> Decimal:
    """The outpatient deductible a settlement or claim took (domain.md §3.2: outpatient
    deductible is per year, so it counts towards the year's): nothing for an admission."""
    if row.care_type == "inpatient":
        return Decimal("0")
    return Decimal((row.breakdown or {}).get("deductible") or "0")


def _undo_accumulation(current) -> dict:
    """A rejected, returned or voided settlement no longer counts towards the year's fund
    payments, nor towards the year's outpatient deductible."""
    AnnualAccumulation.objects.filter(person_id=current.person_id, year=current.policy_year).update(
        fund_paid=F("fund_paid") - current.fund_pay,
        outpatient_deductible_paid=F("outpatient_deductible_paid") - outpatient_deductible(current),
    )
    return {}


def settlement_reject(
    *, settlement, actor, reason: str, ip=None, seen_version: str | None = None
) -> Settlement:
    reason = plain(reason)  # a reason of spaces or invisible characters is none
    if not reason:
        raise rules.RuleError("reason_required")
    return _settlement_transition(
        settlement.pk,
        rules.SETTLEMENT_REJECTED,
        actor=actor,
        action="settlement.reject",
        reason=reason,
        ip=ip,
        changes=lambda c: {**_undo_accumulation(c), "review_reason": reason},
        seen_version=seen_version,
    )


def settlement_return(
    *, settlement, actor, reason: str, ip=None, seen_version: str | None = None
) -> Settlement:
    reason = plain(reason)  # a reason of spaces or invisible characters is none
    if not reason:
        raise rules.RuleError("reason_required")
    return _settlement_transition(
        settlement.pk,
        rules.SETTLEMENT_RETURNED,
        actor=actor,
        action="settlement.return",
        reason=reason,
        ip=ip,
        changes=lambda c: {**_undo_accumulation(c), "review_reason": reason},
        seen_version=seen_version,
    )


# A settlement the agency may void: one the fund pays, or one held that counts against the year.
VOIDABLE = STANDING


def _check_voidable(current: str, target: str) -> None:
    if current not in VOIDABLE:
        raise rules.RuleError(
            "not_voidable",
            _("Only a settled or held settlement can be voided: this one is %(state)s.")
            % {"state": Settlement.Status(current).label},
            current=current,
        )


def settlement_void(
    *, settlement, actor, reason: str, ip=None, seen_version: str | None = None
) -> Settlement:
    """The agency of the person's region voids a settled or held settlement (a duplicate of a
    stay paid already, a bill settled on wrong amounts): the fund no longer pays it, and the
    fund payment and outpatient deductible it took are given back to the person's year, so
    the cap, the deductible, the statistics and the clearing count it no more. A reason is
    required; the hospital's clerks and the person are told, with it. Refused
    ("not_voidable") in any other state, and ("changed_since_opened") when the settlement
    changed since the reviewer's page showed it (`seen_version`). One already on an issued
    clearing statement leaves it with a corrected statement (clearing.statement_correct),
    which also closes a confirmed discrepancy that names it."""
    reason = plain(reason)  # a reason of spaces or invisible characters is none
    if not reason:
        raise rules.RuleError("reason_required")

    def changes(current):
        _lock_year(current.person_id, current.policy_year)
        return {
            **_undo_accumulation(current),
            "voided_from": current.status,
            "review_reason": reason,
        }

    return _settlement_transition(
        settlement.pk,
        Settlement.Status.VOIDED,
        actor=actor,
        action="settlement.void",
        reason=reason,
        ip=ip,
        changes=changes,
        seen_version=seen_version,
        check=_check_voidable,
        tell=_tell_of_the_void,
    )


def _tell_of_the_void(settlement: Settlement, reason: str) -> None:
    """A void is told as a void, not as a review's decision (a settled bill was never held):
    the hospital's clerks, that the fund does not pay it and to submit the corrected bill again
    (with a new Idempotency-Key) if the stay still needs settling; the person, that what it used
    of the year's cap and deductible is given back. Each with the agency's reason, in their own
    language."""
    params = {"n": settlement.number, "text": reason}
    url = reverse("hospital-settlement", args=[settlement.number])
    for clerk in active_clerks([settlement.hospital_id]):
        notify(user=clerk.user, notice="settlement_voided", params=params, url=url)
    notify(
        user=settlement.person.user,
        notice="settlement_voided_person",
        params={**params, "hospital": settlement.hospital.code},
        url=reverse("settlement:settlements"),
    )
