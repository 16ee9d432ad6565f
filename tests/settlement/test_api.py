"""POST /api/v1/settlements over the demo: categories, idempotency, 422, ownership."""

import datetime
import re
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from hospitals.models import Hospital
from hospitals.services import api_key_create
from portal.management.commands.demo_totp import current_code
from settlement.models import AnnualAccumulation, BenefitPolicy, CategoryPolicy, Settlement

URL = "/api/v1/settlements"
WANG = ("232701195603120223", "王秀兰")
CHEN = ("210103198512010131", "陈明")
ZHANG = ("232721197811200177", "张伟")


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
    before = Settlement.objects.count()  # the demo may carry a history of settlements
    response = post(client, keys["H23010300016"], bill(ZHANG))  # referral names H23010300001
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "not_eligible"
    assert any("H23010300001" in r for r in body["error"]["reasons"])
    assert Settlement.objects.count() == before


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
    assert body["status"] == "held_for_review"
    assert Settlement.objects.get(number=body["number"]).status == "held_for_review"


def test_same_idempotency_key_same_body_returns_the_same_settlement(client, keys):
    before = Settlement.objects.count()
    first = post(client, keys["H21010000001"], bill(CHEN), idem="abc-1")
    second = post(client, keys["H21010000001"], bill(CHEN), idem="abc-1")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert Settlement.objects.count() == before + 1
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
    # Nested errors are keyed by their path (tests/settlement/test_api_input.py).
    assert {"items[0].class", "items[0].amount"} <= set(response.json()["error"]["fields"])


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

    call_command("seed_demo", "--no-history", stdout=StringIO())
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
    # Only this settlement: on SQLite the CHECK fund + person = total is evaluated in floating
    # point, which refuses some exact two-decimal sums of the demo's history (PostgreSQL's
    # numeric does not).
    Settlement.objects.exclude(number=number).delete()
    assert recheck(year=year) == {"checked": 1, "changed": 0}
    BenefitPolicy.objects.filter(
        region__code="210100", scheme="employee", year=year, level=3
    ).update(ratio=Decimal("0.90"))
    assert recheck(year=year) == {"checked": 1, "changed": 1}
    settlement = Settlement.objects.get(number=number)
    assert settlement.fund_pay == Decimal("8100.00")  # 9000 x 90%
    assert settlement.fund_pay + settlement.person_pay == settlement.total
    assert "rechecked_changed" in settlement.flags


def test_recheck_leaves_rejected_returned_and_reviewer_adjusted_settlements_alone(client, keys):
    from settlement.services import recheck

    year = timezone.localdate().year
    numbers = [post(client, keys["H21010000001"], bill(CHEN)).json()["number"] for _ in range(5)]
    Settlement.objects.exclude(number__in=numbers).delete()  # see the test above (SQLite)
    settled, held, adjusted, rejected, returned = numbers
    Settlement.objects.filter(number=held).update(status=Settlement.Status.HELD)
    Settlement.objects.filter(number=rejected).update(status=Settlement.Status.REJECTED)
    Settlement.objects.filter(number=returned).update(status=Settlement.Status.RETURNED)
    # A reviewer approved it at 7000.00 instead of the engine's 7650.00.
    Settlement.objects.filter(number=adjusted).update(
        original_fund_pay=F("fund_pay"), fund_pay=Decimal("7000.00"), person_pay=Decimal("3000.00")
    )
    BenefitPolicy.objects.filter(
        region__code="210100", scheme="employee", year=year, level=3
    ).update(ratio=Decimal("0.90"))
    # One settlement a batch: each write runs while the next batch is read and computed.
    assert recheck(year=year, batch=1) == {"checked": 2, "changed": 2}
    by_number = {s.number: s for s in Settlement.objects.filter(number__in=numbers)}
    # The same bill settled afresh under the corrected policy: the same split.
    fresh = post(client, keys["H21010000001"], bill(CHEN)).json()
    for number in (settled, held):
        assert by_number[number].fund_pay == Decimal("8100.00") == Decimal(fresh["fund_pay"])
        assert by_number[number].person_pay == Decimal(fresh["person_pay"])
        assert by_number[number].breakdown == fresh["breakdown"]
        assert "rechecked_changed" in by_number[number].flags
    assert by_number[held].status == Settlement.Status.HELD
    assert (by_number[adjusted].fund_pay, by_number[adjusted].original_fund_pay) == (
        Decimal("7000.00"),
        Decimal("7650.00"),
    )
    for number in (adjusted, rejected, returned):
        assert "rechecked_changed" not in by_number[number].flags
    for number in (rejected, returned):
        assert by_number[number].fund_pay == Decimal("7650.00")


