"""The receiving hospital of an e-referral, and the hospital of an invited clerk, among the whole
country's designated hospitals (tens of thousands): the page lists the few a clerk is likely to
choose (the hospitals this one refers patients to most) and takes any other by its national
code, with a link to find it by name; it never lists every hospital, which was megabytes of
page on every view of the referrals, unusable on a phone."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from filings.models import Filing
from hospitals.admin import ClerkInvitationForm
from hospitals.models import Hospital, HospitalStaff
from tests.filings.test_referrals import start
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
ISSUING = "hosp_h21010000001"  # issued no referral in the demo
INVITE = "admin:hospitals_hospitalstaff_invite"


def _more_hospitals(count: int) -> list[str]:
    """`count` more designated hospitals in service, as the country's directory loads them."""
    like = Hospital.objects.get(code="H46020000002")
    fields = {
        f.attname: getattr(like, f.attname)
        for f in Hospital._meta.concrete_fields
        if not f.primary_key
    }
    codes = [f"H9999{i:07d}" for i in range(count)]
    Hospital.objects.bulk_create(
        Hospital(**{**fields, "code": code, "name": f"测试医院{code}"}) for code in codes
    )
    return codes


def _options(html: str) -> int:
    return html.count("<option")


def _page(client, lang: str = "en") -> str:
    client.cookies["django_language"] = lang
    return client.get(reverse("referrals")).content.decode()


def test_the_referrals_page_does_not_list_the_countrys_hospitals(client, demo):
    client.force_login(demo[ISSUING])
    before = _page(client)
    codes = _more_hospitals(300)
    after = _page(client)
    assert _options(after) == _options(before)
    assert not any(code in after for code in codes)
    assert 'name="receiving_hospital_code"' in after


@pytest.mark.parametrize("typed", ["H46020000002", " h46020000002 ", "Ｈ４６０２００００００２"])
def test_a_referral_to_any_hospital_in_service_is_started_by_its_code(client, demo, typed):
    response = start(client, demo, receiving_hospital="", receiving_hospital_code=typed)
    assert response.status_code == 302
    filing = Filing.objects.get(person__name="陈明", type="referral")
    assert filing.receiving_hospital.code == "H46020000002"


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "No designated hospital in service has this code."),
        ("zh-hans", "没有使用此编码且正常服务的定点医疗机构。"),
    ],
)
@pytest.mark.parametrize("code", ["H00000000000", "H46020000002"])
def test_a_code_of_no_hospital_in_service_is_refused_beside_it_in_the_clerks_language(
    client, demo, lang, said, code
):
    Hospital.objects.filter(code="H46020000002").update(suspended_on=timezone.localdate())
    client.force_login(demo[ISSUING])
    client.cookies["django_language"] = lang
    response = start(client, demo, receiving_hospital="", receiving_hospital_code=code)
    assert response.status_code == 200
    assert response.context["form"].errors["receiving_hospital_code"] == [said]
    assert code in response.content.decode()  # what was typed stays
    assert not Filing.objects.filter(person__name="陈明", type="referral").exists()


def _listed(html: str) -> list[str] | None:
    """The codes of the hospitals the referral form lists, in order; None: no list."""
    found = re.search(r'<select name="receiving_hospital".*?</select>', html, re.S)
    if found is None:
        return None
    ids = re.findall(r'<option value="(\d+)"', found.group())
    codes = dict(Hospital.objects.filter(pk__in=ids).values_list("pk", "code"))
    return [codes[int(pk)] for pk in ids]


def test_the_hospitals_this_hospital_refers_patients_to_most_are_listed(client, demo):
    client.force_login(demo[ISSUING])
    html = _page(client)
    # None yet: the code alone, under its own label, and where to find a code by name.
    assert _listed(html) is None and "Receiving hospital&#x27;s code" in html
    assert reverse("hospitals:directory") in html
    start(client, demo, receiving_hospital="", receiving_hospital_code="H23010300001")
    assert _listed(_page(client)) == ["H23010300001"]
    Hospital.objects.filter(code="H23010300001").update(suspended_on=timezone.localdate())
    assert _listed(_page(client)) is None


@pytest.mark.parametrize(
    ("referred_before", "field", "said"),
    [
        (True, "receiving_hospital", "Choose the receiving hospital, or give its code."),
        (False, "receiving_hospital_code", "Enter the receiving hospital's code."),
    ],
)
def test_a_referral_without_a_receiving_hospital_says_so_beside_the_field_shown(
    client, demo, referred_before, field, said
):
    if referred_before:
        start(client, demo, receiving_hospital="", receiving_hospital_code="H23010300001")
        Filing.objects.filter(person__name="陈明", type="referral").update(status="cancelled")
    client.force_login(demo[ISSUING])
    client.cookies["django_language"] = "en"
    response = start(client, demo, receiving_hospital="", receiving_hospital_code="")
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [said]


def test_a_superuser_invites_a_clerk_by_the_hospitals_code(
    client, demo, monkeypatch, django_capture_on_commit_callbacks
):
    # The country's hospitals, more than a list takes (the demo has a few dozen).
    monkeypatch.setattr(ClerkInvitationForm, "LISTED_AT_MOST", 5)
    staff_login(client, "admin")
    client.cookies["django_language"] = "en"
    html = client.get(reverse(INVITE)).content.decode()
    assert "<option" not in html and 'name="hospital"' in html
    assert reverse("admin:hospitals_hospital_changelist") in html
    refused = client.post(reverse(INVITE), {"hospital": "H00000000000", "email": "a@b.cn"})
    assert refused.context["form"].errors["hospital"] == ["No designated hospital has this code."]
    with django_capture_on_commit_callbacks():
        response = client.post(reverse(INVITE), {"hospital": "h46020000002", "email": "x@y.cn"})
    assert response.status_code == 302
    assert HospitalStaff.objects.get(user__email="x@y.cn").hospital.code == "H46020000002"


def test_an_agency_chooses_from_its_own_regions_few_hospitals(client, demo):
    staff_login(client, "agency_shenyang")
    html = client.get(reverse(INVITE)).content.decode()
    shenyang = Hospital.objects.filter(region__code="210100").count()
    assert 0 < shenyang and _options(html) == shenyang + 1  # and the empty choice
