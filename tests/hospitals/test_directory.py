"""The public directory pages, the admin import, and the append-only access log."""

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse

from hospitals.models import AccessLog, Hospital
from hospitals.services import access_log_record, search_keys

pytestmark = pytest.mark.django_db


def _many(n, province, region):
    Hospital.objects.bulk_create(
        Hospital(
            code=f"HX{i:08d}",
            name=f"测试医院{i}",
            province=province,
            region=region,
            level=1 + i % 3,
            kind="general",
            ownership="public",
            pinyin=f"ceshiyiyuan{i}",
            initials="csyy",
        )
        for i in range(n)
    )


@pytest.mark.parametrize("n", [10, 100])
def test_directory_page_makes_a_constant_number_of_queries(
    client, demo, n, django_assert_max_num_queries
):
    from portal.models import Region

    region = Region.objects.get(code="230100")
    _many(n, region.province, region)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("hospitals:directory") + "?page_size=100&q=csyy")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == n


def test_directory_search_by_chinese_pinyin_and_initials(client, demo):
    for q in ["哈尔滨医科大学附属第一医院", "haerbinyikedaxue", "hyd"]:
        html = client.get(reverse("hospitals:directory"), {"q": q}).content.decode()
        assert "哈尔滨医科大学附属第一医院" in html, q
        assert "三亚市人民医院" not in html, q


def test_directory_filters_live_in_the_query_string_and_show_an_empty_state(client, demo):
    response = client.get(reverse("hospitals:directory"), {"region": "460200", "level": "3"})
    assert {h.code for h in response.context["page"]} == {
        "H46020000001",
        "H46020000002",
        "H46020000003",
    }
    empty = client.get(reverse("hospitals:directory"), {"q": "不存在的医院"}).content.decode()
    assert "没有符合条件的定点医疗机构" in empty


def test_directory_renders_in_english(client, demo):
    html = client.get(reverse("hospitals:directory") + "?lang=en&region=460200").content.decode()
    assert "Designated hospitals" in html
    assert "Sanya" in html


def test_detail_page_shows_a_suspension_without_deleting_history(client, demo):
    import datetime

    Hospital.objects.filter(code="H23010300016").update(
        suspended_on=datetime.date(2026, 11, 1), suspension_reason="违规结算，暂停整改"
    )
    html = client.get(reverse("hospitals:detail", args=["H23010300016"])).content.decode()
    assert "暂停整改" in html and "2026-11-01" in html
    assert Hospital.objects.filter(code="H23010300016").exists()


def test_search_keys_give_full_pinyin_and_initials():
    assert search_keys("哈尔滨医科大学附属第一医院") == (
        "haerbinyikedaxuefushudiyiyiyuan",
        "hebykdxfsdyyy",
    )


def test_hospital_staff_home_shows_profile_and_keys(client, demo):
    from hospitals.services import api_key_create

    key, plain = api_key_create(hospital=Hospital.objects.get(code="H23010300001"))
    client.force_login(demo["hosp_h23010300001"])
    html = client.get(reverse("hospitals:home")).content.decode()
    assert key.prefix in html and plain not in html
    client.force_login(demo["wangxiulan"])
    assert client.get(reverse("hospitals:home")).status_code == 404


def test_csv_import_with_one_bad_row_writes_nothing_and_names_row_and_field(demo):
    import tablib

    from hospitals.resources import HospitalResource

    header = [
        "code",
        "name_zh",
        "name_en",
        "province",
        "region_code",
        "level",
        "kind",
        "ownership",
        "inpatient",
        "general_outpatient",
        "chronic_outpatient",
        "resettlement_designated",
    ]
    data = tablib.Dataset(headers=header)
    data.append(
        [
            "HNEW0000001",
            "新医院一",
            "",
            "海南省",
            "460200",
            "2",
            "general",
            "public",
            "1",
            "1",
            "0",
            "0",
        ]
    )
    data.append(
        [
            "HNEW0000002",
            "新医院二",
            "",
            "海南省",
            "460200",
            "9",
            "general",
            "public",
            "1",
            "1",
            "0",
            "0",
        ]
    )
    before = Hospital.objects.count()
    result = HospitalResource().import_data(data, dry_run=False, raise_errors=False)
    assert result.has_validation_errors() or result.has_errors()
    assert Hospital.objects.count() == before
    invalid = result.invalid_rows
    assert invalid and invalid[0].number == 2
    assert "level" in invalid[0].error_dict


def test_csv_import_of_valid_rows_fills_search_keys(demo):
    import tablib

    from hospitals.resources import HospitalResource

    data = tablib.Dataset(
        headers=[
            "code",
            "name_zh",
            "name_en",
            "province",
            "region_code",
            "level",
            "kind",
            "ownership",
            "inpatient",
            "general_outpatient",
            "chronic_outpatient",
            "resettlement_designated",
        ]
    )
    data.append(
        [
            "HNEW0000003",
            "三亚新医院",
            "",
            "海南省",
            "460200",
            "2",
            "general",
            "public",
            "1",
            "1",
            "0",
            "0",
        ]
    )
    result = HospitalResource().import_data(data, dry_run=False, raise_errors=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert Hospital.objects.get(code="HNEW0000003").initials == "syxyy"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_update_or_delete_on_the_access_log_fails_on_postgresql(settings):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's; runs with CI=true")
    row = access_log_record(subject_hash="a" * 64, purpose="test", outcome="ok")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).update(outcome="changed")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE hospitals_accesslog SET purpose = 'x'")
    assert AccessLog.objects.get(pk=row.pk).outcome == "ok"
