"""Edges of money and dates in settlement (domain.md §2.2, §2.3, §3.2–3.4): the year's
accumulation through review decisions, extended and retroactive filings, the category caps, the
bill's size, adjusted payments, and properties of the split over any bill."""

from __future__ import annotations

import datetime
import zoneinfo
from decimal import ROUND_HALF_UP
from decimal import Decimal as D

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from filings import services as filing_services
from filings.models import Filing
from hospitals.models import Hospital
from portal.models import InsuredPerson, Region
from settlement import engine, services
from settlement.models import AnnualAccumulation, CategoryPolicy, Settlement
from tests.settlement import test_api as api_tests
from tests.settlement.test_api import URL, bill
from tests.settlement.test_claims import _staff, _submit
from tests.settling import settle_today

pytestmark = pytest.mark.django_db
keys = api_tests.keys  # the API tests' fixture
CHEN = ("210103198512010131", "陈明")  # Shenyang employee, no filing
ZHANG = ("232721197811200177", "张伟")  # Daxinganling referral to H23010300001
HARBIN = "H23010300001"  # tertiary: employee outpatient deductible 1000 a year
SHENYANG = "H21010000001"  # 陈明's home, tertiary
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
A_10000 = [{"code": "X1", "name": "费", "class": "A", "amount": "10000.00"}]


def _today() -> datetime.date:
    return timezone.localdate()


def _settle(who, hospital, *, care="inpatient", items=None, admitted=None, **visit) -> Settlement:
    return settle_today(
        hospital=hospital,
        who=who,
        items=items or A_10000,
        care_type=care,
        admitted_on=admitted or _today(),
        **visit,
    )


def _year(name: str = "陈明") -> AnnualAccumulation:
    return AnnualAccumulation.objects.get(person__name=name, year=_today().year)


# --- the year's accumulation through review decisions ----------------------------------------


def test_rule_3_2_approving_a_held_outpatient_bill_recomputed_counts_its_new_deductible(demo):
    """domain.md §3.2.2: the outpatient deductible is per year. A held outpatient bill that
    took no deductible (another held bill had taken it) is recomputed on approval after that
    other bill was rejected: it then takes the 1000 deductible, and the year's deductible paid
    follows, so the next outpatient visit does not charge it a second time."""
    staff = _staff("agency_shenyang")
    first = _settle(CHEN, HARBIN, care="general_outpatient", emergency=True)
    second = _settle(CHEN, HARBIN, care="general_outpatient", emergency=True)
    assert (first.status, second.status) == ("held_for_review", "held_for_review")
    assert (first.breakdown["deductible"], second.breakdown["deductible"]) == ("1000.00", "0.00")
    services.settlement_reject(settlement=first, actor=staff, reason="非急诊")
    approved = services.settlement_approve(settlement=second, actor=staff)
    approved.refresh_from_db()
    assert approved.breakdown["deductible"] == "1000.00"  # recomputed: the year's deductible
    assert _year().outpatient_deductible_paid == D("1000.00")
    third = _settle(CHEN, SHENYANG, care="general_outpatient")
    assert third.breakdown["deductible"] == "0.00"  # not paid twice in the year


