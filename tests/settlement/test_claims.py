"""Reimbursement claims (domain.md §3.4) and the agency's review of claims and held settlements."""

from __future__ import annotations

import datetime
import io
import itertools
import threading
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from hospitals.models import Hospital
from portal.management.commands.demo_totp import current_code
from portal.models import AuditEvent, InsuredPerson, Notification
from settlement import rules, services
from settlement.forms import parse_bill
from settlement.models import AnnualAccumulation, BenefitPolicy, Claim, Settlement
from tests.checked_files import checked
from tests.filings.corpus import _jpeg, _pdf, _png
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
D = Decimal
TEN_THOUSAND_A = [{"code": "X1", "name": "住院费", "class": "A", "amount": "10000.00"}]


def _person(name: str) -> InsuredPerson:
    return InsuredPerson.objects.get(name=name)


def _documents():

    files = [
        ("discharge_summary", "summary.pdf", _pdf()),
        ("invoice", "invoice.jpg", _jpeg()),
        ("itemised_list", "list.png", _png()),
        ("medical_record", "record.pdf", _pdf()),
    ]
    return [(kind, checked(name, data)) for kind, name, data in files]


def _submit(name="陈明", hospital="H21010000001", items=None, **stay):
    person = _person(name)
    today = datetime.date.today()
    return services.claim_submit(
        person=person,
        actor=person.user,
        hospital=Hospital.objects.get(code=hospital),
        care_type=stay.pop("care_type", "inpatient"),
        # Discharged today: claimed within the calendar year of discharge whatever the day
        # (a stay ended last week would be a late claim in the first days of January).
        admitted_on=stay.pop("admitted_on", today - datetime.timedelta(days=5)),
        discharged_on=stay.pop("discharged_on", today),
        items=items or TEN_THOUSAND_A,
        documents=_documents(),
        **stay,
    )


def _staff(username="agency_shenyang"):
    return get_user_model().objects.get(username=username)


# --- domain.md §3.4: the 12-month limit and the discharge year -----------------------------


def _policies_of_the_travelled_year() -> None:
    """The demo was seeded for the real today: these tests' fixed dates need the policies of
    the years around the date they travel to."""
    from settlement import demo as settlement_demo

    settlement_demo.seed(io.StringIO(), history=False)


@time_machine.travel(datetime.datetime(2026, 11, 21, 10, 0), tick=False)
def test_rule_3_4_claim_12_months_and_1_day_after_discharge_is_refused_with_the_date(demo):
    _policies_of_the_travelled_year()
    with pytest.raises(rules.RuleError) as refused:
        _submit(admitted_on=datetime.date(2025, 11, 10), discharged_on=datetime.date(2025, 11, 20))
    assert refused.value.code == "claim_lapsed"
    assert refused.value.params["deadline"] == datetime.date(2026, 11, 20)
    assert Claim.objects.count() == 0


def test_rule_3_4_a_claim_made_in_time_and_returned_is_answered_after_the_12_months(client, demo):
    """Made on the last day of the 12 months, returned by the agency, answered later: the
    answer is not a new claim, so it is sent (the page offers it and takes it), not lapsed."""
    with time_machine.travel(datetime.datetime(2026, 11, 20, 10, 0), tick=False):
        _policies_of_the_travelled_year()
        claim = _submit(
            admitted_on=datetime.date(2025, 11, 10), discharged_on=datetime.date(2025, 11, 20)
        )
        claim = services.claim_return(claim=claim, actor=_staff(), reason="缺少出院小结第二页")
    with time_machine.travel(datetime.datetime(2026, 12, 3, 10, 0), tick=False):
        client.force_login(claim.person.user)
        url = reverse("settlement:claim-detail", args=[claim.number])
        page = client.get(url).content.decode()
        assert reverse("settlement:claim-resubmit", args=[claim.number]) in page
        from filings import uploads

        extra = [("other", uploads.check_upload(SimpleUploadedFile("page2.png", _png())))]
        claim = services.claim_resubmit(claim=claim, actor=claim.person.user, documents=extra)
    assert claim.status == "submitted"


@time_machine.travel(datetime.datetime(2026, 11, 20, 10, 0), tick=False)
def test_rule_3_4_claim_on_the_last_day_of_the_12_months_is_accepted(demo):
    _policies_of_the_travelled_year()
    claim = _submit(
        admitted_on=datetime.date(2025, 11, 10), discharged_on=datetime.date(2025, 11, 20)
    )
    assert claim.status == "submitted"
    # Claimed in the year after discharge: noted for the reviewer, still accepted.
    assert "late_claim" in claim.flags


