"""What the agency's review pages show beside a decision (templates/admin/)."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.urls import NoReverseMatch, reverse

from filings.models import Filing, Status
from portal.models import InsuredPerson

register = template.Library()


@dataclass(frozen=True)
class PersonStanding:
    """The insured person of a filing as the approval depends on it: scheme, retired (the
    resettled-retiree sub-type), insured and active (domain.md §2.4), and a link to their
    record where the reviewer may correct it."""

    rows: list[tuple[str, str | bool]]  # a flag's value shown by the template's `yesno`
    active: bool
    approvable: bool  # submitted: the approval the warning is about is still to be decided
    record_url: str


def _label(name: str) -> str:
    return str(InsuredPerson._meta.get_field(name).verbose_name)


@register.simple_tag(takes_context=True)
def person_standing(context, obj) -> PersonStanding | None:
    """The standing of `obj`'s person when `obj` is a filing; None for any other object the
    change form shows (claims, settlements). The record is linked for a reviewer who may see
    it."""
    if not isinstance(obj, Filing):
        return None
    person = obj.person
    record_url = ""
    request = context.get("request")
    if request is not None and request.user.has_perm("portal.view_insuredperson"):
        try:
            record_url = reverse("admin:portal_insuredperson_change", args=[person.pk])
        except NoReverseMatch:
            record_url = ""
    return PersonStanding(
        rows=[
            (_label("scheme"), person.get_scheme_display()),
            (_label("retired"), person.retired),
            (_label("active"), person.active),
        ],
        active=person.active,
        approvable=obj.status == Status.SUBMITTED,
        record_url=record_url,
    )
