"""The desk answer speaks to the clerk in words, not in the API's codes."""

import pytest

pytestmark = pytest.mark.django_db


def test_desk_shows_the_category_and_filing_status_in_words(client, demo):
    client.force_login(demo["hosp_h46020000002"])
    response = client.post(
        "/hospitals/check/",
        {"id_number": "232701195603120223", "name": "王秀兰", "care_type": "inpatient"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-verdict="eligible"' in html
    category = html.split('data-category="long_term">')[1].split("</dd>")[0]
    assert category == "异地长期居住备案"
    assert "· 已批准（生效）</dd>" in html and "· approved</dd>" not in html


@pytest.mark.parametrize("visit", ["0001-01-01", "9999-12-31"])
def test_a_mistyped_visit_year_is_told_not_answered_red(client, demo, visit):
    """A visit date years away was checked and answered "not eligible" in red: the clerk
    would send the patient away for a typing slip."""
    client.force_login(demo["hosp_h46020000002"])
    response = client.post(
        "/hospitals/check/",
        {
            "id_number": "232701195603120223",
            "name": "王秀兰",
            "care_type": "inpatient",
            "visit_date": visit,
        },
    )
    html = response.content.decode()
    assert "data-verdict" not in html
    assert "请填写一年以内的就诊日期" in html
    assert 'value="232701195603120223"' in html  # what was typed is kept


def test_desk_names_the_chosen_hospitals_and_the_visit_it_checked(client, demo):
    """The clerk reads the chosen hospitals' names, not bare codes, and sees which day and
    care the answer is for when the visit date was left blank."""
    from django.utils import timezone

    from filings.models import Filing
    from hospitals.models import Hospital

    chosen = list(Hospital.objects.filter(region__code="460200").order_by("code")[:2])
    Filing.objects.get(number="BA232700000001").hospitals.set(chosen)
    client.force_login(demo["hosp_h46020000002"])
    html = client.post(
        "/hospitals/check/",
        {"id_number": "232701195603120223", "name": "王秀兰", "care_type": "general_outpatient"},
    ).content.decode()
    shown = html.split("选定医疗机构</dt>")[1].split("</dd>")[0]
    assert shown.endswith("、".join(str(h) for h in chosen))
    assert all(h.name in shown for h in chosen)
    checked = html.split("data-checked-for>")[1].split("</dd>")[0]
    assert checked == f"{timezone.localdate():%Y-%m-%d} · 普通门诊"