def test_rule_3_2_approving_an_outpatient_claim_counts_the_deductible_it_is_approved_on(demo):
    """domain.md §3.2.2 (outpatient deductible per year): a claim is approved on the split of
    the day (`split_now`), and the year's deductible paid grows by that split's deductible, not
    the one stored at submission. Submitted while a held bill had taken the deductible
    (estimate: 0), approved after that bill was rejected (1000): the year shows 1000 paid."""
    staff = _staff("agency_shenyang")
    held = _settle(CHEN, HARBIN, care="general_outpatient", emergency=True)
    yesterday = _today() - datetime.timedelta(days=1)
    claim = _submit(
        name="陈明",
        hospital=SHENYANG,
        care_type="general_outpatient",
        admitted_on=yesterday,
        discharged_on=yesterday,
    )
    assert claim.breakdown["deductible"] == "0.00"
    services.settlement_reject(settlement=held, actor=staff, reason="非急诊")
    claim = services.claim_approve(claim=claim, actor=staff)
    assert claim.breakdown["deductible"] == "1000.00"
    assert _year().outpatient_deductible_paid == D("1000.00")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(
        st.one_of(
            st.tuples(
                st.sampled_from(["held", "local"]),
                st.decimals(min_value=D("100"), max_value=D("3000"), places=2),
            ),
            st.tuples(st.sampled_from(["reject", "approve"]), st.integers(0, 5)),
        ),
        min_size=1,
        max_size=7,
    )
)
@example([("held", D("2000")), ("held", D("2000")), ("reject", 0), ("approve", 1)])
def test_rule_3_2_property_the_years_accumulation_is_what_the_standing_bills_took(demo, ops):
    """domain.md §3.2.2–3.2.3: whatever the order of outpatient bills settled, held, rejected and
    approved, the year's accumulation is the sum of what the standing bills took (fund paid,
    outpatient deductible) and the deductible taken in the year never exceeds one deductible
    (1000 at tertiary hospitals)."""
    staff = _staff("agency_shenyang")
    with transaction.atomic():
        held: list[Settlement] = []
        for op, arg in ops:
            if op in ("held", "local"):
                items = [{"code": "X1", "name": "费", "class": "A", "amount": str(arg)}]
                if op == "held":
                    held.append(
                        _settle(
                            CHEN, HARBIN, care="general_outpatient", emergency=True, items=items
                        )
                    )
                else:
                    _settle(CHEN, SHENYANG, care="general_outpatient", items=items)
            elif held:
                target = Settlement.objects.get(pk=held[arg % len(held)].pk)
                if target.status != "held_for_review":
                    continue
                if op == "reject":
                    services.settlement_reject(settlement=target, actor=staff, reason="x")
                else:
                    services.settlement_approve(settlement=target, actor=staff)
            standing = Settlement.objects.filter(
                person__name="陈明", status__in=["settled", "held_for_review"]
            )
            year = AnnualAccumulation.objects.filter(person__name="陈明", year=_today().year)
            paid, deductible = year.values_list(
                "fund_paid", "outpatient_deductible_paid"
            ).first() or (D("0"), D("0"))
            taken = sum((D(s.breakdown["deductible"]) for s in standing), D("0"))
            assert paid == sum((s.fund_pay for s in standing), D("0"))
            assert deductible == taken
            assert taken <= D("1000")
        transaction.set_rollback(True)


def test_rule_2_2_a_referral_start_window_extended_on_request_settles_directly_within_it(demo):
    """domain.md §2.2 (Daxinganling): treatment must start within 1 month, "extension on
    request". The agency extends 张伟's start window by 20 days; a stay admitted after the first
    month but within the extension settles directly (the decision reads `extended_until`)."""
    referral = Filing.objects.get(person__name="张伟", type="referral")
    until = referral.valid_until + datetime.timedelta(days=20)
    filing_services.referral_extend(
        filing=referral, actor=_staff("agency_dxal"), until=until, reason="等待床位"
    )
    day = referral.valid_until + datetime.timedelta(days=3)
    with time_machine.travel(datetime.datetime.combine(day, datetime.time(10)), tick=False):
        settlement = _settle(ZHANG, HARBIN)
    assert (settlement.category, settlement.status) == ("referral", "settled")


def test_rule_2_3_an_emergency_filed_within_3_working_days_covers_the_transferred_stay(demo):
    """domain.md §2.3: a patient transferred in an emergency completes the filing within 3
    working days after the transfer, or any time before discharge settlement, "and the hospital
    then settles directly". The emergency filing approved after the transfer covers the stay
    admitted on the transfer day: it settles under the filing, not as an emergency without one
    (which is held for review)."""
    transfer = _today() - datetime.timedelta(days=1)
    _emergency_filing(InsuredPerson.objects.get(name="陈明"), transfer)
    settlement = _settle(CHEN, HARBIN, admitted=transfer, emergency=True)
    assert "emergency_without_filing" not in settlement.flags
    assert (settlement.category, settlement.status) == ("emergency", "settled")


