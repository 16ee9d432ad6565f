"""What the audit log records, in words: an event's subject, verb and actor's role
(`filing.approve` → "备案：批准"). Used by the audit log's admin and by `AuditEvent.__str__`
(its page's title and breadcrumbs); it imports no model, so the model can import it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from portal.roles import ADMIN, AGENCY, HOSPITAL, INSURED

# What an audit event is about: the part of its action before the dot (filing.approve).
AUDIT_SUBJECTS = {
    "filing": _("filings"),
    "referral": _("referral signatures"),
    "claim": _("reimbursement claims"),
    "settlement": _("direct settlements"),
    "clearing": _("clearing statements"),
    "hospital": _("hospital suspensions"),
    "hospital_staff": _("hospital staff"),
    "api_key": _("API keys"),
    "insured": _("insured persons"),
}
AUDIT_ROLES = {
    "system": _("the system (scheduled jobs)"),
    INSURED: _("insured person"),
    AGENCY: _("agency staff"),
    HOSPITAL: _("hospital staff"),
    ADMIN: _("superuser"),
}


# What was done, in words (the event's action is `subject.verb`; an unknown one is shown as
# recorded). Each decision of a review also carries its from and to states.
AUDIT_VERBS = {
    "create": pgettext_lazy("audit action", "created"),
    "check_limit": pgettext_lazy("audit action", "check limit reached"),
    "update": pgettext_lazy("audit action", "edited"),
    "submit": pgettext_lazy("audit action", "submitted"),
    "resubmit": pgettext_lazy("audit action", "submitted again"),
    "approve": pgettext_lazy("audit action", "approved"),
    "auto_approve": pgettext_lazy("audit action", "approved automatically"),
    "adjust_approve": pgettext_lazy("audit action", "approved with an adjusted amount"),
    "reject": pgettext_lazy("audit action", "rejected"),
    "return": pgettext_lazy("audit action", "returned"),
    "cancel": pgettext_lazy("audit action", "cancelled"),
    "discard": pgettext_lazy("audit action", "draft discarded"),
    "expire": pgettext_lazy("audit action", "expired"),
    "revoke": pgettext_lazy("audit action", "revoked"),
    "void": pgettext_lazy("audit action", "voided"),
    "superseded": pgettext_lazy("audit action", "ended by a long-term filing"),
    "material_remove": pgettext_lazy("audit action", "material taken off"),
    "change_request": pgettext_lazy("audit action", "change requested"),
    "accept_materials": pgettext_lazy("audit action", "supplemented materials accepted"),
    "refuse_materials": pgettext_lazy("audit action", "supplemented materials refused"),
    "sign_director": pgettext_lazy("audit action", "signed by the department director"),
    "sign_office": pgettext_lazy("audit action", "stamped by the medical office"),
    "start_treatment": pgettext_lazy("audit action", "treatment started"),
    "extend": pgettext_lazy("audit action", "extended"),
    "change_hospital": pgettext_lazy("audit action", "receiving hospital changed"),
    "pay": pgettext_lazy("audit action", "paid"),
    "issue": pgettext_lazy("audit action", "issued"),
    "supersede": pgettext_lazy("audit action", "replaced by a correction"),
    "discrepancy": pgettext_lazy("audit action", "discrepancy"),
    "suspend": pgettext_lazy("audit action", "suspended"),
    "resume": pgettext_lazy("audit action", "resumed"),
    "invite": pgettext_lazy("audit action", "invited"),
    "invite_again": pgettext_lazy("audit action", "invited again"),
    "reveal_id": pgettext_lazy("audit action", "ID number revealed"),
}


def audit_action_label(action: str) -> str:
    """`filing.approve` → "备案：批准" ("filings: approved"): the subject's and the verb's
    labels; an action of an unknown subject or verb as recorded."""
    subject, _dot, verb = action.partition(".")
    verb = verb.split(".")[0]
    if subject not in AUDIT_SUBJECTS or verb not in AUDIT_VERBS:
        return action
    separator = pgettext("after a label", ": ")  # outside the f-string, where makemessages sees it
    return f"{AUDIT_SUBJECTS[subject]}{separator}{AUDIT_VERBS[verb]}"
