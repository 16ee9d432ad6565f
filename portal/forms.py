"""Insured-person sign-up: binds the agency's record of the person to the account."""

from __future__ import annotations

import datetime
import secrets

from allauth.account import app_settings as account_settings
from allauth.account.models import EmailAddress
from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.lib import idnumbers, text
from portal.lib.idchoice import IdChoiceField
from portal.models import InsuredPerson, Region, Scheme


def _card_number(value: str) -> str:
    """A social security card number as compared: without spaces, upper case."""
    return "".join(text.plain(value or "").split()).upper()


def _abandoned_claim(record: InsuredPerson) -> bool:
    """The record is bound to a sign-up that was never completed: the account's e-mail address
    was never confirmed (so it was never signed in to), and the confirmation link it was sent
    has expired (ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS). Such a claim does not keep the
    number from its owner for ever: the next sign-up for it may bind the record instead."""
    user = record.user
    if user is None or user.last_login is not None or user.is_staff:
        return False
    expired = timezone.now() - datetime.timedelta(
        days=account_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS
    )
    return (
        user.date_joined < expired
        and not EmailAddress.objects.filter(user=user, verified=True).exists()
    )


def _made_by_its_sign_up(record: InsuredPerson) -> bool:
    """The record holds only what its account's sign-up typed: it was made with the account
    (the agency's records exist before anyone signs up for them, and an account is bound only
    by signing up) and the agency has not confirmed it (not insured and active)."""
    return not record.active and record.created_at >= record.user.date_joined


class InsuredSignupForm(forms.Form):
    """An account for an insured person. Binding the agency's record of a person takes the name,
    the ID number and the social security card number on that record, which the agency holds
    and a stranger who knows a name and an ID number does not; every refusal is the same
    sentence, so the form never tells whether a number has an account. A number the portal has
    no record of gets a new record, not insured and active until the agency confirms it (the
    admin's "insured and active"): until then no filing is approved by itself and no hospital
    settles directly. A record bound by a sign-up whose e-mail address was never confirmed is
    free again once its confirmation link has expired (`_abandoned_claim`): a stranger who
    typed someone's number and went away does not lock its owner out."""

    name = text.PlainTextField(
        label=_("Full name (as on the ID card)"),
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),  # WCAG 1.3.5
    )
    id_number = idnumbers.IdNumberFormField(
        label=_("Resident ID number"), attrs={"inputmode": "text"}
    )
    social_security_no = text.PlainTextField(
        label=_("Social security card number"),
        max_length=30,
        required=False,
        help_text=_(
            "As printed on your social security card. Needed when your agency already keeps "
            "your record."
        ),
    )
    region = IdChoiceField(
        label=_("Insured in (pooling region)"), queryset=Region.objects.select_related("province")
    )
    scheme = forms.ChoiceField(label=_("Scheme"), choices=Scheme.choices)

    REFUSED = _(
        "These details cannot be registered. If you already have an account, sign in; "
        "otherwise ask your agency to check your record and your social security card number."
    )

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean(self):
        data = super().clean()
        value = data.get("id_number")
        if value:
            existing = InsuredPerson.objects.filter(id_hash=idnumbers.id_hash(value)).first()
            if existing is not None and not self._may_bind(existing, data):
                raise forms.ValidationError(self.REFUSED, code="cannot_register")
        return data

    @staticmethod
    def _may_bind(record: InsuredPerson, data: dict) -> bool:
        if record.user_id is not None:
            if not _abandoned_claim(record):
                return False
            if _made_by_its_sign_up(record):
                return True  # only the abandoned sign-up's own words: this sign-up's replace them
        card = _card_number(record.social_security_no)
        return (
            record.name == data.get("name")
            and bool(card)
            and secrets.compare_digest(
                card.encode(), _card_number(data.get("social_security_no", "")).encode()
            )
        )

    # The agency's record of the person, once bound to the new account (`bind`).
    person: InsuredPerson | None = None

    @transaction.atomic
    def bind(self, user) -> InsuredPerson:
        """Bind the agency's record of the person (or a new record) to `user`, a new account.

        Called by AccountAdapter.save_user in the transaction that creates the account, so a
        failure leaves neither. The record is locked: of two sign-ups at once for one number,
        the second finds it bound and is refused (forms.ValidationError), as it would be after.
        """
        data = self.cleaned_data
        id_hash = idnumbers.id_hash(data["id_number"])
        person = InsuredPerson.objects.select_for_update().filter(id_hash=id_hash).first()
        if person is None:
            person = InsuredPerson(
                name=data["name"],
                region=data["region"],
                scheme=data["scheme"],
                social_security_no=data.get("social_security_no", ""),
                active=False,  # until the agency confirms the person is insured there
            )
            person.set_id_number(data["id_number"])
        elif not self._may_bind(person, data):
            raise forms.ValidationError(self.REFUSED, code="cannot_register")
        elif person.user_id is not None and _made_by_its_sign_up(person):
            # An abandoned sign-up's record: what it said of the person gives way to this one.
            person.name, person.region, person.scheme = data["name"], data["region"], data["scheme"]
            person.social_security_no = data.get("social_security_no", "")
        person.user = user
        person.save()
        self.person = person
        return person

    def signup(self, request, user) -> None:
        """allauth's hook, called once the account is saved. The account adapter has bound the
        record already, with the account (`bind`); an account saved another way is bound here."""
        if self.person is None or self.person.user_id != user.pk:
            self.bind(user)
