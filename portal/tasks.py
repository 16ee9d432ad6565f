from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.models import Notification, Preference


def message_id(notification_id: int) -> str:
    """The same Message-ID every time one notification is emailed, so a mail server or client
    that has seen it can drop the rare second copy (see `deliver_notification`)."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return f"<notification-{notification_id}@{domain}>"


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def deliver_notification(notification_id: int) -> bool:
    """Email one notification, at least once, and once in all but one case.

    The row is locked (`SELECT … FOR UPDATE` where `emailed_at IS NULL`), the message sent, and
    `emailed_at` set, all in one transaction. A concurrent or repeated delivery waits on the lock
    and then finds the row emailed, so it never sends. If the worker dies (SIGKILL, lost
    connection) before the commit, the row stays unmarked and the redelivered task sends again:
    no email is ever lost, and the only possible duplicate is the one message that was in
    flight at the kill, carrying the same Message-ID. We chose at-least-once because a lost
    revocation or deadline reminder costs the person more than a repeated one. A mail backend
    that records into this database (the kill test's) commits with the mark and sees exactly
    once. An SMTP error rolls back and retries with backoff. The message is written in the
    language the user last used the portal in (`Preference`, Simplified Chinese by default).

    Precondition: the notification row is committed (queued on commit). Returns whether this
    call sent the message.
    """
    with transaction.atomic():
        note = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if note is None or not note.user.email:
            return False
        language = Preference.language_of(note.user_id)
        subject, body = note.text(language)
        if note.url:  # where to read it and act: the filing's, the claim's own page
            with translation.override(language):
                link = _("View it on the portal: %(url)s") % {"url": settings.SITE_URL + note.url}
            body = f"{body}\n\n{link}"
        EmailMessage(
            subject,
            body,
            None,
            [note.user.email],
            headers={"Message-ID": message_id(note.pk)},
        ).send()
        Notification.objects.filter(pk=note.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
    return True


@shared_task(soft_time_limit=240, time_limit=300)
def deliver_pending_notifications(limit: int = 500) -> int:
    """Sweep notifications that no task delivered: those jobs write in bulk, and any whose task
    was lost between the commit and the enqueue. Each is locked while it is sent."""
    pending = (
        Notification.objects.filter(emailed_at__isnull=True, user__email__gt="")
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    return sum(1 for pk in list(pending) if deliver_notification.run(pk))
