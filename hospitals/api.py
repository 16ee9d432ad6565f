"""GET /api/v1/hospitals: the public directory (shared/api.md)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, pagination, serializers

from hospitals.eligibility_api import ErrorResponse
from hospitals.models import CareType, Hospital, Kind, Level, Ownership
from hospitals.selectors import directory


class HospitalSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    region = serializers.CharField(source="region.code")
    region_name = serializers.CharField(source="region.display_name")
    province = serializers.CharField(source="province.code")
    province_name = serializers.CharField(source="province.display_name")
    level = serializers.ChoiceField(choices=Level.choices)
    services = serializers.ListField(child=serializers.ChoiceField(choices=CareType.choices))
    suspended = serializers.SerializerMethodField()

    class Meta:
        model = Hospital
        fields = [
            "code",
            "name",
            "region",
            "region_name",
            "province",
            "province_name",
            "level",
            "kind",
            "ownership",
            "services",
            "resettlement_designated",
            "suspended",
        ]

    def get_suspended(self, obj) -> bool:
        return obj.suspended_on is not None


class DirectoryFilters(serializers.Serializer):
    """Filter values are checked: a misspelt filter is an error, not a silently wider list."""

    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    region = serializers.CharField(required=False, allow_blank=True, max_length=6)
    province = serializers.CharField(required=False, allow_blank=True, max_length=20)
    level = serializers.ChoiceField(choices=["1", "2", "3"], required=False)
    kind = serializers.ChoiceField(choices=Kind.values, required=False)
    ownership = serializers.ChoiceField(choices=Ownership.values, required=False)
    service = serializers.ChoiceField(choices=CareType.values, required=False)
    resettlement = serializers.BooleanField(required=False)
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)


class Pages(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_schema_operation_parameters(self, view):
        # The bounds DirectoryFilters holds them to: page 0 or page_size 101 is a 400.
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            field = DirectoryFilters().fields[parameter["name"]]
            parameter["schema"]["minimum"] = field.min_value
            if field.max_value is not None:
                parameter["schema"]["maximum"] = field.max_value
        return parameters


def _text(name: str) -> dict:
    """A text filter's schema, with the length DirectoryFilters allows."""
    return {"type": "string", "maxLength": DirectoryFilters().fields[name].max_length}


@extend_schema_view(
    get=extend_schema(
        operation_id="hospitals_list",
        tags=["directory"],
        parameters=[
            OpenApiParameter("q", _text("q"), description="name: Chinese, pinyin or initials"),
            OpenApiParameter("region", _text("region"), description="pooling region code"),
            OpenApiParameter("province", _text("province"), description="province code or name"),
            OpenApiParameter("level", OpenApiTypes.INT, enum=[1, 2, 3]),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=Kind.values),
            OpenApiParameter("ownership", OpenApiTypes.STR, enum=Ownership.values),
            OpenApiParameter("service", OpenApiTypes.STR, enum=CareType.values),
            OpenApiParameter("resettlement", OpenApiTypes.BOOL),
        ],
        responses={
            200: HospitalSerializer(many=True),
            400: OpenApiResponse(ErrorResponse, description="Invalid filter value"),
            404: OpenApiResponse(ErrorResponse, description="Page out of range"),
        },
    )
)
class HospitalList(generics.ListAPIView):
    serializer_class = HospitalSerializer
    pagination_class = Pages
    authentication_classes: list = []
    permission_classes: list = []

    def get_queryset(self):
        filters = DirectoryFilters(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        params = {k: v for k, v in self.request.query_params.items() if k in filters.fields}
        if filters.validated_data.get("resettlement") is False:
            params.pop("resettlement", None)
        elif "resettlement" in filters.validated_data:
            params["resettlement"] = "1"
        return directory(params)
