"""What each settlement rule error means, in words for the person or the reviewer."""

from decimal import Decimal

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from portal.templatetags.portal_tags import yuan
from settlement.rules import SETTLEMENT_RETURNED, RuleError

MESSAGES = {
    "already_decided": _("This has already been decided (it is now %(current)s)."),
    "transition_not_allowed": _("Something that is %(current)s cannot become %(target)s."),
    # transition_not_allowed to the state it is in: a page sent again after it was done.
    "already_in_state": _("This is already %(current)s: there is nothing more to do."),
    # `deadline` is the last day a claim is accepted (rules.claim_deadline), not the first
    # day it is refused.
    "claim_lapsed": _(
        "Claims must be made within 12 months of discharge: the last day to claim was %(deadline)s."
    ),
    "discharge_before_admission": _("The discharge date is before the admission date."),
    "discharge_in_future": _("The discharge date cannot be in the future."),
    "bill_total_zero": _("The bill comes to 0.00: there is nothing to settle."),
    "bill_total_too_large": _(
        "The bill comes to more than %(limit)s yuan: check the amounts (a digit too many?)."
    ),
    "referral_form_needed": _(
        "This stay was under an approved referral: add the referral form to the documents."
    ),
    "reason_required": _("Give a reason: the person or the hospital will see it."),
    "estimate_changed": _(
        "The fund would now pay %(now)s yuan, not the %(estimated)s yuan estimated (the year's "
        "cap was used or freed since): left for review, open it to decide."
    ),
    "adjusted_amount_out_of_range": _(
        "The fund's payment must be between 0 and %(limit)s: the bill's amount within the "
        "policy's scope, within what is left of the year's cap."
    ),
}

FLAGS = {
    "not_in_catalogue": _("Item without a catalogue code"),
    "discharge_medication_excess": _("Discharge medication over the limit"),
    "late_claim": _("Claimed after the calendar year of discharge"),
    "unapproved_transfer": _("Transfer without an approved referral (fund pays 50%)"),
    "duplicate_bill": _("Possible duplicate of another claim or settlement"),
    "above_review_threshold": _("Above the review threshold"),
    "emergency_without_filing": _("Emergency without a filing"),
    "referral_course_exceeded": _("Stay runs past the referral's course of treatment"),
    "referral_before_course": _("Admitted before the referral's course of treatment began"),
    "rechecked_changed": _("Changed by a re-check"),
    "over_annual_cap": _("Above the annual cap (the part over it is the person's)"),
    "overlapping_claim": _("Days of this stay are claimed already (reimbursement claim)"),
    "cap_reserved_by_held": _(
        "Fund share cut by the annual cap a held bill reserves: decide after that bill"
    ),
}

# A bill item's class (api.md "class"), as the person and the clerk read it.
ITEM_CLASSES = {"A": _("Class A"), "B": _("Class B"), "C": _("Self-paid (class C)")}


# The parts of a settlement's person share (Settlement.breakdown, the API's "breakdown").
BREAKDOWN = {
    "self_paid": _("Self-paid items"),
    "first_self_pay": _("Class B first self-pay"),
    "deductible": _("Deductible"),
    "coinsurance": _("Person's share of the rest"),
    "over_cap": _("Above the annual cap"),
    "not_covered_medication": _("Discharge medication not covered"),
    "adjustment": _("Reviewer's adjustment"),
}


def breakdown_rows(breakdown: dict | None) -> list[tuple[str, str]]:
    """(label, amount) of each part of a person's share, in the engine's order."""
    return [(str(BREAKDOWN.get(key, key)), value) for key, value in (breakdown or {}).items()]


def _state_labels(error: RuleError) -> dict:
    """The labels of the states an error names: a claim's or a settlement's. The error does not
    say which it came from, its states do: "settled" and "held_for_review" are a settlement's
    only, and only a settlement is decided by being returned (a claim returned is still open).
    What is left, "rejected" already decided, is named as a claim's ("Rejected"), which is
    true of a settlement too."""
    from settlement.models import ClaimStatus, SettlementStatus

    states = {error.params.get("current"), error.params.get("target")}
    settlement = bool(
        states & {SettlementStatus.SETTLED, SettlementStatus.HELD, SettlementStatus.VOIDED}
    ) or (error.code == "already_decided" and error.params.get("current") == SETTLEMENT_RETURNED)
    return dict((SettlementStatus if settlement else ClaimStatus).choices)


def message(error: RuleError) -> str:
    code = error.code
    if code == "transition_not_allowed" and error.params.get("current") == error.params.get(
        "target"
    ):
        code = "already_in_state"
    template = MESSAGES.get(code)
    if template is None:
        return str(error)
    params = {
        key: date_format(value, "Y-m-d")
        if hasattr(value, "isoformat")
        else yuan(value)  # an amount, grouped: "7,650.00"
        if isinstance(value, Decimal)
        else value
        for key, value in error.params.items()
    }
    labels = _state_labels(error)
    for key in ("current", "target"):
        if key in params:
            params[key] = labels.get(params[key], params[key])
    return str(template) % params


def flag_labels(flags, items=()) -> list[str]:
    """The flags in words; given the bill's items, an item without a catalogue code is named."""
    labels = []
    for flag in flags:
        label = str(FLAGS.get(flag, flag))
        if flag == "not_in_catalogue":
            names = [i.get("name") or "?" for i in items if not (i.get("code") or "").strip()]
            if names:
                label = f"{label}: {', '.join(names)}"
        labels.append(label)
    return labels
