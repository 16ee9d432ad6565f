"""The hospitals admin: the access log by region, suspension through the services, CSV import."""

import pytest
from django.urls import reverse

from hospitals.models import AccessLog, Hospital
from hospitals.services import access_log_record
from portal.lib import idnumbers
from portal.models import Region
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
WANG = "232701195603120223"  # insured in 232700 (Daxinganling)
CHEN = "210103198512010131"  # insured in 210100 (Shenyang)


def listed(response) -> set[int]:
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


@pytest.fixture
def log_rows(demo):
    dxal, shenyang = Region.objects.get(code="232700"), Region.objects.get(code="210100")
    sanya_hospital = Hospital.objects.get(code="H46020000002")
    return {
        # A Sanya hospital checks a Daxinganling person: Daxinganling's row (whose record).
        "dxal_subject": access_log_record(
            subject_hash=idnumbers.id_hash(WANG),
            subject_region_id=dxal.pk,
            hospital_id=sanya_hospital.pk,
            purpose="eligibility",
            outcome="eligible",
        ),
        # Daxinganling's own staff read a record: Daxinganling's row (who read).
        "dxal_agency": access_log_record(
            subject_hash=idnumbers.id_hash(CHEN),
            agency_region=dxal,
            purpose="review",
            outcome="shown",
        ),
        # Shenyang's business only.
        "shenyang": access_log_record(
            subject_hash=idnumbers.id_hash(CHEN),
            subject_region_id=shenyang.pk,
            agency_region=shenyang,
            purpose="review",
            outcome="shown",
        ),
    }


def test_agency_staff_see_only_their_regions_access_log(client, log_rows):
    staff_login(client, "agency_dxal")
    url = reverse("admin:hospitals_accesslog_changelist")
    assert listed(client.get(url)) == {log_rows["dxal_subject"].pk, log_rows["dxal_agency"].pk}
    other = reverse("admin:hospitals_accesslog_change", args=[log_rows["shenyang"].pk])
    assert client.get(other).status_code in {302, 404}  # never the row itself
    own = reverse("admin:hospitals_accesslog_change", args=[log_rows["dxal_subject"].pk])
    assert client.get(own).status_code == 200


def test_agency_staff_of_another_region_do_not_see_these_rows(client, log_rows):
    staff_login(client, "agency_shenyang")
    url = reverse("admin:hospitals_accesslog_changelist")
    assert listed(client.get(url)) == {log_rows["shenyang"].pk}


def test_access_log_search_by_full_id_number_uses_the_keyed_hash(client, log_rows):
    staff_login(client, "agency_dxal")
    url = reverse("admin:hospitals_accesslog_changelist")
    assert listed(client.get(url, {"q": WANG}, follow=True)) == {log_rows["dxal_subject"].pk}
    # Spaces and a lower-case check letter are the same number.
    assert listed(client.get(url, {"q": "2327 0119 5603 1202 23"}, follow=True)) == {
        log_rows["dxal_subject"].pk
    }
    assert listed(client.get(url, {"q": CHEN}, follow=True)) == {log_rows["dxal_agency"].pk}
    # Searching the region's log never reaches another region's rows.
    assert log_rows["shenyang"].pk not in listed(client.get(url, {"q": CHEN}, follow=True))
    # The plain number is not stored anywhere in the log.
    assert not AccessLog.objects.filter(subject_hash__contains=WANG).exists()


def test_access_log_cannot_be_changed_or_deleted_in_the_admin(client, log_rows):
    staff_login(client, "admin")
    row = log_rows["shenyang"]
    client.post(
        reverse("admin:hospitals_accesslog_changelist"),
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )
    assert AccessLog.objects.filter(pk=row.pk).exists()
    assert client.get(reverse("admin:hospitals_accesslog_add")).status_code == 403


# Suspension from direct settlement


