"""The portal's URLs plus the reference view the eligibility benchmark compares against."""

from django.db import connection
from django.http import JsonResponse
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def minimal(request):
    """Reference (a): a minimal Django view doing one indexed query."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, region_id FROM portal_insuredperson WHERE id_hash = %s",
            [request.GET.get("h", "")],
        )
        row = cursor.fetchone()
    return JsonResponse({"found": row is not None})


urlpatterns = [path("bench/minimal", minimal), *portal_urlpatterns]
