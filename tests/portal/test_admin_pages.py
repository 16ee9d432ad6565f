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
    # Working-day corrections are agency staff's to add too (domain.md §2.3).
    for reference in ("region", "province", "agency", "agencystaff"):
        assert not any(f"/{reference}/add/" in url for url in agency), reference


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_agency_staffs_admin_pages_speak_their_language_and_label_their_fields(world, lang):
    """Reviewers work in the admin all day: every page they reach (the index, each list, a
    change page, each add page, the clerk invitation) is checked as the public pages are
    (tests/portal/test_page_language.py). That includes the job schedules' pages, which are
    django-celery-beat's (its catalogue lacks the admin's strings, and it describes a crontab
    in English only); what is stored in its tables (a schedule's name, a task's dotted path)
    is data, as the portal's own tables are."""
    from tests.portal.test_page_language import Page, _in_language, _report, check, database_texts

    client = _in_language(matrix._client(world, matrix.X), lang)
    urls = list(_pages(world, matrix.X))
    assert any("/django_celery_beat/crontabschedule/" in u for u in urls)
    urls += [reverse("admin:index"), reverse("admin:hospitals_hospitalstaff_invite")]
    data = database_texts(extra_apps=("django_celery_beat",))
    findings: dict[str, dict[str, list[str]]] = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        page = Page(url, matrix.X, response.content.decode(), 200)
        for kind, texts in check(page, lang, data).items():
            for text in texts:
                findings.setdefault(kind, {}).setdefault(text, []).append(url)
    assert len(urls) > 30
    report = [_report(f"{lang}: {kind}", found) for kind, found in sorted(findings.items())]
    assert not findings, "\n".join(report)


@pytest.mark.parametrize("actor", [matrix.SU, matrix.X])
def test_the_admin_lists_the_review_queues_first_and_the_job_schedules_last(world, actor):
    """Reviewers open the admin for their queues: filings, then claims and settlements; Django
    would sort the apps by name and put the job schedules ("周期任务") on top."""
    import re

    client = matrix._client(world, actor)
    html = client.get(reverse("admin:index")).content.decode()
    order = re.findall(r'<div class="app-([\w-]+) module', html)
    assert order[:4] == ["filings", "settlement", "hospitals", "portal"], order
    assert order.index("django_celery_beat") > order.index("portal"), order
    sidebar = client.get(reverse("admin:filings_filing_changelist")).content.decode()
    assert re.findall(r'<div class="app-([\w-]+) module', sidebar) == order