def test_suspend_and_resume_write_audit_events_and_keep_the_history(
    demo, django_capture_on_commit_callbacks
):
    import datetime

    from hospitals.selectors import suspension_history
    from hospitals.services import SuspensionError, hospital_resume, hospital_suspend
    from portal.models import AuditEvent

    hospital = Hospital.objects.get(code="H23270000002")
    staff = demo["agency_dxal"]
    with django_capture_on_commit_callbacks() as callbacks:
        hospital_suspend(
            hospital=hospital,
            actor=staff,
            suspended_on=datetime.date(2026, 3, 1),
            reason="违规结算",
        )
    assert callbacks, "the eligibility snapshot is dropped on commit"
    with pytest.raises(SuspensionError, match="already_suspended"):
        hospital_suspend(
            hospital=hospital, actor=staff, suspended_on=datetime.date(2026, 3, 2), reason="x"
        )
    hospital_resume(hospital=hospital, actor=staff, reason="整改完成")
    with pytest.raises(SuspensionError, match="not_suspended"):
        hospital_resume(hospital=hospital, actor=staff)
    with pytest.raises(SuspensionError, match="reason_required"):
        hospital_suspend(
            hospital=hospital, actor=staff, suspended_on=datetime.date(2026, 5, 1), reason=" "
        )
    hospital_suspend(
        hospital=hospital, actor=staff, suspended_on=datetime.date(2026, 6, 1), reason="再次违规"
    )

    hospital.refresh_from_db()
    assert hospital.suspended_on == datetime.date(2026, 6, 1)
    assert hospital.suspension_reason == "再次违规"
    events = AuditEvent.objects.filter(
        object_type="hospitals.hospital", object_id=str(hospital.pk)
    ).order_by("id")
    assert [(e.action, e.from_state, e.to_state, e.reason) for e in events] == [
        ("hospital.suspend", "active", "suspended:2026-03-01", "违规结算"),
        ("hospital.resume", "suspended:2026-03-01", "active", "整改完成"),
        ("hospital.suspend", "active", "suspended:2026-06-01", "再次违规"),
    ]
    assert all(e.actor == staff and e.region.code == "232700" for e in events)
    current, past = suspension_history(hospital)
    assert (current.suspended_on, current.reason, current.resumed_at) == (
        datetime.date(2026, 6, 1),
        "再次违规",
        None,
    )
    assert past.suspended_on == datetime.date(2026, 3, 1) and past.reason == "违规结算"
    assert past.resumed_at is not None and past.resume_reason == "整改完成"
    assert past.decided_by == past.resumed_by == "agency_dxal"


def test_admin_actions_suspend_and_resume_through_the_services_in_their_region_only(client, demo):
    from portal.models import AuditEvent

    staff_login(client, "agency_dxal")
    own = Hospital.objects.get(code="H23270000001")
    other = Hospital.objects.get(code="H46020000002")
    url = reverse("admin:hospitals_hospital_changelist")
    selected = {"action": "suspend", "_selected_action": [own.pk, other.pk]}
    form = client.post(url, selected)
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()
    assert Hospital.objects.get(pk=own.pk).suspended_on is None  # nothing before the form
    client.post(url, {**selected, "apply": "1", "suspended_on": "2026-04-01", "reason": "欺诈骗保"})
    own.refresh_from_db(), other.refresh_from_db()
    assert str(own.suspended_on) == "2026-04-01" and own.suspension_reason == "欺诈骗保"
    assert other.suspended_on is None  # another region's hospital is not theirs to suspend
    event = AuditEvent.objects.get(action="hospital.suspend", object_id=str(own.pk))
    assert event.actor.username == "agency_dxal" and event.reason == "欺诈骗保"

    client.post(url, {"action": "resume", "_selected_action": [own.pk]})
    own.refresh_from_db()
    assert own.suspended_on is None and own.suspension_reason == ""
    assert AuditEvent.objects.filter(action="hospital.resume", object_id=str(own.pk)).exists()

    change = client.get(reverse("admin:hospitals_hospital_change", args=[own.pk]))
    html = change.content.decode()
    assert "2026-04-01" in html and "欺诈骗保" in html  # the past suspension is still shown
    assert 'name="suspended_on"' not in html  # suspension is changed only by the actions


# Import with a preview (django-import-export)

HEADER = (
    "code,name_zh,name_en,province,region_code,level,kind,ownership,"
    "inpatient,general_outpatient,chronic_outpatient,resettlement_designated"
)
GOOD_ROW = "H23270000901,大兴安岭新医院,,黑龙江省,232700,2,general,public,1,1,0,0"
BAD_ROW = "H23270000902,大兴安岭另一医院,,黑龙江省,232700,9,general,public,1,1,0,0"  # level 9


def _post_import(client, rows: list[str]):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("admin:hospitals_hospital_import")
    form = client.get(url).context["form"]
    csv_choice = next(v for v, label in form.fields["format"].choices if label == "csv")
    upload = SimpleUploadedFile(
        "hospitals.csv", "\n".join([HEADER, *rows]).encode(), content_type="text/csv"
    )
    return client.post(url, {"resource": "0", "format": csv_choice, "import_file": upload})


def test_admin_import_preview_shows_the_bad_row_and_writes_nothing(client, demo):
    staff_login(client, "agency_dxal")
    before = set(Hospital.objects.values_list("code", flat=True))
    response = _post_import(client, [GOOD_ROW, BAD_ROW])
    assert response.status_code == 200
    result = response.context["result"]
    assert result.has_validation_errors()
    (invalid,) = result.invalid_rows
    assert invalid.number == 2 and "level" in invalid.error_dict
    html = response.content.decode()
    # The page names the row, the field and the problem (in the user's language).
    errors = html[html.index('class="validation-error-container"') :]
    assert "H23270000902" in errors and "H23270000901" not in errors
    assert 'class="validation-error-field-label">level' in errors
    assert "9 不是有效选项" in errors
    assert 'name="import_file_name"' not in html  # no confirm button while a row is invalid
    assert set(Hospital.objects.values_list("code", flat=True)) == before