@pytest.mark.parametrize(
    ("category", "points", "multiplier", "share"),
    [
        ("referral", 10, "1.00", "0.50"),  # 85% -> 37.5%: 47.5 points, cap 10
        ("temporary", 20, "1.50", "0.50"),  # 85% -> 32.5%, cap 20
        ("resettled", 5, "1.00", "0.80"),  # 85% -> 64%, cap 5
        ("resettled", 5, "3.00", "1.00"),  # deductible "unchanged" for resettled persons
    ],
)
def test_rule_3_3_a_category_adjustment_above_its_cap_through_the_fund_share_is_refused(
    demo, category, points, multiplier, share
):
    """domain.md §3.3: the ratio is "reduced by at most 10 / 20 / 5 points"; Daxinganling's
    resettled persons keep the deductible "unchanged"; "a region's configured reduction above
    the cap for its category is invalid and must be rejected when the policy is saved". Not
    only through `ratio_reduction_points`: a fund share below 1 (only a transfer without an
    approved referral pays 50%) or a multiplier on the resettled row is refused too."""
    row = CategoryPolicy(
        region=Region.objects.get(code="232700"),
        year=2099,
        category=category,
        ratio_reduction_points=points,
        deductible_multiplier=D(multiplier),
        fund_share=D(share),
    )
    with pytest.raises(ValidationError):
        row.full_clean()


def test_rule_3_2_a_bill_whose_total_exceeds_the_money_columns_is_refused_not_stored(client, keys):
    """domain.md §3.2.1 (`total` = sum of items) against the column: every item may be up to
    9,999,999,999.99 (12 digits) and a bill has up to 2000 items, but Settlement.total is
    numeric(12, 2). A bill of two such items is refused with the API's error body (on
    PostgreSQL the INSERT would overflow; on SQLite every read of the row would fail)."""
    items = [{"code": "X1", "name": "费", "class": "A", "amount": "9999999999.99"}] * 2
    response = client.post(
        URL,
        bill(CHEN, items=items),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {keys[SHENYANG]}",
    )
    assert response.status_code == 400, response.status_code
    assert "9,999,999,999.99" in str(response.json()["error"]["fields"]["items"])
    assert not Settlement.objects.filter(person__name="陈明").exists()


def test_rule_3_2_an_adjusted_approval_never_pays_above_the_cap_or_self_paid_items(demo):
    """domain.md §3.2.3 (the fund pays up to the remaining annual cap) and §3.2.5 (the fund never
    pays a self-paid item): an adjusted approval is bounded by the bill's in-scope amount within
    the cap left, not by its total. With 500 of the 300,000 cap left, a claim of A 9000 +
    self-paid 1000 cannot be approved at 10,000, nor at 9000; at 500 it can."""
    person = InsuredPerson.objects.get(name="陈明")
    AnnualAccumulation.objects.create(person=person, year=_today().year, fund_paid=D("299500"))
    claim = _submit(
        name="陈明",
        hospital=SHENYANG,
        items=[
            {"code": "X1", "name": "住院费", "class": "A", "amount": "9000.00"},
            {"code": "X2", "name": "自费药", "class": "C", "amount": "1000.00"},
        ],
    )
    assert claim.estimated_fund_pay == D("500.00")
    staff = _staff("agency_shenyang")
    assert services.fund_limit(claim) == D("500.00")
    for too_much in ("10000", "9000", "500.01"):
        with pytest.raises(services.rules.RuleError) as refused:
            services.claim_approve(claim=claim, actor=staff, fund_pay=D(too_much), reason="复核")
        assert refused.value.params["limit"] == D("500.00")
    assert _year().fund_paid == D("299500")
    services.claim_approve(claim=claim, actor=staff, fund_pay=D("400"), reason="部分票据不符")
    assert _year().fund_paid == D("299900")


def test_rule_3_2_a_claims_bill_too_big_for_its_columns_is_refused_with_a_message(demo):
    """The claim form takes up to 500 items of up to 99,999,999.99: their sum may exceed what a
    claim keeps (numeric(12, 2)); the estimate and the submission refuse it in words."""
    person = InsuredPerson.objects.get(name="陈明")
    items = [{"code": "X1", "name": "费", "class": "A", "amount": "99999999.99"}] * 101
    yesterday = _today() - datetime.timedelta(days=1)
    with pytest.raises(services.rules.RuleError) as refused:
        services.claim_estimate(
            person=person,
            hospital=Hospital.objects.get(code=SHENYANG),
            care_type="inpatient",
            admitted_on=yesterday,
            discharged_on=yesterday,
            items=items,
        )
    assert refused.value.code == "bill_total_too_large"


