"""The admission-desk decision: can this person settle directly here, and under which category?

Pure Python, no ORM: the web page, the JSON API and the FHIR endpoint all call `decide()` with
plain views of the person, the calling hospital and the person's filings (see `selectors` in
`hospitals/eligibility_selectors.py` for how they are fetched in one round trip).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from portal.lib.text import sentences
from settlement.engine import Adjustment

LOCAL = "local"
LONG_TERM = "long_term"
REFERRAL = "referral"
EMERGENCY = "emergency"
TEMPORARY = "temporary"
NONE = "none"
CATEGORIES = [LOCAL, LONG_TERM, REFERRAL, EMERGENCY, TEMPORARY, NONE]

CARE_TYPES = ["inpatient", "general_outpatient", "chronic_outpatient"]
CARE_LABELS = {
    "inpatient": gettext_lazy("Inpatient"),
    "general_outpatient": gettext_lazy("General outpatient"),
    "chronic_outpatient": gettext_lazy("Outpatient chronic and special diseases"),
}
# The same inside a sentence ("does not cover general outpatient care"), not as a label.
CARE_IN_SENTENCE = {
    "inpatient": pgettext_lazy("in a sentence", "inpatient care"),
    "general_outpatient": pgettext_lazy("in a sentence", "general outpatient care"),
    "chronic_outpatient": pgettext_lazy(
        "in a sentence", "outpatient care for chronic and special diseases"
    ),
}

# Which category a filing type settles under, and its order of preference when several filings
# cover the same visit (better benefits first: domain.md §3.3). A chronic outpatient filing
# (domain.md §2.5) sits on top of a long-term or temporary filing for the same place: it widens
# the care covered, not the benefit level, which stays that of the filing underneath (see
# `_base_filing`); without one in force on the visit day it covers nothing, so it has no
# category of its own.
FILING_CATEGORY = {
    "long_term": LONG_TERM,
    "referral": REFERRAL,
    "emergency": EMERGENCY,
    "temporary": TEMPORARY,
}
CHRONIC_BASE_TYPES = ("long_term", "temporary")
PREFERENCE = {
    "long_term": 0,
    "chronic_outpatient": 1,
    "referral": 2,
    "emergency": 3,
    "temporary": 4,
}


# The demo policy of domain.md §4; regions override it through their benefit policy.
DEFAULT_ADJUSTMENTS = {
    LOCAL: Adjustment(),
    LONG_TERM: Adjustment(),
    REFERRAL: Adjustment(10, Decimal("1.00")),
    EMERGENCY: Adjustment(10, Decimal("1.00")),
    TEMPORARY: Adjustment(20, Decimal("1.50")),
    NONE: Adjustment(),
    # Daxinganling's resettled persons: ratio reduced by 5 points.
    "resettled": Adjustment(5, Decimal("1.00")),
}


@dataclass(frozen=True)
class PersonView:
    name: str
    masked_name: str
    masked_id: str
    scheme: str
    region_code: str
    region_name: str
    active: bool = True
    # The region reduces resettled persons' ratio: it has a "resettled" category policy.
    resettled_reduction: bool = False


@dataclass(frozen=True)
class HospitalView:
    code: str
    name: str
    region_code: str
    region_name: str
    services: frozenset[str]
    suspended_on: datetime.date | None = None
    resettlement_designated: bool = False


@dataclass(frozen=True)
class FilingView:
    number: str
    type: str
    subtype: str
    status: str
    place_region_code: str
    place_region_name: str
    covers: frozenset[str]
    valid_from: datetime.date | None = None
    valid_until: datetime.date | None = None
    hospitals: tuple[str, ...] = ()  # chosen hospitals (empty: any designated institution)
    receiving_hospital: str | None = None
    two_way: bool = False
    commitment_deadline: datetime.date | None = None
    materials_outstanding: bool = False
    # A commitment filing's promised proof, supplied by the deadline and awaiting the agency's
    # review (domain.md §2.1; filings/jobs.py `supplied_in_time`, which then does not revoke
    # it): the last day it was supplied, or None.
    materials_supplied_on: datetime.date | None = None


@dataclass
class Decision:
    eligible: bool
    category: str
    two_way: bool = False
    reasons: list[str] = field(default_factory=list)
    filing: FilingView | None = None
    adjustment: Adjustment = field(default_factory=Adjustment)
    # The category policy the adjustment is (settlement's CategoryPolicy key) when it is not
    # the category's own: "resettled", or "long_term" for temporary care at the home level.
    policy: str = ""
    # Something other than the filings stops direct settlement here (the person's insurance is
    # not active, the hospital is suspended or lacks the care): an emergency does not lift it.
    blocked: bool = False


# The states of a filing that covers the days of its validity: approved, and expired (which
# ended, but covered its days until then).
IN_FORCE_STATES = ("approved", "expired")


def _d(value: datetime.date) -> str:
    return date_format(value, "Y-m-d")


def _valid_on(filing: FilingView, day: datetime.date) -> bool:
    if filing.valid_from is None or day < filing.valid_from:
        return False
    return filing.valid_until is None or day <= filing.valid_until


def _not_in_force(filing: FilingView, day: datetime.date) -> str | None:
    """Why this filing is not in force on `day` (its state or validity), or None."""
    n = filing.number
    if filing.status == "submitted":
        return _("Filing %(n)s is pending review by the agency.") % {"n": n}
    if filing.status == "returned":
        return _("Filing %(n)s was returned to the person for more materials.") % {"n": n}
    if filing.status == "draft":
        return _("Filing %(n)s is a draft and has not been submitted.") % {"n": n}
    if filing.status == "rejected":
        return _("Filing %(n)s was rejected.") % {"n": n}
    if filing.status == "cancelled":
        return _("Filing %(n)s was cancelled.") % {"n": n}
    if filing.status == "revoked":
        return _("Filing %(n)s was revoked (commitment materials not supplied).") % {"n": n}
    # An expired filing still covers the days of its validity (a stay admitted before it
    # ended and settled after the nightly job marked it): only a day after it is refused.
    if (filing.valid_until and day > filing.valid_until) or (
        filing.status == "expired" and not filing.valid_until
    ):
        if filing.valid_until:
            # The last valid day, said as such: "expired on" read as if that day was not covered.
            return _("Filing %(n)s was valid until %(d)s and has expired.") % {
                "n": n,
                "d": _d(filing.valid_until),
            }
        return _("Filing %(n)s has expired.") % {"n": n}
    if filing.valid_from is None or day < filing.valid_from:
        if filing.valid_from:
            return _("Filing %(n)s takes effect on %(d)s.") % {"n": n, "d": _d(filing.valid_from)}
        return _("Filing %(n)s is not yet effective.") % {"n": n}
    return None


def _why_not(
    filing: FilingView, hospital: HospitalView, care_type: str, day: datetime.date, care_label: str
) -> str | None:
    """The first reason this filing does not cover the visit, in words a clerk understands."""
    n = filing.number
    state = _not_in_force(filing, day)
    if state is not None:
        return state
    if filing.type == "referral":
        if filing.receiving_hospital and filing.receiving_hospital != hospital.code:
            return _("Referral %(n)s names another hospital (%(h)s).") % {
                "n": n,
                "h": filing.receiving_hospital,
            }
    elif filing.place_region_code != hospital.region_code:
        return _("Filing %(n)s is for %(place)s, not %(here)s.") % {
            "n": n,
            "place": filing.place_region_name,
            "here": hospital.region_name,
        }
    elif (
        filing.type == "emergency"
        and filing.receiving_hospital
        and filing.receiving_hospital != hospital.code
    ):
        # The emergency filing completes the transfer to the hospital it names (domain.md
        # §2.3): it is not a filing for the whole place (care elsewhere there needs its own
        # filing, or is an emergency again).
        return _("Emergency filing %(n)s is for the hospital it names (%(h)s).") % {
            "n": n,
            "h": filing.receiving_hospital,
        }
    if care_type not in filing.covers:
        return _("Filing %(n)s does not cover %(care)s.") % {"n": n, "care": care_label}
    if filing.hospitals and hospital.code not in filing.hospitals:
        return _(
            "This hospital is not among the hospitals chosen in filing %(n)s (%(chosen)s)."
        ) % {"n": n, "chosen": ", ".join(filing.hospitals)}
    return None


def _base_filing(
    filing: FilingView, filings: list[FilingView], day: datetime.date
) -> FilingView | None:
    """For a chronic outpatient filing, the long-term or temporary filing in force for the same
    place that it sits on (long-term first); None for any other filing or when there is none."""
    if filing.type != "chronic_outpatient":
        return None
    bases = [
        f
        for f in filings
        if f.type in CHRONIC_BASE_TYPES
        and f.status in IN_FORCE_STATES
        and f.place_region_code == filing.place_region_code
        and _valid_on(f, day)
    ]
    return min(bases, key=lambda f: PREFERENCE[f.type], default=None)


def _no_base(filing: FilingView, filings: list[FilingView], day: datetime.date) -> str:
    """Why a chronic outpatient filing covers nothing on `day`: no long-term or temporary
    filing for its place is in force; the reason names the latest one's state, if any."""
    candidates = [
        f
        for f in filings
        if f.type in CHRONIC_BASE_TYPES and f.place_region_code == filing.place_region_code
    ]
    latest = max(
        candidates,
        key=lambda f: (f.valid_from or datetime.date.max, -PREFERENCE[f.type]),
        default=None,
    )
    params = {"n": filing.number, "place": filing.place_region_name}
    if latest is None:
        text = _(
            "Outpatient chronic and special disease filing %(n)s applies only on top of a "
            "long-term residence or other temporary filing for %(place)s, and the person has "
            "none."
        )
        return text % params
    text = _(
        "Outpatient chronic and special disease filing %(n)s applies only on top of a "
        "long-term residence or other temporary filing for %(place)s in force on the visit "
        "day: %(why)s"
    )
    return text % {**params, "why": _not_in_force(latest, day) or ""}