@time_machine.travel(datetime.datetime(2026, 11, 21, 10, 0), tick=False)
def test_rule_3_4_the_claim_page_says_when_the_claim_lapsed(client, demo):
    _policies_of_the_travelled_year()
    client.force_login(_person("陈明").user)
    response = client.post(
        reverse("settlement:claim-new"),
        {
            "hospital": Hospital.objects.get(code="H21010000001").pk,
            "care_type": "inpatient",
            "admitted_on": "2025-11-10",
            "discharged_on": "2025-11-20",
            "estimate": "1",
            **_item_rows([("X1", "住院费", "A", "10000.00")]),
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "2026-11-20" in html and "12" in html
    # What was typed is still there.
    assert 'value="2025-11-10"' in html and 'value="10000.00"' in html


@time_machine.travel(datetime.datetime(2026, 2, 1, 10, 0), tick=False)
def test_rule_3_4_stay_across_two_years_uses_the_discharge_years_policy(demo):
    _policies_of_the_travelled_year()
    # The 2026 policy differs from 2025's (demo: deductible 1000, ratio 85%).
    BenefitPolicy.objects.filter(
        region__code="210100", scheme="employee", year=2026, level=3
    ).update(deductible=D("2000"), ratio=D("0.80"))
    claim = _submit(
        admitted_on=datetime.date(2025, 12, 28), discharged_on=datetime.date(2026, 1, 5)
    )
    assert claim.policy_year == 2026
    assert claim.category == "local"
    # By hand: 0.80 × (10000 − 2000) = 6400.00 (2025's policy would give 0.85 × 9000 = 7650).
    assert claim.estimated_fund_pay == D("6400.00")
    assert claim.breakdown["deductible"] == "2000.00"


def test_rule_2_2_claim_for_a_stay_elsewhere_without_a_filing_pays_half_as_a_transfer(demo):
    # 陈明 (Shenyang, employee, no filing) at a Harbin tertiary hospital: referral −10 points
    # and the fund pays 50%: 0.5 × 0.75 × (10000 − 1000) = 3375.00.
    claim = _submit(hospital="H23010300001")
    assert claim.estimated_fund_pay == D("3375.00")
    assert "unapproved_transfer" in claim.flags
    assert claim.total == D("10000.00")


def test_rule_3_4_claim_with_class_b_and_c_items_worked_by_hand(demo):
    items = [
        {"code": "A1", "name": "床位费", "class": "A", "amount": "6000.00"},
        {"code": "B1", "name": "乙类药", "class": "B", "amount": "3000.00"},
        {"code": "C1", "name": "自费药", "class": "C", "amount": "1000.00"},
    ]
    claim = _submit(items=items)
    # self-paid 1000; first self-pay 10% of 3000 = 300; in scope 8700; deductible 1000;
    # fund 0.85 × 7700 = 6545.00; the person pays 3455.00.
    assert claim.breakdown["self_paid"] == "1000.00"
    assert claim.breakdown["first_self_pay"] == "300.00"
    assert claim.estimated_fund_pay == D("6545.00")


def test_estimate_is_shown_before_filing_and_files_nothing(client, demo):
    client.force_login(_person("陈明").user)
    today = datetime.date.today()
    response = client.post(
        reverse("settlement:claim-new"),
        {
            "hospital": Hospital.objects.get(code="H21010000001").pk,
            "care_type": "inpatient",
            "admitted_on": (today - datetime.timedelta(days=9)).isoformat(),
            "discharged_on": (today - datetime.timedelta(days=2)).isoformat(),
            "estimate": "1",
            **_item_rows([("X1", "住院费", "A", "10000.00")]),
        },
    )
    assert response.status_code == 200
    assert response.context["estimate"].result.fund_pay == D("7650.00")
    assert 'id="estimate-fund">7,650.00<' in response.content.decode()  # thousands grouped
    assert Claim.objects.count() == 0


def _item_rows(rows):
    data = {
        "items-TOTAL_FORMS": "4",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "500",
    }
    for i, (code, name, cls, amount) in enumerate(rows):
        data.update(
            {
                f"items-{i}-code": code,
                f"items-{i}-name": name,
                f"items-{i}-cls": cls,
                f"items-{i}-amount": amount,
            }
        )
    for i in range(len(rows), 4):
        data[f"items-{i}-cls"] = "A"
    return data


def test_person_files_a_claim_with_documents_through_the_page(client, demo):
    client.force_login(_person("陈明").user)
    today = datetime.date.today()
    files = {
        "doc_discharge_summary": SimpleUploadedFile("summary.pdf", _pdf()),
        "doc_invoice": SimpleUploadedFile("invoice.jpg", _jpeg()),
        "doc_itemised_list": SimpleUploadedFile("list.png", _png()),
        "doc_medical_record": SimpleUploadedFile("record.pdf", _pdf()),
    }
    response = client.post(
        reverse("settlement:claim-new"),
        {
            "hospital": Hospital.objects.get(code="H21010000001").pk,
            "care_type": "inpatient",
            "admitted_on": (today - datetime.timedelta(days=9)).isoformat(),
            "discharged_on": (today - datetime.timedelta(days=2)).isoformat(),
            "submit": "1",
            **_item_rows([("X1", "住院费", "A", "10000.00")]),
            **files,
        },
    )
    claim = Claim.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("settlement:claim-detail", args=[claim.number])
    assert claim.documents.count() == 4
    assert claim.estimated_fund_pay == D("7650.00")
    page = client.get(response["Location"]).content.decode()
    assert claim.number in page and "7,650.00" in page


def test_submitting_without_the_required_documents_is_refused_and_keeps_the_input(client, demo):
    client.force_login(_person("陈明").user)
    today = datetime.date.today()
    response = client.post(
        reverse("settlement:claim-new"),
        {
            "hospital": Hospital.objects.get(code="H21010000001").pk,
            "care_type": "inpatient",
            "admitted_on": (today - datetime.timedelta(days=9)).isoformat(),
            "discharged_on": (today - datetime.timedelta(days=2)).isoformat(),
            "submit": "1",
            **_item_rows([("X1", "住院费", "A", "10000.00")]),
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["doc_invoice"]
    assert 'value="10000.00"' in response.content.decode()
    assert Claim.objects.count() == 0


def test_a_hostile_document_is_refused_and_nothing_is_filed(client, demo):
    client.force_login(_person("陈明").user)
    today = datetime.date.today()
    files = {
        "doc_discharge_summary": SimpleUploadedFile("summary.pdf", b"<html><script>x</script>"),
        "doc_invoice": SimpleUploadedFile("invoice.jpg", _jpeg()),
        "doc_itemised_list": SimpleUploadedFile("list.png", _png()),
        "doc_medical_record": SimpleUploadedFile("record.pdf", _pdf()),
    }
    response = client.post(
        reverse("settlement:claim-new"),
        {
            "hospital": Hospital.objects.get(code="H21010000001").pk,
            "care_type": "inpatient",
            "admitted_on": (today - datetime.timedelta(days=9)).isoformat(),
            "discharged_on": (today - datetime.timedelta(days=2)).isoformat(),
            "submit": "1",
            **_item_rows([("X1", "住院费", "A", "10000.00")]),
            **files,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["doc_discharge_summary"]
    assert Claim.objects.count() == 0


def test_the_bill_can_be_uploaded_as_csv_and_every_bad_row_is_named():
    good = "code,name,class,amount,days,kind\nX1,住院费,A,100.50\nM1,药,B,70,20,chronic\n"
    items = parse_bill(SimpleUploadedFile("bill.csv", good.encode("utf-8-sig")))
    assert items[0] == {
        "code": "X1",
        "name": "住院费",
        "class": "A",
        "amount": "100.50",
        "discharge_medication": None,
    }
    assert items[1]["discharge_medication"] == {"days": 20, "kind": "chronic"}
    from django.core.exceptions import ValidationError

    bad = "X1,a,D,10\nX2,b,A,abc\nX3,c,A,5\n"
    with pytest.raises(ValidationError) as refused:
        parse_bill(SimpleUploadedFile("bill.csv", bad.encode()))
    text = " ".join(refused.value.messages)
    assert "1" in text and "2" in text and len(refused.value.messages) == 2


def test_a_bad_row_of_a_bill_is_named_by_its_row_in_the_spreadsheet_with_all_its_problems():
    """The header is row 1 and an empty row still counts, as a spreadsheet numbers them."""
    from django.core.exceptions import ValidationError

    bad = "code,name,class,amount\nX1,a,A,10\n\nX2,b,Q,abc\nX3,c,A,5\n"
    with pytest.raises(ValidationError) as refused:
        parse_bill(SimpleUploadedFile("bill.csv", bad.encode()))
    assert refused.value.messages == [
        "第 4 行：类别须为A、B或C（甲类、乙类或丙类）。",
        "第 4 行：金额无效。",
    ]


def test_the_bill_can_be_uploaded_as_xlsx():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["code", "name", "class", "amount"])
    sheet.append(["X1", "住院费", "A", 1234.5])
    buffer = io.BytesIO()
    book.save(buffer)
    items = parse_bill(SimpleUploadedFile("bill.xlsx", buffer.getvalue()))
    assert items == [
        {
            "code": "X1",
            "name": "住院费",
            "class": "A",
            "amount": "1234.50",
            "discharge_medication": None,
        }
    ]


# --- the review transitions -------------------------------------------------------------


def test_claim_transition_table_every_allowed_and_every_forbidden_move():
    for current, target in itertools.product(rules.CLAIM_STATES, repeat=2):
        allowed = target in rules.CLAIM_ALLOWED[current]
        if allowed:
            rules.check_claim_transition(current, target)
        else:
            with pytest.raises(rules.RuleError):
                rules.check_claim_transition(current, target)
    assert rules.CLAIM_ALLOWED == {
        "submitted": {"approved", "rejected", "returned"},
        "returned": {"submitted"},
        "approved": {"paid"},
        "paid": set(),
        "rejected": set(),
    }


def test_settlement_review_transition_table_every_allowed_and_every_forbidden_move():
    for current, target in itertools.product(rules.SETTLEMENT_STATES, repeat=2):
        if target in rules.SETTLEMENT_ALLOWED[current]:
            rules.check_settlement_transition(current, target)
        else:
            with pytest.raises(rules.RuleError):
                rules.check_settlement_transition(current, target)
    assert rules.SETTLEMENT_ALLOWED["held_for_review"] == {"settled", "rejected", "returned"}


def test_approve_as_estimated_updates_the_year_and_tells_the_person(demo, mailoutbox):
    claim = _submit()
    staff = _staff()
    claim = services.claim_approve(claim=claim, actor=staff)
    assert claim.status == "approved"
    assert claim.approved_fund_pay == D("7650.00")
    assert claim.approved_person_pay == D("2350.00")
    ytd = AnnualAccumulation.objects.get(person=claim.person, year=claim.policy_year)
    assert ytd.fund_paid == D("7650.00")
    event = AuditEvent.objects.get(object_id=str(claim.pk), action="claim.approve")
    assert (event.from_state, event.to_state, event.actor) == ("submitted", "approved", staff)
    assert Notification.objects.filter(user=claim.person.user, url__contains=claim.number).exists()


def test_approve_as_estimated_pays_the_split_against_the_year_as_it_is_now(client, demo):
    """The estimate is of the day the claim was filed. When the annual cap is used up since
    (another claim approved, a held settlement decided), "approve as estimated" pays what the
    cap leaves now, the admin page says so, and the claim keeps the split it was approved on."""
    claim = _submit()
    other = _submit(
        admitted_on=claim.admitted_on - datetime.timedelta(days=20),
        discharged_on=claim.admitted_on - datetime.timedelta(days=15),
    )
    assert claim.estimated_fund_pay == D("7650.00")
    cap = BenefitPolicy.objects.filter(
        region=claim.person.region, scheme=claim.person.scheme, year=claim.policy_year
    ).values_list("annual_cap", flat=True)[0]
    AnnualAccumulation.objects.update_or_create(
        person=claim.person, year=claim.policy_year, defaults={"fund_paid": cap - D("1000.00")}
    )
    staff = _staff()
    staff_login(client, "agency_shenyang")
    page = client.get(reverse("admin:settlement_claim_change", args=[claim.pk])).content.decode()
    assert 'id="fund-pay-now">1,000.00<' in page and "与提交时计算的金额不同" in page
    approved = services.claim_approve(claim=claim, actor=staff)
    assert approved.approved_fund_pay == D("1000.00")
    assert approved.approved_person_pay == claim.total - D("1000.00")
    assert approved.estimated_fund_pay == D("1000.00")
    ytd = AnnualAccumulation.objects.get(person=claim.person, year=claim.policy_year)
    assert ytd.fund_paid == cap  # never over the cap
    # Approving the other claim's stored estimate now would be an adjustment: it needs a reason.
    assert other.estimated_fund_pay == D("7650.00")
    with pytest.raises(rules.RuleError) as refused:
        services.claim_approve(claim=other, actor=staff, fund_pay=other.estimated_fund_pay)
    assert refused.value.code == "reason_required"


def test_adjusting_needs_a_reason_and_stays_within_the_total(demo):
    claim = _submit()
    staff = _staff()
    with pytest.raises(rules.RuleError) as refused:
        services.claim_approve(claim=claim, actor=staff, fund_pay=D("7000"))
    assert refused.value.code == "reason_required"
    with pytest.raises(rules.RuleError) as refused:
        services.claim_approve(claim=claim, actor=staff, fund_pay=D("10000.01"), reason="x")
    assert refused.value.code == "adjusted_amount_out_of_range"
    claim.refresh_from_db()
    assert claim.status == "submitted" and claim.approved_fund_pay is None
    claim = services.claim_approve(
        claim=claim, actor=staff, fund_pay=D("7000.00"), reason="发票金额与清单不符"
    )
    assert (claim.approved_fund_pay, claim.approved_person_pay) == (D("7000.00"), D("3000.00"))
    assert AuditEvent.objects.filter(object_id=str(claim.pk), action="claim.adjust_approve").count()


def test_reject_and_return_need_a_reason_and_a_returned_claim_is_resubmitted(demo):
    staff = _staff()
    claim = _submit()
    with pytest.raises(rules.RuleError):
        services.claim_reject(claim=claim, actor=staff, reason=" ")
    claim = services.claim_return(claim=claim, actor=staff, reason="缺少出院小结第二页")
    assert claim.status == "returned" and claim.reason == "缺少出院小结第二页"
    # Returned → approved directly is not allowed.
    with pytest.raises(rules.RuleError) as refused:
        services.claim_approve(claim=claim, actor=staff)
    assert refused.value.code == "transition_not_allowed"
    from filings import uploads

    extra = [("other", uploads.check_upload(SimpleUploadedFile("page2.png", _png())))]
    claim = services.claim_resubmit(claim=claim, actor=claim.person.user, documents=extra)
    assert claim.status == "submitted" and claim.documents.count() == 5
    claim = services.claim_reject(claim=claim, actor=staff, reason="非医保目录内费用")
    assert claim.status == "rejected"
    for move in (
        lambda: services.claim_approve(claim=claim, actor=staff),
        lambda: services.claim_return(claim=claim, actor=staff, reason="x"),
        lambda: services.claim_mark_paid(claim=claim, actor=staff),
    ):
        with pytest.raises(rules.RuleError):
            move()


def test_paid_only_after_approval_and_then_closed(demo):
    staff = _staff()
    claim = _submit()
    with pytest.raises(rules.RuleError):
        services.claim_mark_paid(claim=claim, actor=staff)
    claim = services.claim_approve(claim=claim, actor=staff)
    claim = services.claim_mark_paid(claim=claim, actor=staff)
    assert claim.status == "paid" and claim.paid_at is not None
    with pytest.raises(rules.RuleError) as refused:
        services.claim_approve(claim=claim, actor=staff)
    assert refused.value.code == "already_decided"


def test_a_second_claim_for_the_same_stay_is_flagged_as_a_duplicate_bill(demo):
    """The same bill claimed again is refused, naming the earlier claim; the person may say it
    is another bill of the same stay, which is then flagged for the reviewer."""
    today = datetime.date.today()
    stay = {"admitted_on": today - datetime.timedelta(days=10), "discharged_on": today}
    first = _submit(**stay)
    with pytest.raises(services.SameBill) as refused:
        _submit(**stay)
    assert refused.value.claim == first
    second = _submit(different_bill=True, **stay)
    assert "duplicate_bill" not in first.flags
    assert "duplicate_bill" in second.flags
    assert not rules.is_clean(second.flags) and rules.is_clean(first.flags)


def test_the_timeline_shows_the_approved_amounts_to_the_person(client, demo):
    claim = _submit()
    services.claim_approve(claim=claim, actor=_staff(), fund_pay=D("7000.00"), reason="调整")
    client.force_login(claim.person.user)
    html = client.get(reverse("settlement:claim-detail", args=[claim.number])).content.decode()
    assert 'id="approved-fund">7,000.00<' in html
    assert 'id="approved-person">3,000.00<' in html
    assert html.index('data-state="submitted"') < html.index('data-state="approved"')


def test_the_items_table_keeps_its_codes_and_amounts_whole_on_a_phone(client, demo):
    """As on the hospital's settlement page: a short "Code" header (not "Catalogue code", which
    broke inside its word at 390 px), codes that do not wrap, amounts that break as a whole."""
    claim = _submit()
    client.force_login(claim.person.user)
    with translation.override("en"):
        html = client.get(
            reverse("settlement:claim-detail", args=[claim.number]), HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
    table = html[html.index('aria-labelledby="items-title"') :]
    assert "<th>Code</th>" in table and "Catalogue code" not in table
    assert '<td class="text-nowrap">' in table and 'class="text-end money"' in table


def test_a_person_gets_404_for_someone_elses_claim_and_document(client, demo):
    claim = _submit()
    document = claim.documents.first()
    client.force_login(_person("王秀兰").user)
    assert client.get(reverse("settlement:claim-detail", args=[claim.number])).status_code == 404
    url = reverse("settlement:claim-document", args=[claim.number, document.pk])
    assert client.get(url).status_code == 404
    client.force_login(claim.person.user)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")


def _admin_login(client, username):
    client.post(reverse("account_login"), {"login": username, "password": "Demo#2026"})
    client.post(reverse("mfa_authenticate"), {"code": current_code(username)})


def test_agency_sees_only_its_regions_claims_in_the_admin(client, demo):
    claim = _submit()  # 陈明 is insured in Shenyang
    _admin_login(client, "agency_dxal")
    url = reverse("admin:settlement_claim_change", args=[claim.pk])
    assert client.get(url).status_code == 404
    assert (
        claim.number
        not in client.get(reverse("admin:settlement_claim_changelist")).content.decode()
    )
    client.logout()
    _admin_login(client, "agency_shenyang")
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    # The engine's split beside the bill.
    assert "7,650.00" in html and "住院费" in html


def test_bulk_approve_approves_only_the_clean_claims(client, demo):
    clean = _submit()
    flagged = _submit(hospital="H23010300001")  # unapproved transfer
    _admin_login(client, "agency_shenyang")
    response = client.post(
        reverse("admin:settlement_claim_changelist"),
        {"action": "approve_clean", "_selected_action": [clean.pk, flagged.pk]},
        follow=True,
    )
    assert response.status_code == 200
    clean.refresh_from_db()
    flagged.refresh_from_db()
    assert clean.status == "approved"
    assert flagged.status == "submitted"


def test_bulk_approve_as_estimated_leaves_a_claim_whose_payment_changed_for_review(client, demo):
    """The queue shows the estimate; held settlements settled since reserve the person's cap,
    so the fund would now pay 0.00. "Approve the clean ones as estimated" approved such claims
    at 0.00 without a word, and overwrote the estimate. Now they are left for review, named,
    with both amounts, and nothing changes; once the cap is free again, they are approved."""
    from django.db.models import F

    claim = _submit()
    estimate = claim.estimated_fund_pay
    assert estimate > 0
    AnnualAccumulation.objects.get_or_create(person=claim.person, year=claim.policy_year)
    year = AnnualAccumulation.objects.filter(person=claim.person, year=claim.policy_year)
    before = year.get().fund_paid
    year.update(fund_paid=F("fund_paid") + Decimal("9000000.00"))  # the cap reserved since
    _admin_login(client, "agency_shenyang")
    response = client.post(
        reverse("admin:settlement_claim_changelist"),
        {"action": "approve_clean", "_selected_action": [claim.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert f"基金现应支付0.00元，而非测算的{estimate:,.2f}元" in page
    assert claim.number in page
    claim.refresh_from_db()
    assert (claim.status, claim.estimated_fund_pay, claim.approved_fund_pay) == (
        "submitted",
        estimate,
        None,
    )
    assert year.get().fund_paid == before + Decimal("9000000.00")
    assert not AuditEvent.objects.filter(action="claim.approve").exists()

    year.update(fund_paid=before)  # the held settlements rejected: the cap is free again
    client.post(
        reverse("admin:settlement_claim_changelist"),
        {"action": "approve_clean", "_selected_action": [claim.pk]},
    )
    claim.refresh_from_db()
    assert (claim.status, claim.approved_fund_pay) == ("approved", estimate)


def test_an_adjusted_approval_typed_over_minutes_is_not_lost_to_reauthentication(client, demo):
    """The recent authentication is asked for when the reviewer opens the adjustment's form;
    the form sent a few minutes later, with the amount and reason typed, goes through instead
    of being sent away to re-authenticate and typed again. Only that form, and not forever."""
    first, second = _submit(), _submit(hospital="H21010000002")
    changelist = reverse("admin:settlement_claim_changelist")

    def opened(claim):
        form = client.post(changelist, {"action": "approve_adjusted", "_selected_action": claim.pk})
        return form.status_code == 200 and 'name="fund_pay"' in form.content.decode()

    def sent(claim):
        return client.post(
            changelist,
            {
                "action": "approve_adjusted",
                "_selected_action": claim.pk,
                "apply": "1",
                "fund_pay": "100.00",
                "reason": "部分项目不予支付",
            },
        )

    with time_machine.travel(timezone.now(), tick=False) as clock:
        _admin_login(client, "agency_shenyang")
        clock.shift(datetime.timedelta(minutes=4))
        assert opened(first)
        clock.shift(datetime.timedelta(minutes=6))  # 10 minutes after signing in
        assert "reauthenticate" not in sent(first).get("Location", "")
        first.refresh_from_db()
        assert (first.status, first.approved_fund_pay) == ("approved", Decimal("100.00"))
        # Another claim's form that was never opened under a recent authentication is not.
        assert "reauthenticate" in sent(second).get("Location", "")
        second.refresh_from_db()
        assert second.status == "submitted"
        # Nor the same form sent for every row of the list ("select all"): opened for one row.
        assert opened(second) is False  # (asks first: 10 minutes since signing in)
        everything = client.post(
            changelist,
            {
                "action": "approve_adjusted",
                "_selected_action": first.pk,
                "select_across": "1",
                "apply": "1",
                "fund_pay": "100.00",
                "reason": "部分项目不予支付",
            },
        )
        assert "reauthenticate" in everything.get("Location", "")
        # An action without a form remembers nothing: approving the clean ones once, freshly
        # signed in, does not let a later post with "apply" approve others unasked.
        _admin_login(client, "agency_shenyang")
        client.post(changelist, {"action": "approve_clean", "_selected_action": [first.pk]})
        clock.shift(datetime.timedelta(minutes=6))
        later = client.post(
            changelist, {"action": "approve_clean", "_selected_action": [second.pk], "apply": "1"}
        )
        assert "reauthenticate" in later.get("Location", "")
        second.refresh_from_db()
        assert second.status == "submitted"


def _approve_adjusted(client, claim, fund_pay: str, reason: str):
    """The admin's "approve with an adjusted amount" form sent for `claim`."""
    return client.post(
        reverse("admin:settlement_claim_changelist"),
        {
            "action": "approve_adjusted",
            "_selected_action": [claim.pk],
            "apply": "1",
            "fund_pay": fund_pay,
            "reason": reason,
        },
    )


def test_adjust_and_approve_through_the_admin(client, demo):
    claim = _submit()
    _admin_login(client, "agency_shenyang")
    url = reverse("admin:settlement_claim_changelist")
    page = client.post(url, {"action": "approve_adjusted", "_selected_action": [claim.pk]})
    assert page.status_code == 200 and "fund_pay" in page.content.decode()
    _approve_adjusted(client, claim, "7100.00", "部分项目不予支付")
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.approved_fund_pay == D("7100.00")


def test_an_adjusted_amount_over_the_total_comes_back_on_the_form_with_what_was_typed(client, demo):
    """Not a refusal on the list that throws the amount and the reason away: the form says
    the most the fund may pay (beside the field too: here the whole bill, all in scope) and
    keeps both."""
    claim = _submit()
    _admin_login(client, "agency_shenyang")
    url = reverse("admin:settlement_claim_changelist")
    form_page = client.post(url, {"action": "approve_adjusted", "_selected_action": [claim.pk]})
    assert "0.00 至 10,000.00：账单中政策范围内的金额" in form_page.content.decode()
    page = _approve_adjusted(client, claim, "99999", "发票金额有误")
    html = page.content.decode()
    assert page.status_code == 200 and "最多 10,000.00：统筹基金不支付自费项目" in html
    assert 'value="99999"' in html and "发票金额有误" in html
    claim.refresh_from_db()
    assert claim.status == "submitted" and claim.approved_fund_pay is None


# --- held settlements --------------------------------------------------------------------


def _held_settlement() -> Settlement:
    from hospitals import services as hospital_services
    from settlement.services import settle

    hospital = Hospital.objects.get(code="H23010300001")
    _, key = hospital_services.api_key_create(hospital=hospital)
    today = datetime.date.today()
    outcome = settle(
        hospital_id=hospital.pk,
        api_key_id=None,
        payload={
            "id_number": "210103198512010131",
            "name": "陈明",
            "visit": {
                "care_type": "inpatient",
                "admitted_on": today - datetime.timedelta(days=3),
                "discharged_on": today,
                "emergency": True,
            },
            "items": TEN_THOUSAND_A,
        },
    )
    assert outcome.settlement.status == "held_for_review"
    return outcome.settlement


def test_a_held_settlement_approved_as_computed_pays_what_the_cap_leaves_now(demo):
    """Held while the cap was nearly used up, the bill was computed at what was left then. The
    agency has since rejected another held bill, which frees its share of the cap: approved as
    computed, this one pays the split of the year as it is now, and the year follows."""
    settlement = _held_settlement()
    cap = BenefitPolicy.objects.filter(
        region=settlement.person.region,
        scheme=settlement.person.scheme,
        year=settlement.policy_year,
    ).values_list("annual_cap", flat=True)[0]
    full = settlement.fund_pay
    # As if it had been computed when only 1,000.00 of the cap was left: 1,000.00, counted.
    Settlement.objects.filter(pk=settlement.pk).update(
        fund_pay=D("1000.00"), person_pay=settlement.total - D("1000.00")
    )
    AnnualAccumulation.objects.filter(person=settlement.person).update(fund_paid=cap)
    settlement.refresh_from_db()
    # Since then, another held bill worth 20,000.00 of the cap was rejected.
    AnnualAccumulation.objects.filter(person=settlement.person).update(
        fund_paid=cap - D("20000.00")
    )
    client = Client()
    staff_login(client, "agency_shenyang")
    page = client.get(reverse("admin:settlement_settlement_change", args=[settlement.pk]))
    assert f'id="fund-pay-now">{full:,.2f}<' in page.content.decode()
    approved = services.settlement_approve(settlement=settlement, actor=_staff())
    assert approved.status == "settled" and approved.fund_pay == full
    assert approved.fund_pay + approved.person_pay == approved.total
    assert approved.original_fund_pay is None  # the engine's figure, not an adjustment
    ytd = AnnualAccumulation.objects.get(person=settlement.person).fund_paid
    assert ytd == cap - D("20000.00") + (full - D("1000.00"))


def test_held_settlement_approved_adjusted_keeps_the_engines_amount_beside_it(demo):
    settlement = _held_settlement()
    staff = _staff()
    ytd_before = AnnualAccumulation.objects.get(person=settlement.person).fund_paid
    engine_amount = settlement.fund_pay
    settlement = services.settlement_approve(
        settlement=settlement, actor=staff, fund_pay=engine_amount - D("100"), reason="核减"
    )
    assert settlement.status == "settled"
    assert settlement.original_fund_pay == engine_amount
    assert settlement.fund_pay + settlement.person_pay == settlement.total
    ytd = AnnualAccumulation.objects.get(person=settlement.person).fund_paid
    assert ytd == ytd_before - D("100")
    with pytest.raises(rules.RuleError) as refused:
        services.settlement_reject(settlement=settlement, actor=staff, reason="x")
    assert refused.value.code == "already_decided"


def test_held_settlement_rejected_no_longer_counts_towards_the_year(demo):
    settlement = _held_settlement()
    services.settlement_reject(settlement=settlement, actor=_staff(), reason="非急诊")
    settlement.refresh_from_db()
    assert settlement.status == "rejected"
    assert AnnualAccumulation.objects.get(person=settlement.person).fund_paid == D("0")


# --- concurrency (PostgreSQL) -----------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_8_concurrent_approvals_of_one_claim_make_exactly_one():
    if connection.vendor != "postgresql":
        pytest.skip("races need PostgreSQL: runs with CI=true")
    from django.core.management import call_command

    call_command("seed_demo", "--no-history", stdout=io.StringIO())
    claim = _submit()
    staff = _staff()
    barrier = threading.Barrier(8)
    results = []

    def run():
        try:
            barrier.wait()
            services.claim_approve(claim=claim, actor=staff)
            results.append("ok")
        except rules.RuleError as error:
            results.append(error.code)
        except Exception as error:  # noqa: BLE001 - a server error is the failure
            results.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["already_decided"] * 7 + ["ok"]
    assert AuditEvent.objects.filter(object_id=str(claim.pk), action="claim.approve").count() == 1
    ytd = AnnualAccumulation.objects.get(person=claim.person, year=claim.policy_year)
    assert ytd.fund_paid == D("7650.00")


def test_fund_plus_person_is_total_is_enforced_to_the_cent_on_every_database(demo):
    """SQLite keeps decimals as floating point (0.10 + 0.20 != 0.30 there): the check must still
    accept a split that adds up and refuse one that is a cent off."""
    from django.db import IntegrityError, transaction

    from portal.models import Region
    from settlement.models import ClearingStatement

    regions = dict(
        treatment_region=Region.objects.get(code="460200"),
        insured_region=Region.objects.get(code="232700"),
        period=datetime.date(2026, 1, 1),
    )
    ClearingStatement.objects.create(
        number="QS-CENTS-OK", total=D("0.30"), fund_pay=D("0.10"), person_pay=D("0.20"), **regions
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ClearingStatement.objects.create(
            number="QS-CENTS-OFF",
            total=D("0.31"),
            fund_pay=D("0.10"),
            person_pay=D("0.20"),
            version=2,
            **regions,
        )


def test_the_claims_queue_is_oldest_first_with_the_days_each_has_waited(client, demo):
    """Filtered to submitted claims, the admin lists them first come, first served, and says
    how long each has waited; a decided claim has no waiting time."""
    older, newer = _submit(hospital="H23010300001"), _submit()  # the usual order: newer first
    now = timezone.now()
    Claim.objects.filter(pk=newer.pk).update(submitted_at=now - datetime.timedelta(days=2))
    Claim.objects.filter(pk=older.pk).update(submitted_at=now - datetime.timedelta(days=9))
    _admin_login(client, "agency_shenyang")
    url = reverse("admin:settlement_claim_changelist")
    queue = client.get(url, {"status__exact": "submitted"})
    assert [c.number for c in queue.context["cl"].result_list] == [older.number, newer.number]
    html = queue.content.decode()
    assert '<td class="field-waiting">9 天</td>' in html
    assert '<td class="field-waiting">2 天</td>' in html
    Claim.objects.filter(pk=older.pk).update(status="rejected")
    everything = client.get(url).content.decode()
    assert everything.count('<td class="field-waiting">-</td>') == 1


def test_a_claim_is_decided_from_its_own_page(client, demo):
    """Beside the bill and the documents, a claim's page offers the decisions its state allows;
    approving as estimated only when it has no reason code."""
    clean, flagged = _submit(), _submit(hospital="H23010300001")  # unapproved transfer
    _admin_login(client, "agency_shenyang")

    def offered(claim):
        page = client.get(reverse("admin:settlement_claim_change", args=[claim.pk]))
        return page.context["decisions"]

    decisions = offered(clean)
    assert [name for name, _ in decisions] == [
        "approve_clean",
        "approve_adjusted",
        "reject",
        "return_to_person",
    ]
    assert str(decisions[0][1]) == "按测算金额批准"  # one claim: not "the clean ones"
    assert [name for name, _ in offered(flagged)] == [
        "approve_adjusted",
        "reject",
        "return_to_person",
    ]
    client.post(
        reverse("admin:settlement_claim_changelist"),
        {"action": "approve_clean", "_selected_action": clean.pk},
    )
    clean.refresh_from_db()
    assert clean.status == "approved"
    assert [name for name, _ in offered(clean)] == ["mark_paid"]
