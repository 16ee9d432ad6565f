"""POST /api/v1/settlements and GET /api/v1/settlements/{number} (shared/api.md)."""

from __future__ import annotations

import re

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from hospitals import access_log
from hospitals.api_errors import error_response
from hospitals.auth import HasHospitalKey, HospitalKeyAuthentication
from hospitals.eligibility_api import (
    ErrorResponse,
    HospitalKeyThrottle,
    IdNumberField,
    IsoDateField,
    JsonObjectSerializer,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    count_miss,
    misses_budget,
)
from hospitals.models import CareType
from settlement import engine, rules
from settlement.messages import message as rule_message
from settlement.models import Settlement
from settlement.services import READ_PURPOSE, SettlementError, as_dict, settle


class StringDecimalField(serializers.DecimalField):
    """A decimal sent as a JSON string of ASCII digits with an optional fraction (shared/api.md:
    money as strings), never a JSON number (a binary float), an exponent, a sign or spaces.

    Digits before the point are counted as sent, leading zeros too, so that the pattern the
    schema publishes (MONEY_PATTERN, RATE_PATTERN below) accepts exactly what this accepts."""

    pattern = re.compile(r"\d+(?:\.\d+)?", re.ASCII)

    def validate_empty_values(self, data):
        # DRF takes any blank string for null where null is allowed: "" stays null (the
        # policy's default, as the schema says), spaces are no number.
        if isinstance(data, str) and data and not data.strip():
            self.fail("format")
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not self.pattern.fullmatch(data):
            self.fail("format")
        whole = data.partition(".")[0]
        if self.max_whole_digits is not None and len(whole) > self.max_whole_digits:
            self.fail("max_whole_digits", max_whole_digits=self.max_whole_digits)
        return super().to_internal_value(data)


# The schema's patterns (drf-spectacular's own, `^-?\d{0,10}(?:\.\d{0,2})?$`, took "-5.00", "",
# ".5" and "5."): what the fields below accept, with max_digits, decimal_places and max_value
# as declared on ItemSerializer. tests/settlement/test_api_schema_patterns.py holds them to it.
MONEY_PATTERN = r"^\d{1,10}(?:\.\d{1,2})?$"
RATE_PATTERN = r"^(?:0(?:\.\d{1,3})?|1(?:\.0{1,3})?)?$"  # "" as null: the policy's default


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": MONEY_PATTERN, "example": "123.45"}
)
class MoneyField(StringDecimalField):
    """Money: `"123"`, `"123.4"` or `"123.45"`."""

    pattern = re.compile(r"\d+(?:\.\d{1,2})?", re.ASCII)
    default_error_messages = {
        "format": gettext_lazy(
            'Enter the amount as a string of digits with at most two decimals, such as "123.45".'
        )
    }


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": RATE_PATTERN,
        "example": "0.10",
        "description": 'class B only; absent, null or "": the policy\'s default',
    }
)
class RateField(StringDecimalField):
    """A rate from 0 to 1 as a string: `"0.1"`, `"0.10"`, `"1"`."""

    default_error_messages = {
        "format": gettext_lazy('Enter the rate as a string decimal from 0 to 1, such as "0.10".')
    }


class BoundedListSerializer(serializers.ListSerializer):
    """A list of nested objects whose min_length and max_length the schema states too."""


class BoundedListSchema(OpenApiSerializerFieldExtension):
    """minItems/maxItems for a BoundedListSerializer: drf-spectacular leaves a list
    serializer's min_length and max_length out of the schema (they are not validators)."""

    target_class = BoundedListSerializer

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if self.target.min_length is not None:
            schema["minItems"] = self.target.min_length
        elif not self.target.allow_empty:
            schema["minItems"] = 1
        if self.target.max_length is not None:
            schema["maxItems"] = self.target.max_length
        return schema


class MedicationSerializer(serializers.Serializer):
    days = StrictIntegerField(min_value=1, max_value=366)
    kind = serializers.ChoiceField(choices=["acute", "chronic", "special"])