def same_province(region_code: str, other_code: str) -> bool:
    """Pooling regions of one province: their codes (GB/T 2260) share the first two digits."""
    return region_code[:2] == other_code[:2]


def home_level_ground(filing: FilingView, person: PersonView) -> str | None:
    """domain.md §3.3: two kinds of other temporary treatment keep the home benefit level (the
    long-term row, "unchanged"): a residents' scheme member who is studying there ("study"), and
    maternity within the person's own province ("maternity"). The ground, or None."""
    if filing.type != "temporary":
        return None
    if filing.subtype == "study" and person.scheme == "resident":
        return "study"
    if filing.subtype == "maternity" and same_province(
        filing.place_region_code, person.region_code
    ):
        return "maternity"
    return None


def home_level_reason(filing: FilingView, person: PersonView) -> str | None:
    """The home benefit level of other temporary treatment (`home_level_ground`), in words for
    the desk, or None."""
    ground = home_level_ground(filing, person)
    if ground == "study":
        return _(
            "Residents' scheme student (filing %(n)s): benefits at the home level, not reduced."
        ) % {"n": filing.number}
    if ground == "maternity":
        return _(
            "Maternity within the home province (filing %(n)s): benefits at the home level, "
            "not reduced."
        ) % {"n": filing.number}
    return None