def test_rule_2_3_a_filing_made_before_discharge_settlement_covers_the_stay(demo):
    """domain.md §2.3: "A person may also file retroactively any time before discharge
    settlement (出院结算前补办备案), and the hospital then settles directly." 陈明, admitted in
    Harbin three days ago without a filing, files for other temporary treatment today (approved
    on submission): the stay settles directly under it at discharge. Before that filing the
    same bill was refused, and the refusal told him he could file retroactively."""
    person = InsuredPerson.objects.get(name="陈明")
    harbin = Region.objects.get(code="230100")
    admitted = _today() - datetime.timedelta(days=3)
    with pytest.raises(services.SettlementError) as refused:
        _settle(CHEN, HARBIN, admitted=admitted)
    assert any("补办" in reason or "retroactive" in reason for reason in refused.value.reasons)
    filing = _temporary_filing(person, harbin)
    filing.refresh_from_db()
    assert filing.status == "approved" and filing.valid_from == _today()
    settlement = _settle(CHEN, HARBIN, admitted=admitted)
    assert settlement.category == "temporary"


# --- properties of the split ------------------------------------------------------------------

amounts = st.decimals(min_value=D("0.00"), max_value=D("200000"), places=2)
medications = st.one_of(
    st.none(),
    st.builds(
        engine.Medication,
        days=st.integers(1, 60),
        kind=st.sampled_from(["acute", "chronic", "special"]),
    ),
)
items_st = st.lists(
    st.builds(
        engine.Item,
        amount=amounts,
        cls=st.sampled_from(["A", "B", "C"]),
        code=st.sampled_from(["", "D1", "D2", "D3", "D4", "D5", "D6"]),
        first_self_pay_rate=st.one_of(st.none(), st.decimals(min_value=0, max_value=1, places=3)),
        medication=medications,
    ),
    min_size=1,
    max_size=10,
)
policies = st.builds(
    engine.Policy,
    deductible=st.decimals(min_value=0, max_value=2000, places=2),
    ratio=st.decimals(min_value=D("0.00"), max_value=D("1.00"), places=3),
    annual_cap=st.decimals(min_value=0, max_value=400000, places=2),
    class_b_rate=st.decimals(min_value=0, max_value=D("0.30"), places=3),
)
adjustments = st.builds(
    engine.Adjustment,
    ratio_reduction_points=st.integers(0, 20),
    deductible_multiplier=st.sampled_from([D("1.00"), D("1.50"), D("2.00")]),
    fund_share=st.sampled_from([D("1.00"), D("0.50")]),
)
ytds = st.builds(
    engine.YearToDate,
    fund_paid=st.decimals(min_value=0, max_value=400000, places=2),
    deductible_paid=st.decimals(min_value=0, max_value=3000, places=2),
)


@settings(max_examples=600, deadline=None)
@given(policies, items_st, adjustments, ytds, st.booleans(), st.data())
def test_rule_3_2_property_raising_any_line_never_lowers_the_persons_share(
    policy, items, adjustment, ytd, outpatient, data
):
    """domain.md §3.2.5 with discharge medication (§3.4: days, 4 kinds, one drug on several
    lines), per-line class B rates and the outpatient year: raising one line's amount never
    lowers the person's share, and never lowers the fund's either beyond that line's share."""
    i = data.draw(st.integers(0, len(items) - 1))
    more = data.draw(st.decimals(min_value=D("0.01"), max_value=D("50000"), places=2))
    raised = list(items)
    raised[i] = engine.Item(
        items[i].amount + more,
        items[i].cls,
        items[i].code,
        items[i].name,
        items[i].first_self_pay_rate,
        items[i].medication,
    )
    kw = {"policy": policy, "adjustment": adjustment, "ytd": ytd, "outpatient": outpatient}
    base, after = engine.split(items=items, **kw), engine.split(items=raised, **kw)
    assert after.person_pay >= base.person_pay
    assert after.total == base.total + more


_ACUTE_20 = engine.Item(D("1000"), "A", "D1", medication=engine.Medication(20, "acute"))
_SPECIAL_1 = engine.Item(D("0.01"), "A", "D1", medication=engine.Medication(1, "special"))


