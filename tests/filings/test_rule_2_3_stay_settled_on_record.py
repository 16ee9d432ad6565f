"""domain.md §2.3: after the 3 working days, an emergency may be filed retroactively "any time
before discharge settlement". Whether the stay was settled is read from the settlement records,
not only from the box the person ticks: a stay the receiving hospital settled directly closes
the late filing, whatever the form says."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from filings import services
from filings.models import Filing
from filings.rules import RuleError
from hospitals.models import Hospital
from portal.models import InsuredPerson, Region
from settlement import services as settlement_services
from tests.settling import settle_today

pytestmark = pytest.mark.django_db

CHEN = ("210103198512010131", "陈明")  # Shenyang, no filing
HARBIN_HOSPITAL = "H23010300001"


def _emergency(transfer_date: datetime.date, **extra) -> Filing:
    person = InsuredPerson.objects.get(name="陈明")
    harbin = Region.objects.select_related("province").get(code="230100")
    return services.filing_create(
        person=person,
        actor=person.user,
        filing_type="emergency",
        place_province=harbin.province,
        place_region=harbin,
        receiving_hospital=Hospital.objects.get(code=HARBIN_HOSPITAL),
        diagnosis="急性心梗",
        transfer_date=transfer_date,
        **extra,
    )


def _settled_stay(admitted_on: datetime.date):
    return settle_today(hospital=HARBIN_HOSPITAL, who=CHEN, admitted_on=admitted_on, emergency=True)


def test_rule_2_3_a_late_emergency_filing_for_a_stay_settled_on_record_is_refused(demo):
    transfer = timezone.localdate() - datetime.timedelta(days=30)
    stay = _settled_stay(transfer)
    # Without a filing, an emergency stay is settled and held for the agency's review.
    assert stay.status in ("settled", "held_for_review")
    before = Filing.objects.count()
    with pytest.raises(RuleError) as refused:
        _emergency(transfer)  # the box "already discharged and settled" left unticked
    assert refused.value.code == "emergency_too_late"
    assert Filing.objects.count() == before


def test_rule_2_3_a_voided_settlement_or_a_stay_elsewhere_does_not_close_the_filing(demo):
    transfer = timezone.localdate() - datetime.timedelta(days=30)
    stay = _settled_stay(transfer)
    settlement_services.settlement_void(
        settlement=stay, actor=demo["agency_shenyang"], reason="重复结算"
    )
    assert _emergency(transfer).status == "draft"  # not settled after all: still in time


def test_rule_2_3_a_stay_that_ended_before_the_transfer_does_not_count(demo):
    earlier = timezone.localdate() - datetime.timedelta(days=40)
    settle_today(
        hospital=HARBIN_HOSPITAL,
        who=CHEN,
        admitted_on=earlier,
        discharged_on=earlier,
        emergency=True,
    )
    transfer = timezone.localdate() - datetime.timedelta(days=30)
    assert _emergency(transfer).status == "draft"


def test_rule_2_3_within_3_working_days_a_settled_stay_may_still_be_filed(demo):
    today = timezone.localdate()
    _settled_stay(today)
    assert _emergency(today).status == "draft"