class ItemSerializer(serializers.Serializer):
    class Meta:
        list_serializer_class = BoundedListSerializer

    code = StrictCharField(max_length=60, required=False, allow_blank=True, default="")
    name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")
    # "class" is a Python keyword: declared below.
    amount = MoneyField(max_digits=12, decimal_places=2, min_value=0)
    first_self_pay_rate = RateField(
        max_digits=4, decimal_places=3, min_value=0, max_value=1, required=False, allow_null=True
    )
    discharge_medication = MedicationSerializer(required=False, allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["class"] = serializers.ChoiceField(choices=["A", "B", "C"])
        return fields


class VisitSerializer(serializers.Serializer):
    care_type = serializers.ChoiceField(choices=CareType.choices)
    admitted_on = IsoDateField()
    discharged_on = IsoDateField()
    emergency = StrictBooleanField(required=False, default=False)
    transfer_approved = StrictBooleanField(required=False, default=True)

    def validate(self, data):
        try:
            rules.check_stay_dates(
                admitted_on=data["admitted_on"],
                discharged_on=data["discharged_on"],
                today=timezone.localdate(),
            )
        except rules.RuleError as error:
            # An admission too early (or a stay too long to be one) is the admission's error.
            field = (
                "admitted_on"
                if error.code in {"admission_too_early", "stay_too_long"}
                else "discharged_on"
            )
            raise serializers.ValidationError(
                {field: [rule_message(error)]}, code=error.code
            ) from None
        return data


class SettlementRequest(JsonObjectSerializer):
    id_number = IdNumberField()
    name = StrictCharField(max_length=60, min_length=1)
    visit = VisitSerializer()
    items = ItemSerializer(many=True, allow_empty=False, min_length=1, max_length=2000)

    def validate_items(self, items):
        try:
            rules.check_bill_total(sum(item["amount"] for item in items))
        except rules.RuleError as error:
            raise serializers.ValidationError(rule_message(error), code=error.code) from None
        return items


SettlementResponse = inline_serializer(
    "SettlementResponse",
    {
        "number": serializers.CharField(),
        "category": serializers.CharField(),
        "policy_year": serializers.IntegerField(),
        "total": serializers.CharField(),
        "fund_pay": serializers.CharField(),
        "person_pay": serializers.CharField(),
        "breakdown": inline_serializer(
            "Breakdown",
            {k: serializers.CharField() for k in engine.BREAKDOWN_PARTS}
            | {
                "adjustment": serializers.CharField(
                    required=False, help_text="an approval with an adjusted amount only"
                )
            },
        ),
        "flags": serializers.ListField(child=serializers.CharField()),
        "status": serializers.ChoiceField(choices=Settlement.Status.values),
    },
)


# 422 (api.md: "with the reasons"): not eligible here says why in `reasons`, in the error and
# at the top level; no benefit policy for the year (`no_policy`) gives its message as the reason.
def _reasons() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="why the person cannot settle directly here (code not_eligible)",
    )


NotEligibleResponse = inline_serializer(
    "NotEligibleError",
    {
        "error": inline_serializer(
            "NotEligibleErrorBody",
            {
                "code": serializers.CharField(help_text="not_eligible or no_policy"),
                "message": serializers.CharField(),
                "fields": serializers.DictField(required=False),
                "reasons": _reasons(),
            },
        ),
        "reasons": _reasons(),
    },
)


IDEMPOTENCY_KEY_LENGTH = Settlement._meta.get_field("idempotency_key").max_length
# The header as idempotency_key() takes it: at most the column's length, with something left
# once str.strip() has dropped the whitespace (spelt out where ECMA-262's \s and Python's differ
# in Latin-1). tests/settlement/test_api_schema_patterns.py holds it to the function.
IDEMPOTENCY_KEY_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": IDEMPOTENCY_KEY_LENGTH,
    "pattern": r"[^\s\u001c-\u001f\u0085\u00a0]",
}


