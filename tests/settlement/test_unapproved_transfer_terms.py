"""domain.md §3.3: a transfer without an approved referral is settled "as referral" (the region's
referral deductible and ratio), the fund paying 50% of what it would then pay. The terms follow
the region's referral row: a row of its own could disagree with it (a region that raised its
referral deductible still settled such transfers on the old one)."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from hospitals.models import Hospital
from portal.models import InsuredPerson, Region
from settlement import services
from settlement.models import CategoryPolicy

pytestmark = pytest.mark.django_db


def _chen_at_harbin(discharged: datetime.date):
    """陈明 (Shenyang, employee, no filing) treated at a tertiary Harbin hospital: an unapproved
    transfer. 10,000.00 of class A items."""
    return services.claim_estimate(
        person=InsuredPerson.objects.get(name="陈明"),
        hospital=Hospital.objects.get(code="H23010300001"),
        care_type="inpatient",
        admitted_on=discharged - datetime.timedelta(days=9),
        discharged_on=discharged,
        items=[{"code": "X1", "name": "住院服务", "class": "A", "amount": "10000.00"}],
    )


def test_rule_3_3_an_unapproved_transfer_follows_the_regions_referral_row(demo):
    discharged = datetime.date.today() - datetime.timedelta(days=5)
    year = discharged.year
    referral = CategoryPolicy.objects.get(region__code="210100", year=year, category="referral")
    referral.ratio_reduction_points, referral.deductible_multiplier = 5, D("1.20")
    referral.save()
    estimate = _chen_at_harbin(discharged)
    assert "unapproved_transfer" in estimate.flags
    # Shenyang's tertiary employee policy: deductible 1,000.00 x 1.20 = 1,200.00; ratio 85% - 5
    # points = 80%; the fund pays 50% of 80% x (10,000 - 1,200) = 3,520.00.
    assert estimate.result.deductible == D("1200.00")
    assert estimate.result.fund_pay == D("3520.00")


def test_rule_3_3_without_a_referral_row_the_default_referral_terms_at_half(demo):
    discharged = datetime.date.today() - datetime.timedelta(days=5)
    CategoryPolicy.objects.filter(region__code="210100", year=discharged.year).delete()
    estimate = _chen_at_harbin(discharged)
    # The default referral terms: deductible unchanged, ratio 85% - 10 points = 75%; half of
    # 75% x (10,000 - 1,000) = 3,375.00.
    assert estimate.result.deductible == D("1000.00")
    assert estimate.result.fund_pay == D("3375.00")


def test_rule_3_3_an_unapproved_transfer_row_of_its_own_is_refused(demo):
    row = CategoryPolicy(
        region=Region.objects.get(code="210100"),
        year=2031,
        category="unapproved_transfer",
        ratio_reduction_points=10,
        deductible_multiplier=D("1.00"),
        fund_share=D("0.50"),
    )
    with pytest.raises(ValidationError) as refused:
        row.full_clean()
    assert "category" in refused.value.message_dict


def test_the_demo_has_no_unapproved_transfer_rows(demo):
    assert not CategoryPolicy.objects.filter(category="unapproved_transfer").exists()