def test_recheck_write_back_error_is_raised_and_leaves_the_connection_usable(client, keys):
    from django.db import IntegrityError, transaction

    from settlement.services import _write_back

    number = post(client, keys["H21010000001"], bill(CHEN)).json()["number"]
    s = Settlement.objects.get(number=number)
    with pytest.raises(IntegrityError), transaction.atomic():
        # fund + person != total: the CHECK constraint refuses it when the write is waited for.
        _write_back(
            [(s.pk, Decimal("1.00"), Decimal("1.00"), s.total, "{}", "[]", s.fund_pay, 0)]
        )()
    assert Settlement.objects.get(number=number).fund_pay == Decimal("7650.00")
    assert AnnualAccumulation.objects.get(person__name="陈明").fund_paid == Decimal("7650.00")


def test_recheck_moves_the_annual_accumulation_by_the_change_once(client, keys):
    from settlement.services import recheck

    year = timezone.localdate().year
    numbers = [post(client, keys["H21010000001"], bill(CHEN)).json()["number"] for _ in range(2)]
    Settlement.objects.exclude(number__in=numbers).delete()  # see above (SQLite)
    adjusted = numbers[1]  # a reviewer's amount stands, and so does its accumulation
    Settlement.objects.filter(number=adjusted).update(
        original_fund_pay=F("fund_pay"), fund_pay=Decimal("7000.00"), person_pay=Decimal("3000.00")
    )
    accumulation = AnnualAccumulation.objects.get(person__name="陈明", year=year)
    before = accumulation.fund_paid
    BenefitPolicy.objects.filter(
        region__code="210100", scheme="employee", year=year, level=3
    ).update(ratio=Decimal("0.90"))
    assert recheck(year=year) == {"checked": 1, "changed": 1}
    accumulation.refresh_from_db()
    # 9000 x 90% instead of 9000 x 85%: the year's fund payments grow by the difference.
    assert accumulation.fund_paid - before == Decimal("8100.00") - Decimal("7650.00")
    # A rerun finds nothing to change and moves nothing.
    assert recheck(year=year) == {"checked": 1, "changed": 0}
    accumulation.refresh_from_db()
    assert accumulation.fund_paid - before == Decimal("450.00")


def test_recheck_moves_the_outpatient_deductible_paid(client, keys):
    from settlement.services import recheck

    year = timezone.localdate().year
    items = [{"code": "O1", "name": "门诊费", "class": "A", "amount": "3000.00"}]
    response = post(
        client, keys["H21010000001"], bill(CHEN, items=items, care="general_outpatient")
    )
    assert response.status_code == 201, response.json()
    number = response.json()["number"]
    Settlement.objects.exclude(number=number).delete()  # see above (SQLite)
    deductible_before = Decimal(Settlement.objects.get(number=number).breakdown["deductible"])
    paid_before = AnnualAccumulation.objects.get(person__name="陈明", year=year)
    assert deductible_before > 0
    # A correction halves the deductible: the deductible taken and the fund's payment change,
    # and both accumulations follow.
    BenefitPolicy.objects.filter(
        region__code="210100", scheme="employee", year=year, level=3
    ).update(deductible=F("deductible") / 2)
    assert recheck(year=year) == {"checked": 1, "changed": 1}
    settlement = Settlement.objects.get(number=number)
    deductible_after = Decimal(settlement.breakdown["deductible"])
    assert deductible_after == deductible_before / 2
    paid_after = AnnualAccumulation.objects.get(person__name="陈明", year=year)
    assert paid_after.outpatient_deductible_paid == paid_before.outpatient_deductible_paid - (
        deductible_before - deductible_after
    )
    assert paid_after.fund_paid - paid_before.fund_paid == settlement.fund_pay - Decimal(
        response.json()["fund_pay"]
    )


