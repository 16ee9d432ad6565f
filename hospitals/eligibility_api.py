"""POST /api/v1/eligibility (shared/api.md): the hospital comes from the Bearer key.

The admission desk calls this hundreds of times a day, so the usual request runs as a plain Django
view (`_fast`): key from the in-process snapshot, throttle counted in process, `json.loads`,
`parse_request`, one query, `json.dumps`. The DRF view below stays the reference: it documents
the operation for drf-spectacular (the schema at /api/schema/) and answers every request the plain
path does not take on (another method, a query string, another content type or charset, an
Accept header with parameters, a body above DATA_UPLOAD_MAX_MEMORY_SIZE), so both answer alike.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import threading
import time

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.utils.json import strict_constant
from rest_framework.views import APIView

from hospitals import eligibility, eligibility_views
from hospitals.api_errors import TooLarge, error_body, error_headers
from hospitals.auth import KEYWORD, HasHospitalKey, HospitalKeyAuthentication, key_ids
from hospitals.eligibility_service import as_dict, check
from hospitals.models import CareType
from portal.lib import idnumbers

logger = logging.getLogger(__name__)


class _Counters:
    """Per-key hits in fixed windows, counted in process and added to the shared cache in
    batches, so the limit holds across processes without a cache round trip per request.

    A process decides on the shared total it last saw plus its own hits not yet added; it adds
    them every SYNC_EVERY hits, and on every hit once the total it knows is within NEAR of the
    limit. Hits not yet added (fewer than SYNC_EVERY per process) are the most a key can get
    over its limit; a limit of NEAR or less is counted exactly.
    """

    SYNC_EVERY = 10
    NEAR = 100

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: dict[tuple[str, int], list] = {}

    def hit(self, scope: str, key_id: int, limit: int, period: int) -> tuple[bool, float]:
        now = time.time()
        window = int(now // period)
        with self.lock:
            entry = self.entries.get((scope, key_id))
            if entry is None or entry[0] != window or entry[3] != limit:
                if len(self.entries) > 20_000:
                    self.entries = {k: e for k, e in self.entries.items() if e[0] == window}
                # [window, shared total last seen, own hits not yet added, limit]
                entry = self.entries[(scope, key_id)] = [window, 0, 0, limit]
            entry[2] += 1
            if entry[2] >= self.SYNC_EVERY or entry[1] + entry[2] > limit - self.NEAR:
                entry[1] = self._add(f"throttle:{scope}:{key_id}:{window}", entry[2], period)
                entry[2] = 0
            count = entry[1] + entry[2]
        return count <= limit, period - now % period

    @staticmethod
    def _add(name: str, hits: int, period: int) -> int:
        try:
            return cache.incr(name, hits)
        except ValueError:
            cache.add(name, 0, timeout=period + 5)
            return cache.incr(name, hits)

    def clear(self) -> None:
        with self.lock:
            self.entries = {}


counters = _Counters()
_RATES: dict[str, tuple[int, int]] = {}


class HospitalKeyThrottle(BaseThrottle):
    """Per API key (not per IP: many desks share one hospital gateway), fixed one-minute
    windows (see `_Counters`: no growing request history, no cache round trip per request)."""

    scope = "hospital_key"
    THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

    def allow_request(self, request, view):
        key = getattr(request, "auth", None)
        if key is None:
            return True
        allowed, self.wait_seconds = throttle(key.pk)
        return allowed

    def wait(self):
        return self.wait_seconds

    @staticmethod
    def parse(rate: str) -> tuple[int, int]:
        parsed = _RATES.get(rate)
        if parsed is None:
            count, unit = rate.split("/")
            parsed = _RATES[rate] = (int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit[0]])
        return parsed


def throttle(key_id: int) -> tuple[bool, float]:
    """(allowed, seconds until the window ends) for one more request with this key."""
    scope = HospitalKeyThrottle.scope
    limit, period = HospitalKeyThrottle.parse(HospitalKeyThrottle.THROTTLE_RATES[scope])
    return counters.hit(scope, key_id, limit, period)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_ID_NUMBER = re.compile(r"\d{17}[\dXx]", re.ASCII)


class IsoDateField(serializers.DateField):
    """`YYYY-MM-DD` only (shared/api.md), not the other ISO 8601 forms that Python's
    `date.fromisoformat` takes (`2026-W01-1`, `20260101`); a date of that form that does not
    exist (`2026-02-30`) is told as such, not as a wrong format."""

    default_error_messages = {
        "no_such_date": gettext_lazy("There is no such date: {value}."),
    }

    def to_internal_value(self, value):
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
            self.fail("invalid", format="YYYY-MM-DD")
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            self.fail("no_such_date", value=value)
        return super().to_internal_value(value)


# The shortest text the field can take: `idnumbers.normalize` reads a number as NFKC, which makes
# two digits of each of ⑩ to ㊿, so nine such characters can be all 18. Which characters are read
# as digits (full-width, circled, superscript ...) and which are dropped (spaces, zero-width
# characters) is too long a list for a pattern: the schema states the lengths only.
# tests/settlement/test_api_schema_patterns.py holds them to the field.
ID_NUMBER_MIN_LENGTH = 9


@extend_schema_field({"type": "string", "minLength": ID_NUMBER_MIN_LENGTH})
class IdNumberField(serializers.CharField):
    """A resident ID number, checked as the web pages check it (portal.lib.idnumbers: the spaces
    a clerk types in groups are dropped, the birth date and the check digit must be right), and
    answered with the same messages."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault(
            "help_text",
            "18-character resident ID number; spaces, full-width digits and a lower-case x are "
            "read as the plain number",
        )
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):  # a JSON number loses a leading zero and cannot hold X
            raise serializers.ValidationError(
                str(idnumbers.MESSAGES[idnumbers.INVALID_FORMAT]), code="invalid"
            )
        value = super().to_internal_value(data)
        code = idnumbers.problem(value)
        if code:
            raise serializers.ValidationError(str(idnumbers.MESSAGES[code]), code=code)
        return idnumbers.normalize(value)


