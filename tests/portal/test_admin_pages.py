"""Every admin page renders for those who may open it: each registered model's list, the change
page of a row in reach and the add page where adding is allowed, for a superuser and for agency
staff (whose rows are their region's), on the demo."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from tests.portal import test_permission_matrix as matrix

pytestmark = pytest.mark.django_db
world = matrix.world


def _pages(world, actor):
    """(url, expected status) of every admin page `actor` should be able to open."""
    user = world["users"][actor]
    request = RequestFactory().get("/admin/")
    request.user = user
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        if not model_admin.has_view_or_change_permission(request):
            continue
        yield changelist
        row = model_admin.get_queryset(request).order_by("pk").first()
        if row is not None:
            yield reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row.pk])
        if model_admin.has_add_permission(request):
            yield reverse(f"admin:{meta.app_label}_{meta.model_name}_add")


@pytest.mark.parametrize("actor", [matrix.SU, matrix.X])
def test_every_admin_page_in_reach_renders(world, actor):
    client = matrix._client(world, actor)
    pages = list(_pages(world, actor))
    assert len(pages) > 30  # the lists, change and add pages of every app
    failures = []
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            failures.append(f"{url}: {response.status_code}")
    assert not failures, "\n".join(failures)


def test_agency_staff_reach_fewer_add_pages_than_a_superuser(world):
    superuser = {url for url in _pages(world, matrix.SU) if url.endswith("/add/")}
    agency = {url for url in _pages(world, matrix.X) if url.endswith("/add/")}
    assert agency < superuser
    for reference in ("region", "province", "agency", "agencystaff", "workingdaycorrection"):
        assert not any(f"/{reference}/add/" in url for url in agency), reference
