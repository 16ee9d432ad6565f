"""An insured person's direct settlements (/settlement/mine/): their own only, newest stay
first, this year's fund payments against the annual cap, and the agency's decision on a held
settlement told to the person with its reason."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from portal.models import Notification
from settlement import services
from settlement.models import AnnualAccumulation, BenefitPolicy
from tests.settlement.test_hospital_settlements import CHEN, H1, H2, _settle

pytestmark = pytest.mark.django_db
URL = "/settlement/mine/"


def _as(client, demo, username: str, lang: str = "zh-hans"):
    client.force_login(demo[username])
    client.cookies["django_language"] = lang
    return client


def test_a_person_sees_their_own_settlements_and_this_years_total(client, demo):
    assert reverse("settlement:settlements") == URL
    first, second = _settle(H1), _settle(H1)
    other = _settle(H2, who=("232701195603120223", "王秀兰"))
    response = _as(client, demo, "zhangwei").get(URL)
    assert response.status_code == 200
    shown = [s.number for s in response.context["page"].object_list]
    assert set(shown) == {first.number, second.number} and other.number not in shown
    html = response.content.decode()
    year = datetime.date.today().year
    paid = AnnualAccumulation.objects.get(person=first.person, year=year).fund_paid
    assert paid == first.fund_pay + second.fund_pay
    # Amounts as a person reads them: thousands grouped ("12,345.67").
    assert response.context["ytd"].fund_paid == paid and f">{paid:,.2f}<" in html
    assert f"{first.total:,.2f}" in html and "," in f"{first.total:,.2f}"


def test_the_cap_left_is_the_cap_less_this_years_fund_payments(client, demo):
    settled = _settle(H1)
    year = datetime.date.today().year
    person = settled.person
    policies = BenefitPolicy.objects.filter(region=person.region, scheme=person.scheme, year=year)
    policies.update(annual_cap=D("300000.00"))  # one cap for every level: shown with what is left
    response = _as(client, demo, "zhangwei").get(URL)
    assert response.context["cap"] == D("300000.00")
    assert response.context["left"] == D("300000.00") - settled.fund_pay
    assert f"{D('300000.00') - settled.fund_pay:,.2f}" in response.content.decode()
    levels = list(policies.order_by("level"))
    if len(levels) > 1:  # caps that differ by hospital level: no single figure to show
        BenefitPolicy.objects.filter(pk=levels[0].pk).update(annual_cap=D("1.00"))
        response = _as(client, demo, "zhangwei").get(URL)
        assert response.context["cap"] is None and "cap-left" not in response.content.decode()


def test_a_person_without_settlements_sees_an_empty_state(client, demo):
    html = _as(client, demo, "wangxiulan").get(URL).content.decode()
    assert "暂无直接结算" in html and ">0.00<" in html


def test_the_agencys_decision_on_a_held_settlement_is_told_to_the_person(client, demo):
    held = _settle(H1, who=CHEN, emergency=True)
    agency = get_user_model().objects.get(username="agency_shenyang")
    services.settlement_reject(settlement=held, actor=agency, reason="非急诊抢救，不予支付")
    note = Notification.objects.get(user=demo["chenming"], notice="settlement_reviewed_person")
    assert note.url == URL
    subject, body = note.text("zh-hans")
    assert held.number in subject and held.hospital.name in subject and "审核未通过" in subject
    assert body.endswith("\n原因：非急诊抢救，不予支付")
    # The hospital by its name in the reader's language (stored as its code).
    assert note.params["hospital"] == held.hospital.code
    english = note.text("en")[0]
    assert english.startswith(f"Your bill {held.number} at {held.hospital.name_en}: ")
    html = _as(client, demo, "chenming").get(URL).content.decode()
    assert "非急诊抢救，不予支付" in html and "基金不支付这笔费用" in html


def test_only_insured_persons_have_this_page(client, demo):
    for username in ["hosp_h23010300001", "agency_shenyang"]:
        client.force_login(demo[username])
        assert client.get(URL).status_code == 404


def test_a_state_has_one_colour_on_every_page(client, demo):
    """Decided and paid are green, returned amber, rejected red, waiting blue: the claims' and
    the settlements' pages share portal_tags.state_badge."""
    from portal.templatetags.portal_tags import state_badge
    from settlement.models import ClaimStatus, Settlement

    colours = {value: state_badge(value) for value in [*Settlement.Status, *ClaimStatus]}
    assert colours["settled"] == colours["approved"] == colours["paid"] == "bg-success"
    assert colours["returned"] == "bg-warning text-dark" and colours["rejected"] == "bg-danger"
    assert colours["held_for_review"] == colours["submitted"] == "bg-info text-dark"
    held = _settle(H1, who=CHEN, emergency=True)
    agency = get_user_model().objects.get(username="agency_shenyang")
    services.settlement_return(settlement=held, actor=agency, reason="请补充")
    html = _as(client, demo, "chenming").get(URL).content.decode()
    assert '<span class="badge bg-warning text-dark">' in html
