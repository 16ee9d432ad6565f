"""Resident ID numbers (居民身份证号码): validation, keyed hashing and masking.

Validation follows domain.md §1: format, birth date and check digit with python-stdnum's
`cn.ric` pieces, and an area code that has ever existed. `cn.ric.validate` is deliberately not
used: it also requires the area code to have existed in the birth year, which rejects genuine
numbers of people born before the 1980s.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import re
import unicodedata

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidComponent

from portal.lib import text

_FORMAT = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII digits only (\d would take ２ and ٢)

# Reason codes, so rules and APIs can report why a number was refused.
INVALID_FORMAT = "format"
INVALID_BIRTH_DATE = "birth_date"
INVALID_CHECK_DIGIT = "check_digit"
INVALID_AREA = "area"

MESSAGES = {
    INVALID_FORMAT: _("An ID number has 18 characters: 17 digits and a final digit or X."),
    INVALID_BIRTH_DATE: _("The birth date in this ID number does not exist."),
    INVALID_CHECK_DIGIT: _("The last character (check digit) of this ID number is wrong."),
    INVALID_AREA: _("The first six digits of this ID number are not a known area code."),
}


def normalize(value: str) -> str:
    """The number as typed, made comparable: full-width digits and letters (an input method's
    １２３ｘ) as ASCII (NFKC), without spaces or invisible format characters (a zero-width space
    pasted from a chat), in upper case."""
    return "".join(text.plain(unicodedata.normalize("NFKC", value or "")).split()).upper()


def problem(value: str, *, today: datetime.date | None = None) -> str | None:
    """Return a reason code if `value` is not a genuine resident ID number, else None."""
    number = normalize(value)
    if not _FORMAT.match(number):
        return INVALID_FORMAT
    try:
        born = ric.get_birth_date(number)
    except InvalidComponent:
        return INVALID_BIRTH_DATE
    today = today or timezone.localdate()
    if born > today or born.year < 1880:
        return INVALID_BIRTH_DATE
    if ric.calc_check_digit(number) != number[-1]:
        return INVALID_CHECK_DIGIT
    if not _area_known(number[:6]):
        return INVALID_AREA
    return None


@functools.lru_cache(maxsize=8192)
def _area_known(area: str) -> bool:
    """The six-digit area code has existed at some time (county level)."""
    info = {k: v for _part, props in numdb.get("cn/loc").info(area) for k, v in props.items()}
    return "county" in info


def validate_id_number(value: str) -> None:
    """Django validator: raises ValidationError with a message in the active language."""
    code = problem(value)
    if code:
        raise ValidationError(MESSAGES[code], code=f"id_number_{code}")


def id_hash(value: str) -> str:
    """Keyed hash (HMAC-SHA256) used for exact lookup; the plain number is never stored."""
    key = settings.ID_HASH_KEY.encode()
    return hmac.new(key, normalize(value).encode(), hashlib.sha256).hexdigest()


def mask(value: str) -> str:
    """`232701195603120223` → `2327**********0223`."""
    number = normalize(value)
    if len(number) < 8:
        return "*" * len(number)
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"


def mask_name(name: str) -> str:
    """`王秀兰` → `王*兰`; `张伟` → `张*`."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


class IdNumberFormField(forms.CharField):
    """A form's resident ID number: typed as people type it (in groups, with full-width digits
    from an input method, a trailing space), cleaned to the 18 characters and validated, each
    refusal with its reason. Longer than 18 to let the groups' spaces in."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        attrs = {"autocomplete": "off", "spellcheck": "false", **kwargs.pop("attrs", {})}
        kwargs.setdefault("widget", forms.TextInput(attrs=attrs))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize(value) if value else value

    def validate(self, value):
        super().validate(value)
        if value:
            validate_id_number(value)
