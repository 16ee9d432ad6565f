"""The rules of domain.md §2, pure Python: transitions, validity, lock periods, deadlines.

No ORM here: services pass in plain values (the region's parameters as a mapping, a working-day
predicate) and turn a RuleError into a message for the person, the agency or the hospital.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

DRAFT, SUBMITTED, APPROVED, REJECTED, RETURNED = (
    "draft",
    "submitted",
    "approved",
    "rejected",
    "returned",
)
EXPIRED, CANCELLED, REVOKED = "expired", "cancelled", "revoked"
STATES = [DRAFT, SUBMITTED, APPROVED, REJECTED, RETURNED, EXPIRED, CANCELLED, REVOKED]

# domain.md §2.6. Automatic filings (other temporary) go from draft straight to approved.
ALLOWED: dict[str, set[str]] = {
    DRAFT: {SUBMITTED, APPROVED, CANCELLED},
    SUBMITTED: {APPROVED, REJECTED, RETURNED, CANCELLED},
    RETURNED: {SUBMITTED, CANCELLED},
    APPROVED: {EXPIRED, CANCELLED, REVOKED},
    REJECTED: set(),
    EXPIRED: set(),
    CANCELLED: set(),
    REVOKED: set(),
}
AUTOMATIC_TYPES = {"temporary"}
EMERGENCY_WORKING_DAYS = 3


class RuleError(Exception):
    """A rule refused, by its code (filings.messages words it). `also`: further rules the same
    content broke, found by the same check (services.check_filing), so a form can say them all
    at once; `code` and `params` are the first's."""

    def __init__(self, code: str, message: str = "", **params):
        super().__init__(message or code)
        self.code = code
        self.params = params
        self.also: list[RuleError] = []

    def every(self) -> list[RuleError]:
        return [self, *self.also]


def check_transition(current: str, target: str, *, filing_type: str = "") -> None:
    if target not in ALLOWED.get(current, set()):
        if current in (APPROVED, REJECTED, EXPIRED, CANCELLED, REVOKED) and target in (
            APPROVED,
            REJECTED,
            RETURNED,
        ):
            raise RuleError("already_decided", current=current, target=target)
        raise RuleError("transition_not_allowed", current=current, target=target)
    if current == DRAFT and target == APPROVED and filing_type not in AUTOMATIC_TYPES:
        raise RuleError("not_automatic", current=current, target=target)


def check_person_active(active: bool, *, code: str = "person_not_active") -> None:
    """Only a person insured and active is approved (domain.md §2.4: the condition of an
    automatic approval; an agency's approval of any filing asks no less), or referred by a
    hospital (`code` "referral_person_not_active"): the hospitals' eligibility check refuses
    such a person anyway (hospitals/eligibility.py)."""
    if not active:
        raise RuleError(code)


@dataclass(frozen=True)
class Parameters:
    """A region's filing parameters (domain.md §2.1–2.2 tables)."""

    benefits_start: str = "on_approval"  # or "day_after"
    lock_months: int = 6
    long_term_validity_months: int | None = None
    max_hospitals: int = 0
    commitment_months: int = 6
    referral_validity_months: int | None = 6
    referral_start_window_months: int | None = None
    referral_course_days: int | None = None
    temporary_validity_months: int = 6


def last_day_of_months(start: datetime.date, months: int) -> datetime.date:
    """The last day of a period of `months` months that begins on `start`: the day before the
    same day `months` later (2024-03-15 + 12 months: 2025-03-14), or, where that month has no
    such day, its last day (2024-02-29 + 12 months: 2025-02-28; 2025-01-31 + 1 month:
    2025-02-28), so that the next period begins the day after and no day is lost between."""
    same_day = start + relativedelta(months=months)
    if same_day.day != start.day:  # the month is shorter: relativedelta stopped at its end
        return same_day
    return same_day - datetime.timedelta(days=1)


