from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.models import Notification, Preference

logger = logging.getLogger(__name__)


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


# A notification whose email failed (a refused recipient, an address the mail library
# rejects, the mail server down) is tried again by later sweeps, each after a longer wait, and
# at most this many times in all; it stays in the person's inbox whatever happens. The state is
# kept in its parameters under DELIVERY (no notice uses the name): failures so far, when it may
# be tried again (Unix time; the key is gone once the sweep has given up), the last error.
DELIVERY = "_email"
RETRY_AFTER_MINUTES = (5, 15, 60, 240, 720, 1440)
EMAIL_ATTEMPTS = len(RETRY_AFTER_MINUTES) + 1


def _due_for_delivery(now: float) -> Q:
    """Never tried, or failed and due to be tried again."""
    return Q(**{f"params__{DELIVERY}__isnull": True}) | Q(
        **{f"params__{DELIVERY}__retry_at__lte": int(now)}
    )


def _record_failure(notification_id: int, exc: Exception) -> int:
    """Count a failed email of the notification and set when to try again (none after the
    last attempt). Returns the failures so far."""
    with transaction.atomic():
        note = (
            Notification.objects.select_for_update()
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if note is None:
            return 0
        failures = int((note.params.get(DELIVERY) or {}).get("failures", 0)) + 1
        state = {"failures": failures, "error": f"{type(exc).__name__}: {exc}"[:300]}
        if failures < EMAIL_ATTEMPTS:
            wait = RETRY_AFTER_MINUTES[failures - 1] * 60
            state["retry_at"] = int(time.time()) + wait
        note.params = {**note.params, DELIVERY: state}
        note.save(update_fields=["params"])
    return failures


@shared_task(soft_time_limit=240, time_limit=300)
def deliver_pending_notifications(limit: int = 500) -> dict[str, int]:
    """Sweep notifications that no task delivered: those jobs write in bulk, and any whose task
    was lost between the commit and the enqueue. Each is locked while it is sent.

    One that cannot be sent (the recipient refused, an invalid address, the server down) is
    logged and left unsent for a later sweep, after a growing wait and up to EMAIL_ATTEMPTS
    times, so it never holds up the others. Returns how many were sent and how many failed.
    """
    pending = (
        Notification.objects.filter(emailed_at__isnull=True, user__email__gt="")
        .filter(_due_for_delivery(time.time()))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    result = {"sent": 0, "failed": 0}
    for pk in list(pending):
        try:
            sent = deliver_notification.run(pk)
        # SMTP errors are OSErrors; the mail library refuses a malformed address with a
        # ValueError. Anything else is a fault of ours and stops the sweep.
        except (OSError, ValueError) as exc:
            failures = _record_failure(pk, exc)
            result["failed"] += 1
            logger.warning(
                "notification %s not emailed (attempt %s of %s): %s: %s",
                pk,
                failures,
                EMAIL_ATTEMPTS,
                type(exc).__name__,
                exc,
            )
            continue
        result["sent"] += int(sent)
    return result
