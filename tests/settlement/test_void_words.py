"""What a void says, and to whom: a reason is required and one of invisible characters is none;
the hospital and the person are told it was voided (not reviewed), with what follows for each;
the audit log words it; the clerk's page shows the bill as not paid; and the reviewer confirms
it on a page that names the bill and says a void cannot be undone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from hospitals.models import Hospital
from portal.admin import SEEN
from portal.audit_labels import AUDIT_VERBS, audit_action_label
from portal.models import AuditEvent, Notification
from portal.templatetags.portal_tags import yuan
from settlement import services
from settlement.forms import AdjustForm, ReasonForm, VoidForm
from settlement.models import Settlement
from tests.settlement.test_void import SANYA, _stay, _void
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
# Spaces, a zero-width space, a word joiner, a byte order mark: nothing a reader can see.
INVISIBLE = ["   \u200b", "\u200b", "\u2060\ufeff \u3000"]
REASON = "同一次住院重复结算"


@pytest.mark.parametrize("typed", INVISIBLE)
@pytest.mark.parametrize("form_class", [ReasonForm, AdjustForm, VoidForm])
def test_a_reason_of_invisible_characters_is_no_reason(form_class, typed):
    with translation.override("en"):
        form = form_class({"fund_pay": "100.00", "reason": typed})
        assert not form.is_valid()
        assert form.errors["reason"] == ["This field is required."]
    form = form_class({"fund_pay": "100.00", "reason": f"\u200b{REASON}\u200b "})
    assert form.is_valid() and form.cleaned_data["reason"] == REASON


def _void_on_the_admin(client, settlement, reason: str):
    chosen = {
        "action": "void_settlement",
        "_selected_action": [settlement.pk],
        f"{SEEN}{settlement.pk}": services.settlement_version(settlement),
        "apply": "1",
        "reason": reason,
    }
    return client.post(reverse("admin:settlement_settlement_changelist"), chosen)


def test_a_void_with_a_reason_of_invisible_characters_is_refused_on_its_page(client, demo):
    settlement = _stay(2)
    staff_login(client, "agency_dxal")
    client.cookies["django_language"] = "zh-hans"

    page = _void_on_the_admin(client, settlement, "   \u200b")

    assert page.status_code == 200
    assert "该字段是必填项。" in page.content.decode()
    assert Settlement.objects.get(pk=settlement.pk).status == Settlement.Status.SETTLED
    assert not Notification.objects.filter(notice__startswith="settlement_").exists()


def test_a_void_is_told_to_the_hospital_and_the_person_as_a_void(demo):
    settlement = _stay(2)
    number = settlement.number

    _void(settlement, demo, reason=REASON)

    assert not Notification.objects.filter(notice__startswith="settlement_reviewed").exists()
    (clerk,) = Notification.objects.filter(user=demo["hosp_h46020000002"])
    assert clerk.notice == "settlement_voided"
    assert clerk.url == reverse("hospital-settlement", args=[number])
    assert clerk.text("en") == (
        f"Settlement {number} voided by the agency",
        "The agency voided a settlement this hospital submitted: the fund does not pay it. If "
        "the stay still needs settling, submit the corrected bill again with a new "
        f"Idempotency-Key.\nReason: {REASON}",
    )
    assert clerk.text("zh-hans") == (
        f"结算 {number} 已被经办机构作废",
        "经办机构已作废本院提交的一笔结算：统筹基金不支付此笔费用。如本次就医仍需结算，请使用新的 "
        f"Idempotency-Key 重新提交更正后的费用。\n原因：{REASON}",
    )
    (person,) = Notification.objects.filter(user=demo["wangxiulan"])
    assert person.notice == "settlement_voided_person"
    assert person.url == reverse("settlement:settlements")
    sanya = Hospital.objects.get(code=SANYA)
    assert person.text("en") == (
        f"Your bill {number} at {sanya.name_en} was voided",
        "The agency voided the direct settlement of your stay: the fund does not pay settlement "
        f"{number}, and what it counted against this year's cap and deductible is given back. "
        "If the stay still needs settling, the hospital submits the corrected bill again."
        f"\nReason: {REASON}",
    )
    subject, body = person.text("zh-hans")
    assert subject == f"您在{sanya.name}的结算 {number} 已被经办机构作废"
    assert body.startswith(f"经办机构已作废您这次就医的直接结算：统筹基金不支付结算 {number} ")
    assert "金额已退回" in body and body.endswith(f"\n原因：{REASON}")


def test_the_audit_log_words_a_void_in_both_languages(demo):
    settlement = _stay(2)
    _void(settlement, demo)
    event = AuditEvent.objects.get(action="settlement.void", object_id=str(settlement.pk))

    with translation.override("en"):
        assert audit_action_label(event.action) == "direct settlements: voided"
    with translation.override("zh-hans"):
        assert audit_action_label(event.action) == "直接结算：作废"
        assert "settlement.void" not in str(event)


def test_every_action_the_code_records_has_words_in_the_audit_log():
    """An action recorded as `subject.verb` is shown by its labels: none is left as its code."""
    recorded = set()
    for app in ("portal", "filings", "hospitals", "settlement"):
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            recorded |= set(re.findall(r'action="([a-z_]+\.[a-z_.]+)"', path.read_text()))
    assert "settlement.void" in recorded
    with translation.override("en"):
        unworded = {action for action in recorded if audit_action_label(action) == action}
    assert unworded == set()
    assert set(AUDIT_VERBS) >= {"void"}


@pytest.mark.parametrize(
    ("lang", "unpaid", "reason"),
    [
        ("en", "not paid by the fund", "Reviewer's reason: "),
        ("zh-hans", "统筹基金未支付", "审核意见："),
    ],
)
def test_the_clerks_page_of_a_voided_bill_shows_the_fund_does_not_pay_it(
    client, demo, lang, unpaid, reason
):
    settlement = _stay(2)
    _void(settlement, demo, reason=REASON)
    client.force_login(demo["hosp_h46020000002"])
    client.cookies["django_language"] = lang

    html = client.get(reverse("hospital-settlement", args=[settlement.number])).content.decode()

    fund = f'<del>{yuan(settlement.fund_pay)}</del> <span class="unpaid">{unpaid}</span>'
    assert f'id="fund-pay">{fund}</dd>' in html
    assert f"<del>{yuan(settlement.person_pay)}</del>" in html
    assert f"{reason}</strong>{REASON}" in html


@pytest.mark.parametrize(
    ("lang", "undone", "label"),
    [
        ("en", "A void cannot be undone", "Reason (shown to the person and the hospital)"),
        ("zh-hans", "作废后不可撤销", "原因（参保人和医疗机构可见）"),
    ],
)
def test_the_void_is_confirmed_on_a_page_that_names_the_bill_and_says_it_is_for_good(
    client, demo, lang, undone, label
):
    original = _stay(3, "8000.00")
    duplicate = _stay(2, "8000.00")
    staff_login(client, "agency_dxal")
    client.cookies["django_language"] = lang
    chosen = {
        "action": "void_settlement",
        "_selected_action": [duplicate.pk],
        f"{SEEN}{duplicate.pk}": services.settlement_version(duplicate),
    }

    page = client.post(reverse("admin:settlement_settlement_changelist"), chosen)

    assert page.status_code == 200
    html = page.content.decode()
    with translation.override(lang):
        hospital = escape(str(duplicate.hospital))
    assert duplicate.number in html and original.number not in html
    assert str(duplicate.person) in html and duplicate.person.name not in html  # masked
    assert hospital in html
    assert f"{duplicate.admitted_on:%Y-%m-%d} – {duplicate.discharged_on:%Y-%m-%d}" in html
    assert yuan(duplicate.total) in html and yuan(duplicate.fund_pay) in html
    assert f"<strong>{undone}" in html and label in html
    assert Settlement.objects.get(pk=duplicate.pk).status == Settlement.Status.SETTLED

    done = _void_on_the_admin(client, duplicate, REASON)

    assert done.status_code == 302
    clerk = Notification.objects.get(user=demo["hosp_h46020000002"])
    assert clerk.notice == "settlement_voided"