def validity(
    filing_type: str,
    params: Parameters,
    approved_on: datetime.date,
    start_date: datetime.date | None = None,
) -> tuple[datetime.date, datetime.date | None]:
    """(valid_from, valid_until) of a filing approved on `approved_on`."""
    start = max(approved_on, start_date or approved_on)
    if filing_type == "long_term":
        if params.benefits_start == "day_after":
            start = max(start, approved_on + datetime.timedelta(days=1))
        months = params.long_term_validity_months
        return start, last_day_of_months(start, months) if months else None
    if filing_type == "referral":
        if params.referral_start_window_months:
            # Daxinganling: treatment must start within the window (the course is then set
            # from the day treatment starts, see `course_end`).
            return start, start + relativedelta(months=params.referral_start_window_months)
        return start, start + relativedelta(months=params.referral_validity_months or 6)
    if filing_type == "emergency" and start_date is not None:
        # domain.md §2.3: the emergency is filed after the transfer (within 3 working days, or
        # any time before discharge settlement): it covers the care from the transfer on.
        start = min(start_date, approved_on)
    if filing_type in ("temporary", "chronic_outpatient", "emergency"):
        return start, start + relativedelta(months=max(6, params.temporary_validity_months))
    raise RuleError("unknown_type", filing_type=filing_type)


# How far ahead of the day it is filed a filing may start (the filing form's `start_date`).
START_AHEAD_MONTHS = 6


def latest_start(today: datetime.date) -> datetime.date:
    """The last day a filing made on `today` may start."""
    return today + relativedelta(months=START_AHEAD_MONTHS)


def first_filing_day(start: datetime.date) -> datetime.date:
    """The first day a filing starting on `start` may be made: `start` less the months a filing
    may start ahead, moved on while that day's latest start is still before `start` (month ends:
    2027-08-31 less 6 months is 2027-02-28, whose latest start is 2027-08-28)."""
    day = start - relativedelta(months=START_AHEAD_MONTHS)
    while latest_start(day) < start:
        day += datetime.timedelta(days=1)
    return day


def within_base(
    valid_until: datetime.date | None, base_until: datetime.date | None
) -> datetime.date | None:
    """The end of a filing that sits on another (an outpatient chronic-disease filing on a
    long-term or temporary one, domain.md §2.5): its own end, or the base's if that comes
    first (None: open-ended)."""
    if base_until is None:
        return valid_until
    if valid_until is None:
        return base_until
    return min(valid_until, base_until)


def referral_care(params: Parameters) -> dict[str, bool]:
    """domain.md §2.2, the care a referral covers at the place of treatment: where the region
    allows one course of treatment (Daxinganling: at most N days, an inpatient stay), that
    course; elsewhere (Liaoning) all care there, inpatient and general outpatient. Outpatient
    chronic and special diseases need their own filing (§2.5) whatever the referral."""
    one_course = bool(params.referral_course_days)
    return {
        "covers_inpatient": True,
        "covers_general_outpatient": not one_course,
        "covers_chronic_outpatient": False,
    }


def course_end(started_on: datetime.date, params: Parameters) -> datetime.date | None:
    """Daxinganling: one course of at most N days from the start of treatment."""
    if not params.referral_course_days:
        return None
    return started_on + datetime.timedelta(days=params.referral_course_days - 1)


def latest_extension(
    current_end: datetime.date, params: Parameters, *, started: bool, course_days: int | None
) -> tuple[datetime.date, str, int]:
    """domain.md §2.2: a referral is extended on request, by at most one more of what it runs
    on: its start window before treatment starts (Daxinganling: 1 month), its course once
    treatment has started (60 days; a longer course needs an extension), else its validity
    (Liaoning: 6 months). (latest end, "window" | "course" | "validity", months or days)."""
    days = course_days or params.referral_course_days
    if started and days:
        return current_end + datetime.timedelta(days=days), "course", days
    if not started and params.referral_start_window_months:
        months = params.referral_start_window_months
        return current_end + relativedelta(months=months), "window", months
    months = params.referral_validity_months or 6
    return current_end + relativedelta(months=months), "validity", months