MONEY = re.compile(r"^\d+\.\d{2}$")


def money_strings(body: dict) -> dict[str, str]:
    found = {k: body[k] for k in ("total", "fund_pay", "person_pay")}
    found.update({f"breakdown.{k}": v for k, v in body["breakdown"].items()})
    return found


def test_every_money_string_has_two_decimals_for_an_all_class_c_bill(client, keys):
    items = [{"code": "C1", "name": "自费药", "class": "C", "amount": "500"}]
    response = post(client, keys["H21010000001"], bill(CHEN, items=items))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["total"], body["fund_pay"], body["person_pay"]) == ("500.00", "0.00", "500.00")
    assert body["breakdown"]["deductible"] == "0.00"
    bad = {k: v for k, v in money_strings(body).items() if not MONEY.match(v)}
    assert bad == {}
    # The stored settlement answers GET with the same strings.
    again = client.get(
        f"{URL}/{body['number']}", HTTP_AUTHORIZATION=f"Bearer {keys['H21010000001']}"
    ).json()
    assert money_strings(again) == money_strings(body)


def test_every_money_string_has_two_decimals_once_the_yearly_deductible_is_used(client, keys):
    visit = [{"code": "M1", "name": "门诊费", "class": "A", "amount": "1200.00"}]
    first = post(client, keys["H21010000001"], bill(CHEN, items=visit, care="general_outpatient"))
    assert first.status_code == 201, first.content
    # Shenyang employee tertiary deductible 1000 (per year for outpatient care): 200 x 85%.
    assert first.json()["breakdown"]["deductible"] == "1000.00"
    assert first.json()["fund_pay"] == "170.00"
    second = post(client, keys["H21010000001"], bill(CHEN, items=visit, care="general_outpatient"))
    body = second.json()
    # Nothing of the deductible is left: 1200 x 85% = 1020.00.
    assert body["breakdown"]["deductible"] == "0.00"
    assert (body["fund_pay"], body["person_pay"]) == ("1020.00", "180.00")
    bad = {k: v for k, v in money_strings(body).items() if not MONEY.match(v)}
    assert bad == {}


def test_a_bill_above_the_review_threshold_is_held_for_review(client, keys):
    items = [{"code": "X1", "name": "住院费", "class": "A", "amount": "100000.01"}]
    body = post(client, keys["H21010000001"], bill(CHEN, items=items)).json()
    # (100000.01 - 1000) x 85% = 84150.0085 -> 84150.01
    assert body["fund_pay"] == "84150.01"
    assert "above_review_threshold" in body["flags"]
    assert body["status"] == "held_for_review"


def test_a_bill_at_the_review_threshold_is_settled(client, keys):
    items = [{"code": "X1", "name": "住院费", "class": "A", "amount": "100000.00"}]
    body = post(client, keys["H21010000001"], bill(CHEN, items=items)).json()
    assert "above_review_threshold" not in body["flags"]
    assert body["status"] == "settled"


def test_no_benefit_policy_for_the_year_is_422_no_policy(client, keys):
    year = timezone.localdate().year
    BenefitPolicy.objects.filter(region__code="210100", scheme="employee", year=year).delete()
    before = Settlement.objects.count()
    response = post(client, keys["H21010000001"], bill(CHEN))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "no_policy"
    assert str(year) in response.json()["error"]["message"]
    # api.md: a 422 comes with the reasons, in the error and at the top level.
    message = response.json()["error"]["message"]
    assert response.json()["reasons"] == response.json()["error"]["reasons"] == [message]
    assert Settlement.objects.count() == before
    assert not AnnualAccumulation.objects.filter(person__name="陈明", fund_paid__gt=0).exists()


