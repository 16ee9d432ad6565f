"""An agency voids a settled or held direct settlement (a duplicate, a bill settled wrongly):
the fund no longer pays it, the year gets back what it used, every page shows it voided, the
hospital API answers within its contract, and a clearing statement that lists it is corrected
at the source."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from hospitals.models import Hospital
from hospitals.services import api_key_create
from portal.admin import SEEN
from portal.models import AuditEvent, Notification
from settlement import clearing, clearing_views, rules, services, stats
from settlement.messages import message
from settlement.models import AnnualAccumulation, ClearingDiscrepancy, Settlement
from tests.settlement.test_clearing import _agency_staff
from tests.settling import settle_today
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
D = Decimal
SANYA = "H46020000002"  # one of 王秀兰's chosen hospitals


def _agency(demo, username="agency_dxal"):
    return demo[username]


def _stay(days_ago: int, amount: str = "10000.00", **visit) -> Settlement:
    """王秀兰's stay of one day `days_ago` at SANYA (another day than any other stay's)."""
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return settle_today(amount, admitted_on=day, discharged_on=day, **visit)


def _year(settlement) -> AnnualAccumulation:
    return AnnualAccumulation.objects.get(person=settlement.person, year=settlement.policy_year)


def _void(settlement, demo, reason="重复结算", **kwargs):
    return services.settlement_void(
        settlement=settlement, actor=_agency(demo), reason=reason, **kwargs
    )


def test_rule_3_2_a_voided_settlement_gives_its_fund_payment_back_to_the_annual_cap(demo):
    before = AnnualAccumulation.objects.filter(person__name="王秀兰").first()
    before = before.fund_paid if before else D("0")
    duplicate = _stay(2)
    assert duplicate.fund_pay == D("7200.00")  # (10000 - 1000) x (85% - 5%)
    assert _year(duplicate).fund_paid == before + D("7200.00")

    voided = _void(duplicate, demo)

    assert voided.status == Settlement.Status.VOIDED == "voided"
    assert voided.voided_from == Settlement.Status.SETTLED
    assert voided.review_reason == "重复结算" and voided.reviewed_at is not None
    assert _year(duplicate).fund_paid == before
    # The split stays on record: what the engine computed, not what the fund pays.
    assert (voided.fund_pay, voided.person_pay) == (D("7200.00"), D("2800.00"))


def test_rule_3_2_2_a_voided_outpatient_settlement_gives_its_deductible_back_to_the_year(demo):
    outpatient = _stay(2, "3000.00", care_type="general_outpatient")
    deductible = D(outpatient.breakdown["deductible"])
    assert deductible > 0
    year = _year(outpatient)
    paid, deductible_paid = year.fund_paid, year.outpatient_deductible_paid

    _void(outpatient, demo)

    year.refresh_from_db()
    assert year.fund_paid == paid - outpatient.fund_pay
    assert year.outpatient_deductible_paid == deductible_paid - deductible
    # The next outpatient visit takes the deductible again.
    again = _stay(1, "3000.00", care_type="general_outpatient")
    assert D(again.breakdown["deductible"]) == deductible


def test_a_held_settlement_can_be_voided_and_its_reservation_of_the_cap_is_freed(demo):
    held = _stay(2, "150000.00")  # above the review threshold
    assert held.status == Settlement.Status.HELD
    before = _year(held).fund_paid

    voided = _void(held, demo)

    assert voided.voided_from == Settlement.Status.HELD
    assert _year(held).fund_paid == before - held.fund_pay


def test_the_void_is_audited_and_told_to_the_hospital_and_the_person(demo):
    settlement = _stay(2)

    _void(settlement, demo, reason="同一次住院重复结算")

    event = AuditEvent.objects.get(action="settlement.void", object_id=str(settlement.pk))
    assert (event.from_state, event.to_state, event.reason) == (
        "settled",
        "voided",
        "同一次住院重复结算",
    )
    assert event.actor == demo["agency_dxal"]
    (clerk,) = Notification.objects.filter(user=demo["hosp_h46020000002"])
    assert clerk.notice == "settlement_voided"
    assert clerk.url == reverse("hospital-settlement", args=[settlement.number])
    title, body = clerk.text("en")
    assert title == f"Settlement {settlement.number} voided by the agency"
    assert body.endswith("同一次住院重复结算")  # the agency's reason
    (person,) = Notification.objects.filter(user=demo["wangxiulan"])
    assert person.notice == "settlement_voided_person"
    assert person.text("en")[0].endswith(" was voided")


def test_a_void_needs_a_reason_and_a_standing_settlement(demo):
    settlement = _stay(2)
    with pytest.raises(rules.RuleError) as refused:
        _void(settlement, demo, reason="  ")
    assert refused.value.code == "reason_required"

    held = _stay(4, "150000.00")
    services.settlement_reject(settlement=held, actor=_agency(demo), reason="非本人就医")
    before = _year(held).fund_paid
    with translation.override("en"), pytest.raises(rules.RuleError) as refused:
        _void(held, demo)
    assert refused.value.code == "not_voidable"
    assert message(refused.value) == (
        "Only a settled or held settlement can be voided: this one is Rejected on review."
    )
    assert _year(held).fund_paid == before  # not given back twice

    _void(settlement, demo)
    with pytest.raises(rules.RuleError) as refused:
        _void(settlement, demo)
    assert refused.value.code == "not_voidable"


def test_only_the_agency_of_the_persons_region_voids_on_the_version_it_saw(demo):
    settlement = _stay(2)  # 王秀兰 is insured in Daxinganling
    with pytest.raises(PermissionDenied):
        services.settlement_void(
            settlement=settlement, actor=demo["agency_shenyang"], reason="重复结算"
        )
    seen = services.settlement_version(settlement)
    Settlement.objects.filter(pk=settlement.pk).update(reviewed_at=timezone.now())
    with pytest.raises(rules.RuleError) as refused:
        _void(settlement, demo, seen_version=seen)
    assert refused.value.code == "changed_since_opened"
    assert Settlement.objects.get(pk=settlement.pk).status == Settlement.Status.SETTLED


def test_a_voided_settlement_no_longer_counts_in_the_statistics(demo):
    settlement = _stay(2)
    today = timezone.localdate()
    since = today - datetime.timedelta(days=30)
    counted = stats._settled(since, today)
    assert counted.filter(pk=settlement.pk).exists()

    _void(settlement, demo)

    assert not stats._settled(since, today).filter(pk=settlement.pk).exists()


def test_the_persons_page_shows_a_voided_bill_as_not_paid_and_the_year_without_it(client, demo):
    settlement = _stay(2)
    _void(settlement, demo, reason="重复结算")
    client.force_login(demo["wangxiulan"])
    client.cookies["django_language"] = "en"

    html = client.get(reverse("settlement:settlements")).content.decode()

    row = html.split(f'data-number="{settlement.number}"')[1].split('class="list-group-item"')[0]
    assert "Voided" in row and "not paid by the fund" in row and "Voided by the agency" in row
    assert "重复结算" in row  # the agency's reason
    assert "7,200.00" not in row
    paid = _year(settlement).fund_paid
    assert f'id="fund-paid">{paid:,.2f}</dd>' in html


def test_the_hospitals_list_shows_it_voided(client, demo):
    settlement = _stay(2)
    _void(settlement, demo)
    client.force_login(demo["hosp_h46020000002"])
    client.cookies["django_language"] = "en"

    page = client.get(reverse("hospital-settlements"), {"status": "voided"})

    assert [s.number for s in page.context["page"].object_list] == [settlement.number]
    assert "Voided" in page.content.decode()


def test_the_api_answers_a_voided_settlement_as_voided_with_its_other_fields_unchanged(
    client, demo
):
    """The hospital API says a voided settlement's state now, as it does a rejected or
    returned one: a system reading it again learns the fund does not pay it. Every other field
    (the split as computed) is the body it had."""
    hospital = Hospital.objects.get(code=SANYA)
    _, key = api_key_create(hospital=hospital)
    settlement = _stay(2)
    url = f"/api/v1/settlements/{settlement.number}"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    before = client.get(url, **headers).json()

    _void(settlement, demo)

    after = client.get(url, **headers)
    assert after.status_code == 200
    assert before["status"] == "settled" and after.json()["status"] == "voided"
    assert {k: v for k, v in after.json().items() if k != "status"} == {
        k: v for k, v in before.items() if k != "status"
    }


def test_the_agency_voids_a_settled_bill_from_its_page_with_a_reason(client, demo):
    settlement = _stay(2)
    staff_login(client, "agency_dxal")
    client.cookies["django_language"] = "en"
    change = reverse("admin:settlement_settlement_change", args=[settlement.pk])
    page = client.get(change)
    assert [name for name, _label in page.context["decisions"]] == ["void_settlement"]
    assert "Void a settlement (e.g. a duplicate)" in page.content.decode()

    changelist = reverse("admin:settlement_settlement_changelist")
    chosen = {
        "action": "void_settlement",
        "_selected_action": [settlement.pk],
        f"{SEEN}{settlement.pk}": services.settlement_version(settlement),
    }
    asked = client.post(changelist, chosen)
    assert asked.status_code == 200  # the reason first
    assert Settlement.objects.get(pk=settlement.pk).status == Settlement.Status.SETTLED
    assert client.post(changelist, {**chosen, "apply": "1", "reason": ""}).status_code == 200
    done = client.post(changelist, {**chosen, "apply": "1", "reason": "重复结算"})

    assert done.status_code == 302
    assert Settlement.objects.get(pk=settlement.pk).status == Settlement.Status.VOIDED
    page = client.get(change)
    assert page.context["decisions"] == []


def test_the_admin_list_marks_the_split_of_a_bill_the_fund_does_not_pay(client, demo):
    paid = _stay(2)
    voided = _stay(4, "20000.00")
    _void(voided, demo)
    staff_login(client, "agency_dxal")
    client.cookies["django_language"] = "en"

    html = client.get(reverse("admin:settlement_settlement_changelist")).content.decode()

    assert f"<del>{voided.fund_pay:,.2f}</del>" in html
    assert "not paid by the fund" in html
    assert f"<del>{paid.fund_pay:,.2f}</del>" not in html


def test_rule_3_5_a_duplicate_on_an_issued_statement_is_corrected_after_the_void(demo):
    """domain.md §3.5: discrepancies are reported back for correction, never edited on the
    statement. A confirmed "duplicate settlement" is corrected at its source (the settlement
    voided), and then a corrected statement leaves it off and closes the discrepancy."""
    today = timezone.localdate()
    last_month = clearing.month_start(today) - datetime.timedelta(days=1)
    admitted = last_month - datetime.timedelta(days=3)
    first = settle_today(
        "10000.00",
        admitted_on=admitted - datetime.timedelta(days=8),
        discharged_on=admitted - datetime.timedelta(days=1),
    )
    duplicate = settle_today("10000.00", admitted_on=admitted, discharged_on=last_month)
    (statement,) = clearing.generate_statements(period=clearing.month_start(last_month))
    assert statement.number.endswith("-460200-232700-v1")
    assert {first.pk, duplicate.pk} <= set(statement.lines.values_list("settlement_id", flat=True))
    sanya = _agency_staff("460200")
    discrepancy = clearing.discrepancy_report(
        statement=statement,
        kind=ClearingDiscrepancy.Kind.DUPLICATE,
        settlement_number=duplicate.number,
        amount=duplicate.fund_pay,
        description="同一次住院结算两次",
        actor=sanya,
    )
    clearing.discrepancy_set_status(
        discrepancy=discrepancy, status="confirmed", actor=demo["agency_dxal"]
    )
    with pytest.raises(clearing.ClearingError) as refused:
        clearing.statement_correct(statement=statement, actor=sanya, reason="按差异更正")
    assert refused.value.code == "nothing_to_correct"
    assert [s.number for s in clearing.statements_listing(duplicate)] == [statement.number]

    _void(duplicate, demo)
    # The issued statement keeps the line as issued; its CSV says it was voided since.
    with translation.override("en"):
        rows = [[str(cell) for cell in row] for row in clearing_views._csv_rows(statement)]
    since = {row[0]: row[6] for row in rows if len(row) == 7 and row[0].startswith("JS")}
    assert since[duplicate.number].startswith("voided") and since[first.number] == ""
    corrected = clearing.statement_correct(statement=statement, actor=sanya, reason="按差异更正")
    # The corrected statement prints why it was issued.
    printed = "".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(clearing_views.render_pdf(corrected, lang="en"))).pages
    )
    assert "Reason for the correction" in printed and "按差异更正" in printed
    assert clearing.correction_reason(statement) == ""  # a first version has none

    assert corrected.supersedes_id == statement.pk and corrected.number.endswith("-v2")
    listed = set(corrected.lines.values_list("settlement_id", flat=True))
    assert first.pk in listed and duplicate.pk not in listed
    assert corrected.fund_pay == statement.fund_pay - duplicate.fund_pay
    assert corrected.settlement_count == statement.settlement_count - 1
    discrepancy.refresh_from_db()
    assert discrepancy.status == "corrected"
    assert list(clearing.statements_listing(duplicate)) == []


def test_the_admin_names_the_statement_a_voided_settlement_is_on(client, demo):
    today = timezone.localdate()
    last_month = clearing.month_start(today) - datetime.timedelta(days=1)
    settlement = settle_today(
        "10000.00", admitted_on=last_month - datetime.timedelta(days=2), discharged_on=last_month
    )
    (statement,) = clearing.generate_statements(period=clearing.month_start(last_month))
    staff_login(client, "agency_dxal")
    client.cookies["django_language"] = "en"
    chosen = {
        "action": "void_settlement",
        "_selected_action": [settlement.pk],
        "apply": "1",
        "reason": "重复结算",
    }

    done = client.post(reverse("admin:settlement_settlement_changelist"), chosen, follow=True)

    said = [str(m) for m in done.context["messages"]]
    assert f"{settlement.number} is on clearing statement {statement.number}" in " ".join(said)