def course_over_if_started_by(today: datetime.date, course_days: int) -> datetime.date:
    """The latest start of treatment whose course of `course_days` days is over by `today`.

    The course's last day is `course_end` (start + days - 1), so it is over once
    start + days - 1 < today, that is, start <= today - days. The nightly job expires a
    started referral with `treatment_started_on <= ` this date, unless it was extended.
    """
    return today - datetime.timedelta(days=course_days)


def commitment_deadline(takes_effect_on: datetime.date, params: Parameters) -> datetime.date:
    """domain.md §2.1: the filing is made now and the materials follow within the commitment
    period (6 months), counted from the day the filing takes effect (the approval day, the day
    after it, or a renewal's first day), so a filing approved ahead of its start gets its
    whole period while it is in force."""
    return takes_effect_on + relativedelta(months=params.commitment_months)


def change_allowed_from(valid_from: datetime.date, params: Parameters) -> datetime.date:
    """No change or cancellation within the lock period after the filing takes effect: the day
    after a period of `lock_months` months from `valid_from`, counted as the validity is
    (`last_day_of_months`), so that a lock as long as the validity (Daxinganling: 12 months of
    each) covers all of it, also from 29 February or a 31st."""
    return last_day_of_months(valid_from, params.lock_months) + datetime.timedelta(days=1)


def lock_refusal(
    valid_from: datetime.date | None,
    valid_until: datetime.date | None,
    params: Parameters,
    today: datetime.date,
) -> RuleError | None:
    """Why a change or cancellation of an effective filing is refused today for the lock
    period, or None. A lock that outlasts the validity (Daxinganling: 12 months of each) is
    told as such: "possible from" a day after the filing ends would promise nothing. Before
    the filing takes effect (a renewal, a filing for a later trip) nothing is locked: the lock
    runs "after it takes effect" (domain.md §2.1)."""
    if valid_from is None or today < valid_from:
        return None
    allowed = change_allowed_from(valid_from, params)
    if today >= allowed:
        return None
    if valid_until is not None and allowed > valid_until:
        return RuleError("locked_while_valid", valid_until=valid_until)
    return RuleError("locked", allowed_from=allowed)


def check_change_allowed(
    valid_from: datetime.date | None,
    params: Parameters,
    today: datetime.date,
    valid_until: datetime.date | None = None,
) -> None:
    refusal = lock_refusal(valid_from, valid_until, params, today)
    if refusal is not None:
        raise refusal


def working_days_after(
    start: datetime.date, count: int, is_working_day: Callable[[datetime.date], bool]
) -> datetime.date:
    """The `count`-th working day after `start` (weekends and holidays skipped, make-up days
    counted, as `is_working_day` says)."""
    day, found = start, 0
    while found < count:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            found += 1
    return day


def emergency_deadline(
    transfer_date: datetime.date, is_working_day: Callable[[datetime.date], bool]
) -> datetime.date:
    """domain.md §2.3: the referral procedure within 3 working days after the transfer."""
    return working_days_after(transfer_date, EMERGENCY_WORKING_DAYS, is_working_day)


def check_emergency_retro_filing(
    *,
    transfer_date: datetime.date,
    today: datetime.date,
    discharge_settled: bool,
    is_working_day: Callable[[datetime.date], bool],
) -> None:
    """Allowed within 3 working days of the transfer, or any time before discharge settlement."""
    if transfer_date > today:
        raise RuleError("transfer_in_future")
    if today <= emergency_deadline(transfer_date, is_working_day):
        return
    if not discharge_settled:
        return
    raise RuleError(
        "emergency_too_late", deadline=emergency_deadline(transfer_date, is_working_day)
    )


@dataclass(frozen=True)
class HospitalChoice:
    code: str
    region_code: str
    level: int
    kind: str
    ownership: str


