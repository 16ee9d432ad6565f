"""POST /api/v1/settlements and GET /api/v1/settlements/{number} (shared/api.md)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from hospitals.api_errors import error_response
from hospitals.auth import HasHospitalKey, HospitalKeyAuthentication
from hospitals.eligibility_api import ErrorResponse, HospitalKeyThrottle
from hospitals.models import CareType
from portal.lib import idnumbers
from settlement.models import Settlement
from settlement.services import SettlementError, as_dict, settle


class MedicationSerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=366)
    kind = serializers.ChoiceField(choices=["acute", "chronic", "special"])


class ItemSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    # "class" is a Python keyword: declared below.
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    first_self_pay_rate = serializers.DecimalField(
        max_digits=4, decimal_places=3, min_value=0, max_value=1, required=False, allow_null=True
    )
    discharge_medication = MedicationSerializer(required=False, allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["class"] = serializers.ChoiceField(choices=["A", "B", "C"])
        return fields


class VisitSerializer(serializers.Serializer):
    care_type = serializers.ChoiceField(choices=CareType.choices)
    admitted_on = serializers.DateField()
    discharged_on = serializers.DateField()
    emergency = serializers.BooleanField(required=False, default=False)
    transfer_approved = serializers.BooleanField(required=False, default=True)

    def validate(self, data):
        if data["discharged_on"] < data["admitted_on"]:
            raise serializers.ValidationError(
                {"discharged_on": [_("The discharge date is before the admission date.")]}
            )
        return data


class SettlementRequest(serializers.Serializer):
    id_number = serializers.RegexField(r"^\s*\d{17}[\dXx]\s*$", max_length=40)
    name = serializers.CharField(max_length=60, min_length=1)
    visit = VisitSerializer()
    items = ItemSerializer(many=True, allow_empty=False, min_length=1, max_length=2000)

    def validate_id_number(self, value):
        code = idnumbers.problem(value)
        if code:
            raise serializers.ValidationError(str(idnumbers.MESSAGES[code]))
        return idnumbers.normalize(value)


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
            {
                k: serializers.CharField()
                for k in (
                    "self_paid",
                    "first_self_pay",
                    "deductible",
                    "coinsurance",
                    "over_cap",
                    "not_covered_medication",
                )
            },
        ),
        "flags": serializers.ListField(child=serializers.CharField()),
        "status": serializers.ChoiceField(choices=Settlement.Status.values),
    },
)


class SettlementCreate(APIView):
    authentication_classes = [HospitalKeyAuthentication]
    permission_classes = [HasHospitalKey]
    throttle_classes = [HospitalKeyThrottle]

    @extend_schema(
        operation_id="settlement_create",
        request=SettlementRequest,
        tags=["settlements"],
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={
            201: SettlementResponse,
            200: SettlementResponse,
            400: OpenApiResponse(ErrorResponse),
            401: OpenApiResponse(ErrorResponse),
            404: OpenApiResponse(ErrorResponse),
            409: OpenApiResponse(ErrorResponse),
            415: OpenApiResponse(ErrorResponse, description="The body is not JSON"),
            422: OpenApiResponse(ErrorResponse),
            429: OpenApiResponse(ErrorResponse),
        },
    )
    def post(self, request):
        form = SettlementRequest(data=request.data)
        form.is_valid(raise_exception=True)
        key = (request.headers.get("Idempotency-Key") or "").strip()[:128]
        try:
            outcome = settle(
                hospital_id=request.auth.hospital_id,
                api_key_id=request.auth.pk,
                payload=form.validated_data,
                idempotency_key=key,
            )
        except SettlementError as exc:
            extra = {"reasons": exc.reasons} if exc.reasons else {}
            response = error_response(
                code=exc.code, message=exc.message, http_status=exc.status, **extra
            )
            if exc.reasons:
                response.data["reasons"] = exc.reasons
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
        },
    )
    def get(self, request, number: str):
        settlement = Settlement.objects.filter(
            number=number, hospital_id=request.auth.hospital_id
        ).first()
        if settlement is None:
            raise NotFound()
        return Response(as_dict(settlement))
