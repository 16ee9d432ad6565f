"""The social security card number is a secret of the person's (it binds an account to the
agency's record): encrypted at rest, masked in the admin, shown whole only by the audited
reveal, and replaced without the number on record being shown (privacy audit, finding 3)."""

from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from portal.models import AuditEvent, InsuredPerson
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
CARD = "SY23270012345678"
MIGRATION = import_module("portal.migrations.0011_encrypt_social_security_no")


def stored(person) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT social_security_no FROM portal_insuredperson WHERE id = %s", [person.pk]
        )
        return cursor.fetchone()[0]


def wang(card: str = CARD) -> InsuredPerson:
    person = InsuredPerson.objects.get(name="王秀兰")
    person.social_security_no = card
    person.save(update_fields=["social_security_no"])
    return person


def test_the_card_number_is_stored_encrypted(demo):
    person = wang()
    assert CARD not in (stored(person) or "") and stored(person)
    person.refresh_from_db()
    assert person.social_security_no == CARD


def test_the_migration_encrypts_plain_numbers_and_its_reverse_restores_them(demo):
    person = InsuredPerson.objects.get(name="王秀兰")
    blank = InsuredPerson.objects.get(name="陈明")
    with connection.cursor() as cursor:  # as a database before the migration holds them
        table = "portal_insuredperson"
        cursor.execute(
            f"UPDATE {table} SET social_security_no = %s WHERE id = %s", [CARD, person.pk]
        )
        cursor.execute(f"UPDATE {table} SET social_security_no = '' WHERE id = %s", [blank.pk])
    editor = SimpleNamespace(connection=connection)
    MIGRATION.encrypt(apps, editor)
    assert stored(person) and CARD not in stored(person) and stored(blank) is None
    person.refresh_from_db()
    assert person.social_security_no == CARD
    MIGRATION.encrypt(apps, editor)  # twice: still the number, not a token of a token
    person.refresh_from_db()
    assert person.social_security_no == CARD
    MIGRATION.decrypt(apps, editor)
    assert stored(person) == CARD and stored(blank) == ""


def test_the_persons_page_shows_the_card_number_masked_and_not_in_its_form(client, demo):
    person = wang()
    staff_login(client, "agency_dxal")
    page = client.get(reverse("admin:portal_insuredperson_change", args=[person.pk]))
    html = page.content.decode()
    assert CARD not in html and "5678" in html  # masked: ************5678
    assert page.context["adminform"].form["social_security_no"].value() in ("", None)


def test_a_blank_card_box_keeps_the_number_and_a_new_one_replaces_it(client, demo):
    person = wang()
    staff_login(client, "agency_dxal")
    url = reverse("admin:portal_insuredperson_change", args=[person.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["social_security_no"] = ""
    assert client.post(url, data).status_code == 302
    person.refresh_from_db()
    assert person.social_security_no == CARD
    assert not AuditEvent.objects.filter(action="insured.update").exists()  # nothing changed
    data["social_security_no"] = "sy 2327 0099"
    assert client.post(url, data).status_code == 302
    person.refresh_from_db()
    assert person.social_security_no == "SY23270099"
    event = AuditEvent.objects.get(action="insured.update", object_id=str(person.pk))
    assert "SY23270099" not in event.reason and "社会保障卡号：已更改" in event.reason


def test_the_audited_reveal_shows_the_card_number(client, demo):
    person = wang()
    staff_login(client, "agency_dxal")
    page = client.post(reverse("admin:portal_insuredperson_reveal", args=[person.pk]))
    assert CARD in page.content.decode()
    assert AuditEvent.objects.filter(action="insured.reveal_id", object_id=str(person.pk)).exists()
