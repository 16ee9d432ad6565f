"""FHIR R4B CoverageEligibilityRequest → CoverageEligibilityResponse, the same decision as
POST /api/v1/eligibility (for hospital systems that speak FHIR beyond the national platform)."""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from hospitals.auth import HasHospitalKey, HospitalKeyAuthentication
from hospitals.eligibility_api import (
    HospitalKeyThrottle,
    count_miss,
    misses_budget,
    parse_request,
)
from hospitals.eligibility_service import check

ID_SYSTEM = "urn:oid:2.16.156.10011.1.1"  # resident identity card number
CARE_SYSTEM = "https://ybj.example.cn/fhir/CodeSystem/care-type"
CATEGORY_SYSTEM = "https://ybj.example.cn/fhir/CodeSystem/settlement-category"


def _patient(body: dict) -> dict:
    reference = (body.get("patient") or {}).get("reference", "")
    for resource in body.get("contained") or []:
        if resource.get("resourceType") == "Patient" and f"#{resource.get('id')}" == reference:
            return resource
    raise exceptions.ValidationError(
        {"patient": [_("The patient must be a contained Patient resource.")]}
    )


def _fields(body: dict) -> tuple:
    """(ID number, name, care type) of a CoverageEligibilityRequest."""
    patient = _patient(body)
    id_number = next(
        (
            i.get("value")
            for i in patient.get("identifier") or []
            if i.get("system") in (ID_SYSTEM, None)
        ),
        None,
    )
    names = patient.get("name") or [{}]
    name = names[0].get("text") or "".join(names[0].get("family", "")) + "".join(
        names[0].get("given") or []
    )
    care = "inpatient"
    for item in body.get("item") or []:
        for coding in (item.get("category") or {}).get("coding") or []:
            if coding.get("system") == CARE_SYSTEM:
                care = coding.get("code")
    return id_number, name, care


def parse(body: dict) -> dict:
    if not isinstance(body, dict) or body.get("resourceType") != "CoverageEligibilityRequest":
        raise exceptions.ValidationError(
            {"resourceType": [_("A CoverageEligibilityRequest resource is expected.")]}
        )
    try:
        id_number, name, care = _fields(body)
    except (AttributeError, TypeError, IndexError):
        # A list where an object belongs, a number for a name...: a 400 naming the resource,
        # never a 500 (whose debug page would show the ID number typed in it).
        raise exceptions.ValidationError(
            {"resourceType": [_("The CoverageEligibilityRequest is not well formed.")]}
        ) from None
    fields = {"id_number": id_number, "name": name, "care_type": care}
    if body.get("servicedDate") is not None:  # absent: today, as in the JSON API
        fields["visit_date"] = body["servicedDate"]
    return parse_request(fields)


def response(request_body: dict, decision, found, visit_date: datetime.date) -> dict:
    person = found.person
    coverage = {
        "inforce": decision.eligible,
        "item": [
            {
                "category": {"coding": [{"system": CATEGORY_SYSTEM, "code": decision.category}]},
                "excluded": not decision.eligible,
                "description": "; ".join(str(r) for r in decision.reasons)[:1000] or None,
            }
        ],
    }
    if decision.filing is not None:
        coverage["coverage"] = {
            "identifier": {"value": decision.filing.number},
            "display": decision.filing.type,
        }
    else:
        coverage["coverage"] = {"display": decision.category}
    return {
        "resourceType": "CoverageEligibilityResponse",
        "id": uuid.uuid4().hex,
        "status": "active",
        "purpose": ["validation"],
        "patient": {
            "identifier": {"system": ID_SYSTEM, "value": person.masked_id},
            "display": person.masked_name,
        },
        "servicedDate": visit_date.isoformat(),
        "created": timezone.now().isoformat(timespec="seconds"),
        "request": {"identifier": {"value": str(request_body.get("id") or "")}}
        if request_body.get("id")
        else {"display": "CoverageEligibilityRequest"},
        "outcome": "complete",
        "disposition": _("Eligible for direct settlement")
        if decision.eligible
        else _("Not eligible for direct settlement"),
        "insurer": {"identifier": {"value": person.region_code}, "display": person.region_name},
        "insurance": [coverage],
    }


class CoverageEligibilityView(APIView):
    authentication_classes = [HospitalKeyAuthentication]
    permission_classes = [HasHospitalKey]
    throttle_classes = [HospitalKeyThrottle]

    @extend_schema(
        operation_id="fhir_coverage_eligibility",
        tags=["fhir"],
        request=OpenApiTypes.OBJECT,
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiResponse(),
            401: OpenApiResponse(),
            404: OpenApiResponse(),
            415: OpenApiResponse(description="The body is not JSON"),
            429: OpenApiResponse(),
        },
    )
    def post(self, request):
        data = parse(request.data)
        visit_date = data["visit_date"] or timezone.localdate()
        misses = misses_budget(request.auth.pk)  # the eligibility API's budget, shared
        decision, found = check(
            hospital_id=request.auth.hospital_id,
            id_number=data["id_number"],
            name=data["name"],
            care_type=data["care_type"],
            visit_date=visit_date,
            api_key_id=request.auth.pk,
            channel="fhir",
        )
        if decision is None:
            count_miss(misses, request.auth.pk)
            raise exceptions.NotFound(_("No insured person with this ID number and name."))
        return Response(
            response(request.data, decision, found, visit_date),
            content_type="application/fhir+json",
        )
