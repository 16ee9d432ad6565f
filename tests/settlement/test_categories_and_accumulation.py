"""Which category a stay is paid under when it was an emergency or could not be settled
directly (domain.md §2.2, §2.3, §3.3, §3.4), and what the year's accumulation counts (§3.2)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from hospitals.models import AccessLog, Hospital
from settlement import rules, services
from settlement.models import AnnualAccumulation
from tests.checked_files import checked
from tests.settlement.test_claims import _person, _staff, _submit

pytestmark = pytest.mark.django_db
D = Decimal
TEN_THOUSAND_A = [{"code": "X1", "name": "住院费", "class": "A", "amount": "10000.00"}]
CHEN = ("210103198512010131", "陈明")
LIU = ("210202199004150481", "刘芳")


def _settle(who, hospital, *, care="inpatient", key="", **visit):
    today = datetime.date.today()
    return services.settle(
        hospital_id=Hospital.objects.get(code=hospital).pk,
        api_key_id=None,
        idempotency_key=key,
        payload={
            "id_number": who[0],
            "name": who[1],
            "visit": {
                "care_type": care,
                "admitted_on": today - datetime.timedelta(days=3),
                "discharged_on": today,
                **visit,
            },
            "items": TEN_THOUSAND_A,
        },
    )


def _year_to_date(name: str, year: int | None = None) -> AnnualAccumulation:
    return AnnualAccumulation.objects.get(
        person__name=name, year=year or datetime.date.today().year
    )


# A claim's stay of one day (yesterday): both its days in one year, whatever today is.
YESTERDAY = {
    "admitted_on": datetime.date.today() - datetime.timedelta(days=1),
    "discharged_on": datetime.date.today() - datetime.timedelta(days=1),
}


# --- §3.3: an emergency under a temporary filing ------------------------------------------


def test_rule_3_3_an_emergency_under_a_temporary_filing_is_settled_as_an_emergency(demo):
    # 刘芳 (employee) has a temporary filing to Harbin. As ordinary care she would be paid at
    # -20 points with the deductible x 1.5; the temporary row is for non-emergency care, so an
    # emergency is paid at -10 with the deductible unchanged: (10000 - 1000) x 75% = 6750.00.
    ordinary = _settle(LIU, "H23010300001").settlement
    assert (ordinary.category, ordinary.fund_pay) == ("temporary", D("5525.00"))
    emergency = _settle(LIU, "H23010300001", emergency=True).settlement
    assert (emergency.category, emergency.fund_pay) == ("emergency", D("6750.00"))
    assert emergency.breakdown["deductible"] == "1000.00"
    # Covered by her filing, it is not an emergency without a filing, and it is not held.
    assert "emergency_without_filing" not in emergency.flags
    assert emergency.status == "settled"


def test_rule_2_3_an_emergency_does_not_open_a_hospital_without_direct_settlement(demo):
    # H23010300008 has no direct settlement of general outpatient care: an emergency there under
    # 刘芳's temporary filing is still refused with the reasons.
    with translation.override("zh-hans"), pytest.raises(services.SettlementError) as refused:
        _settle(LIU, "H23010300008", care="general_outpatient", emergency=True)
    assert refused.value.status == 422
    assert any("门诊" in reason for reason in refused.value.reasons)


# --- §3.4: a claim where direct settlement was not possible ---------------------------------


def test_rule_2_1_claim_at_home_under_a_one_way_filing_is_paid_at_the_local_level(demo):
    # 李建国's filing is one-way (materials outstanding), so he cannot settle directly at home;
    # his claim for a stay at home is paid like anyone's at home (陈明, no filing): 7650.00,
    # not as a transfer without an approved referral (3375.00).
    claim = _submit(name="李建国", hospital="H21010000001")
    local = _submit(name="陈明", hospital="H21010000001")
    assert (claim.category, claim.estimated_fund_pay) == ("local", D("7650.00"))
    assert claim.estimated_fund_pay == local.estimated_fund_pay
    assert "unapproved_transfer" not in claim.flags


def test_rule_2_4_claim_under_a_temporary_filing_where_the_hospital_has_no_direct_settlement(demo):
    # 刘芳's temporary filing covers Harbin; H23010300008 (secondary) settles no general outpatient
    # care directly, so she paid and claims. Paid at the temporary level: deductible 800 x 1.5,
    # (10000 - 1200) x (90% - 20%) = 6160.00, not half of a referral's.
    claim = _submit(name="刘芳", hospital="H23010300008", care_type="general_outpatient")
    assert (claim.category, claim.estimated_fund_pay) == ("temporary", D("6160.00"))
    assert "unapproved_transfer" not in claim.flags


def test_rule_2_2_claim_outside_the_region_without_a_filing_is_an_unapproved_transfer(demo):
    # 陈明 has no filing: a stay in Harbin is a transfer without an approved referral, 50% of
    # the referral's (10000 - 1000) x 75% = 3375.00.
    claim = _submit(name="陈明", hospital="H23010300001")
    assert (claim.category, claim.estimated_fund_pay) == ("referral", D("3375.00"))
    assert "unapproved_transfer" in claim.flags


# --- §3.2: the outpatient deductible is per year ----------------------------------------------


def test_rule_3_2_outpatient_deductible_of_a_rejected_settlement_no_longer_counts(demo):
    # 陈明's emergency outpatient visit in Harbin, without a filing, is held for review; the
    # deductible it took counts towards his year until the agency rejects it.
    held = _settle(CHEN, "H23010300001", care="general_outpatient", emergency=True).settlement
    assert held.status == "held_for_review"
    taken = D(held.breakdown["deductible"])
    assert taken > 0
    assert _year_to_date("陈明").outpatient_deductible_paid == taken
    services.settlement_reject(settlement=held, actor=_staff("agency_shenyang"), reason="非急诊")
    year = _year_to_date("陈明")
    assert (year.fund_paid, year.outpatient_deductible_paid) == (D("0"), D("0"))


def test_rule_3_2_outpatient_deductible_of_a_returned_settlement_no_longer_counts(demo):
    held = _settle(CHEN, "H23010300001", care="general_outpatient", emergency=True).settlement
    services.settlement_return(settlement=held, actor=_staff("agency_shenyang"), reason="补充")
    assert _year_to_date("陈明").outpatient_deductible_paid == D("0")


def test_rule_3_2_an_approved_outpatient_claim_counts_its_deductible_for_the_year(demo):
    claim = _submit(
        name="陈明", hospital="H21010000001", care_type="general_outpatient", **YESTERDAY
    )
    taken = D(claim.breakdown["deductible"])
    assert taken == D("1000.00")  # the year's whole outpatient deductible at a tertiary hospital
    services.claim_approve(claim=claim, actor=_staff("agency_shenyang"))
    year = _year_to_date("陈明", claim.policy_year)
    assert (year.fund_paid, year.outpatient_deductible_paid) == (claim.estimated_fund_pay, taken)
    # The next outpatient claim of the year (another visit that day) owes no deductible.
    second = _submit(
        name="陈明",
        hospital="H21010000001",
        care_type="general_outpatient",
        different_bill=True,
        **YESTERDAY,
    )
    assert second.breakdown["deductible"] == "0.00"


def test_an_approved_inpatient_claim_leaves_the_outpatient_deductible_alone(demo):
    claim = _submit(name="陈明", hospital="H21010000001")
    services.claim_approve(claim=claim, actor=_staff("agency_shenyang"))
    assert _year_to_date("陈明", claim.policy_year).outpatient_deductible_paid == D("0")


# --- api.md: every call that reads personal data is in the access log ------------------------


def test_a_repeated_bill_answered_from_its_idempotency_key_is_in_the_access_log(demo):
    first = _settle(LIU, "H23010300001", key="bill-1")
    before = AccessLog.objects.count()
    again = _settle(LIU, "H23010300001", key="bill-1")
    assert again.settlement.pk == first.settlement.pk and not again.created
    row = AccessLog.objects.order_by("-id").first()
    assert AccessLog.objects.count() == before + 1
    assert (row.purpose, row.outcome) == ("settlement:read", "found")
    assert row.subject_hash == _person("刘芳").id_hash
    assert row.hospital.code == "H23010300001"


def test_rule_3_4_the_demo_settles_a_stay_discharged_next_year_under_next_years_policy(demo):
    # A stay across New Year is settled under the policy of the discharge year: the demo has
    # next year's policy, so a demo seeded in December still settles in January.
    today = datetime.date.today()
    outcome = _settle(CHEN, "H21010000001", discharged_on=datetime.date(today.year + 1, 1, 2))
    assert outcome.created
    assert outcome.settlement.policy_year == today.year + 1


def test_a_bill_for_an_unknown_person_is_logged_under_the_number_asked_for(demo):
    # As the eligibility check does: the access log can show who was asked for even when no
    # insured person matched (the keyed hash, never the number itself).
    from portal.lib import idnumbers

    with pytest.raises(services.SettlementError):
        _settle(("232701195603120223", "王秀"), "H23010300001")
    row = AccessLog.objects.order_by("-id").first()
    assert (row.purpose, row.outcome) == ("settlement", "not_found")
    assert row.subject_hash == idnumbers.id_hash("232701195603120223") != ""


def test_rule_3_4_a_claim_for_a_stay_under_an_approved_referral_needs_the_referral_form(demo):
    # 张伟's referral to H23010300001 is approved: his claim for a stay there is paid as a
    # referral, and "the referral form where one applies" is one of its documents.
    from settlement.models import Claim
    from tests.filings.corpus import _pdf
    from tests.settlement.test_claims import _documents

    today = datetime.date.today()
    stay = {
        "admitted_on": today - datetime.timedelta(days=2),
        "discharged_on": today - datetime.timedelta(days=1),
    }
    with pytest.raises(rules.RuleError) as refused:
        _submit(name="张伟", hospital="H23010300001", **stay)
    assert refused.value.code == "referral_form_needed"
    assert not Claim.objects.filter(person__name="张伟").exists()

    form = ("referral_form", checked("referral.pdf", _pdf()))
    person = _person("张伟")
    claim = services.claim_submit(
        person=person,
        actor=person.user,
        hospital=Hospital.objects.get(code="H23010300001"),
        care_type="inpatient",
        **stay,
        items=TEN_THOUSAND_A,
        documents=[*_documents(), form],
    )
    assert claim.category == "referral"
    assert claim.documents.filter(kind="referral_form").exists()


def test_a_claim_without_an_approved_referral_needs_no_referral_form(demo):
    claim = _submit(name="陈明", hospital="H23010300001")  # an unapproved transfer
    assert "unapproved_transfer" in claim.flags


def test_a_bills_access_log_row_says_whether_the_person_may_settle_here(demo):
    with pytest.raises(services.SettlementError):
        _settle(CHEN, "H23010300001")  # no filing for Harbin, not an emergency: 422
    refused = AccessLog.objects.order_by("-id").first()
    _settle(LIU, "H23010300001")
    settled = AccessLog.objects.order_by("-id").first()
    assert (refused.purpose, refused.outcome) == ("settlement", "not_eligible")
    assert (settled.purpose, settled.outcome) == ("settlement", "eligible")
