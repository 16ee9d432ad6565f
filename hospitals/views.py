"""The public directory (定点医疗机构查询) and the hospital staff home page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from hospitals.models import CareType, Hospital, Kind, Level, Ownership
from hospitals.selectors import SORTS, directory, suspension_history
from portal.models import Province, Region
from portal.roles import clerk
from settlement.models import Settlement

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def page_size(params) -> int:
    """`page_size` from the query string, as in the JSON directory: 1 to 100, else 20."""
    try:
        size = int(params.get("page_size") or PAGE_SIZE)
    except ValueError:
        return PAGE_SIZE
    return size if 1 <= size <= MAX_PAGE_SIZE else PAGE_SIZE


def directory_list(request):
    paginator = Paginator(directory(request.GET), page_size(request.GET))
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "hospitals/directory.html",
        {
            "page": page,
            "provinces": Province.objects.all(),
            "regions": Region.objects.select_related("province"),
            "levels": Level.choices,
            "kinds": Kind.choices,
            "ownerships": Ownership.choices,
            "services": CareType.choices,
            "sorts": list(SORTS),
            "filters": request.GET,
        },
    )


def directory_detail(request, code: str):
    hospital = get_object_or_404(Hospital.objects.select_related("region", "province"), code=code)
    return render(
        request,
        "hospitals/detail.html",
        {"hospital": hospital, "suspensions": suspension_history(hospital)},
    )


@login_required
def staff_home(request):
    staff = clerk(request)
    hospital = Hospital.objects.select_related("region", "province").get(pk=staff.hospital_id)
    returned = Settlement.objects.filter(hospital=hospital, status=Settlement.Status.RETURNED)
    return render(
        request,
        "hospitals/home.html",
        {
            "hospital": hospital,
            "keys": hospital.api_keys.all(),
            "returned": returned.count(),
        },
    )
