"""Sign-up writes the account and the binding of the agency's record of the person in one
transaction: the same form sent twice at once (a double tap) gives the second the form back
with its reason, not a server error, and leaves nothing half made; the confirmation email goes
out once the account is committed, and one that cannot be sent does not undo a sign-up."""

from __future__ import annotations

import datetime
import smtplib

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from portal.adapters import AccountAdapter
from portal.models import InsuredPerson
from tests.portal.test_signup import _signup, region  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
User = get_user_model()


def agency_record(region, name="陈明", card="A1234567X") -> InsuredPerson:  # noqa: F811
    person = InsuredPerson(name=name, region=region, scheme="employee", social_security_no=card)
    person.set_id_number("210103198512010131")
    person.save()
    return person


def _the_other_sign_up_commits_first(monkeypatch, write) -> None:
    """Run `write` after this sign-up's form is validated and before it saves anything: what
    the other request of a double tap did in between."""
    new_user = AccountAdapter.new_user

    def racing(self, request):
        write()
        return new_user(self, request)

    monkeypatch.setattr(AccountAdapter, "new_user", racing)


def test_a_username_taken_while_the_form_was_checked_is_a_form_error_not_a_server_error(
    client,
    region,  # noqa: F811 - the fixture
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    record = agency_record(region)
    _the_other_sign_up_commits_first(
        monkeypatch,
        lambda: User.objects.create_user("chen", "chen@example.cn", "a-Long-pass-2026"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _signup(
            client,
            region,
            id_number="210103198512010131",
            name="陈明",
            card="A1234567X",
            username="chen",
            email="chen2@example.cn",
        )
    assert response.status_code == 200
    page = response.content.decode()
    assert "已存在一位使用该名字的用户" in page
    assert 'value="陈明"' in page  # what was typed is kept
    # Nothing half made: one account (the other's), the record free, no email sent.
    assert User.objects.count() == 1
    record.refresh_from_db()
    assert record.user is None
    assert not EmailAddress.objects.exists() and not mail.outbox


def test_a_record_bound_while_the_form_was_checked_refuses_and_leaves_no_account(
    client,
    region,  # noqa: F811 - the fixture
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    record = agency_record(region)
    other = User.objects.create_user("chen", "chen@example.cn", "a-Long-pass-2026")
    _the_other_sign_up_commits_first(
        monkeypatch, lambda: InsuredPerson.objects.filter(pk=record.pk).update(user=other)
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _signup(
            client,
            region,
            id_number="210103198512010131",
            name="陈明",
            card="A1234567X",
            username="chen2",
            email="chen2@example.cn",
        )
    assert response.status_code == 200
    assert "以上信息无法注册。如您已有账号，请直接登录" in response.content.decode()
    assert not User.objects.filter(username="chen2").exists()
    record.refresh_from_db()
    assert record.user == other
    assert not mail.outbox


class _Unreachable(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("mail server unreachable")


def test_a_confirmation_email_that_cannot_be_sent_does_not_undo_the_sign_up(
    client,
    region,  # noqa: F811 - the fixture
    settings,
    django_capture_on_commit_callbacks,
):
    """The account and its binding are whole; signing in sends the confirmation again."""
    record = agency_record(region)
    settings.EMAIL_BACKEND = f"{__name__}._Unreachable"
    with django_capture_on_commit_callbacks(execute=True) as sent:
        response = _signup(
            client, region, id_number="210103198512010131", name="陈明", card="A1234567X"
        )
    assert response.status_code == 302
    assert sent  # the confirmation waited for the commit
    record.refresh_from_db()
    assert record.user is not None and record.user.username == "li"
    assert EmailAddress.objects.get(user=record.user).email == "li@example.cn"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Past allauth's limit of one confirmation email per address every three minutes.
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=4)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/login/", {"login": "li", "password": "a-Long-pass-2026"})
    (message,) = mail.outbox
    assert message.to == ["li@example.cn"]


@pytest.mark.django_db(transaction=True)
def test_the_same_sign_up_sent_twice_at_once_makes_one_account_and_no_server_error(
    region,  # noqa: F811 - the fixture
    monkeypatch,
):
    """On PostgreSQL, two requests in two threads: both pass the form's checks before either
    writes (a barrier in between); one account is made and bound, the other request gets the
    form back saying the username is taken."""
    import threading

    from django.db import connection, connections
    from django.test import Client

    if connection.vendor != "postgresql":
        pytest.skip("a race between two connections: runs with CI=true")
    record = agency_record(region)
    both_checked = threading.Barrier(2, timeout=10)
    new_user = AccountAdapter.new_user

    def after_the_checks(self, request):
        both_checked.wait()
        return new_user(self, request)

    monkeypatch.setattr(AccountAdapter, "new_user", after_the_checks)
    statuses: list[int] = []

    def sign_up() -> None:
        try:
            response = _signup(
                Client(),
                region,
                id_number="210103198512010131",
                name="陈明",
                card="A1234567X",
                username="chen",
                email="chen@example.cn",
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_up) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 302]
    assert User.objects.filter(username="chen").count() == 1
    record.refresh_from_db()
    assert record.user == User.objects.get(username="chen")
