"""The email sweep: a notification whose email keeps failing never holds up the ones behind it;
it stays unsent, is tried again later with a growing wait, and at most EMAIL_ATTEMPTS times."""

from __future__ import annotations

import datetime
import smtplib
import zoneinfo

import pytest
import time_machine
from django.core.mail.backends.locmem import EmailBackend

from portal import tasks
from portal.models import Notification
from portal.tasks import EMAIL_ATTEMPTS, RETRY_AFTER_MINUTES, deliver_pending_notifications

pytestmark = pytest.mark.django_db
START = datetime.datetime(2026, 11, 22, 9, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
REFUSED: set[str] = set()


class RefusingBackend(EmailBackend):
    """The local outbox, except that the server refuses the addresses in REFUSED."""

    def send_messages(self, messages):
        for message in messages:
            refused = {to: (550, b"5.1.1 unknown user") for to in message.to if to in REFUSED}
            if refused:
                raise smtplib.SMTPRecipientsRefused(refused)
        return super().send_messages(messages)


@pytest.fixture
def refusing(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    REFUSED.clear()
    yield REFUSED
    REFUSED.clear()


@pytest.fixture
def three(django_user_model):
    """Three pending notifications, in id order; the first one's address is refused."""
    notes = []
    for name in ("gone", "li", "wang"):
        user = django_user_model.objects.create_user(name, f"{name}@example.cn", "pw-12345678")
        notes.append(
            Notification.objects.create(
                user=user, notice="materials_accepted", params={"n": f"BA-{name}"}
            )
        )
    return notes


def emailed(note) -> bool:
    note.refresh_from_db()
    return note.emailed_at is not None


def test_a_refused_address_does_not_stop_the_emails_behind_it(refusing, three, mailoutbox):
    refusing.add("gone@example.cn")
    first, second, third = three
    with time_machine.travel(START, tick=False) as clock:
        assert deliver_pending_notifications() == {"sent": 2, "failed": 1}
        assert sorted(m.to[0] for m in mailoutbox) == ["li@example.cn", "wang@example.cn"]
        assert (emailed(first), emailed(second), emailed(third)) == (False, True, True)
        # Still in the inbox, as written; the failure is counted beside it.
        assert first.text("zh-hans")[0] == "您补交的材料已受理"
        assert first.params[tasks.DELIVERY]["failures"] == 1
        assert "SMTPRecipientsRefused" in first.params[tasks.DELIVERY]["error"]

        # The next sweep, five minutes on, is too early for it: nothing is tried.
        clock.shift(datetime.timedelta(minutes=RETRY_AFTER_MINUTES[0], seconds=-1))
        assert deliver_pending_notifications() == {"sent": 0, "failed": 0}
        # Once its wait is over a later sweep tries it again; it fails again, and waits longer.
        clock.shift(datetime.timedelta(seconds=2))
        assert deliver_pending_notifications() == {"sent": 0, "failed": 1}
        first.refresh_from_db()
        assert first.params[tasks.DELIVERY]["failures"] == 2
        clock.shift(datetime.timedelta(minutes=RETRY_AFTER_MINUTES[0]))
        assert deliver_pending_notifications() == {"sent": 0, "failed": 0}

        # The address works again: the sweep after the wait sends it, once.
        refusing.clear()
        clock.shift(datetime.timedelta(minutes=RETRY_AFTER_MINUTES[1]))
        assert deliver_pending_notifications() == {"sent": 1, "failed": 0}
        assert emailed(first)
        assert deliver_pending_notifications() == {"sent": 0, "failed": 0}
    assert sorted(m.to[0] for m in mailoutbox) == [
        "gone@example.cn",
        "li@example.cn",
        "wang@example.cn",
    ]


def test_an_address_that_never_works_is_tried_a_limited_number_of_times(
    refusing, three, mailoutbox, caplog
):
    refusing.add("gone@example.cn")
    first = three[0]
    tried = 0
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(EMAIL_ATTEMPTS + 5):
            tried += deliver_pending_notifications()["failed"]
            clock.shift(datetime.timedelta(days=2))  # longer than any wait
    assert tried == EMAIL_ATTEMPTS
    first.refresh_from_db()
    assert first.emailed_at is None and first.params[tasks.DELIVERY]["failures"] == EMAIL_ATTEMPTS
    assert "retry_at" not in first.params[tasks.DELIVERY]
    assert len(mailoutbox) == 2
    assert f"notification {first.pk} not emailed" in caplog.text


def test_an_address_the_mail_library_rejects_is_skipped_too(three, mailoutbox):
    first = three[0]
    # A header-breaking address: Django refuses it (ValueError) before any server sees it.
    type(first.user).objects.filter(pk=first.user_id).update(email="gone@example.cn\nBcc: x@y")
    assert deliver_pending_notifications() == {"sent": 2, "failed": 1}
    assert not emailed(first)
