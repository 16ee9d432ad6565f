"""Who may bind an ID number at sign-up. A stranger who types someone's ID number and never
confirms the e-mail address does not lock its owner out for ever: once the confirmation link has
expired the owner's sign-up takes the record (the stranger's words in it replaced by the
owner's). A confirmed account keeps its record, and the refusal for a number that has an
account says no more than the refusal for a wrong card number."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import translation

from portal.forms import InsuredSignupForm
from portal.models import InsuredPerson, Region

pytestmark = pytest.mark.django_db

NUMBER = "210102197003152173"  # no record of it in the demo
START = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
LINK_DAYS = 3  # allauth's ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS


def _signup(username: str, *, name: str, card: str = "", number: str = NUMBER):
    shenyang = Region.objects.get(code="210100")
    data = {
        "email": f"{username}@example.cn",
        "username": username,
        "password1": "a-Long-pass-2026",
        "password2": "a-Long-pass-2026",
        "name": name,
        "id_number": number,
        "social_security_no": card,
        "region": shenyang.pk,
        "scheme": "employee",
    }
    return Client().post(reverse("account_signup"), data)


def _refusal(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<div class="alert[^>]*>(.*?)</div>', response.content.decode(), re.S)


def _bound_to(number: str = NUMBER) -> str | None:
    from portal.lib import idnumbers

    person = InsuredPerson.objects.select_related("user").get(id_hash=idnumbers.id_hash(number))
    return person.user.username if person.user else None


def _later(days: float):
    return time_machine.travel(START + datetime.timedelta(days=days), tick=False)


def test_a_claim_never_confirmed_is_released_once_its_link_has_expired(demo):
    with _later(0):
        assert _signup("squatter", name="随便").status_code == 302
    assert _bound_to() == "squatter"
    with _later(LINK_DAYS + 0.1):
        response = _signup("owner", name="李真", card="SY0000001")
    assert response.status_code == 302
    assert _bound_to() == "owner"
    person = InsuredPerson.objects.get(user__username="owner")
    # The stranger's words gave way to the owner's; the agency has still to confirm them.
    assert (person.name, person.social_security_no) == ("李真", "SY0000001")
    assert person.active is False
    assert InsuredPerson.objects.filter(id_hash=person.id_hash).count() == 1
    assert not InsuredPerson.objects.filter(user__username="squatter").exists()


def test_within_the_links_validity_the_claim_still_holds(demo):
    with _later(0):
        _signup("squatter", name="随便")
    with _later(LINK_DAYS - 0.1):
        refused = _refusal(_signup("owner", name="李真", card="SY0000001"))
    assert refused and "以上信息无法注册" in refused[0]
    assert _bound_to() == "squatter"


def test_a_confirmed_claim_is_never_released(demo):
    with _later(0):
        _signup("first", name="李真")
    EmailAddress.objects.filter(user__username="first").update(verified=True)
    with _later(30):
        _refusal(_signup("second", name="李真", card="SY0000001"))
    assert _bound_to() == "first"


def test_a_claim_signed_in_to_is_never_released(demo):
    with _later(0):
        _signup("first", name="李真")
    get_user_model().objects.filter(username="first").update(last_login=START)
    with _later(30):
        _refusal(_signup("second", name="李真"))
    assert _bound_to() == "first"


def test_the_agencys_record_released_from_an_abandoned_claim_still_asks_for_name_and_card(demo):
    """A record the agency keeps (or one it confirmed) is bound, once free again, as before:
    with the name and the card number on it, not with whatever the next sign-up types."""
    with _later(0):
        agency = InsuredPerson(
            name="周静",
            region=Region.objects.get(code="210100"),
            scheme="employee",
            social_security_no="B2",
            active=False,  # the agency keeps inactive records too
        )
        agency.set_id_number(NUMBER)
        agency.save()
    with _later(1):
        assert _signup("knew", name="周静", card="B2").status_code == 302
    with _later(LINK_DAYS + 2):
        _refusal(_signup("stranger", name="随便"))
        assert _bound_to() == "knew"
        assert _signup("owner", name="周静", card="b2").status_code == 302
    assert _bound_to() == "owner"
    agency.refresh_from_db()
    assert (agency.name, agency.social_security_no) == ("周静", "B2")


def test_a_record_the_agency_confirmed_keeps_its_words(demo):
    with _later(0):
        _signup("first", name="李真", card="SY0000001")
    InsuredPerson.objects.filter(user__username="first").update(active=True)
    with _later(LINK_DAYS + 1):
        _refusal(_signup("stranger", name="随便"))
        assert _bound_to() == "first"
        assert _signup("owner", name="李真", card="SY0000001").status_code == 302
    assert _bound_to() == "owner"
    assert InsuredPerson.objects.get(user__username="owner").name == "李真"


def test_the_refusal_for_a_number_with_an_account_names_nothing_of_it(demo):
    """The same one sentence as for a wrong card number: neither the account, its address nor
    whether it is confirmed."""
    with _later(0):
        _signup("claimant", name="李真")
        EmailAddress.objects.filter(user__username="claimant").update(verified=True)
        has_account = _refusal(_signup("x1", name="李真"))
        wrong_card = _refusal(_signup("x2", name="王秀兰", number="232701195603120223"))
    assert has_account == wrong_card
    text = " ".join(has_account)
    for detail in ("claimant", "example.cn", "李真", "***"):
        assert detail not in text
    with translation.override("zh-hans"):
        assert str(InsuredSignupForm.REFUSED) in text  # the one sentence, and nothing else
