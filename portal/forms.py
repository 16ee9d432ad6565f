"""Insured-person sign-up: binds name, resident ID number, region and scheme to the account."""

from __future__ import annotations

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from portal.lib import idnumbers, text
from portal.models import InsuredPerson, Region, Scheme


class InsuredSignupForm(forms.Form):
    name = text.PlainTextField(label=_("Full name (as on the ID card)"), max_length=60)
    id_number = idnumbers.IdNumberFormField(
        label=_("Resident ID number"), attrs={"inputmode": "text"}
    )
    region = forms.ModelChoiceField(
        label=_("Insured in (pooling region)"), queryset=Region.objects.select_related("province")
    )
    scheme = forms.ChoiceField(label=_("Scheme"), choices=Scheme.choices)

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()

    def clean_id_number(self) -> str:
        value = self.cleaned_data["id_number"]
        existing = InsuredPerson.objects.filter(id_hash=idnumbers.id_hash(value)).first()
        if existing is not None and existing.user_id is not None:
            raise forms.ValidationError(
                _("This ID number is already bound to an account. Sign in, or ask your agency."),
                code="id_number_bound",
            )
        return value

    def clean(self):
        data = super().clean()
        value = data.get("id_number")
        if value:
            existing = InsuredPerson.objects.filter(id_hash=idnumbers.id_hash(value)).first()
            if existing is not None and existing.name != data.get("name"):
                raise forms.ValidationError(
                    _("The name and ID number do not match the agency's records."),
                    code="name_mismatch",
                )
        return data

    @transaction.atomic
    def signup(self, request, user) -> None:
        data = self.cleaned_data
        id_hash = idnumbers.id_hash(data["id_number"])
        person = InsuredPerson.objects.select_for_update().filter(id_hash=id_hash).first()
        if person is None:
            person = InsuredPerson(name=data["name"], region=data["region"], scheme=data["scheme"])
            person.set_id_number(data["id_number"])
        elif person.user_id is not None:
            raise forms.ValidationError(_("This ID number is already bound to an account."))
        person.user = user
        person.save()
