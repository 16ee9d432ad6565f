"""The access log's list in the admin: a hospital is found by its national code in the search
box, within the viewer's region, instead of a sidebar filter that listed every hospital of the
country (32,000 links, of every region) to agency staff of one."""

import pytest
from django.urls import reverse

from hospitals.models import Hospital
from hospitals.services import access_log_record
from portal.lib import idnumbers
from portal.models import Region
from tests.hospitals.test_admin import CHEN, WANG, listed
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
URL = "admin:hospitals_accesslog_changelist"


@pytest.fixture
def checks(demo):
    """Eligibility checks by two Sanya hospitals and a Harbin one."""
    dxal, shenyang = Region.objects.get(code="232700"), Region.objects.get(code="210100")

    def check(code, id_number, region):
        return access_log_record(
            subject_hash=idnumbers.id_hash(id_number),
            subject_region_id=region.pk,
            hospital_id=Hospital.objects.get(code=code).pk,
            purpose="eligibility",
            outcome="eligible",
        )

    return {
        "sanya_2": check("H46020000002", WANG, dxal),
        "sanya_1": check("H46020000001", WANG, dxal),
        "harbin": check("H23010300001", WANG, dxal),
        # The same Sanya hospital checking a Shenyang person: Shenyang's row only.
        "sanya_2_shenyang": check("H46020000002", CHEN, shenyang),
    }


def test_the_access_log_has_no_filter_listing_every_hospital(client, checks):
    staff_login(client, "agency_dxal")
    response = client.get(reverse(URL))
    page = response.content.decode()
    assert "hospital__id__exact" not in page
    assert Hospital.objects.count() > 3
    assert "按 医院" not in page and "By hospital" not in page


@pytest.mark.parametrize("term", ["H46020000002", " h46020000002 "])
def test_the_access_log_is_searched_by_a_hospitals_code_within_the_region(client, checks, term):
    staff_login(client, "agency_dxal")
    assert listed(client.get(reverse(URL), {"q": term})) == {checks["sanya_2"].pk}
    staff_login(client, "agency_shenyang")
    assert listed(client.get(reverse(URL), {"q": term})) == {checks["sanya_2_shenyang"].pk}


def test_the_search_box_says_a_hospital_is_found_by_its_code(client, checks):
    staff_login(client, "agency_dxal")
    assert "可按医院的国家编码" in client.get(reverse(URL)).content.decode()


def test_a_term_that_is_no_hospital_code_still_searches_as_before(client, checks):
    staff_login(client, "agency_dxal")
    assert listed(client.get(reverse(URL), {"q": WANG}, follow=True)) == {
        checks["sanya_2"].pk,
        checks["sanya_1"].pk,
        checks["harbin"].pk,
    }
    assert listed(client.get(reverse(URL), {"q": "H99999999999"})) == set()