def test_admin_import_of_valid_rows_previews_then_writes_on_confirm(client, demo):
    staff_login(client, "agency_dxal")
    preview = _post_import(client, [GOOD_ROW])
    assert not preview.context["result"].has_validation_errors()
    assert not Hospital.objects.filter(code="H23270000901").exists()  # a preview writes nothing
    confirm = preview.context["confirm_form"]
    client.post(
        reverse("admin:hospitals_hospital_process_import"),
        {name: confirm[name].value() for name in confirm.fields},
    )
    created = Hospital.objects.get(code="H23270000901")
    assert created.region.code == "232700" and created.initials.startswith("dxalxyy")


SHENYANG_ROW = "H23270000903,沈阳新医院,,辽宁省,210100,2,general,public,1,1,0,0"


def test_agency_staff_import_only_their_own_regions_hospitals(client, demo):
    staff_login(client, "agency_dxal")
    before = {h.code: (h.region_id, h.name) for h in Hospital.objects.all()}
    # A new hospital of another region, and an existing one moved into Daxinganling.
    moved = "H21010000001,沈阳挪用医院,,黑龙江省,232700,3,general,public,1,1,0,0"
    response = _post_import(client, [GOOD_ROW, SHENYANG_ROW, moved])
    result = response.context["result"]
    assert result.has_validation_errors()
    assert sorted(row.number for row in result.invalid_rows) == [2, 3]
    for row in result.invalid_rows:
        assert "region" in row.error_dict
    assert "您只能导入本统筹区（232700 大兴安岭地区）的医疗机构" in response.content.decode()
    assert 'name="import_file_name"' not in response.content.decode()
    assert {h.code: (h.region_id, h.name) for h in Hospital.objects.all()} == before


def test_superuser_imports_any_region(client, demo):
    staff_login(client, "admin")
    preview = _post_import(client, [SHENYANG_ROW])
    assert not preview.context["result"].has_validation_errors()


def test_agency_staff_see_other_regions_hospitals_read_only(client, demo):
    staff_login(client, "agency_dxal")
    other = Hospital.objects.get(code="H21010000001")  # Shenyang
    own = Hospital.objects.filter(region__code="232700").first()
    page = client.get(reverse("admin:hospitals_hospital_change", args=[other.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    data = {"code": other.code, "name": "改名", "region": own.region_id}
    response = client.post(reverse("admin:hospitals_hospital_change", args=[other.pk]), data)
    assert response.status_code == 403
    assert Hospital.objects.get(pk=other.pk).name == other.name
    delete = client.post(
        reverse("admin:hospitals_hospital_delete", args=[other.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403 and Hospital.objects.filter(pk=other.pk).exists()
    own_page = client.get(reverse("admin:hospitals_hospital_change", args=[own.pk]))
    assert 'name="_save"' in own_page.content.decode()


def test_agency_staff_add_hospitals_in_their_own_region_only(client, demo):
    staff_login(client, "agency_dxal")
    dxal, shenyang = Region.objects.get(code="232700"), Region.objects.get(code="210100")
    url = reverse("admin:hospitals_hospital_add")
    form = client.get(url).context["adminform"].form
    assert list(form.fields["region"].queryset) == [dxal]
    assert list(form.fields["province"].queryset) == [dxal.province]
    data = {
        "code": "H23270000909",
        "name": "沈阳冒名医院",
        "province": shenyang.province_id,
        "region": shenyang.pk,
        "level": 2,
        "kind": "general",
        "ownership": "public",
        "inpatient": "on",
    }
    refused = client.post(url, data)
    assert refused.status_code == 200 and "region" in refused.context["adminform"].form.errors
    assert not Hospital.objects.filter(code="H23270000909").exists()
    client.post(
        url, {**data, "name": "大兴安岭新院", "province": dxal.province_id, "region": dxal.pk}
    )
    assert Hospital.objects.get(code="H23270000909").region == dxal


@pytest.mark.parametrize("model_name", ["apikey", "hospitalstaff"])
def test_the_hospital_picker_of_a_key_or_a_clerk_offers_the_agencys_own_hospitals(
    client, demo, model_name
):
    """The clerk form offered every region's hospitals (20 and more), then refused the pick."""
    from hospitals.models import Hospital

    staff_login(client, "agency_dxal")
    found = client.get(
        "/admin/autocomplete/",
        {"app_label": "hospitals", "model_name": model_name, "field_name": "hospital"},
    ).json()["results"]
    codes = {Hospital.objects.get(pk=row["id"]).code for row in found}
    own = set(Hospital.objects.filter(region__code="232700").values_list("code", flat=True))
    assert codes == own
