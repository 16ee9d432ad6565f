"""Model choice fields whose value is a row's id: an id no database id can be (past 64 bits) is
refused as any other wrong choice. SQLite, `make run`'s database, raises OverflowError when such a
number is bound to a query, which Django's fields do not catch: a server error instead of the
form's message. (PostgreSQL compares it and finds nothing.)"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

LARGEST_ID = 2**63 - 1


def row_id(value) -> int | None:
    """`value` (a form's raw value) as a whole number a database id can be, else None."""
    digits = str(value if value is not None else "")
    if digits.isascii() and digits.isdigit() and len(digits) <= len(str(LARGEST_ID)):
        number = int(digits)
        return number if number <= LARGEST_ID else None
    return None


def _check(field: forms.ModelChoiceField, value) -> None:
    if value in field.empty_values or isinstance(value, field.queryset.model):
        return
    digits = str(value).strip().lstrip("+-")
    if not (digits.isascii() and digits.isdigit()):
        return  # not a number: the field's own check refuses it
    if len(digits) > len(str(LARGEST_ID)) or int(digits) > LARGEST_ID:
        raise ValidationError(
            field.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
        )


class IdChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        _check(self, value)
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        for each in value:
            _check(self, each)
        return super()._check_values(value)
