"""No full ID number in any rendered page or admin list (besides the audited reveal)."""

import pytest
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from portal.management.commands.demo_totp import current_code
from tests.conftest import full_id_numbers

pytestmark = pytest.mark.django_db


def _staff_login(client, username):
    client.post(reverse("account_login"), {"login": username, "password": "Demo#2026"})
    client.post(reverse("mfa_authenticate"), {"code": current_code(username)})


def _admin_pages():
    for model in admin.site._registry:
        opts = model._meta
        try:
            yield reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            continue


@pytest.mark.parametrize("username", ["admin", "agency_dxal"])
def test_admin_lists_and_change_pages_never_show_a_full_id_number(client, demo, username):
    from portal.models import InsuredPerson

    _staff_login(client, username)
    pages = list(_admin_pages())
    pages += [
        reverse("admin:portal_insuredperson_change", args=[p.pk])
        for p in InsuredPerson.objects.all()
    ]
    assert len(pages) > 5
    seen = 0
    for url in pages:
        response = client.get(url)
        if response.status_code == 200:
            seen += 1
            assert not full_id_numbers(response.content.decode()), url
    assert seen >= 5


@pytest.mark.parametrize("username", ["wangxiulan", "lijianguo", "chenming"])
def test_insured_pages_never_show_a_full_id_number(client, demo, username):
    client.post(reverse("account_login"), {"login": username, "password": "Demo#2026"})
    for url in ["/", reverse("notifications"), reverse("account_email")]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert not full_id_numbers(response.content.decode()), url


def test_the_scanner_finds_a_full_id_number():
    # Guard for the scans above: they would be worthless if the detector missed numbers.
    assert full_id_numbers("x 232701195603120223 y") == ["232701195603120223"]
    assert full_id_numbers("2327**********0223") == []
