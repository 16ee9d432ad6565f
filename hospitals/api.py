"""GET /api/v1/hospitals: the public directory (shared/api.md)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, pagination, serializers

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


class Pages(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


@extend_schema_view(
    get=extend_schema(
        operation_id="hospitals_list",
        tags=["directory"],
        parameters=[
            OpenApiParameter(
                "q", OpenApiTypes.STR, description="name: Chinese, pinyin or initials"
            ),
            OpenApiParameter("region", OpenApiTypes.STR, description="pooling region code"),
            OpenApiParameter("province", OpenApiTypes.STR, description="province code or name"),
            OpenApiParameter("level", OpenApiTypes.INT, enum=[1, 2, 3]),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=Kind.values),
            OpenApiParameter("ownership", OpenApiTypes.STR, enum=Ownership.values),
            OpenApiParameter("service", OpenApiTypes.STR, enum=CareType.values),
            OpenApiParameter("resettlement", OpenApiTypes.BOOL),
        ],
    )
)
class HospitalList(generics.ListAPIView):
    serializer_class = HospitalSerializer
    pagination_class = Pages
    authentication_classes: list = []
    permission_classes: list = []

    def get_queryset(self):
        return directory(self.request.query_params)
