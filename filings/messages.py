"""What each rule error means, in words for the person or the reviewer."""

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from filings.rules import RuleError

MESSAGES = {
    "already_decided": _("This filing has already been decided (it is now %(current)s)."),
    "transition_not_allowed": _("A filing that is %(current)s cannot become %(target)s."),
    "not_automatic": _("Only other temporary filings are approved automatically."),
    "locked": _(
        "Within the lock period the filing cannot be changed or cancelled: possible "
        "from %(allowed_from)s."
    ),
    "emergency_too_late": _(
        "The 3 working days after the transfer ended on %(deadline)s and "
        "the stay has been settled: claim reimbursement instead."
    ),
    "transfer_in_future": _("The transfer date cannot be in the future."),
    "no_choice_here": _("Your region does not ask you to choose hospitals."),
    "choose_hospitals": _("Choose up to %(max)s designated hospitals at the place of residence."),
    "too_many_hospitals": _("Choose at most %(max)s hospitals."),
    "duplicate_hospital": _("The same hospital is chosen twice."),
    "hospital_elsewhere": _("Hospital %(hospital)s is not at the place of residence."),
    "hospital_not_eligible": _(
        "Hospital %(hospital)s is not a public general hospital of secondary level or above."
    ),
    "open_long_term_exists": _(
        "You already have a long-term residence filing in progress or in force."
    ),
    "reason_required": _("A reason is required: the person will see it."),
    "not_commitment": _("Only a filing by commitment has materials to accept."),
    "materials_missing": _("Upload the promised materials first."),
    "referral_other_region": _(
        "A referral is issued by a designated hospital of the patient's own pooling region."
    ),
    "director_first": _("The department director signs before the medical office stamps."),
    "same_region": _("The place of treatment must be outside your own pooling region."),
}


def message(error: RuleError) -> str:
    params = {
        k: date_format(v, "Y-m-d") if hasattr(v, "isoformat") else v
        for k, v in error.params.items()
    }
    from filings.models import Status

    labels = dict(Status.choices)
    for key in ("current", "target"):
        if key in params:
            params[key] = labels.get(params[key], params[key])
    template = MESSAGES.get(error.code)
    return str(template) % params if template else str(error)
