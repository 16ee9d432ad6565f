"""Telling a user something: an in-portal notification, emailed by a Celery task on commit.

What is said is a notice of the catalogue (portal/notices.py) with its parameters, rendered in
the reader's language when it is read or emailed.
"""

from __future__ import annotations

from django.db import transaction

from portal.models import Notification


def notify(*, user, notice: str, params: dict | None = None, url: str = "") -> Notification | None:
    if user is None:
        return None
    note = Notification.objects.create(user=user, notice=notice, params=params or {}, url=url)
    from portal.tasks import deliver_notification

    transaction.on_commit(lambda: deliver_notification.delay(note.pk))
    return note


def notify_many(notes: list[Notification]) -> list[Notification]:
    """Bulk version for jobs: one INSERT, one message per row queued after commit."""
    created = Notification.objects.bulk_create(notes)
    from portal.tasks import deliver_notification

    ids = [n.pk for n in created if n.pk]
    transaction.on_commit(lambda: [deliver_notification.delay(pk) for pk in ids])
    return created
