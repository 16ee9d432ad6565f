"""A new agency reviewer can work as soon as a superuser makes them agency staff: the group
"Agency reviewers" comes with every migrate (not only with the demo), and the admin's *Agency
staff* row puts the account in it and in the admin; removing the row takes both away."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from portal.models import Agency, AgencyStaff
from portal.staff import AGENCY_GROUP
from tests.portal.factories import AgencyFactory, AgencyStaffFactory, UserFactory
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


def test_every_migrated_database_has_the_agency_group_with_its_permissions():
    group = Group.objects.get(name=AGENCY_GROUP)  # no demo seeded here
    codenames = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert ("filings", "change_filing") in codenames
    assert ("settlement", "change_settlement") in codenames
    assert ("django_celery_beat", "view_periodictask") in codenames
    assert ("django_celery_beat", "change_periodictask") not in codenames  # look only
    assert not any(app == "auth" for app, _ in codenames)


def test_a_superuser_makes_a_new_reviewer_who_can_then_review(client, demo):
    newcomer = UserFactory(username="reviewer_new")
    assert not newcomer.is_staff and not newcomer.has_perm("filings.change_filing")
    agency = Agency.objects.get(region__code="232700")
    staff_login(client, "admin")
    response = client.post(
        reverse("admin:portal_agencystaff_add"), {"user": newcomer.pk, "agency": agency.pk}
    )
    assert response.status_code == 302, response.content[:2000]
    newcomer = type(newcomer).objects.get(pk=newcomer.pk)  # permissions are cached per object
    assert newcomer.is_staff
    assert newcomer.groups.filter(name=AGENCY_GROUP).exists()
    assert newcomer.has_perm("filings.change_filing")

    row = AgencyStaff.objects.get(user=newcomer)
    client.post(reverse("admin:portal_agencystaff_delete", args=[row.pk]), {"post": "yes"})
    newcomer = type(newcomer).objects.get(pk=newcomer.pk)
    assert not AgencyStaff.objects.filter(user=newcomer).exists()
    assert not newcomer.is_staff and not newcomer.has_perm("filings.change_filing")


def test_moving_the_row_to_another_account_takes_the_rights_from_the_first(client, demo):
    first = UserFactory(username="reviewer_first")
    second = UserFactory(username="reviewer_second")
    agency = AgencyFactory()
    staff_login(client, "admin")
    client.post(reverse("admin:portal_agencystaff_add"), {"user": first.pk, "agency": agency.pk})
    row = AgencyStaff.objects.get(user=first)
    response = client.post(
        reverse("admin:portal_agencystaff_change", args=[row.pk]),
        {"user": second.pk, "agency": agency.pk},
    )
    assert response.status_code == 302
    first = type(first).objects.get(pk=first.pk)
    second = type(second).objects.get(pk=second.pk)
    assert not first.is_staff and not first.groups.exists()
    assert second.is_staff and second.has_perm("filings.change_filing")


def test_a_superuser_keeps_the_admin_when_their_agency_row_goes(client, demo):
    boss = UserFactory(username="boss", is_superuser=True, is_staff=True)
    row = AgencyStaffFactory(user=boss)
    staff_login(client, "admin")
    client.post(
        reverse("admin:portal_agencystaff_changelist"),
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )
    boss.refresh_from_db()
    assert not AgencyStaff.objects.filter(pk=row.pk).exists()
    assert boss.is_staff and boss.is_superuser


def test_an_insured_persons_or_a_clerks_account_cannot_become_agency_staff(client, demo):
    agency = Agency.objects.get(region__code="232700")
    staff_login(client, "admin")
    for username in ("wangxiulan", "hosp_h46020000002"):
        user = type(demo[username]).objects.get(username=username)
        response = client.post(
            reverse("admin:portal_agencystaff_add"), {"user": user.pk, "agency": agency.pk}
        )
        assert response.status_code == 200  # the form again, with its error
        assert response.context["adminform"].form.errors["user"]
        user.refresh_from_db()
        assert not AgencyStaff.objects.filter(user=user).exists()
        assert not user.is_staff and not user.groups.exists()