class JsonObjectSerializer(serializers.Serializer):
    """A request body that must be a JSON object, refused in the request's language (`null`
    too, which DRF would answer with its own English "No data provided")."""

    default_error_messages = {
        "invalid": gettext_lazy("The request body must be a JSON object."),
    }

    def validate_empty_values(self, data):
        if data is None:
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [self.error_messages["invalid"]]},
                code="invalid",
            )
        return super().validate_empty_values(data)


# JSON types as api.md has them: a text is a JSON string, a flag a JSON boolean, a count a JSON
# number. DRF would take 5 for "5", "yes" or 1 for true and "7" for 7; a hospital's system that
# sends those has a bug the answer should show, not a bill settled on a guess.


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": gettext_lazy("Enter a JSON string.")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": gettext_lazy("Enter true or false (a JSON boolean).")}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": gettext_lazy("Enter a whole number (a JSON number).")}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class EligibilityRequest(JsonObjectSerializer):
    id_number = IdNumberField()
    name = StrictCharField(max_length=60, min_length=1)
    care_type = serializers.ChoiceField(choices=CareType.choices)
    # api.md: "defaults to today"; many HIS clients send null for "not given".
    visit_date = IsoDateField(
        required=False, allow_null=True, help_text="YYYY-MM-DD; absent or null: today"
    )


def parse_request(data) -> dict:
    """The request as EligibilityRequest (which documents the contract) validates it, without
    building a serializer for the usual, well-formed request: that one is accepted here on checks
    that accept nothing the serializer refuses; anything else goes through the serializer itself,
    so both refuse the same requests with the same field messages."""
    if isinstance(data, dict):
        id_number = data.get("id_number")
        name = data.get("name")
        care_type = data.get("care_type")
        visit_date = data.get("visit_date")  # absent or null: today
        if (
            isinstance(id_number, str)
            and len(id_number) <= 40
            and _ID_NUMBER.fullmatch(id_number.strip())
            and isinstance(name, str)
            and name.isprintable()  # no NUL, no lone surrogate (the serializer refuses them)
            and 1 <= len(name.strip()) <= 60
            and isinstance(care_type, str)
            and care_type in _CARE_TYPES
            and (
                visit_date is None
                or (isinstance(visit_date, str) and _ISO_DATE.fullmatch(visit_date))
            )
        ):
            parsed_date = None
            if visit_date is not None:
                try:
                    parsed_date = datetime.date.fromisoformat(visit_date)
                except ValueError:
                    parsed_date = _INVALID
            if parsed_date is not _INVALID and idnumbers.problem(id_number) is None:
                return {
                    "id_number": idnumbers.normalize(id_number),
                    "name": name.strip(),
                    "care_type": care_type,
                    "visit_date": parsed_date,
                }
    serializer = EligibilityRequest(data=data)
    if not serializer.is_valid():
        raise serializers.ValidationError(serializer.errors)
    return {"visit_date": None, **serializer.validated_data}


