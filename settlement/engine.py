"""The split of a bill (domain.md §3.1–3.4). Pure: no ORM, Decimal throughout.

Each component is computed exactly and rounded once, half up, to 0.01 yuan; the fund's payment
is derived last and the person's share is the rest, so `fund + person == total` always holds.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")
ONE = Decimal("1")

# domain.md §3.4: discharge medication limits.
MAX_MEDICATION_KINDS = 4
MAX_MEDICATION_DAYS = {"acute": 7, "chronic": 15, "special": 30}
# The parts of a split, in the order the breakdown lists them (api.md's `breakdown`).
BREAKDOWN_PARTS = (
    "self_paid",
    "first_self_pay",
    "deductible",
    "coinsurance",
    "over_cap",
    "not_covered_medication",
)

# domain.md §3.3: the most a category may reduce the ratio (percentage points).
MAX_REDUCTION_POINTS = {
    "local": 0,
    "long_term": 0,
    "referral": 10,
    "emergency": 10,
    "temporary": 20,
    "unapproved_transfer": 10,
    "resettled": 5,
}


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Policy:
    """The place of insurance's policy for one scheme, year and hospital level."""

    deductible: Decimal
    ratio: Decimal  # e.g. Decimal("0.85")
    annual_cap: Decimal
    class_b_rate: Decimal = Decimal("0.10")


@dataclass(frozen=True)
class Adjustment:
    """domain.md §3.3: a category's change to the place of insurance's same-level policy (the
    eligibility decision chooses it, the split applies it)."""

    ratio_reduction_points: int = 0
    deductible_multiplier: Decimal = Decimal("1.00")
    fund_share: Decimal = Decimal("1.00")


@dataclass(frozen=True)
class Medication:
    days: int
    kind: str  # acute | chronic | special


@dataclass(frozen=True)
class Item:
    amount: Decimal
    cls: str  # A | B | C
    code: str = ""
    name: str = ""
    first_self_pay_rate: Decimal | None = None
    medication: Medication | None = None


@dataclass(frozen=True)
class YearToDate:
    fund_paid: Decimal = ZERO
    deductible_paid: Decimal = ZERO  # outpatient deductible is per year


@dataclass(frozen=True)
class Split:
    total: Decimal
    self_paid: Decimal
    first_self_pay: Decimal
    not_covered_medication: Decimal
    in_scope: Decimal
    deductible: Decimal
    coinsurance: Decimal
    over_cap: Decimal
    fund_pay: Decimal
    person_pay: Decimal
    flags: tuple[str, ...] = field(default_factory=tuple)

    def breakdown(self, fund_pay: Decimal | None = None) -> dict[str, str]:
        """The parts of the person's share, which add up to it. `fund_pay`: the fund's
        payment a reviewer approved instead of the split's; the difference is the person's as
        an "adjustment" part (api.md lets a response add fields; negative when the reviewer
        let the fund pay more), so the parts still add up to total − fund_pay."""
        # api.md: money as strings with two decimals, "0.00" too.
        parts = {k: f"{getattr(self, k):.2f}" for k in BREAKDOWN_PARTS}
        if fund_pay is not None and fund_pay != self.fund_pay:
            parts["adjustment"] = f"{self.fund_pay - fund_pay:.2f}"
        return parts


class RuleError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def validate_adjustment(category: str, points: int) -> None:
    """domain.md §3.3: a region's reduction above its category's cap is refused."""
    cap = MAX_REDUCTION_POINTS.get(category)
    if cap is None:
        raise RuleError("unknown_category", f"unknown category {category!r}")
    if points < 0 or points > cap:
        raise RuleError(
            "reduction_above_cap",
            f"{category}: a reduction of {points} points exceeds the cap of {cap}",
        )


def policy_year(admitted_on: datetime.date, discharged_on: datetime.date) -> int:
    """domain.md §3.4: a stay spanning two insurance years is settled in the discharge year."""
    return discharged_on.year


