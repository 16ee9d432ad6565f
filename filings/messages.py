"""What each rule error means, in words for the person or the reviewer; timeline labels."""

import re

from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from filings.rules import RuleError
from portal.lib.text import enumeration

MESSAGES = {
    # The refusals of a follow-up notice (services.referral_follow_up, rules.check_follow_up).
    "follow_up_kind": _("Choose what the notice is for: continued treatment or a readmission."),
    "not_the_receiving_hospital": _(
        "Only the receiving hospital named in the referral can issue its follow-up notice."
    ),
    "follow_up_not_needed": _(
        "This referral covers all care for its validity: no follow-up notice is needed."
    ),
    "follow_up_not_started": _(
        "A follow-up notice needs a referral under which treatment has started."
    ),
    "follow_up_cycle_over": _(
        "The treatment cycle ended on %(cycle_end)s: the patient needs a new referral."
    ),
    "follow_up_open": _("This referral already has a follow-up notice under review or approved."),
    # The refusals of a renewal (services.filing_renew, rules.check_renewal).
    "renewal_not_possible": _("Only an approved long-term residence filing can be renewed."),
    "renewal_open_ended": _(
        "This filing is valid until it is changed or cancelled: there is nothing to renew."
    ),
    "renewal_too_early": _(
        "This filing is valid until %(valid_until)s: you can renew it from %(opens_on)s."
    ),
    "renewal_too_late": _(
        "This filing ended on %(valid_until)s: it can no longer be renewed. File again instead."
    ),
    "already_renewed": _("This filing already has a renewal in progress or approved."),
    "already_decided": _("This filing has already been decided (it is now %(current)s)."),
    # A decision from a page opened before the filing changed (services._check_seen).
    "changed_since_opened": _(
        "It was changed after you opened it: nothing was done. Open it again to decide on it "
        "as it is now."
    ),
    # Supplements supplied or taken off after the reviewer's page was opened
    # (services._supplements_seen).
    "materials_changed": _(
        "Its supplemented materials changed after you opened it: nothing was accepted or "
        "refused. Open it again to see every file awaiting review."
    ),
    # An approval of a person the agency's records do not show as insured and active
    # (services.filing_approve; domain.md §2.4).
    "person_not_active": _(
        "The person is not insured and active in the agency's records: it cannot be approved, "
        "and nothing was done. If the person is insured, record that in their insured-person "
        "record first; otherwise reject it with a reason."
    ),
    "transition_not_allowed": _("A filing that is %(current)s cannot become %(target)s."),
    "not_automatic": _("Only other temporary filings are approved automatically."),
    "locked": _(
        "Within the lock period the filing cannot be changed or cancelled: possible "
        "from %(allowed_from)s."
    ),
    "locked_while_valid": _(
        "This filing cannot be changed or cancelled while it is valid (until %(valid_until)s): "
        "the lock period after it took effect lasts as long as its validity."
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
    "hospital_elsewhere": _("%(hospital)s is not at the place of residence."),
    "hospital_not_eligible": _(
        "%(hospital)s is not a public general hospital of secondary level or above."
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
    "already_signed": _("This step was already signed on %(d)s: the first signature stands."),
    "signer_required": _("Enter the name of who signs or stamps."),
    "signer_too_long": _("A name of at most %(max)s characters, please."),
    "same_region": _("The place of treatment must be outside your own pooling region."),
    # Told to the hospital that refers (services.referral_start, referral_sign).
    "referral_same_region": _(
        "The receiving hospital must be outside the patient's pooling region."
    ),
    "referral_long_term_covers_place": _(
        "The patient's long-term residence filing %(number)s already covers this place: "
        "no referral is needed to be treated there."
    ),
    "referral_person_not_active": _(
        "The patient's insurance is not active in their agency's records: no referral can be "
        "issued or signed. The patient asks their agency to confirm it first."
    ),
    "open_referral_exists": _(
        "The patient already has referral %(number)s to this hospital (%(current)s): go on "
        "with that one, or discard it on its page if it is a draft."
    ),
    "referral_not_draft_discard": _(
        "Only a draft referral can be discarded (this one is %(current)s)."
    ),
    "referral_not_draft": _(
        "This referral is no longer a draft (it is %(current)s): nothing was signed."
    ),
    "hospital_suspended": _("%(hospital)s is suspended from direct settlement."),
    "hospital_not_at_place": _("%(hospital)s is not at the place of treatment."),
    "temporary_covers_place": _(
        "Your temporary filing %(number)s already covers this place until %(valid_until)s. "
        "To go on after it, start the new filing on %(next_day)s or later."
    ),
    "temporary_continue_later": _(
        "Your temporary filing %(number)s already covers this place until %(valid_until)s. "
        "A filing starts at most 6 months after the day it is made: you can file the "
        "continuation from %(file_from)s, to start on %(next_day)s."
    ),
    "long_term_covers_place": _(
        "Your long-term residence filing %(number)s already covers this place: a temporary "
        "filing is only for other places."
    ),
    "chronic_base_not_referral": _(
        "Filing %(number)s is a referral or emergency filing: outpatient chronic and "
        "special disease treatment is filed only on top of an effective long-term "
        "residence filing or other temporary treatment filing for the same place."
    ),
    "chronic_needs_own_filing": _(
        "A temporary filing covers inpatient and general outpatient care only. Outpatient "
        "treatment of a chronic or special disease needs a filing of its own, on top of this "
        "one, for a disease your place of insurance has recognised."
    ),
    "chronic_needs_filing": _(
        "Outpatient chronic and special disease treatment is filed on top of an effective "
        "long-term residence or temporary filing for the same place: file that first."
    ),
    "subtype_not_for_type": _("This sub-type does not belong to this type of filing."),
    "not_retired": _(
        "The resettled-retiree sub-type is for retired persons only, and your agency's records "
        "do not show you as retired. The agency records retirement: if you have retired, ask "
        "your agency to update your record."
    ),
    "incomplete": _("Fill in before submitting: %(fields)s."),
    "materials_incomplete": _("Materials missing: %(missing)s."),
    "cancel_needs_copies": _("To cancel, upload first: %(missing)s."),
    "not_editable": _("A filing that is %(current)s cannot be edited."),
    "describe_change": _("Say what you want to change."),
    "change_not_possible": _("Only an effective long-term residence filing can be changed."),
    "not_an_open_referral": _("This is not an open referral (it is %(current)s)."),
    "agency_only": _("Only the agency of the insured person's region may do this."),
    "treatment_already_started": _("Treatment already started on %(started_on)s."),
    "date_in_future": _("The date cannot be in the future."),
    "outside_validity": _("The date is outside the validity (%(valid_from)s – %(valid_until)s)."),
    "extension_not_later": _("The extension must end after %(valid_until)s."),
    "same_hospital": _("This is already the receiving hospital."),
}
# The "one proof of residence" placeholder of `services.missing_materials`.
EXTRA_KIND_LABELS = {
    "proof": _(
        "a proof of residence (household register, property certificate, residence "
        "certificate, or for stationed workers the posting certificate)"
    ),
}


# Timeline labels of events that do not change the state (a transition shows the new state).
ACTION_LABELS = {
    "filing.create": _("Draft"),
    "filing.material_remove": _("Material taken off"),
    # A temporary filing for the place of a long-term filing now approved (domain.md §2.6).
    "filing.superseded": _("Ends the day before the long-term residence filing takes effect"),
    "filing.update": _("Edited"),
    "filing.accept_materials": _("Your materials were accepted"),
    "filing.refuse_materials": _("The materials you supplied were not accepted"),
    "filing.change_request": _("Change requested"),
    "referral.sign_director": _("Signed by the department director"),
    "referral.sign_office": _("Stamped by the medical office"),
    "referral.start_treatment": _("Treatment started"),
    "referral.extend": _("Extended"),
    "referral.change_hospital": _("Receiving hospital changed"),
}
# Reasons the system records as codes (services, nightly jobs), in words for the person.
REASON_TEXTS = {
    "two_way": _("Filing %(n)s is now two-way: you can also settle directly at home."),
    "revoke_commitment": _("Filing %(n)s was revoked (commitment materials not supplied)."),
    "proof_attached": _(
        "A proof of residence was attached, so filing %(n)s was submitted with the proof "
        "materials instead of the commitment."
    ),
}
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_SETTLED_AT = re.compile(
    r"^direct settlement at (?P<hospital>\S+), admitted (?P<date>\d{4}-\d{2}-\d{2})$"
)
_TAKEN_OFF = re.compile(r"\Amaterial (?P<kind>[a-z_]+) taken off: (?P<name>.*)\Z", re.S)


def reason_text(reason: str, number: str) -> str:
    """A recorded reason as the person may read it: a known code in words, an expiry code as
    "expired", any other internal code hidden; free text (a reviewer's note, a signer's name)
    as written."""
    if not reason:
        return ""
    if reason in REASON_TEXTS:
        return str(REASON_TEXTS[reason]) % {"n": number}
    settled = _SETTLED_AT.match(reason)
    if settled:  # the course started by a direct settlement (services.referral_course_for_stay)
        return str(_("Settled directly at %(h)s, admitted on %(d)s.")) % {
            "h": _hospital_named(settled["hospital"]),
            "d": settled["date"],
        }
    taken_off = _TAKEN_OFF.match(reason)
    if taken_off:  # services.material_remove: the kind in the reader's words, the file's name
        return str(_("%(kind)s: %(name)s")) % {
            "kind": kind_label(taken_off["kind"]),
            "name": taken_off["name"],
        }
    if reason.startswith("expire_"):
        return str(_("Filing %(n)s has expired.")) % {"n": number}
    if _CODE.match(reason):
        return ""
    return reason


def kind_label(kind: str) -> str:
    from filings.models import MaterialKind

    labels = {**dict(MaterialKind.choices), **EXTRA_KIND_LABELS}
    return str(labels.get(kind, kind))


def _field_label(name: str) -> str:
    """A field as the person's form calls it ("Who you are", not the model's "sub-type"), else
    as the model does."""
    from django.core.exceptions import FieldDoesNotExist

    from filings.forms import FilingForm
    from filings.models import Filing

    if name in FilingForm.base_fields:
        return str(FilingForm.base_fields[name].label)
    try:
        return str(Filing._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _hospital_named(code: str) -> str:
    """A hospital as the person knows it, by its name and code ("三亚市人民医院 (H46020000002)");
    an unknown code as it is."""
    from hospitals.models import Hospital

    hospital = Hospital.objects.filter(code=code).first()
    return str(hospital) if hospital is not None else code


def message(error: RuleError) -> str:
    params = {
        k: date_format(v, "Y-m-d") if hasattr(v, "isoformat") else ("-" if v is None else v)
        for k, v in error.params.items()
    }
    if "missing" in params:
        params["missing"] = enumeration(kind_label(k) for k in params["missing"])
    if "fields" in params:
        params["fields"] = enumeration(_field_label(n) for n in params["fields"])
    from filings.models import Status

    if params.get("hospital"):
        params["hospital"] = _hospital_named(str(params["hospital"]))
    labels = dict(Status.choices)
    for key in ("current", "target"):
        if key in params:
            params[key] = labels.get(params[key], params[key])
    if "current_shown" in params:
        # The filing's own label (Filing.get_status_display): "Approved (in force from …)"
        # before it takes effect, as the queue and the person's pages say.
        params["current"] = params.pop("current_shown")
    template = MESSAGES.get(error.code)
    return str(template) % params if template else str(error)
