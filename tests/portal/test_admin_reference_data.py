"""Reference data and staff assignments in the admin: agency staff look, superusers change (the
official calendar's corrections excepted: agency staff keep them, domain.md §2.3);
notifications are shown to the agency of the person told."""

import pytest
from django.urls import reverse

from filings.models import Filing
from portal.models import Agency, AgencyStaff, Notification, Province, Region
from portal.notifications import notify
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


def test_agency_staff_cannot_move_themselves_to_another_regions_agency(client, demo):
    staff_login(client, "agency_shenyang")
    mine = AgencyStaff.objects.get(user__username="agency_shenyang")
    other = Agency.objects.get(region__code="232700")
    url = reverse("admin:portal_agencystaff_change", args=[mine.pk])
    assert client.get(url).status_code == 200  # may look
    response = client.post(url, {"user": mine.user_id, "agency": other.pk})
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.agency.region.code == "210100"
    add = client.post(
        reverse("admin:portal_agencystaff_add"), {"user": mine.user_id, "agency": other.pk}
    )
    assert add.status_code == 403
    theirs = AgencyStaff.objects.get(user__username="agency_dxal")
    assert (
        client.get(reverse("admin:portal_agencystaff_change", args=[theirs.pk])).status_code == 404
    )


@pytest.mark.parametrize(
    ("model", "instance"),
    [
        ("region", lambda: Region.objects.get(code="232700")),
        ("province", lambda: Province.objects.get(code="230000")),
        ("agency", lambda: Agency.objects.get(region__code="210100")),
    ],
)
def test_agency_staff_see_reference_data_but_cannot_change_it(client, demo, model, instance):
    obj = instance()
    staff_login(client, "agency_shenyang")
    url = reverse(f"admin:portal_{model}_change", args=[obj.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"name": "改名"}).status_code == 403
    assert client.post(reverse(f"admin:portal_{model}_delete", args=[obj.pk])).status_code == 403
    obj.refresh_from_db()
    assert obj.name != "改名"


def test_superusers_still_change_reference_data(client, demo):
    staff_login(client, "admin")
    region = Region.objects.get(code="210200")
    page = client.get(reverse("admin:portal_region_change", args=[region.pk]))
    assert page.status_code == 200 and b'name="_save"' in page.content


def test_notifications_in_the_admin_are_those_of_the_staffs_region(client, demo):
    dxal = Filing.objects.get(number="BA232700000001").person.user
    shenyang = Filing.objects.get(number="BA210100000001").person.user
    told_dxal = notify(user=dxal, notice="materials_accepted", params={"n": "BA232700000001"})
    told_shenyang = notify(
        user=shenyang, notice="materials_accepted", params={"n": "BA210100000001"}
    )
    staff_login(client, "agency_shenyang")
    listing = client.get(reverse("admin:portal_notification_changelist"))
    shown = {n.pk for n in listing.context["cl"].result_list}
    assert told_shenyang.pk in shown and told_dxal.pk not in shown
    url = reverse("admin:portal_notification_change", args=[told_dxal.pk])
    assert client.get(url).status_code == 404
    assert Notification.objects.filter(pk=told_dxal.pk).exists()


def test_hospital_staff_are_assigned_by_the_agency_of_the_hospitals_region(
    client, demo, django_user_model
):
    from hospitals.models import Hospital, HospitalStaff

    staff_login(client, "agency_shenyang")
    listing = client.get(reverse("admin:hospitals_hospitalstaff_changelist"))
    shown = {row.hospital.code for row in listing.context["cl"].result_list}
    assert shown == {"H21010000001"}
    newcomer = django_user_model.objects.create_user("clerk", "clerk@example.cn", "x-Pass-2026")
    elsewhere = Hospital.objects.get(code="H23010300001")
    page = client.post(
        reverse("admin:hospitals_hospitalstaff_add"),
        {"user": newcomer.pk, "hospital": elsewhere.pk},
    )
    assert page.status_code == 200 and page.context["adminform"].form.errors
    assert not HospitalStaff.objects.filter(user=newcomer).exists()
    own = Hospital.objects.get(code="H21010000001")
    client.post(
        reverse("admin:hospitals_hospitalstaff_add"), {"user": newcomer.pk, "hospital": own.pk}
    )
    assert HospitalStaff.objects.get(user=newcomer).hospital == own