@settings(max_examples=600, deadline=None)
@given(policies, items_st, items_st, adjustments, ytds, st.booleans())
@example(  # the same drug for a special disease, 1 day, beside 20 acute days (see below)
    engine.Policy(D("1000"), D("0.85"), D("300000"), D("0")),
    [engine.Item(D("2000"), "A"), _ACUTE_20],
    [_SPECIAL_1],
    engine.Adjustment(),
    engine.YearToDate(),
    False,
)
@example(  # found by this test: 15 chronic days and 1 acute day of a drug, then 1 special day
    engine.Policy(D("0"), D("0.001"), D("0.07"), D("0")),
    [
        engine.Item(D("0"), "A", "D1", medication=engine.Medication(15, "chronic")),
        engine.Item(D("65.00"), "A", "D1", medication=engine.Medication(1, "acute")),
    ],
    [engine.Item(D("0"), "A", "D1", medication=engine.Medication(1, "special"))],
    engine.Adjustment(),
    engine.YearToDate(),
    False,
)
def test_rule_3_2_property_adding_lines_never_lowers_the_persons_share(
    policy, items, more, adjustment, ytd, outpatient
):
    """domain.md §3.2.5 ("a bigger bill never lowers the person's share") when the bill grows by
    whole lines, not only by a line's amount: a line of a drug already on the bill, of another
    kind of condition (§3.4's 7/15/30 days), a new drug past the 4 kinds, a self-paid item."""
    kw = {"policy": policy, "adjustment": adjustment, "ytd": ytd, "outpatient": outpatient}
    base, after = engine.split(items=items, **kw), engine.split(items=items + more, **kw)
    assert after.person_pay >= base.person_pay
    assert after.total == base.total + sum((i.amount for i in more), start=D("0"))


def test_rule_3_4_a_drug_on_a_special_disease_line_does_not_lift_its_acute_days_limit():
    """§3.4: 20 days of an acute drug are 13 days beyond its 7; a 1-day line of the same drug
    for a special disease (30 days) is within its own limit, and must not make the 20 acute days
    paid (it did: the person's share fell from 1,852.50 to 1,300.00 and the bill was no longer
    held for review)."""
    policy = engine.Policy(
        deductible=D("1000"), ratio=D("0.85"), annual_cap=D("300000"), class_b_rate=D("0")
    )
    acute = engine.Medication(days=20, kind="acute")
    bill = [
        engine.Item(D("2000.00"), "A", "S1", "住院服务"),
        engine.Item(D("1000.00"), "A", "X1", "药品X", medication=acute),
    ]
    special = engine.Item(
        D("0.01"), "A", "X1", "药品X", medication=engine.Medication(days=1, kind="special")
    )
    kw = {"policy": policy, "adjustment": engine.Adjustment(), "ytd": engine.YearToDate()}
    before, after = engine.split(items=bill, **kw), engine.split(items=[*bill, special], **kw)
    # 1000 x 13/20 = 650 not paid by the fund: 0.85 x (3000 - 650 - 1000) = 1147.50.
    assert before.fund_pay == D("1147.50") and before.person_pay == D("1852.50")
    # The special line's 0.01 is paid in full: 0.85 x (3000.01 - 650 - 1000) = 1147.5085.
    assert after.fund_pay == D("1147.51") and after.person_pay == D("1852.50")


@settings(max_examples=300, deadline=None)
@given(policies, st.lists(st.tuples(items_st, st.booleans()), min_size=1, max_size=6), adjustments)
def test_rule_3_2_property_a_years_bills_in_turn_never_pay_beyond_the_cap_or_one_deductible(
    policy, bills, adjustment
):
    """domain.md §3.2.2–3.2.3, carried across settlements as `settle` does (year to date
    updated after each): the fund's payments of a year never exceed the cap, the outpatient
    deductible taken never exceeds one (multiplied) deductible, each bill's fund payment is at
    most ratio x (in scope - deductible), and fund + person = total every time."""
    ytd = engine.YearToDate()
    due = (policy.deductible * adjustment.deductible_multiplier).quantize(D("0.01"), ROUND_HALF_UP)
    ratio = max(policy.ratio - D(adjustment.ratio_reduction_points) / 100, D("0"))
    for items, outpatient in bills:
        s = engine.split(
            policy=policy, items=items, adjustment=adjustment, ytd=ytd, outpatient=outpatient
        )
        assert s.fund_pay + s.person_pay == s.total
        assert s.fund_pay <= (ratio * (s.in_scope - s.deductible)).quantize(
            D("0.01"), ROUND_HALF_UP
        )
        ytd = engine.YearToDate(
            ytd.fund_paid + s.fund_pay,
            ytd.deductible_paid + (s.deductible if outpatient else D("0")),
        )
        assert ytd.fund_paid <= policy.annual_cap
        assert ytd.deductible_paid <= due


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.decimals(min_value=D("0.001"), max_value=D("1000"), places=3), min_size=1, max_size=8
    ),
    st.decimals(min_value=D("0.01"), max_value=D("1.00"), places=2),
)
def test_rule_3_2_property_rounding_is_half_up_once_of_the_exact_sum(amounts_, ratio):
    """domain.md §3.2.4: the total is the exact sum rounded once, half up (never the sum of
    rounded lines), and so is the fund's share: 3 lines of 0.005 make 0.02, not 0.03."""
    s = engine.split(
        policy=engine.Policy(D("0"), ratio, D("10000000")),
        items=[engine.Item(a, "A") for a in amounts_],
    )
    exact = sum(amounts_, D("0"))
    assert s.total == exact.quantize(D("0.01"), ROUND_HALF_UP)
    assert s.fund_pay == (s.total * ratio).quantize(D("0.01"), ROUND_HALF_UP)