def decide(
    *,
    person: PersonView,
    hospital: HospitalView,
    care_type: str,
    visit_date: datetime.date,
    filings: list[FilingView],
    care_label: str = "",
    adjustments: dict[str, Adjustment] | None = None,
) -> Decision:
    """Decide direct settlement for one visit. Returns every reason when not eligible."""
    adjustments = {**DEFAULT_ADJUSTMENTS, **(adjustments or {})}
    care_label = care_label or str(CARE_IN_SENTENCE.get(care_type, care_type))
    blockers: list[str] = []
    if not person.active:
        blockers.append(_("The person's insurance is not active."))
    if hospital.suspended_on and hospital.suspended_on <= visit_date:
        blockers.append(
            _("This hospital is suspended from direct settlement since %(d)s.")
            % {"d": _d(hospital.suspended_on)}
        )
    if care_type not in hospital.services:
        blockers.append(
            _("This hospital does not offer direct settlement for %(care)s.") % {"care": care_label}
        )

    effective_long_term = [
        f
        for f in filings
        if f.type == "long_term" and f.status in IN_FORCE_STATES and _valid_on(f, visit_date)
    ]

    if hospital.region_code == person.region_code:
        one_way = [f for f in effective_long_term if not f.two_way]
        if one_way:
            f = one_way[0]
            if f.materials_supplied_on:
                reason = _(
                    "Filing %(n)s is one-way: the commitment materials were supplied on %(d)s "
                    "and await the agency's review; direct settlement at home is possible only "
                    "after they are accepted."
                ) % {"n": f.number, "d": _d(f.materials_supplied_on)}
            else:
                reason = _(
                    "Filing %(n)s is one-way: the commitment materials are outstanding, so "
                    "direct settlement at home is possible only after they are accepted."
                ) % {"n": f.number}
                if f.commitment_deadline:
                    reason = sentences(
                        reason, _("Deadline: %(d)s.") % {"d": _d(f.commitment_deadline)}
                    )
            return Decision(False, LOCAL, False, blockers + [reason], f, adjustments[LOCAL])
        two_way = next((f for f in effective_long_term if f.two_way), None)
        local_reasons = list(blockers)
        if not blockers and two_way:
            local_reasons.append(
                _("Two-way filing %(n)s: local benefit level at home.") % {"n": two_way.number}
            )
        return Decision(
            not blockers, LOCAL, two_way is not None, local_reasons, two_way, adjustments[LOCAL]
        )

    reasons: list[str] = []
    covering: list[FilingView] = []
    for f in sorted(filings, key=lambda f: PREFERENCE.get(f.type, 9)):
        why = _why_not(f, hospital, care_type, visit_date, care_label)
        if why is None and f.type == "chronic_outpatient":
            # domain.md §2.5: never better than, nor without, the filing it sits on.
            if _base_filing(f, filings, visit_date) is None:
                why = _no_base(f, filings, visit_date)
        if why is None:
            covering.append(f)
        else:
            reasons.append(why)

    if not covering:
        if not filings:
            reasons.append(_("No filing covers this hospital."))
        reasons.append(
            _(
                "Emergency care can still be settled directly, and the person can file "
                "retroactively any time before discharge settlement."
            )
        )
        return Decision(
            False, NONE, False, blockers + reasons, None, adjustments[NONE], blocked=bool(blockers)
        )

    best = covering[0]
    basis = _base_filing(best, filings, visit_date) or best
    category = FILING_CATEGORY[basis.type]
    policy = category
    if (
        category == LONG_TERM
        and basis.subtype == "resettled_retiree"
        and person.resettled_reduction
    ):
        policy = "resettled"
    notes = list(blockers)
    home_level = home_level_reason(basis, person) if category == TEMPORARY else None
    if home_level is not None:
        policy = LONG_TERM
        notes.append(home_level)
    if not blockers and best.type == "long_term" and not best.two_way:
        notes.append(_one_way_note(best, visit_date))
    return Decision(
        not blockers, category, best.two_way, notes, best, adjustments[policy], policy=policy
    )


def _one_way_note(filing: FilingView, visit_date: datetime.date) -> str:
    """The desk's note on a one-way (commitment) long-term filing that covers the visit."""
    if filing.materials_supplied_on:
        # Supplied in time: the nightly job keeps the filing while the agency reviews them, so
        # no deadline and no revocation to warn of (the person's page says the same).
        return _(
            "One-way filing: the commitment materials were supplied on %(d)s and await the "
            "agency's review."
        ) % {"d": _d(filing.materials_supplied_on)}
    note = _("One-way filing: commitment materials are still outstanding.")
    if filing.commitment_deadline:
        note = sentences(note, _("Deadline: %(d)s.") % {"d": _d(filing.commitment_deadline)})
        if visit_date > filing.commitment_deadline:
            # A visit asked about ahead: the filing stands only if the materials are in.
            note = sentences(
                note,
                _("The visit is after it: without the materials the filing is revoked then."),
            )
    return note
