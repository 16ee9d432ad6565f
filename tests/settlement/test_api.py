"""POST /api/v1/settlements over the demo: categories, idempotency, 422, ownership."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from hospitals import auth
from hospitals.eligibility_selectors import clear_caches
from hospitals.models import Hospital
from hospitals.services import api_key_create
from settlement.models import AnnualAccumulation, BenefitPolicy, CategoryPolicy, Settlement

URL = "/api/v1/settlements"
WANG = ("232701195603120223", "王秀兰")
CHEN = ("210103198512010131", "陈明")
ZHANG = ("232721197811200177", "张伟")


@pytest.fixture(autouse=True)
def _fresh():
    clear_caches()
    auth.keys.clear()
    yield
    clear_caches()
    auth.keys.clear()


@pytest.fixture
def keys(demo):
    return {
        code: api_key_create(hospital=Hospital.objects.get(code=code))[1]
        for code in ["H46020000002", "H21010000001", "H23010300001", "H23010300016"]
    }


def bill(who, *, items=None, care="inpatient", admitted=None, discharged=None, **visit):
    today = timezone.localdate()
    return {
        "id_number": who[0],
        "name": who[1],
        "visit": {
            "care_type": care,
            "admitted_on": (admitted or today - datetime.timedelta(days=3)).isoformat(),
            "discharged_on": (discharged or today).isoformat(),
            **visit,
        },
        "items": items or [{"code": "X1", "name": "住院费", "class": "A", "amount": "10000.00"}],
    }


def post(client, key, body, idem=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    if idem:
        headers["HTTP_IDEMPOTENCY_KEY"] = idem
    return client.post(URL, body, content_type="application/json", **headers)


pytestmark = pytest.mark.django_db


def test_rule_3_3_resettled_long_term_at_a_chosen_sanya_hospital_settles_with_minus_5(client, keys):
    response = post(client, keys["H46020000002"], bill(WANG))
    assert response.status_code == 201, response.content
    body = response.json()
    # (10000 - 1000) x (85% - 5%) = 7200.00
    assert (body["category"], body["total"], body["fund_pay"], body["person_pay"]) == (
        "long_term",
        "10000.00",
        "7200.00",
        "2800.00",
    )
    assert body["breakdown"]["deductible"] == "1000.00"
    assert body["status"] == "settled"
    assert Decimal(body["fund_pay"]) + Decimal(body["person_pay"]) == Decimal(body["total"])


def test_local_settlement_and_annual_accumulation(client, keys):
    post(client, keys["H21010000001"], bill(CHEN))
    ytd = AnnualAccumulation.objects.get(person__name="陈明")
    assert ytd.fund_paid == Decimal("7650.00")


def test_rule_3_4_stay_across_two_years_uses_the_discharge_years_policy(client, keys):
    year = timezone.localdate().year
    BenefitPolicy.objects.filter(
        region__code="210100", scheme="employee", year=year, level=3
    ).update(deductible=Decimal("2000"))
    body = bill(
        CHEN, admitted=datetime.date(year - 1, 12, 28), discharged=datetime.date(year, 1, 3)
    )
    response = post(client, keys["H21010000001"], body).json()
    assert response["policy_year"] == year
    assert response["fund_pay"] == "6800.00"  # (10000 - 2000) x 85%


def test_not_eligible_is_422_with_reasons(client, keys):
    response = post(client, keys["H23010300016"], bill(ZHANG))  # referral names H23010300001
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "not_eligible"
    assert any("H23010300001" in r for r in body["error"]["reasons"])
    assert not Settlement.objects.exists()


def test_rule_2_3_emergency_without_filing_is_treated_as_filed_and_held(client, keys):
    response = post(client, keys["H23010300001"], bill(CHEN, emergency=True))
    assert response.status_code == 201
    body = response.json()
    assert body["category"] == "emergency"
    assert body["fund_pay"] == "6750.00"  # (10000 - 1000) x 75%
    assert "emergency_without_filing" in body["flags"]
    assert body["status"] == "held_for_review"


def test_rule_2_2_unapproved_transfer_pays_half_and_is_held_for_review(client, keys):
    response = post(client, keys["H23010300001"], bill(ZHANG, transfer_approved=False))
    body = response.json()
    # resident tertiary: (10000 - 1200) x (60% - 10%) x 50% = 2200.00
    assert body["fund_pay"] == "2200.00"
    assert "unapproved_transfer" in body["flags"] and body["status"] == "held_for_review"


def test_rule_3_4_discharge_medication_excess_is_flagged(client, keys):
    items = [
        {
            "code": "D1",
            "name": "阿司匹林",
            "class": "A",
            "amount": "140.00",
            "discharge_medication": {"days": 14, "kind": "acute"},
        }
    ]
    body = post(client, keys["H21010000001"], bill(CHEN, items=items)).json()
    assert body["breakdown"]["not_covered_medication"] == "70.00"
    assert "discharge_medication_excess" in body["flags"]


def test_same_idempotency_key_same_body_returns_the_same_settlement(client, keys):
    first = post(client, keys["H21010000001"], bill(CHEN), idem="abc-1")
    second = post(client, keys["H21010000001"], bill(CHEN), idem="abc-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert Settlement.objects.count() == 1
    assert AnnualAccumulation.objects.get(person__name="陈明").fund_paid == Decimal("7650.00")


def test_same_idempotency_key_different_body_is_409(client, keys):
    post(client, keys["H21010000001"], bill(CHEN), idem="abc-2")
    other = bill(CHEN, items=[{"class": "A", "amount": "99.00"}])
    response = post(client, keys["H21010000001"], other, idem="abc-2")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"


def test_settlement_is_visible_only_to_the_hospital_that_made_it(client, keys):
    number = post(client, keys["H21010000001"], bill(CHEN)).json()["number"]
    own = client.get(f"{URL}/{number}", HTTP_AUTHORIZATION=f"Bearer {keys['H21010000001']}")
    other = client.get(f"{URL}/{number}", HTTP_AUTHORIZATION=f"Bearer {keys['H46020000002']}")
    assert own.status_code == 200 and own.json()["number"] == number
    assert other.status_code == 404


def test_unknown_person_is_404_and_bad_body_is_400(client, keys):
    assert post(client, keys["H21010000001"], bill((CHEN[0], "陈红"))).status_code == 404
    bad = bill(CHEN, items=[{"class": "D", "amount": "-1"}])
    response = post(client, keys["H21010000001"], bad)
    assert response.status_code == 400
    assert "items" in response.json()["error"]["fields"]


def test_rule_3_3_category_policy_above_its_cap_is_refused(demo):
    from django.core.exceptions import ValidationError

    policy = CategoryPolicy.objects.filter(category="temporary").first()
    policy.ratio_reduction_points = 25
    with pytest.raises(ValidationError) as error:
        policy.full_clean()
    assert "ratio_reduction_points" in error.value.message_dict


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_20_concurrent_requests_with_one_key_make_exactly_one_settlement(live_server):
    if connection.vendor != "postgresql":
        pytest.skip("a race needs PostgreSQL: runs with CI=true")
    from io import StringIO

    import requests
    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    _key, plain = api_key_create(hospital=Hospital.objects.get(code="H21010000001"))
    statuses = []
    barrier = threading.Barrier(20)

    def worker():
        barrier.wait()
        r = requests.post(
            f"{live_server.url}{URL}",
            json=bill(CHEN),
            timeout=60,
            headers={"Authorization": f"Bearer {plain}", "Idempotency-Key": "race-1"},
        )
        statuses.append((r.status_code, r.json().get("number")))

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Settlement.objects.count() == 1
    assert sorted(s for s, _ in statuses).count(201) == 1
    assert {n for _, n in statuses} == {Settlement.objects.get().number}
    assert AnnualAccumulation.objects.get(person__name="陈明").fund_paid == Decimal("7650.00")


def test_recheck_recomputes_stored_settlements_after_a_policy_correction(client, keys):
    from settlement.services import recheck

    year = timezone.localdate().year
    number = post(client, keys["H21010000001"], bill(CHEN)).json()["number"]
    assert recheck(year=year) == {"checked": 1, "changed": 0}
    BenefitPolicy.objects.filter(
        region__code="210100", scheme="employee", year=year, level=3
    ).update(ratio=Decimal("0.90"))
    assert recheck(year=year) == {"checked": 1, "changed": 1}
    settlement = Settlement.objects.get(number=number)
    assert settlement.fund_pay == Decimal("8100.00")  # 9000 x 90%
    assert settlement.fund_pay + settlement.person_pay == settlement.total
    assert "rechecked_changed" in settlement.flags
