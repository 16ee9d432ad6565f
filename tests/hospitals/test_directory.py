"""The public directory pages, the admin import, and the append-only access log."""

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlparse

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


HYD = {"H23010300001", "H23010300002", "H23010300003", "H23010300004"}  # 哈医大 一/二/三/四院


def codes(client, **params) -> list[str]:
    response = client.get(reverse("hospitals:directory"), {"page_size": 100, **params})
    assert response.status_code == 200
    return [h.code for h in response.context["page"]]


SEARCHES = [
    ("哈尔滨医科大学附属第一医院", {"H23010300001"}),
    ("哈尔滨医科大学", HYD),
    ("haerbinyikedaxuefushudiyiyiyuan", {"H23010300001"}),
    ("haerbinyikedaxue", HYD),
    ("HaErBin YiKe DaXue", HYD),
    # Initials, one per word, from the start: 哈(尔滨) 医(科) 大(学).
    ("hyd", HYD),
    ("zyd", {"H21010000001"}),  # 中国医大
    # Initials, one per character, from the start.
    ("hebykdxfsdyyy", {"H23010300001"}),
    ("sysrmyy", {"H46020000002"}),
    ("hebs", {"H23010300015", "H23010300016", "H23010300017", "H23010300018"}),
]


def test_directory_search_by_chinese_pinyin_and_initials(client, demo):
    # One seeded demo for all cases: seeding is the slow part.
    for q, expected in SEARCHES:
        assert set(codes(client, q=q)) == expected, q


def test_initials_do_not_match_scattered_letters(client, demo):
    """h…y…d also spells 黑龙江中医药大学 and 黑龙江远东: not what someone typing 哈医大 means."""
    found = set(codes(client, q="hyd"))
    assert not found & {"H23010300010", "H23010300011", "H23010300014"}
    assert codes(client, q="yd") == []  # a letter-pair from the middle of a name finds nothing


def test_resettlement_filter_alone(client, demo):
    assert set(codes(client, resettlement="1")) == {"H46020000001", "H46020000002", "H46020000003"}


def test_directory_sorts_by_each_offered_key(client, demo):
    from hospitals.selectors import SORTS

    hospitals = {h.code: h for h in Hospital.objects.select_related("region")}
    keys = {
        "code": lambda h: h.code,
        "name": lambda h: (h.pinyin, h.code),
        "level": lambda h: (-h.level, h.code),
        "region": lambda h: (h.region.code, h.code),
    }
    assert set(keys) == set(SORTS)
    for sort, key in keys.items():
        found = codes(client, sort=sort)
        assert len(found) == len(hospitals) == 27, sort
        assert found == sorted(found, key=lambda code: key(hospitals[code])), sort
    found = codes(client, sort="drop table")  # an unknown sort falls back to the code
    assert found == sorted(found)


class _Links(HTMLParser):
    """The links and the named form inputs of a page."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.inputs: dict[str, str | None] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag == "input" and attrs.get("name"):
            self.inputs[attrs["name"]] = attrs.get("value")


def test_pagination_links_keep_the_filters_and_the_page_size(client, demo):
    params = {"region": "230100", "level": "3", "sort": "name", "page_size": "5"}
    response = client.get(reverse("hospitals:directory"), params)
    page = response.context["page"]
    assert page.paginator.count == 15 and len(page.object_list) == 5
    links = _Links()
    links.feed(response.content.decode())
    nav = [href for href in links.hrefs if "page=" in href]
    assert nav, "no pagination links"
    next_query = parse_qs(urlparse(nav[-1]).query)
    assert next_query == {k: [v] for k, v in {**params, "page": "2"}.items()}
    second = client.get(reverse("hospitals:directory"), next_query)
    assert second.context["page"].number == 2
    assert not {h.code for h in page} & {h.code for h in second.context["page"]}
    form_fields = links.inputs
    assert form_fields.get("page_size") == "5"  # a new search keeps the chosen page size


def test_web_directory_honours_the_page_size(client, demo):
    for asked, size in [("5", 5), ("100", 27), ("0", 20), ("101", 20), ("x", 20), ("", 20)]:
        response = client.get(reverse("hospitals:directory"), {"page_size": asked})
        assert len(response.context["page"].object_list) == size, asked


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


def test_detail_page_shows_a_suspension_and_keeps_it_after_resumption(client, demo):
    import datetime

    from hospitals.services import hospital_resume, hospital_suspend

    hospital = Hospital.objects.get(code="H23010300016")
    hospital_suspend(
        hospital=hospital,
        actor=demo["agency_dxal"],
        suspended_on=datetime.date(2026, 11, 1),
        reason="违规结算，暂停整改",
    )
    html = client.get(reverse("hospitals:detail", args=["H23010300016"])).content.decode()
    assert "暂停整改" in html and "2026-11-01" in html
    hospital_resume(hospital=hospital, actor=demo["agency_dxal"])
    html = client.get(reverse("hospitals:detail", args=["H23010300016"])).content.decode()
    assert 'id="suspension-history"' in html
    assert "违规结算，暂停整改" in html and "2026-11-01" in html
    assert "agency_dxal" not in html  # who decided is for the admin, not the public page
    assert Hospital.objects.get(code="H23010300016").suspended_on is None


def test_search_keys_give_full_pinyin_and_initials():
    assert search_keys("哈尔滨医科大学附属第一医院") == (
        "haerbinyikedaxuefushudiyiyiyuan",
        "hebykdxfsdyyy hydfdy",
    )
    assert search_keys("三亚市中医院（Sanya）") == ("sanyashizhongyiyuan", "syszyy sszy")


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
            "H23270000901",
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
            "H23270000902",
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
            "H23270000903",
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
    assert Hospital.objects.get(code="H23270000903").initials == "syxyy sxy"


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


def test_a_database_with_old_search_keys_gets_todays_from_the_migration(client, demo):
    from importlib import import_module

    from django.apps import apps

    # As imported before the initials by word existed: letters per character only.
    Hospital.objects.filter(name__startswith="哈尔滨医科大学附属").update(initials="hebykdx")
    assert not {"H23010300001"} & set(codes(client, q="hyd"))
    import_module("hospitals.migrations.0004_recompute_search_keys").forwards(apps, None)
    assert "H23010300001" in codes(client, q="hyd")
    for hospital in Hospital.objects.all():
        assert (hospital.pinyin, hospital.initials) == search_keys(hospital.name)