def test_rule_3_2_rounding_of_the_exact_sum_example():
    s = engine.split(
        policy=engine.Policy(D("0"), D("1.00"), D("100")),
        items=[engine.Item(D("0.005"), "A")] * 3,
    )
    assert (s.total, s.fund_pay) == (D("0.02"), D("0.02"))


def test_a_bill_sent_at_01_30_china_time_is_dated_by_chinas_calendar(demo):
    """01:30 in Shanghai is 17:30 UTC the day before: a stay discharged that day (China) is not
    "in the future", and the settlement number and policy year are of China's day."""
    today = _today()
    night = datetime.datetime.combine(today, datetime.time(1, 30), tzinfo=SHANGHAI)
    assert night.astimezone(datetime.UTC).date() == today - datetime.timedelta(days=1)
    with time_machine.travel(night, tick=False):
        settlement = _settle(CHEN, SHENYANG)
    assert settlement.discharged_on == today
    assert settlement.number.startswith(f"JS{today:%Y%m%d}")
    assert settlement.policy_year == today.year


# --- filed before discharge settlement; what an emergency does not lift -----------------------


def _emergency_filing(person, transfer, hospital=HARBIN):
    harbin = Region.objects.get(code="230100")
    filing = filing_services.filing_create(
        person=person,
        actor=person.user,
        filing_type="emergency",
        place_province=harbin.province,
        place_region=harbin,
        receiving_hospital=Hospital.objects.get(code=hospital),
        diagnosis="急性心梗",
        transfer_date=transfer,
    )
    filing_services.filing_submit(filing=filing, actor=person.user)
    return filing_services.filing_approve(filing=filing, actor=_staff("agency_shenyang"))


def _temporary_filing(person, place):
    """An other-temporary filing of `person` for `place`, approved on submission today."""
    filing = filing_services.filing_create(
        person=person,
        actor=person.user,
        filing_type="temporary",
        place_province=place.province,
        place_region=place,
    )
    return filing_services.filing_submit(filing=filing, actor=person.user)


def test_rule_2_3_an_emergency_filed_after_the_discharge_day_covers_the_stay(demo):
    """domain.md §2.3: the filing may be completed any time before discharge settlement. 陈明
    was transferred and admitted two days ago and discharged yesterday; the filing approved
    today is valid from the transfer, and the hospital settles the stay under it."""
    person = InsuredPerson.objects.get(name="陈明")
    transfer = _today() - datetime.timedelta(days=2)
    filing = _emergency_filing(person, transfer)
    filing.refresh_from_db()
    assert filing.valid_from == transfer
    settlement = _settle(
        CHEN, HARBIN, admitted=transfer, discharged_on=_today() - datetime.timedelta(days=1)
    )
    assert (settlement.category, settlement.status) == ("emergency", "settled")
    assert "emergency_without_filing" not in settlement.flags


def test_rule_2_3_a_temporary_filing_made_after_the_discharge_day_covers_the_stay(demo):
    person = InsuredPerson.objects.get(name="陈明")
    harbin = Region.objects.get(code="230100")
    yesterday = _today() - datetime.timedelta(days=1)
    _temporary_filing(person, harbin)
    settlement = _settle(
        CHEN, HARBIN, admitted=yesterday - datetime.timedelta(days=3), discharged_on=yesterday
    )
    assert settlement.category == "temporary"


