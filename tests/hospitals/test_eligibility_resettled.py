"""domain.md §3.3: only Daxinganling's resettled persons have their ratio reduced by 5 points;
the reduction is a regional policy (a "resettled" category adjustment), not a consequence of a
region following Daxinganling-style filing parameters (Harbin in the demo)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from filings.models import Filing
from hospitals.eligibility_selectors import clear_caches, find_person
from hospitals.models import Hospital
from portal.models import InsuredPerson, Region
from settlement.models import CategoryPolicy
from tests.hospitals.test_eligibility_api import _fresh_caches, keys  # noqa: F401 - fixtures
from tests.portal.factories import make_id_number

pytestmark = pytest.mark.django_db
URL = "/api/v1/eligibility"
WANG = {"id_number": "232701195603120223", "name": "王秀兰"}
SANYA = ["H46020000001", "H46020000002", "H46020000003"]


@pytest.fixture
def harbin_retiree(demo):
    """A retiree insured in Harbin (Daxinganling-style filing parameters, no resettled policy),
    resettled in Sanya with an effective long-term filing like 王秀兰's."""
    harbin = Region.objects.get(code="230100")
    assert harbin.measures == "daxinganling"
    person = InsuredPerson(name="张秀英", region=harbin, scheme="employee", retired=True)
    id_number = make_id_number(area="230102", born="19570301")
    person.set_id_number(id_number)
    person.save()
    sanya = Region.objects.get(code="460200")
    today = timezone.localdate()
    filing = Filing.objects.create(
        number="BA230100000009",
        person=person,
        insured_region=harbin,
        type="long_term",
        subtype="resettled_retiree",
        status="approved",
        place_province_id=sanya.province_id,
        place_region=sanya,
        basis="materials",
        valid_from=today - datetime.timedelta(days=30),
        decided_at=timezone.now(),
    )
    filing.hospitals.set(Hospital.objects.filter(code__in=SANYA))
    return {"id_number": id_number, "name": "张秀英"}


def ask(client, key, who):
    response = client.post(
        URL,
        {**who, "care_type": "inpatient"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_rule_3_3_resettled_reduction_only_where_the_region_has_a_resettled_policy(
    client,
    keys,  # noqa: F811 - the fixture
    harbin_retiree,
):
    body = ask(client, keys["H46020000002"], harbin_retiree)
    assert (body["eligible"], body["category"]) == (True, "long_term")
    assert body["filing"]["subtype"] == "resettled_retiree"
    assert body["benefit"]["ratio_reduction_points"] == 0
    # 王秀兰, insured in the Daxinganling region, which has the policy: still −5.
    body = ask(client, keys["H46020000002"], WANG)
    assert (body["category"], body["benefit"]["ratio_reduction_points"]) == ("long_term", 5)


def test_rule_3_3_a_region_that_configures_a_resettled_policy_applies_its_own_points(
    client,
    keys,  # noqa: F811 - the fixture
    harbin_retiree,
):
    CategoryPolicy.objects.create(
        region=Region.objects.get(code="230100"),
        year=timezone.localdate().year,
        category="resettled",
        ratio_reduction_points=3,
        deductible_multiplier=Decimal("1.00"),
        fund_share=Decimal("1.00"),
    )
    clear_caches()  # the policies are cached per process (eligibility_selectors.CACHE_SECONDS)
    body = ask(client, keys["H46020000002"], harbin_retiree)
    assert body["benefit"]["ratio_reduction_points"] == 3


def test_find_person_reads_the_resettled_policy_in_its_one_round_trip(
    demo, harbin_retiree, django_assert_num_queries
):
    clear_caches()
    assert find_person(**WANG).person.resettled_reduction  # loads the snapshots
    with django_assert_num_queries(1):
        wang = find_person(**WANG)
    with django_assert_num_queries(1):
        harbin = find_person(**harbin_retiree)
    assert (wang.person.resettled_reduction, harbin.person.resettled_reduction) == (True, False)
