"""The person page's card number box takes only what can be a card number, said in the
reviewer's language, and a wrong number on record can be cleared."""

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from tests.portal.test_privacy_admin_card import CARD, wang
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


def _form_data(client, url):
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.pop("clear_social_security_no", None)
    return data


@pytest.mark.parametrize("typed", ["abc", "12345", "SY-2327-0099", "卡号123456"])
def test_a_typed_card_number_that_cannot_be_one_is_refused_and_changes_nothing(client, demo, typed):
    person = wang()
    staff_login(client, "agency_dxal")
    url = reverse("admin:portal_insuredperson_change", args=[person.pk])
    data = {**_form_data(client, url), "social_security_no": typed}
    page = client.post(url, data)
    assert page.status_code == 200
    assert "6 至 30 位字母和数字" in page.content.decode()
    person.refresh_from_db()
    assert person.social_security_no == CARD


def test_a_card_number_typed_in_full_width_characters_is_taken(client, demo):
    person = wang()
    staff_login(client, "agency_dxal")
    url = reverse("admin:portal_insuredperson_change", args=[person.pk])
    data = {**_form_data(client, url), "social_security_no": "ｓｙ２３２７００９９"}
    assert client.post(url, data).status_code == 302
    person.refresh_from_db()
    assert person.social_security_no == "SY23270099"


def test_a_wrong_card_number_is_cleared_with_the_clear_box(client, demo):
    person = wang()
    staff_login(client, "agency_dxal")
    url = reverse("admin:portal_insuredperson_change", args=[person.pk])
    page = client.get(url).content.decode()
    assert 'name="clear_social_security_no"' in page and "清除登记的社会保障卡号" in page
    data = _form_data(client, url)
    # Typing a number and clearing it at once is refused.
    both = client.post(
        url, {**data, "social_security_no": "SY23270099", "clear_social_security_no": "on"}
    )
    assert both.status_code == 200 and "二者只能选其一" in both.content.decode()
    person.refresh_from_db()
    assert person.social_security_no == CARD
    assert client.post(url, {**data, "clear_social_security_no": "on"}).status_code == 302
    person.refresh_from_db()
    assert not person.social_security_no
    event = AuditEvent.objects.get(action="insured.update", object_id=str(person.pk))
    assert CARD not in event.reason and "社会保障卡号" in event.reason


def test_a_person_without_a_card_number_has_no_clear_box(client, demo):
    person = wang(card=None)
    staff_login(client, "agency_dxal")
    url = reverse("admin:portal_insuredperson_change", args=[person.pk])
    assert 'name="clear_social_security_no"' not in client.get(url).content.decode()