def _medication_excess(items: list[Item]) -> tuple[list[Decimal], bool]:
    """The part of each line the fund does not pay as discharge medication (domain.md §3.4),
    and whether any limit was exceeded. Independent of the order of the bill's lines:

    - a drug (by catalogue code, else name) on several lines is one kind: its days are added
      up, and the share of the days beyond its limit is taken from each of its lines;
    - a drug given on lines of different kinds of condition (acute, chronic, special disease):
      the kinds are taken from the shortest limit to the longest, and each kind's days are
      paid up to its own limit less the days already paid for the shorter kinds; so the drug's
      paid days never exceed the longest limit among them, and a line of a longer-limit kind
      never lifts what the others' days are paid (a 1-day "special" line must not turn 20 acute
      days, or 15 chronic and 1 acute day, into paid ones): adding a line to a bill never lowers
      the person's share (§3.2.5). Within a kind, its lines share its paid days by their days;
    - of more than 4 kinds, the fund pays the 4 worth most to the person (the most the fund
      would pay for, after the day limits; self-paid drugs are worth nothing to it); the
      others are wholly excess. A line naming no drug is a kind of its own."""
    excess = [ZERO] * len(items)
    kinds: dict[str, list[tuple[int, Medication]]] = {}
    for i, item in enumerate(items):
        if item.medication is not None:
            # A line naming no drug is a kind of its own (a key no drug's code or name has).
            kinds.setdefault(item.code or item.name or f"\0{i}", []).append((i, item.medication))
    exceeded = False
    worth: list[tuple[Decimal, str, str]] = []
    for key, lines in kinds.items():
        days: dict[int, int] = {}  # days given, by the limit of the line's kind of condition
        for _i, med in lines:
            limit = MAX_MEDICATION_DAYS.get(med.kind, MAX_MEDICATION_DAYS["acute"])
            days[limit] = days.get(limit, 0) + med.days
        paid_days: dict[int, int] = {}  # days paid, by the limit of the kind
        used = 0
        for limit in sorted(days):
            paid_days[limit] = max(0, min(days[limit], limit - used))
            used += paid_days[limit]
        if any(paid_days[limit] < given for limit, given in days.items()):
            exceeded = True
            for i, med in lines:
                limit = MAX_MEDICATION_DAYS.get(med.kind, MAX_MEDICATION_DAYS["acute"])
                # The line's covered share: its kind's paid days of its kind's given days.
                if days[limit]:
                    unpaid = Decimal(days[limit] - paid_days[limit]) / Decimal(days[limit])
                    excess[i] = items[i].amount * unpaid
        covered = sum(
            (items[i].amount - excess[i] for i, _med in lines if items[i].cls != "C"), start=ZERO
        )
        # Ties are broken by what the lines are, never by where they are on the bill.
        tie = "|".join(
            sorted(
                f"{items[i].code}|{items[i].name}|{items[i].amount}|{items[i].cls}|{med.days}|{med.kind}"
                for i, med in lines
            )
        )
        worth.append((covered, tie, key))
    if len(worth) > MAX_MEDICATION_KINDS:
        exceeded = True
        worth.sort(key=lambda w: (-w[0], w[1]))
        for _covered, _tie, key in worth[MAX_MEDICATION_KINDS:]:
            for i, _med in kinds[key]:
                excess[i] = items[i].amount
    return excess, exceeded


def split(
    *,
    policy: Policy,
    items: list[Item],
    adjustment: Adjustment = Adjustment(),
    ytd: YearToDate = YearToDate(),
    outpatient: bool = False,
) -> Split:
    """Split one admission (or outpatient visit) between the fund and the person."""
    flags: list[str] = []
    total_exact = self_paid_exact = first_exact = med_exact = ZERO
    b_rate = policy.class_b_rate
    excess, medication_flag = _medication_excess(items)
    for item, over in zip(items, excess, strict=True):
        amount = item.amount
        total_exact += amount
        cls = item.cls
        if cls == "C":
            self_paid_exact += amount  # the fund never pays it, over the limits or not
            continue
        med_exact += over
        if cls == "B":
            rate = b_rate if item.first_self_pay_rate is None else item.first_self_pay_rate
            first_exact += (amount - over) * rate
    if medication_flag:
        flags.append("discharge_medication_excess")
    # Each component is rounded once, half up, to the cent; quantize() also gives a bare ZERO
    # or an integral policy figure two decimal places, so it prints "0.00" (api.md).
    total = total_exact.quantize(CENT, ROUND_HALF_UP)
    self_paid = self_paid_exact.quantize(CENT, ROUND_HALF_UP)
    first_self_pay = first_exact.quantize(CENT, ROUND_HALF_UP)
    not_covered_medication = med_exact.quantize(CENT, ROUND_HALF_UP)
    in_scope = total - self_paid - first_self_pay - not_covered_medication
    if in_scope < ZERO:
        # Nothing in scope, and the two parts rounded up past what is left of the bill (a
        # class B rate of 1 with medication over the limits): the medication part is what is
        # left, so the parts still add up to the person's share (§3.2.5).
        not_covered_medication = total - self_paid - first_self_pay
        in_scope = ZERO
    in_scope = in_scope.quantize(CENT, ROUND_HALF_UP)  # exact: whole cents already

    deductible_due = (policy.deductible * adjustment.deductible_multiplier).quantize(
        CENT, ROUND_HALF_UP
    )
    if outpatient:
        deductible_due -= ytd.deductible_paid
        if deductible_due < ZERO:
            deductible_due = ZERO
    deductible = (in_scope if in_scope < deductible_due else deductible_due).quantize(
        CENT, ROUND_HALF_UP
    )

    ratio = policy.ratio - Decimal(adjustment.ratio_reduction_points) / 100
    if ratio < ZERO:
        ratio = ZERO
    payable = in_scope - deductible
    # The fund pays ratio x (in scope - deductible) up to what is left of the annual cap; a
    # category paying a share of that (a transfer without an approved referral: 50%, domain.md
    # §2.2) pays the share of the capped amount. The share it does not pay is the person's
    # coinsurance; what the cap cuts is over_cap.
    fund_exact = payable * ratio
    cap_left = policy.annual_cap - ytd.fund_paid
    if cap_left < ZERO:
        cap_left = ZERO
    capped = fund_exact if fund_exact < cap_left else cap_left
    fund_pay = (capped * adjustment.fund_share).quantize(CENT, ROUND_HALF_UP)
    over_cap = (fund_exact - capped).quantize(CENT, ROUND_HALF_UP)
    if over_cap > 0:
        flags.append("over_annual_cap")
    coinsurance = payable - fund_pay - over_cap
    person_pay = total - fund_pay
    return Split(
        total=total,
        self_paid=self_paid,
        first_self_pay=first_self_pay,
        not_covered_medication=not_covered_medication,
        in_scope=in_scope,
        deductible=deductible,
        coinsurance=coinsurance,
        over_cap=over_cap,
        fund_pay=fund_pay,
        person_pay=person_pay,
        flags=tuple(flags),
    )
