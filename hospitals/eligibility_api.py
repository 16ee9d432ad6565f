"""POST /api/v1/eligibility (shared/api.md): the hospital comes from the Bearer key."""

from __future__ import annotations

import datetime
import time

from django.core.cache import cache
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from hospitals import eligibility
from hospitals.auth import HasHospitalKey, HospitalKeyAuthentication
from hospitals.eligibility_service import as_dict, check
from hospitals.models import CareType
from portal.lib import idnumbers


class HospitalKeyThrottle(BaseThrottle):
    """Per API key (not per IP: many desks share one hospital gateway), fixed one-minute
    windows counted with one cache increment (no growing request history on the hot path)."""

    scope = "hospital_key"
    THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES

    def allow_request(self, request, view):
        key = getattr(request, "auth", None)
        if key is None:
            return True
        limit, period = self.parse(self.THROTTLE_RATES[self.scope])
        window = int(time.time() // period)
        self.wait_seconds = period - time.time() % period
        name = f"throttle:{self.scope}:{key.pk}:{window}"
        try:
            count = cache.incr(name)
        except ValueError:
            cache.add(name, 0, timeout=period + 5)
            count = cache.incr(name)
        return count <= limit

    def wait(self):
        return self.wait_seconds

    @staticmethod
    def parse(rate: str) -> tuple[int, int]:
        count, unit = rate.split("/")
        return int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit[0]]


class EligibilityRequest(serializers.Serializer):
    id_number = serializers.RegexField(
        r"^\s*\d{17}[\dXx]\s*$", max_length=40, help_text="18-character resident ID number"
    )
    name = serializers.CharField(max_length=60, min_length=1)
    care_type = serializers.ChoiceField(choices=CareType.choices)
    visit_date = serializers.DateField(required=False, help_text="YYYY-MM-DD; default today")

    def validate_id_number(self, value: str) -> str:
        code = idnumbers.problem(value)
        if code:
            raise serializers.ValidationError(str(idnumbers.MESSAGES[code]), code=code)
        return idnumbers.normalize(value)


def parse_request(data) -> dict:
    """The hot-path twin of EligibilityRequest (which documents the contract): the same fields
    and messages without building a serializer per request."""
    if not isinstance(data, dict):
        raise serializers.ValidationError({"non_field_errors": [_("A JSON object is expected.")]})
    errors: dict[str, list[str]] = {}
    required = str(serializers.Field.default_error_messages["required"])
    id_number = data.get("id_number")
    if not isinstance(id_number, str) or not id_number.strip():
        errors["id_number"] = [required]
    else:
        code = idnumbers.problem(id_number)
        if code:
            errors["id_number"] = [str(idnumbers.MESSAGES[code])]
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = [required]
    elif len(name) > 60:
        errors["name"] = [_("At most 60 characters.")]
    care_type = data.get("care_type")
    if care_type not in CareType.values:
        errors["care_type"] = [
            required
            if care_type is None
            else _("%(v)s is not a valid care type.") % {"v": str(care_type)[:40]}
        ]
    visit_date = data.get("visit_date")
    parsed_date = None
    if visit_date is not None:
        try:
            parsed_date = datetime.date.fromisoformat(visit_date)
            if len(visit_date) != 10:
                raise ValueError
        except (TypeError, ValueError):
            errors["visit_date"] = [_("Use the date format YYYY-MM-DD.")]
    if errors:
        raise serializers.ValidationError(errors)
    return {
        "id_number": idnumbers.normalize(id_number),
        "name": name.strip(),
        "care_type": care_type,
        "visit_date": parsed_date,
    }


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


class EligibilityView(APIView):
    throttle_classes = [HospitalKeyThrottle]

    authentication_classes = [HospitalKeyAuthentication]
    permission_classes = [HasHospitalKey]

    @extend_schema(
        operation_id="eligibility_check",
        request=EligibilityRequest,
        responses={
            200: EligibilityResponse,
            400: OpenApiResponse(ErrorResponse, description="Invalid input"),
            401: OpenApiResponse(ErrorResponse, description="Missing or wrong key"),
            404: OpenApiResponse(ErrorResponse, description="Unknown person or name mismatch"),
            429: OpenApiResponse(ErrorResponse, description="Over the rate limit"),
        },
        tags=["eligibility"],
    )
    def post(self, request):
        data = parse_request(request.data)
        key = request.auth
        decision, found = check(
            hospital_id=key.hospital_id,
            id_number=data["id_number"],
            name=data["name"],
            care_type=data["care_type"],
            visit_date=data.get("visit_date"),
            api_key_id=key.pk,
        )
        if decision is None:
            raise NotFound(_("No insured person with this ID number and name."))
        return Response(as_dict(decision, found))