def test_rule_2_3_agency_staff_add_change_and_delete_the_official_calendars_corrections(
    client, demo
):
    """domain.md §2.3: agency administrators add or correct days of the official calendar in
    the admin (next year's make-up days, published late), each change kept in its history."""
    import datetime

    from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry

    from filings.models import WorkingDayCorrection
    from filings.selectors import is_working_day_function

    saturday = datetime.date(2027, 2, 20)  # a Saturday, made a working day
    staff_login(client, "agency_shenyang")
    url = reverse("admin:filings_workingdaycorrection_add")
    assert client.get(url).status_code == 200
    added = client.post(url, {"date": saturday.isoformat(), "is_working_day": "on", "note": "调休"})
    assert added.status_code == 302
    correction = WorkingDayCorrection.objects.get(date=saturday)
    assert is_working_day_function()(saturday)
    change = reverse("admin:filings_workingdaycorrection_change", args=[correction.pk])
    changed = client.post(change, {"date": saturday.isoformat(), "note": "更正：不调休"})
    assert changed.status_code == 302
    correction.refresh_from_db()
    assert not correction.is_working_day and not is_working_day_function()(saturday)
    delete = reverse("admin:filings_workingdaycorrection_delete", args=[correction.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not WorkingDayCorrection.objects.filter(date=saturday).exists()
    history = LogEntry.objects.filter(
        user__username="agency_shenyang", content_type__model="workingdaycorrection"
    )
    assert sorted(history.values_list("action_flag", flat=True)) == [ADDITION, CHANGE, DELETION]


def test_agency_staff_see_the_job_schedules_but_do_not_change_them(client, demo):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.first()
    assert task is not None
    staff_login(client, "agency_shenyang")
    url = reverse("admin:django_celery_beat_periodictask_change", args=[task.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Regtask" not in page.content.decode()  # the edit form's task picker, untranslated
    client.post(
        reverse("admin:django_celery_beat_periodictask_changelist"),
        {"action": "disable_tasks", "_selected_action": [task.pk]},
    )
    task.refresh_from_db()
    assert task.enabled
    delete = reverse("admin:django_celery_beat_periodictask_delete", args=[task.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert PeriodicTask.objects.filter(pk=task.pk).exists()


def test_superusers_keep_the_schedules_actions(client, demo):
    staff_login(client, "admin")
    page = client.get(reverse("admin:django_celery_beat_periodictask_changelist"))
    assert b"disable_tasks" in page.content and b"run_tasks" in page.content


def _policy(region, year=2031):
    return {
        "region": region.pk,
        "scheme": "employee",
        "year": year,
        "level": 3,
        "deductible": "800.00",
        "ratio": "0.850",
        "annual_cap": "300000.00",
        "class_b_rate": "0.10",
    }


def test_agency_staff_add_regional_policies_for_their_own_region_only(client, demo):
    from settlement.models import BenefitPolicy

    own, other = Region.objects.get(code="210100"), Region.objects.get(code="232700")
    staff_login(client, "agency_shenyang")
    url = reverse("admin:settlement_benefitpolicy_add")
    form = client.get(url).context["adminform"].form
    assert list(form.fields["region"].queryset) == [own]
    page = client.post(url, _policy(other))
    assert page.status_code == 200 and "region" in page.context["adminform"].form.errors
    assert not BenefitPolicy.objects.filter(region=other, year=2031).exists()
    client.post(url, _policy(own))
    assert BenefitPolicy.objects.filter(region=own, year=2031).exists()


def test_agency_staff_cannot_move_a_person_to_another_region(client, demo):
    from portal.models import InsuredPerson

    person = InsuredPerson.objects.get(name="陈明")
    other = Region.objects.get(code="232700")
    staff_login(client, "agency_shenyang")
    url = reverse("admin:portal_insuredperson_change", args=[person.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"region": other.pk})
    page = client.post(url, data)
    assert page.status_code in (200, 403)
    person.refresh_from_db()
    assert person.region.code == "210100"


def test_an_edit_of_a_persons_record_is_in_the_audit_log_field_by_field(client, demo):
    """Unticking "insured and active" decides every hospital's answer: it was recorded only
    in Django's edit log, without old and new values or the address it came from."""
    from portal.models import AuditEvent, InsuredPerson

    person = InsuredPerson.objects.get(name="陈明")
    staff_login(client, "agency_shenyang")
    url = reverse("admin:portal_insuredperson_change", args=[person.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.pop("active", None)  # unticked
    data["social_security_no"] = "SY99887766"
    data["name"] = "陈明明"
    assert client.post(url, data).status_code == 302
    person.refresh_from_db()
    assert not person.active
    event = AuditEvent.objects.get(action="insured.update", object_id=str(person.pk))
    assert event.actor == demo["agency_shenyang"] and event.ip == "127.0.0.1"
    assert event.region_id == person.region_id
    assert "参保状态正常：是 → 否" in event.reason
    assert "SY99887766" not in event.reason and "社会保障卡号：已更改" in event.reason
    assert "陈明明" not in event.reason and "陈明 " not in event.reason  # names masked
    assert "陈*" in event.reason
    # Saved without a change: nothing to record.
    client.post(url, {**data, "social_security_no": "SY99887766"})
    assert AuditEvent.objects.filter(action="insured.update").count() == 1


def test_a_hospital_clerk_account_is_one_without_another_role(client, demo, django_user_model):
    from hospitals.models import Hospital, HospitalStaff
    from portal.models import InsuredPerson

    own = Hospital.objects.get(code="H21010000001")
    person = InsuredPerson.objects.get(name="陈明").user
    colleague = django_user_model.objects.get(username="agency_dxal")
    staff_login(client, "agency_shenyang")
    url = reverse("admin:hospitals_hospitalstaff_add")
    for account in (person, colleague):
        page = client.post(url, {"user": account.pk, "hospital": own.pk})
        assert page.status_code == 200 and "user" in page.context["adminform"].form.errors
        assert not HospitalStaff.objects.filter(user=account).exists()
    mine = HospitalStaff.objects.get(hospital=own)
    change = reverse("admin:hospitals_hospitalstaff_change", args=[mine.pk])
    assert client.get(change).context["adminform"].form["user"].value() == mine.user_id
