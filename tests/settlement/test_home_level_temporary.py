"""Other temporary treatment at the home benefit level (domain.md §3.3, first row: "resident-scheme
students, in-province maternity: deductible unchanged, ratio unchanged")."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from filings import services as filing_services
from filings.models import Filing
from filings.rules import RuleError
from hospitals import eligibility
from hospitals.eligibility_selectors import find_person
from hospitals.models import Hospital
from portal.models import InsuredPerson, Region
from tests.settling import settle_today

pytestmark = pytest.mark.django_db
D = Decimal
ZHANG = ("232721197811200177", "张伟")  # residents' scheme, Daxinganling (Heilongjiang)
LIU = ("210202199004150481", "刘芳")  # employees' scheme, Dalian (Liaoning)
BILL = [{"code": "X1", "name": "住院费", "class": "A", "amount": "10000.00"}]


def _temporary(who, region_code: str, purpose: str) -> Filing:
    person = InsuredPerson.objects.get(name=who[1])
    region = Region.objects.get(code=region_code)
    filing = filing_services.filing_create(
        person=person,
        actor=person.user,
        filing_type="temporary",
        place_region=region,
        subtype=purpose,
    )
    return filing_services.filing_submit(filing=filing, actor=person.user)


def _settle(who, hospital: str, **visit):
    # Admitted today, as the filing is in force from today; 10,000 of class A.
    return settle_today(BILL[0]["amount"], hospital=hospital, who=who, **visit)


def test_rule_3_3_a_residents_scheme_student_keeps_the_home_benefit_level(demo):
    filing = _temporary(ZHANG, "460200", "study")
    assert (filing.status, filing.subtype) == ("approved", "study")
    settlement = _settle(ZHANG, "H46020000002")
    # Residents, tertiary: deductible 1,200, ratio 60%, neither changed:
    # (10,000 - 1,200) x 60% = 5,280.00 (as other temporary care: (10,000 - 1,800) x 40%).
    assert (settlement.category, settlement.fund_pay) == ("temporary", D("5280.00"))
    assert settlement.breakdown["deductible"] == "1200.00"
    assert settlement.adjustment["points"] == 0


def test_rule_3_3_an_employee_who_goes_to_study_is_paid_as_other_temporary_care(demo):
    _temporary(LIU, "460200", "study")
    settlement = _settle(LIU, "H46020000002")
    # Employees, tertiary: deductible 1,000 x 1.5, ratio 85% - 20: (10,000 - 1,500) x 65%.
    assert settlement.fund_pay == D("5525.00")
    assert settlement.adjustment["points"] == 20


def test_rule_3_3_maternity_within_the_home_province_keeps_the_home_benefit_level(demo):
    _temporary(LIU, "210100", "maternity")  # Dalian to Shenyang, both in Liaoning
    settlement = _settle(LIU, "H21010000001")
    assert settlement.fund_pay == D("7650.00")  # (10,000 - 1,000) x 85%
    assert settlement.breakdown["deductible"] == "1000.00"


def test_rule_3_3_maternity_in_another_province_is_paid_as_other_temporary_care(demo):
    _temporary(LIU, "460200", "maternity")  # Dalian to Sanya (Hainan)
    settlement = _settle(LIU, "H46020000002")
    assert settlement.fund_pay == D("5525.00")


def test_rule_3_3_an_emergency_does_not_lower_a_home_level_temporary_filing(demo):
    _temporary(ZHANG, "460200", "study")
    settlement = _settle(ZHANG, "H46020000002", emergency=True)
    # Settled as an emergency it would lose 10 points; the student's level is better.
    assert (settlement.category, settlement.fund_pay) == ("temporary", D("5280.00"))


def test_rule_3_3_the_desk_check_says_why_the_benefits_are_not_reduced(demo):
    filing = _temporary(LIU, "210100", "maternity")
    found = find_person(id_number=LIU[0], name=LIU[1])
    assert found is not None
    hospital = Hospital.objects.get(code="H21010000001")
    view = eligibility.HospitalView(
        code=hospital.code,
        name=hospital.name,
        region_code="210100",
        region_name="沈阳市",
        services=frozenset(eligibility.CARE_TYPES),
    )
    decision = eligibility.decide(
        person=found.person,
        hospital=view,
        care_type="inpatient",
        visit_date=timezone.localdate(),
        filings=found.filings,
    )
    assert decision.eligible and decision.category == "temporary"
    assert decision.adjustment.ratio_reduction_points == 0
    assert decision.adjustment.deductible_multiplier == D("1.00")
    assert any(filing.number in str(r) and "生育" in str(r) for r in decision.reasons)


def test_same_province_is_read_from_the_region_codes():
    assert eligibility.same_province("210200", "210100")
    assert not eligibility.same_province("210200", "230100")


def test_a_temporary_filing_cannot_carry_a_long_term_sub_type(demo):
    person = InsuredPerson.objects.get(name="刘芳")
    with pytest.raises(RuleError) as error:
        filing_services.filing_create(
            person=person,
            actor=person.user,
            filing_type="temporary",
            place_region=Region.objects.get(code="460200"),
            subtype="resettled_retiree",
        )
    assert error.value.code == "subtype_not_for_type"
    with pytest.raises(RuleError):
        filing_services.filing_create(
            person=person,
            actor=person.user,
            filing_type="long_term",
            place_region=Region.objects.get(code="460200"),
            subtype="study",
        )


def test_the_person_states_why_they_go_on_the_temporary_form(client, demo):
    client.force_login(demo["zhangwei"])
    page = client.get(reverse("filings:new", args=["temporary"])).content.decode()
    assert 'name="purpose"' in page and "学习" in page
    response = client.post(
        reverse("filings:new", args=["temporary"]),
        {
            "place_region": Region.objects.get(code="460200").pk,
            "purpose": "study",
            "start_date": timezone.localdate().isoformat(),
            "care": ["inpatient"],
        },
        follow=True,
    )
    assert response.status_code == 200
    filing = Filing.objects.get(person__name="张伟", type="temporary")
    assert (filing.status, filing.subtype) == ("approved", "study")
    assert "学习" in client.get(reverse("filings:detail", args=[filing.number])).content.decode()


def test_a_purpose_not_on_the_list_is_refused_with_the_form_kept(client, demo):
    client.force_login(demo["zhangwei"])
    response = client.post(
        reverse("filings:new", args=["temporary"]),
        {"place_region": Region.objects.get(code="460200").pk, "purpose": "resettled_retiree"},
    )
    assert response.status_code == 200
    assert not Filing.objects.filter(person__name="张伟", type="temporary").exists()
    assert "is-invalid" in response.content.decode()