def check_hospital_choice(
    chosen: Iterable[HospitalChoice], params: Parameters, place_region_code: str
) -> None:
    """Daxinganling: up to N public general hospitals, secondary or above, in the place of
    residence. Regions without a choice (Liaoning) accept none."""
    chosen = list(chosen)
    if params.max_hospitals == 0:
        if chosen:
            raise RuleError("no_choice_here")
        return
    if not chosen:
        raise RuleError("choose_hospitals", max=params.max_hospitals)
    if len(chosen) > params.max_hospitals:
        raise RuleError("too_many_hospitals", max=params.max_hospitals)
    if len({h.code for h in chosen}) != len(chosen):
        raise RuleError("duplicate_hospital")
    for h in chosen:
        if h.region_code != place_region_code:
            raise RuleError("hospital_elsewhere", hospital=h.code)
        if h.ownership != "public" or h.kind != "general" or h.level < 2:
            raise RuleError("hospital_not_eligible", hospital=h.code)


def two_way(filing_type: str, status: str, basis: str, materials_accepted: bool) -> bool:
    return (
        filing_type == "long_term"
        and status == APPROVED
        and (basis == "materials" or materials_accepted)
    )


# domain.md §2.1 (Daxinganling: 12 months' validity, "then re-file") and §2.6 (one effective
# long-term filing at a time): from this many days before an approved long-term filing's
# validity ends the person may renew it, so the review happens while the old filing is still in
# force and the renewal can take effect the day after it ends (no gap without direct
# settlement). 60 days leave room for a return for more materials and a second review.
RENEWAL_WINDOW_DAYS = 60


def renewal_opens_on(valid_until: datetime.date) -> datetime.date:
    """The first day a filing valid until `valid_until` may be renewed."""
    return valid_until - datetime.timedelta(days=RENEWAL_WINDOW_DAYS)


def renewal_start(valid_until: datetime.date) -> datetime.date:
    """A renewal takes effect the day after the renewed filing's validity ends."""
    return valid_until + datetime.timedelta(days=1)


def check_renewal(
    *, filing_type: str, status: str, valid_until: datetime.date | None, today: datetime.date
) -> None:
    """An approved long-term filing with a validity may be renewed within the renewal window
    up to its last valid day. An open-ended filing (Liaoning) has nothing to renew."""
    if filing_type != "long_term" or status != APPROVED:
        raise RuleError("renewal_not_possible")
    if valid_until is None:
        raise RuleError("renewal_open_ended")
    if today < renewal_opens_on(valid_until):
        raise RuleError(
            "renewal_too_early", opens_on=renewal_opens_on(valid_until), valid_until=valid_until
        )
    if today > valid_until:
        raise RuleError("renewal_too_late", valid_until=valid_until)


def may_renew(
    *, filing_type: str, status: str, valid_until: datetime.date | None, today: datetime.date
) -> bool:
    try:
        check_renewal(filing_type=filing_type, status=status, valid_until=valid_until, today=today)
    except RuleError:
        return False
    return True


# domain.md §2.2 (Daxinganling): continued treatment or a readmission within one treatment cycle
# needs the receiving hospital's written notice, approved by the agency.
FOLLOW_UP_CYCLE_MONTHS = 12


def follow_up_cycle_end(first_started_on: datetime.date) -> datetime.date:
    """The last day of the treatment cycle that began with the first course's start."""
    return last_day_of_months(first_started_on, FOLLOW_UP_CYCLE_MONTHS)


def check_follow_up(
    *,
    status: str,
    course_days: int | None,
    first_started_on: datetime.date | None,
    today: datetime.date,
) -> None:
    """A follow-up notice may be issued for a referral of one course (its region has a course
    length) whose treatment has started, approved or since expired, within the treatment cycle
    counted from the first course's start. A referral for all care (Liaoning) needs none: it
    covers every stay in its validity."""
    if not course_days:
        raise RuleError("follow_up_not_needed")
    if status not in (APPROVED, EXPIRED) or first_started_on is None:
        raise RuleError("follow_up_not_started")
    end = follow_up_cycle_end(first_started_on)
    if today > end:
        raise RuleError("follow_up_cycle_over", cycle_end=end)


def may_follow_up(**kwargs) -> bool:
    try:
        check_follow_up(**kwargs)
    except RuleError:
        return False
    return True