def idempotency_key(request) -> str:
    """The Idempotency-Key header, stripped; "" without one. A key that cannot be stored as
    sent (empty, or longer than the column) is refused: cut short, two keys would collide."""
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return ""
    key = raw.strip()
    if not key:
        message = _("The Idempotency-Key header is empty.")
    elif len(key) > IDEMPOTENCY_KEY_LENGTH:
        message = _("The Idempotency-Key header is longer than %(max)s characters.") % {
            "max": IDEMPOTENCY_KEY_LENGTH
        }
    else:
        return key
    raise serializers.ValidationError({"Idempotency-Key": [message]})


class SettlementCreate(APIView):
    authentication_classes = [HospitalKeyAuthentication]
    permission_classes = [HasHospitalKey]
    throttle_classes = [HospitalKeyThrottle]

    @extend_schema(
        operation_id="settlement_create",
        request=SettlementRequest,
        tags=["settlements"],
        parameters=[
            OpenApiParameter("Idempotency-Key", IDEMPOTENCY_KEY_SCHEMA, OpenApiParameter.HEADER)
        ],
        responses={
            201: SettlementResponse,
            200: SettlementResponse,
            400: OpenApiResponse(ErrorResponse),
            401: OpenApiResponse(ErrorResponse),
            404: OpenApiResponse(ErrorResponse),
            409: OpenApiResponse(ErrorResponse),
            413: OpenApiResponse(ErrorResponse, description="The body is too large"),
            415: OpenApiResponse(ErrorResponse, description="The body is not JSON"),
            422: OpenApiResponse(
                NotEligibleResponse, description="Not eligible here, or no benefit policy"
            ),
            429: OpenApiResponse(ErrorResponse),
        },
    )
    def post(self, request):
        form = SettlementRequest(data=request.data)
        errors = {} if form.is_valid() else dict(form.errors)
        try:
            key = idempotency_key(request)
        except serializers.ValidationError as exc:
            errors.update(exc.detail)
        if errors:  # the header's problem and the body's in one answer
            raise serializers.ValidationError(errors)
        # A submission names the person by ID number and name, as the eligibility check does:
        # its "not found" answers have a budget of their own, checked before the person is
        # looked up (a bill sent again under its Idempotency-Key is answered before that).
        misses: list[str] = []
        try:
            outcome = settle(
                hospital_id=request.auth.hospital_id,
                api_key_id=request.auth.pk,
                payload=form.validated_data,
                idempotency_key=key,
                before_lookup=lambda: misses.append(
                    misses_budget(request.auth.pk, scope="api-settlement")
                ),
            )
        except SettlementError as exc:
            if exc.code == "not_found" and misses:
                count_miss(misses[0], request.auth.pk)
            # api.md: a 422 comes "with the reasons": a year without a benefit policy too.
            reasons = exc.reasons or ([exc.message] if exc.status == 422 else [])
            extra = {"reasons": reasons} if reasons else {}
            response = error_response(
                code=exc.code, message=exc.message, http_status=exc.status, **extra
            )
            if reasons:
                response.data["reasons"] = reasons
            return response
        return Response(
            as_dict(outcome.settlement),
            status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        )


class SettlementDetail(APIView):
    authentication_classes = [HospitalKeyAuthentication]
    permission_classes = [HasHospitalKey]
    throttle_classes = [HospitalKeyThrottle]

    @extend_schema(
        operation_id="settlement_get",
        tags=["settlements"],
        responses={
            200: SettlementResponse,
            401: OpenApiResponse(ErrorResponse),
            404: OpenApiResponse(ErrorResponse),
            429: OpenApiResponse(ErrorResponse, description="Over the rate limit"),
        },
    )
    def get(self, request, number: str):
        settlement = (
            Settlement.objects.filter(number=number, hospital_id=request.auth.hospital_id)
            .annotate(subject_hash=F("person__id_hash"))
            .first()
        )
        # shared/api.md: every read of personal data is in the access log, as settle() records
        # the write.
        access_log.record(
            api_key_id=request.auth.pk,
            hospital_id=request.auth.hospital_id,
            subject_hash=settlement.subject_hash if settlement else "",
            subject_region_id=settlement.insured_region_id if settlement else None,
            purpose=READ_PURPOSE,
            outcome="found" if settlement else "not_found",
        )
        if settlement is None:
            raise NotFound()
        return Response(as_dict(settlement))
