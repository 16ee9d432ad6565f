"""/api/schema/ (shared/api.md: the OpenAPI 3 schema) under a file name a client can save."""

from __future__ import annotations

from django.utils.http import content_disposition_header
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView

SCHEMA_FILE_STEM = "portal-api-v1"


class SchemaView(SpectacularAPIView):
    """drf-spectacular names the file after the title, which is Chinese: Django then encodes the
    whole header as RFC 2047 (`=?utf-8?b?...?=`), which neither browsers nor `curl -OJ` read.
    An ASCII name, by the format served (`portal-api-v1.yaml`, `portal-api-v1.json`)."""

    @extend_schema(**SCHEMA_KWARGS)  # as the view it replaces: not in the schema itself
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Disposition"] = content_disposition_header(
            False, f"{SCHEMA_FILE_STEM}.{request.accepted_renderer.format}"
        )
        return response