_INVALID = object()
_CARE_TYPES = frozenset(CareType.values)


_Region = inline_serializer(
    "Region", {"code": serializers.CharField(), "name": serializers.CharField()}
)
EligibilityResponse = inline_serializer(
    "EligibilityResponse",
    {
        "eligible": serializers.BooleanField(),
        "category": serializers.ChoiceField(choices=eligibility.CATEGORIES),
        "two_way": serializers.BooleanField(),
        "reasons": serializers.ListField(child=serializers.CharField()),
        "insured": inline_serializer(
            "Insured",
            {
                "name": serializers.CharField(),
                "id_number": serializers.CharField(),
                "scheme": serializers.ChoiceField(choices=["employee", "resident"]),
                "region": _Region,
            },
        ),
        "filing": inline_serializer(
            "EligibilityFiling",
            {
                "number": serializers.CharField(),
                "type": serializers.ChoiceField(
                    choices=[
                        "long_term",
                        "referral",
                        "emergency",
                        "temporary",
                        "chronic_outpatient",
                    ]
                ),
                "subtype": serializers.CharField(allow_blank=True),
                "status": serializers.CharField(),
                "valid_from": serializers.DateField(allow_null=True),
                "valid_until": serializers.DateField(allow_null=True),
                "place_of_treatment": _Region,
                "hospitals": serializers.ListField(child=serializers.CharField(), allow_null=True),
                "commitment_deadline": serializers.DateField(allow_null=True),
            },
            allow_null=True,
        ),
        "benefit": inline_serializer(
            "Benefit",
            {
                "ratio_reduction_points": serializers.IntegerField(),
                "deductible_multiplier": serializers.CharField(),
                "fund_share": serializers.CharField(),
            },
        ),
    },
)
ErrorResponse = inline_serializer(
    "Error",
    {
        "error": inline_serializer(
            "ErrorBody",
            {
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(required=False),
            },
        )
    },
)


# The documented operation (no docstring: it would become the operation's description in the
# schema). `as_view()` puts the plain-Django path in front of it.
class EligibilityView(APIView):
    throttle_classes = [HospitalKeyThrottle]

    authentication_classes = [HospitalKeyAuthentication]
    permission_classes = [HasHospitalKey]

    @classmethod
    def as_view(cls, **initkwargs):
        drf_view = super().as_view(**initkwargs)

        def view(request, *args, **kwargs):
            if _plain(request):
                return _fast(request)
            return drf_view(request, *args, **kwargs)

        # drf-spectacular finds the operation through these (cls, initkwargs, ...).
        view.__dict__.update(drf_view.__dict__)
        view.__doc__ = drf_view.__doc__
        return csrf_exempt(view)

    @extend_schema(
        operation_id="eligibility_check",
        request=EligibilityRequest,
        responses={
            200: EligibilityResponse,
            400: OpenApiResponse(ErrorResponse, description="Invalid input"),
            401: OpenApiResponse(ErrorResponse, description="Missing or wrong key"),
            404: OpenApiResponse(ErrorResponse, description="Unknown person or name mismatch"),
            413: OpenApiResponse(ErrorResponse, description="The body is too large"),
            415: OpenApiResponse(ErrorResponse, description="The body is not JSON"),
            429: OpenApiResponse(ErrorResponse, description="Over the rate limit"),
        },
        tags=["eligibility"],
    )
    def post(self, request):
        data = parse_request(request.data)
        key = request.auth
        return Response(_answer(data, key.pk, key.hospital_id))


