"""The rules of domain.md §3.4–3.5 that are not arithmetic: review transitions, the claim
deadline, reason codes. Pure Python, no ORM; services turn a RuleError into a message."""

from __future__ import annotations

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext as _

# Claims (手工报销): submitted → approved (possibly adjusted) → paid; or rejected; or returned
# to the person, who corrects and resubmits.
SUBMITTED, RETURNED, APPROVED, PAID, REJECTED = (
    "submitted",
    "returned",
    "approved",
    "paid",
    "rejected",
)
CLAIM_STATES = [SUBMITTED, RETURNED, APPROVED, PAID, REJECTED]
CLAIM_ALLOWED: dict[str, set[str]] = {
    SUBMITTED: {APPROVED, REJECTED, RETURNED},
    RETURNED: {SUBMITTED},
    APPROVED: {PAID},
    PAID: set(),
    REJECTED: set(),
}

# Direct settlements held for review: approved (as computed or adjusted), rejected, or returned
# to the hospital to correct and resubmit.
SETTLED, HELD, SETTLEMENT_REJECTED, SETTLEMENT_RETURNED = (
    "settled",
    "held_for_review",
    "rejected",
    "returned",
)
SETTLEMENT_STATES = [SETTLED, HELD, SETTLEMENT_REJECTED, SETTLEMENT_RETURNED]
SETTLEMENT_ALLOWED: dict[str, set[str]] = {
    HELD: {SETTLED, SETTLEMENT_REJECTED, SETTLEMENT_RETURNED},
    SETTLED: set(),
    SETTLEMENT_REJECTED: set(),
    SETTLEMENT_RETURNED: set(),
}

# domain.md §3.4: claims are forfeited 12 months after discharge.
CLAIM_MONTHS = 12
# A reminder this many days before the claim deadline (the jobs' reminder mechanism).
CLAIM_REMINDER_DAYS = 30

# openIMIS-style reason codes a reviewer sees beside the bill.
REASON_CODES = {
    "not_in_catalogue",
    "discharge_medication_excess",
    "late_claim",
    "unapproved_transfer",
    "duplicate_bill",
    "above_review_threshold",
    "emergency_without_filing",
    "referral_course_exceeded",
    "referral_before_course",
    "overlapping_claim",
    "cap_reserved_by_held",
}
# Codes that keep an item out of the "clean" bulk approval.
NOT_CLEAN = REASON_CODES


class RuleError(Exception):
    def __init__(self, code: str, message: str = "", **params):
        super().__init__(message or code)
        self.code = code
        self.params = params


def check_claim_transition(current: str, target: str) -> None:
    _check(CLAIM_ALLOWED, current, target, decided=(APPROVED, PAID, REJECTED))


def check_settlement_transition(current: str, target: str) -> None:
    _check(
        SETTLEMENT_ALLOWED,
        current,
        target,
        decided=(SETTLED, SETTLEMENT_REJECTED, SETTLEMENT_RETURNED),
    )


def _check(table: dict[str, set[str]], current: str, target: str, *, decided) -> None:
    if target in table.get(current, set()):
        return
    if current in decided:
        raise RuleError("already_decided", current=current, target=target)
    raise RuleError("transition_not_allowed", current=current, target=target)


def claim_deadline(discharged_on: datetime.date) -> datetime.date:
    """The last day a claim is accepted: 12 months after discharge (domain.md §3.4)."""
    return discharged_on + relativedelta(months=CLAIM_MONTHS)


# The longest stay one bill may cover, and the earliest admission any bill may have (the
# basic medical insurance schemes began in 1998): a year typed wrong ("0206") is refused.
MAX_STAY_YEARS = 3
EARLIEST_ADMISSION = datetime.date(1998, 1, 1)


def check_stay_dates(
    *, admitted_on: datetime.date, discharged_on: datetime.date, today: datetime.date
) -> None:
    """A stay that is settled or claimed has ended: admitted on or before the discharge, and
    discharged today at the latest (a bill dated ahead is not settled); admitted no earlier
    than EARLIEST_ADMISSION, and at most MAX_STAY_YEARS before the discharge."""
    if discharged_on < admitted_on:
        raise RuleError("discharge_before_admission")
    if discharged_on > today:
        raise RuleError("discharge_in_future")
    # Messages given here until settlement.messages has these codes (its text comes first).
    if admitted_on < EARLIEST_ADMISSION:
        raise RuleError(
            "admission_too_early",
            _("The admission date cannot be before %(earliest)s: check the year.")
            % {"earliest": EARLIEST_ADMISSION.isoformat()},
            earliest=EARLIEST_ADMISSION,
        )
    if admitted_on + relativedelta(years=MAX_STAY_YEARS) < discharged_on:
        raise RuleError(
            "stay_too_long",
            _(
                "The admission date is more than %(years)s years before the discharge date: "
                "check the year."
            )
            % {"years": MAX_STAY_YEARS},
            years=MAX_STAY_YEARS,
        )


def is_late_claim(*, discharged_on: datetime.date, today: datetime.date) -> bool:
    """domain.md §3.4: claims are due within the calendar year (of discharge); one made in a
    later year, still within the 12 months, is accepted and noted for the reviewer."""
    return today.year > discharged_on.year


def check_claim_dates(
    *, admitted_on: datetime.date, discharged_on: datetime.date, today: datetime.date
) -> None:
    check_stay_dates(admitted_on=admitted_on, discharged_on=discharged_on, today=today)
    deadline = claim_deadline(discharged_on)
    if today > deadline:
        raise RuleError("claim_lapsed", deadline=deadline)


# The largest bill a settlement or claim can keep: its money columns are numeric(12, 2).
MAX_BILL_TOTAL = Decimal("9999999999.99")


def check_bill_total(total) -> None:
    """A bill comes to more than 0.00 and to no more than its columns can keep (every item may
    be large, and a bill has many)."""
    if not total:
        raise RuleError("bill_total_zero")
    if total > MAX_BILL_TOTAL:
        raise RuleError("bill_total_too_large", limit=f"{MAX_BILL_TOTAL:,.2f}")


def check_adjusted_amount(*, amount, limit) -> None:
    """An adjusted fund payment lies between 0 and `limit`: what the fund may pay of the bill
    (its in-scope amount, within what is left of the year's cap)."""
    if amount < 0 or amount > limit:
        raise RuleError("adjusted_amount_out_of_range", limit=limit)


def is_clean(flags) -> bool:
    """Clean items (no reason code) may be approved in bulk."""
    return not (set(flags) & NOT_CLEAN)
