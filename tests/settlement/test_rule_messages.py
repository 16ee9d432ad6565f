"""Settlement rule errors in words (settlement.messages.message): states by their names, never
their codes, for a claim and for a settlement; the claim deadline as the last day to claim."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from settlement import rules, services
from settlement.messages import message
from settlement.models import ClaimStatus, SettlementStatus
from tests.settlement.test_claims import (
    _admin_login,
    _held_settlement,
    _item_rows,
    _person,
    _policies_of_the_travelled_year,
    _staff,
    _submit,
)

CODES = sorted(set(ClaimStatus.values) | set(SettlementStatus.values))


def _refusal(call) -> rules.RuleError:
    with pytest.raises(rules.RuleError) as refused:
        call()
    return refused.value


def _no_codes(text: str) -> None:
    assert not [code for code in CODES if code in text], text


# --- every transition refused, in words ------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), [(c, t) for c in CODES for t in CODES])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_no_refused_move_of_a_claim_or_settlement_shows_a_state_code(current, target, language):
    checks = []
    if current in rules.CLAIM_STATES and target in rules.CLAIM_STATES:
        checks.append(rules.check_claim_transition)
    if current in rules.SETTLEMENT_STATES and target in rules.SETTLEMENT_STATES:
        checks.append(rules.check_settlement_transition)
    for check in checks:
        try:
            check(current, target)
        except rules.RuleError as error:
            with translation.override(language):
                _no_codes(message(error))


def test_a_claim_move_names_the_claims_states():
    error = _refusal(lambda: rules.check_claim_transition(rules.SUBMITTED, rules.PAID))
    with translation.override("zh-hans"):
        assert message(error) == "处于“已提交”状态的事项不能变为“已支付”。"
    with translation.override("en"):
        assert message(error) == "Something that is Submitted cannot become Paid."


def test_a_settlement_returned_is_named_as_a_settlement_returned_to_the_hospital():
    error = _refusal(
        lambda: rules.check_settlement_transition(rules.SETTLEMENT_RETURNED, rules.SETTLED)
    )
    with translation.override("zh-hans"):
        assert message(error) == "该事项已有审核结果（当前状态：已退回医疗机构）。"
    error = _refusal(
        lambda: rules.check_settlement_transition(rules.SETTLEMENT_RETURNED, rules.REJECTED)
    )
    with translation.override("en"):
        assert "Returned to the hospital" in message(error)


def test_a_claim_returned_is_named_as_a_claim_returned_for_more_information():
    error = _refusal(lambda: rules.check_claim_transition(rules.RETURNED, rules.APPROVED))
    with translation.override("zh-hans"):
        assert message(error) == "处于“退回补充材料”状态的事项不能变为“已批准”。"


# --- as the reviewer and the person meet them ------------------------------------------------


@pytest.mark.django_db
def test_mark_paid_on_a_submitted_claim_in_the_admin_says_the_states_in_words(client, demo):
    claim = _submit()
    _admin_login(client, "agency_shenyang")
    response = client.post(
        reverse("admin:settlement_claim_changelist"),
        {"action": "mark_paid", "_selected_action": [claim.pk]},
        follow=True,
    )
    said = " ".join(str(m) for m in get_messages(response.wsgi_request))
    said += response.content.decode()
    assert "处于“已提交”状态的事项不能变为“已支付”。" in said
    assert "“submitted”" not in said and "“paid”" not in said


@pytest.mark.django_db
def test_a_decided_settlement_says_its_decision_in_words(demo):
    held = _held_settlement()
    services.settlement_reject(settlement=held, actor=_staff(), reason="无转诊手续")
    error = _refusal(
        lambda: services.settlement_return(settlement=held, actor=_staff(), reason="补材料")
    )
    with translation.override("zh-hans"):
        text = message(error)
    assert text.startswith("该事项已有审核结果（当前状态：") and "rejected" not in text
    assert "未通过" in text


@pytest.mark.django_db
def test_a_stale_answer_to_a_return_says_the_claim_was_already_sent_again(client, demo):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.filings.corpus import _pdf

    claim = _submit()
    services.claim_return(claim=claim, actor=_staff(), reason="请补充发票")
    client.force_login(_person("陈明").user)
    url = reverse("settlement:claim-resubmit", args=[claim.number])
    first = client.post(url, {"documents": SimpleUploadedFile("invoice.pdf", _pdf())})
    assert first.status_code == 302
    # The same answer again, from a page still open in another tab.
    again = client.post(url, {"documents": SimpleUploadedFile("invoice.pdf", _pdf())})
    assert again.status_code == 200
    assert again.context["form"].non_field_errors() == ["该事项已是“已提交”状态，无需重复操作。"]


# --- domain.md §3.4: the last day to claim ------------------------------------------------


def test_rule_3_4_the_lapsed_claim_names_the_last_day_it_was_accepted():
    discharged = datetime.date(2025, 11, 23)
    last_day = rules.claim_deadline(discharged)
    assert last_day == datetime.date(2026, 11, 23)
    rules.check_claim_dates(admitted_on=discharged, discharged_on=discharged, today=last_day)
    error = _refusal(
        lambda: rules.check_claim_dates(
            admitted_on=discharged,
            discharged_on=discharged,
            today=last_day + datetime.timedelta(days=1),
        )
    )
    with translation.override("zh-hans"):
        assert message(error) == (
            "报销申请须在出院后 12 个月内提出，申请期限已于 2026-11-23 届满。"
        )
    with translation.override("en"):
        assert message(error) == (
            "Claims must be made within 12 months of discharge: "
            "the last day to claim was 2026-11-23."
        )
        assert "lapsed on" not in message(error)


@pytest.mark.django_db
@time_machine.travel(datetime.datetime(2026, 11, 24, 10, 0), tick=False)
def test_rule_3_4_the_claim_page_names_the_last_day_to_claim(client, demo):
    from hospitals.models import Hospital

    _policies_of_the_travelled_year()
    client.force_login(_person("陈明").user)
    response = client.post(
        reverse("settlement:claim-new"),
        {
            "hospital": Hospital.objects.get(code="H21010000001").pk,
            "care_type": "inpatient",
            "admitted_on": "2025-11-20",
            "discharged_on": "2025-11-23",
            "estimate": "1",
            **_item_rows([("X1", "住院费", "A", "10000.00")]),
        },
    )
    assert response.context["form"].errors["discharged_on"] == [
        "报销申请须在出院后 12 个月内提出，申请期限已于 2026-11-23 届满。"
    ]
    assert "逾期" not in response.content.decode()