# "No insured person with this ID number and name" also tells a name guessed wrong. The desk
# page allows an account 20 such answers in 10 minutes (eligibility_views); a hospital's system
# checks for every desk of the hospital at once, so a key gets more, then only 429 until the
# window ends: trying names against one ID number stops long before it could find one.
API_MISSES_PER_WINDOW = 100
API_MISS_WINDOW_SECONDS = eligibility_views.MISS_WINDOW_SECONDS  # the desk's window and counter


def misses_budget(key_id: int, scope: str = "api") -> str:
    """The cache key counting this API key's "not found" answers in the current window;
    raises 429 (`Throttled`) once the window's budget is spent. The eligibility check and its
    FHIR form share one budget ("api"); a settlement's submission has its own
    ("api-settlement"), so the desks' typos at the eligibility check never stop a bill."""
    misses, wait = eligibility_views._misses(key_id, scope=scope)
    if (cache.get(misses) or 0) >= API_MISSES_PER_WINDOW:
        raise exceptions.Throttled(wait)
    return misses


def count_miss(misses: str, key_id: int) -> None:
    """One more "not found" answer for the key (`misses` from `misses_budget`)."""
    counted = eligibility_views._count_miss(misses)
    if counted == API_MISSES_PER_WINDOW:
        logger.warning("API key %s: %s checks found no one in a window", key_id, counted)


def _answer(data: dict, key_id: int, hospital_id: int) -> dict:
    misses = misses_budget(key_id)
    decision, found = check(
        hospital_id=hospital_id,
        id_number=data["id_number"],
        name=data["name"],
        care_type=data["care_type"],
        visit_date=data["visit_date"],
        api_key_id=key_id,
    )
    if decision is None:
        count_miss(misses, key_id)
        raise NotFound(_("No insured person with this ID number and name."))
    return as_dict(decision, found)


_PLAIN_ACCEPT = frozenset({"*/*", "application/*", "application/json"})
_UTF8 = frozenset({"utf-8", "utf8"})


def _plain(request) -> bool:
    """Whether the plain path answers exactly as the DRF view would (see the module docstring)."""
    meta = request.META
    if request.method != "POST" or meta.get("QUERY_STRING"):
        return False
    if request.content_type != "application/json":
        return False
    charset = request.content_params.get("charset")
    if charset is not None and charset.lower() not in _UTF8:
        return False
    accept = meta.get("HTTP_ACCEPT")
    if accept and accept not in _PLAIN_ACCEPT:
        kinds = [kind.strip() for kind in accept.split(",")]
        if ";" in accept or _PLAIN_ACCEPT.isdisjoint(kinds):
            return False
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return limit is None or length <= limit


def _fast(request) -> HttpResponse:
    """Auth → throttle → parse → check, in DRF's order and with its answers."""
    try:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            header = header.encode("iso-8859-1").decode(errors="replace")
        key_id, hospital_id = key_ids(header)
        allowed, wait = throttle(key_id)
        if not allowed:
            raise exceptions.Throttled(wait)
        try:
            body = request.body
        except RequestDataTooBig:  # a body longer than its Content-Length said
            raise TooLarge() from None
        if body:
            try:
                data = json.loads(body.decode(), parse_constant=strict_constant)
            except ValueError as exc:  # also UnicodeDecodeError
                raise exceptions.ParseError(f"JSON parse error - {exc}") from None
            except RecursionError:  # nested deeper than `json` goes: as JSONParser answers
                raise exceptions.ParseError("JSON parse error - nested too deeply") from None
        else:
            data = {}  # as DRF parses an empty body
        return _json(_answer(parse_request(data), key_id, hospital_id))
    except exceptions.APIException as exc:
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            exc.auth_header = KEYWORD
        return _json(error_body(exc, exc.status_code), exc.status_code, error_headers(exc))


def _json(data: dict, status: int = 200, headers: dict | None = None) -> HttpResponse:
    """As DRF's JSONRenderer writes it (compact, UTF-8, U+2028/2029 escaped)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    response = HttpResponse(text.encode(), status=status, content_type="application/json")
    response["Allow"] = "POST, OPTIONS"
    for name, value in (headers or {}).items():
        response[name] = value
    return response
