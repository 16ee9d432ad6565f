"""domain.md §3.4: "Claims are due within the calendar year, and at the latest 12 months after
discharge": a claim filed, or sent again after a return, in a later year than the discharge
is noted "late_claim" alike."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from settlement import rules, services
from tests.settlement.test_claims import _policies_of_the_travelled_year, _staff, _submit

pytestmark = pytest.mark.django_db
STAY = {"admitted_on": datetime.date(2026, 12, 1), "discharged_on": datetime.date(2026, 12, 10)}


def test_rule_3_4_a_claim_returned_in_its_year_and_sent_again_the_next_year_is_late(demo):
    with time_machine.travel(datetime.datetime(2026, 12, 20, 10, 0), tick=False):
        _policies_of_the_travelled_year()
        claim = _submit(**STAY)
        assert "late_claim" not in claim.flags
        services.claim_return(claim=claim, actor=_staff(), reason="缺少发票")
    with time_machine.travel(datetime.datetime(2027, 1, 5, 10, 0), tick=False):
        claim.refresh_from_db()
        resubmitted = services.claim_resubmit(claim=claim, actor=claim.person.user)
        filed_now = _submit(different_bill=True, **STAY)
    assert "late_claim" in resubmitted.flags
    assert not rules.is_clean(resubmitted.flags)
    # The same flags as a claim for the same stay filed that day.
    assert resubmitted.flags == [f for f in filed_now.flags if f != "duplicate_bill"]


def test_rule_3_4_a_claim_sent_again_within_the_year_of_discharge_is_not_late(demo):
    with time_machine.travel(datetime.datetime(2026, 12, 20, 10, 0), tick=False):
        _policies_of_the_travelled_year()
        claim = _submit(**STAY)
        services.claim_return(claim=claim, actor=_staff(), reason="缺少发票")
        claim.refresh_from_db()
        resubmitted = services.claim_resubmit(claim=claim, actor=claim.person.user)
    assert "late_claim" not in resubmitted.flags