@pytest.mark.parametrize("blocker", ["suspended", "no_such_care", "not_active"])
def test_rule_2_3_an_emergency_does_not_lift_what_a_filing_would_not(demo, blocker):
    """ "Treated as filed": the emergency stands in for the missing filing, not for insurance
    that is not active, a hospital suspended from direct settlement, or care it does not settle
    directly. Each is refused (422), nothing is held or counted against the year."""
    from hospitals.eligibility_selectors import clear_caches

    hospital, care = HARBIN, "inpatient"
    if blocker == "suspended":
        Hospital.objects.filter(code=HARBIN).update(suspended_on=_today())
    elif blocker == "no_such_care":
        hospital, care = "H23010300008", "general_outpatient"  # inpatient only
    else:
        InsuredPerson.objects.filter(name="陈明").update(active=False)
    clear_caches()
    with pytest.raises(services.SettlementError) as refused:
        _settle(CHEN, hospital, care=care, emergency=True)
    assert refused.value.status == 422
    assert not Settlement.objects.filter(person__name="陈明").exists()
    assert not AnnualAccumulation.objects.filter(person__name="陈明", fund_paid__gt=0).exists()


def test_rule_3_4_a_filing_made_after_discharge_does_not_raise_a_claims_level(demo):
    """A reimbursement claim is for a stay the person paid in full at discharge: a temporary
    filing made today for a stay that ended last week covers nothing of it, and the claim is
    estimated as a transfer without an approved referral, as before the filing."""
    person = InsuredPerson.objects.get(name="陈明")
    harbin = Region.objects.get(code="230100")
    discharged = _today() - datetime.timedelta(days=7)
    stay = {
        "person": person,
        "hospital": Hospital.objects.get(code=HARBIN),
        "care_type": "inpatient",
        "admitted_on": discharged - datetime.timedelta(days=3),
        "discharged_on": discharged,
        "items": A_10000,
    }
    before = services.claim_estimate(**stay)
    _temporary_filing(person, harbin)
    after = services.claim_estimate(**stay)
    assert "unapproved_transfer" in before.flags
    assert (after.category, after.result.fund_pay) == (before.category, before.result.fund_pay)
    assert "unapproved_transfer" in after.flags


def test_rule_2_3_an_emergency_filing_covers_the_hospital_it_names_not_the_whole_place(demo):
    """An emergency filing completes the transfer to the hospital it names: an ordinary stay at
    another hospital of the same city is not settled under it (at the emergency's level, for six
    months); an emergency there is still treated as filed, and held for review."""
    transfer = _today() - datetime.timedelta(days=1)
    _emergency_filing(InsuredPerson.objects.get(name="陈明"), transfer)
    other = "H23010300016"
    with pytest.raises(services.SettlementError) as refused:
        _settle(CHEN, other, admitted=transfer)
    assert any("仅适用于其所填转入医院" in reason for reason in refused.value.reasons)
    held = _settle(CHEN, other, admitted=transfer, emergency=True)
    assert (held.category, held.status) == ("emergency", "held_for_review")
    assert "emergency_without_filing" in held.flags
    named = _settle(CHEN, HARBIN, admitted=transfer)
    assert (named.category, named.status) == ("emergency", "settled")


def test_rule_3_4_a_drugs_kinds_are_paid_from_the_shortest_limit_up_to_the_longest():
    """domain.md §3.4 (7 days acute, 15 chronic, 30 special) for one drug on lines of several
    kinds: 1 acute day is paid, then chronic days up to 15 in all; a 1-day special line adds its
    own day (up to 30 in all) and takes nothing back from the others, nor gives them any."""
    policy = engine.Policy(D("0"), D("1.00"), D("300000"), D("0"))

    def line(amount, days, kind):
        return engine.Item(D(amount), "A", "D1", medication=engine.Medication(days, kind))

    acute, chronic = line("70.00", 1, "acute"), line("160.00", 16, "chronic")
    split = engine.split(policy=policy, items=[acute, chronic])
    # 1 acute day, then 14 of the 16 chronic days (15 in all): 2 days of 10.00 not paid.
    assert split.not_covered_medication == D("20.00")
    with_special = engine.split(policy=policy, items=[acute, chronic, line("30.00", 1, "special")])
    assert with_special.not_covered_medication == D("20.00")
    assert with_special.fund_pay == split.fund_pay + D("30.00")