def admin_login(client, username="admin"):
    client.post(reverse("account_login"), {"login": username, "password": "Demo#2026"})
    client.post(reverse("mfa_authenticate"), {"code": current_code(username)})


def category_form(**overrides):
    from portal.models import Region

    data = {
        "region": Region.objects.get(code="210100").pk,
        "year": 2031,
        "category": "temporary",
        "ratio_reduction_points": "20",
        "deductible_multiplier": "1.50",
        "fund_share": "1.00",
    }
    data.update(overrides)
    return data


CAP_MESSAGE = "At most %(cap)s points for this category (domain rule 3.3)."
SHARE_MESSAGE = "The fund share of this category is %(share)s (domain rule 3.3)."
RESETTLED_MESSAGE = "A resettled person's deductible is unchanged: the multiplier is 1.00."
MULTIPLIER_MESSAGE = "The deductible multiplier must be at least 1."
UNAPPROVED_MESSAGE = (
    "A transfer without an approved referral is settled on the region's referral terms, the "
    "fund paying 50% of that (domain rule 3.3): it has no row of its own. Set the referral row "
    "instead."
)


@pytest.mark.parametrize(
    ("overrides", "field", "message", "params"),
    [
        ({"ratio_reduction_points": "25"}, "ratio_reduction_points", CAP_MESSAGE, {"cap": 20}),
        (
            {"category": "referral", "ratio_reduction_points": "11"},
            "ratio_reduction_points",
            CAP_MESSAGE,
            {"cap": 10},
        ),
        ({"fund_share": "0.00"}, "fund_share", SHARE_MESSAGE, {"share": "1.00"}),
        ({"fund_share": "1.20"}, "fund_share", SHARE_MESSAGE, {"share": "1.00"}),
        # A share would cut the ratio past the category's cap: 85% x 0.5 is 42.5 points less.
        ({"fund_share": "0.50"}, "fund_share", SHARE_MESSAGE, {"share": "1.00"}),
        (
            {"category": "unapproved_transfer", "ratio_reduction_points": "10"},
            "category",
            UNAPPROVED_MESSAGE,
            {},
        ),
        (
            {"category": "resettled", "ratio_reduction_points": "5", "deductible_multiplier": "3"},
            "deductible_multiplier",
            RESETTLED_MESSAGE,
            {},
        ),
        ({"deductible_multiplier": "0.80"}, "deductible_multiplier", MULTIPLIER_MESSAGE, {}),
    ],
)
def test_rule_3_3_category_policy_refused_in_the_admin_add_form_with_a_clear_message(
    client, demo, overrides, field, message, params
):
    from django.utils import translation

    admin_login(client)
    url = reverse("admin:settlement_categorypolicy_add")
    assert client.get(url).status_code == 200
    response = client.post(url, category_form(**overrides))
    assert response.status_code == 200  # the form again, not a redirect
    assert field in response.context["adminform"].form.errors
    with translation.override("zh-hans"):  # the admin answers in Chinese by default
        shown = translation.gettext(message) % params if params else translation.gettext(message)
    assert shown in response.content.decode()
    assert not CategoryPolicy.objects.filter(year=2031).exists()


def test_a_category_policy_within_the_caps_is_saved_through_the_admin(client, demo):
    admin_login(client)
    response = client.post(reverse("admin:settlement_categorypolicy_add"), category_form())
    assert response.status_code == 302
    assert CategoryPolicy.objects.filter(year=2031, category="temporary").exists()


def test_every_category_a_bill_is_settled_under_has_a_label_in_both_languages(client, keys):
    from django.utils import translation

    from hospitals import eligibility
    from settlement.models import SettledCategory

    assert set(SettledCategory.values) == set(eligibility.CATEGORIES) - {eligibility.NONE}
    number = post(client, keys["H21010000001"], bill(CHEN)).json()["number"]
    settlement = Settlement.objects.get(number=number)
    with translation.override("zh-hans"):
        label = settlement.get_category_display()
        assert label != settlement.category and not label.isascii()
    with translation.override("en"):
        assert settlement.get_category_display() != settlement.category
