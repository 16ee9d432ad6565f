"""What the portal tells users, as a catalogue of notices rendered in the reader's language.

A notification stores a notice's code and its parameters (`Notification.notice`, `.params`),
not text: the inbox shows it in the language the page is in, and the email goes out in the
language the user last used the portal in (`Preference.language`). Parameters are plain JSON:
numbers and names as they are, dates as ISO strings (`DATES`, shown as the pages show dates,
2027-01-05, in either language), amounts as decimal strings (`AMOUNTS`, shown as the `yuan`
filter shows them: "136,171.06"), states as their codes (`CHOICES`, shown by their label),
records as their codes (`RECORDS`, shown by name) and a person's name as it is (`NAMES`, shown
masked). A `text`
parameter carries words someone typed (a reviewer's reason, a discrepancy's description): shown
as written, in place of the notice's default body. A name starting with "_" is no parameter of
the notice (the email sweep's delivery state, portal/tasks.py).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils import translation
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext

from portal.lib import idnumbers

# Parameters shown by the label of their choice: parameter -> the choices' dotted path.
CHOICES = {
    "status": "filings.models.Status",
    "type": "filings.models.FilingType",
    "claim_status": "settlement.models.ClaimStatus",
    "settlement_status": "settlement.models.SettlementStatus",
}
# Parameters that are dates (ISO 8601), shown as the portal writes dates in either language
# ("2027-01-05", as its pages do), not in a language's long format ("Jan. 5, 2027").
DATES = {"d", "u"}
# Parameters that are amounts of money (decimal strings: "136171.06"), shown with two decimals and
# thousands grouped ("136,171.06"), as portal_tags' `yuan` filter shows them on the pages.
AMOUNTS = {"total", "fund"}
# The parameter a text worded by number (`Plural`) follows.
COUNT = "count"
# Parameters that are a record's code, shown by its name in the reader's language (its
# `display_name`): parameter -> (the model's dotted path, the code's field).
RECORDS = {
    "hospital": ("hospitals.models.Hospital", "code"),
    "was": ("hospitals.models.Hospital", "code"),
    "h": ("hospitals.models.Hospital", "code"),
    # A filing's place of treatment (its province and pooling region).
    "province": ("portal.models.Province", "code"),
    "region": ("portal.models.Region", "code"),
}
# Parameters that are an insured person's name, shown masked ("李*国") as the admin shows it:
# the filing's number and its page identify the person.
NAMES = {"person"}


# A text worded by the number of things it counts ("1 settlement", "2 settlements"): given the
# `count` parameter, an ngettext call with both forms, so that the catalogue has them.
Plural = Callable[[int], str]


@dataclass(frozen=True)
class Notice:
    subject: Promise | Plural
    # Followed by the notice's `text` (a reviewer's reason), when it has one.
    body: Promise | Plural
    text_label: Promise | None = None  # what the `text` is: a reason, unless said otherwise
    # The body of notifications stored before the notice took all of its parameters (the
    # nightly job's, before they named the filing's type and place): shown when one is missing.
    older_body: Promise | None = None


PARAMETER = re.compile(r"%\((\w+)\)")


NOTICES = {
    # Filings, told to the person (filings/services.py).
    # Each names the filing's type and place of treatment (`type`, `province`, `region`): a
    # person with more than one filing can tell which one it is from the message alone.
    "filing_status": Notice(
        _("Your filing %(n)s: %(status)s"),
        _(
            "The status of your filing %(n)s (%(type)s; place of treatment: %(region)s, "
            "%(province)s) has changed."
        ),
        older_body=_("The status of your filing has changed."),
    ),
    # Approved, with a validity that starts later (a renewal, a trip next month): not "in force".
    "filing_approved_from": Notice(
        _("Your filing %(n)s: approved, in force from %(d)s"),
        _(
            "Your filing %(n)s (%(type)s; place of treatment: %(region)s, %(province)s) was "
            "approved. It takes effect on %(d)s and covers treatment from then."
        ),
        older_body=_(
            "Your filing was approved. It takes effect on %(d)s and covers treatment from then."
        ),
    ),
    # The notices below name the filing's type and place too (`_notify` gives them); those
    # stored before they did keep their old wording (`older_body`).
    "materials_accepted": Notice(
        _("Your materials were accepted"),
        _(
            "Filing %(n)s (%(type)s; place of treatment: %(region)s, %(province)s) is now "
            "two-way: you can also settle directly at home."
        ),
        older_body=_("Filing %(n)s is now two-way: you can also settle directly at home."),
    ),
    # The agency refused the materials supplied for a commitment filing (domain.md §2.1): the
    # reviewer's reason, and what follows from the deadline (`d`).
    "materials_refused": Notice(
        _("The materials you supplied for filing %(n)s were not accepted"),
        _(
            "Filing %(n)s (%(type)s; place of treatment: %(region)s, %(province)s). Reason: "
            "%(reason)s. Supply the materials again by %(d)s (the commitment deadline), or the "
            "filing will be revoked. Until materials are accepted, direct settlement is "
            "possible only at the place of residence."
        ),
        older_body=_(
            "Reason: %(reason)s. Supply the materials again by %(d)s (the commitment "
            "deadline), or the filing will be revoked. Until materials are accepted, direct "
            "settlement is possible only at the place of residence."
        ),
    ),
    "materials_refused_late": Notice(
        _("The materials you supplied for filing %(n)s were not accepted"),
        _(
            "Filing %(n)s (%(type)s; place of treatment: %(region)s, %(province)s). Reason: "
            "%(reason)s. The commitment deadline (%(d)s) has passed, so the filing will be "
            "revoked. Settlements made before the revocation stand."
        ),
        older_body=_(
            "Reason: %(reason)s. The commitment deadline (%(d)s) has passed, so the filing "
            "will be revoked. Settlements made before the revocation stand."
        ),
    ),
    "change_requested": Notice(
        _("Your request to change filing %(n)s was sent"),
        _(
            "Filing %(n)s (%(type)s; place of treatment: %(region)s, %(province)s): the agency "
            "will contact you about the change."
        ),
        older_body=_("The agency will contact you about the change."),
    ),
    "treatment_started": Notice(
        _("Treatment under referral %(n)s started"),
        _(
            "Referral %(n)s (place of treatment: %(region)s, %(province)s): treatment started "
            "on %(d)s; the referral is valid until %(u)s."
        ),
        older_body=_("Treatment started on %(d)s; the referral is valid until %(u)s."),
    ),
    "referral_extended": Notice(
        _("Referral %(n)s extended"),
        _("Referral %(n)s (place of treatment: %(region)s, %(province)s) is valid until %(u)s."),
        older_body=_("Valid until %(u)s."),
    ),
    # A referral with a course (Daxinganling) extended before treatment started: the date is
    # the last day treatment may start (the course then runs its days), not the end of validity.
    "referral_start_extended": Notice(
        _("Referral %(n)s: more time to start treatment"),
        _(
            "Referral %(n)s (place of treatment: %(region)s, %(province)s): treatment must "
            "start by %(u)s at the latest."
        ),
        older_body=_("Treatment must start by %(u)s at the latest."),
    ),
    "referral_hospital_changed": Notice(
        _("Referral %(n)s: new receiving hospital"),
        _(
            "Referral %(n)s (place of treatment: %(region)s, %(province)s): you can now settle "
            "directly at %(h)s."
        ),
        older_body=_("You can now settle directly at %(h)s."),
    ),
    # A referral decided by the agency, told to the clerks of the hospitals it names: the one
    # that issued it (an e-referral, a follow-up notice) and the one that receives the patient.
    "referral_decided": Notice(
        _("Referral %(n)s: %(status)s"),
        _("The agency decided on the referral of a patient to %(hospital)s."),
    ),
    "referral_hospital_moved": Notice(
        _("Referral %(n)s: the receiving hospital is now %(hospital)s"),
        _("The agency named %(hospital)s instead of %(was)s as the receiving hospital."),
    ),
    # Filings, told to the agency.
    "follow_up_submitted": Notice(
        _("Follow-up notice %(n)s to review"),
        _(
            "%(h)s asks for continued treatment or a readmission under referral %(r)s "
            "(follow-up %(n)s)."
        ),
    ),
    "change_requested_agency": Notice(
        _("Change requested for filing %(n)s"),
        _("The person asked to change the filing."),
        _("Request"),
    ),
    # The nightly job (filings/jobs.py), to the person and, for a revocation, the agency. Each
    # names the filing's type and place of treatment (`type`, `province`, `region`), so a
    # person with two filings ending together can tell them apart.
    "filing_expired": Notice(
        _("Your filing %(n)s has expired"),
        _(
            "Filing %(n)s (%(type)s; place of treatment: %(region)s, %(province)s) has "
            "expired. File again if you still need treatment there."
        ),
        older_body=_("Filing %(n)s has expired. File again if you still need treatment there."),
    ),
    # domain.md §2.2: a referral's one course of treatment is over (Daxinganling: 60 days);
    # what follows within the treatment cycle is the receiving hospital's follow-up notice.
    "referral_course_over": Notice(
        _("Your referral %(n)s has ended with its course of treatment"),
        _(
            "Referral %(n)s (place of treatment: %(region)s, %(province)s) has ended with its "
            "course of treatment. For continued treatment or a readmission within the treatment "
            "cycle (up to one year), do not file again: the receiving hospital issues a "
            "follow-up notice, which the agency approves."
        ),
    ),
    "filing_renewal_in_force": Notice(
        _("Your renewed filing is now in force"),
        _(
            "Filing %(n)s has ended, and its renewal %(r)s is in force from today: nothing "
            "else to do."
        ),
    ),
    # domain.md §2.4, §2.6: the filing ended, and another approved filing for the same place
    # (a temporary filing's continuation, a long-term filing) covers the next day.
    "filing_continued": Notice(
        _("Your filing %(n)s has ended; filing %(r)s continues it"),
        _(
            "Filing %(n)s (%(type)s; place of treatment: %(region)s, %(province)s) has "
            "ended. Filing %(r)s continues it for the same place: there is no need to file "
            "again."
        ),
    ),
    # domain.md §2.1: the filing ended while its renewal awaits the agency's review.
    "filing_renewal_under_review": Notice(
        _("Your filing %(n)s has ended; its renewal is under review"),
        _(
            "Filing %(n)s (%(type)s; place of treatment: %(region)s, %(province)s) has "
            "ended. Its renewal %(r)s is under review by the agency: there is no need to file "
            "again, and you will be told when it is decided."
        ),
    ),
    "filing_renewal_to_submit": Notice(
        _("Your filing %(n)s has ended; its renewal is not submitted yet"),
        _(
            "Filing %(n)s (%(type)s; place of treatment: %(region)s, %(province)s) has "
            "ended. Its renewal %(r)s was started but not submitted: complete and submit it, "
            "rather than filing again."
        ),
    ),
    # A long-term filing approved for the place of a temporary one (domain.md §2.6).
    "temporary_superseded": Notice(
        _("Your long-term residence filing replaces filing %(n)s"),
        _(
            "Long-term residence filing %(lt)s covers the same place with better benefits, so "
            "temporary filing %(n)s ends on %(d)s."
        ),
    ),
    # Revoked whether nothing was supplied or what was supplied was refused (domain.md §2.1).
    "filing_revoked": Notice(
        _("Your filing %(n)s has been revoked"),
        _(
            "Filing %(n)s (%(type)s; place of treatment: %(region)s, %(province)s) has been "
            "revoked because no proof materials were accepted by the commitment deadline. "
            "Settlements made before the revocation stand."
        ),
        older_body=_(
            "Filing %(n)s has been revoked because no proof materials were accepted by the "
            "commitment deadline. Settlements made before the revocation stand."
        ),
    ),
    # The same revocation, told to the staff of the person's agency (linked to the filing's
    # admin page).
    "filing_revoked_agency": Notice(
        _("Commitment filing %(n)s of %(person)s revoked"),
        _(
            "The nightly job revoked long-term residence filing %(n)s of %(person)s: no proof "
            "materials were accepted by the commitment deadline (%(d)s). Settlements made "
            "before the revocation stand."
        ),
    ),
    "commitment_reminder": Notice(
        _("Reminder: supply your commitment materials"),
        _("Filing %(n)s: supply the promised materials by %(d)s, or the filing will be revoked."),
    ),
    "claim_reminder": Notice(
        _("Reminder: resubmit your returned claim before the deadline"),
        _(
            "Claim %(n)s was returned to you. Correct and resubmit it by %(d)s: after that date "
            "it can no longer be reimbursed."
        ),
    ),
    # Settlement.
    "claim_status": Notice(
        _("Your claim %(n)s: %(claim_status)s"), _("The status of your claim has changed.")
    ),
    "settlement_reviewed": Notice(
        _("Settlement %(n)s reviewed: %(settlement_status)s"),
        _("The agency reviewed a settlement this hospital submitted."),
    ),
    "settlements_reviewed": Notice(
        lambda count: ngettext(
            "%(count)s settlement of this hospital reviewed",
            "%(count)s settlements of this hospital reviewed",
            count,
        ),
        _(
            "Settled: %(settled)s; rejected: %(rejected)s; returned to the hospital: "
            "%(returned)s. Each settlement's page gives the reviewer's reason."
        ),
    ),
    "settlement_reviewed_person": Notice(
        _("Your bill %(n)s at %(hospital)s: %(settlement_status)s"),
        _("The agency reviewed the direct settlement of your stay."),
    ),
    # A settled or held settlement voided by the agency (a duplicate, a bill settled wrongly):
    # not a review. The hospital learns what to do, the person what it means for their year.
    "settlement_voided": Notice(
        _("Settlement %(n)s voided by the agency"),
        _(
            "The agency voided a settlement this hospital submitted: the fund does not pay it. "
            "If the stay still needs settling, submit the corrected bill again with a new "
            "Idempotency-Key."
        ),
    ),
    "settlement_voided_person": Notice(
        _("Your bill %(n)s at %(hospital)s was voided"),
        _(
            "The agency voided the direct settlement of your stay: the fund does not pay "
            "settlement %(n)s, and what it counted against this year's cap and deductible is "
            "given back. If the stay still needs settling, the hospital submits the corrected "
            "bill again."
        ),
    ),
    "clearing_issued": Notice(
        _("Clearing statement %(number)s issued"),
        lambda count: ngettext(
            "%(count)s settlement, total %(total)s yuan, fund payments %(fund)s yuan.",
            "%(count)s settlements, total %(total)s yuan, fund payments %(fund)s yuan.",
            count,
        ),
    ),
    "clearing_discrepancy": Notice(
        _("Discrepancy reported on clearing statement %(number)s"),
        _("A discrepancy was reported."),
    ),
}


class _Values(dict):
    """Parameters for `%` formatting; one a notice needs but was not given shows as "-"."""

    def __missing__(self, name):
        return "-"


# Parameters that are someone's words set inside a sentence of the notice ("Reason: %(reason)s.
# Supply …"): their own closing full stop is left out, not doubled ("…居住证明。。").
IN_SENTENCE = {"reason"}


def _shown(name: str, value):
    if value is None or value == "":
        return "-"
    if name in IN_SENTENCE and isinstance(value, str):
        return value.rstrip().rstrip("。.．") or "-"
    if name in DATES:
        return date_format(datetime.date.fromisoformat(str(value)), "Y-m-d")
    if name in AMOUNTS:
        try:
            return f"{Decimal(str(value)):,.2f}"
        except InvalidOperation:
            return value
    if name in NAMES:
        return idnumbers.mask_name(value)
    if name in RECORDS:
        path, field = RECORDS[name]
        record = import_string(path).objects.filter(**{field: value}).first()
        return record.display_name if record is not None else value
    if name in CHOICES:
        try:
            return import_string(CHOICES[name])(value).label
        except ValueError:
            return value
    return value


def _worded(text: Promise | Plural, values: _Values) -> str:
    """The text in the active language, worded for the count if it is a `Plural` (a count that
    is not a number, shown as "-", takes the form for many)."""
    if callable(text):
        count = str(values[COUNT])
        return text(int(count) if count.isdigit() else 2)
    return str(text)


def render(notice: str, params: dict, language: str | None = None) -> tuple[str, str]:
    """(subject, body) of a notice in `language` (default: the active language)."""
    with translation.override(language or translation.get_language()):
        entry = NOTICES[notice]
        values = _Values((name, _shown(name, value)) for name, value in params.items())
        subject = _worded(entry.subject, values) % values
        body = _worded(entry.body, values)
        if entry.older_body is not None and not set(PARAMETER.findall(body)) <= set(params):
            body = str(entry.older_body)
        body = body % values
        if params.get("text"):  # what happened, then why, labelled: "原因：材料不全"
            label = str(entry.text_label or _("Reason"))
            body = f"{body}\n{label}{pgettext('after a label', ': ')}{params['text']}"
    return subject, body


def params_of(**values) -> dict:
    """Notice parameters as JSON: dates as ISO strings, amounts (Decimal) as decimal strings,
    other values as text or numbers."""
    return {
        name: value.isoformat()
        if isinstance(value, datetime.date)
        else value
        if isinstance(value, int | float | str) or value is None
        else str(value)
        for name, value in values.items()
    }
