from __future__ import annotations

from celery import shared_task
from django.core.mail import send_mail
from django.utils import timezone

from portal.models import Notification


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def deliver_notification(notification_id: int) -> bool:
    """Email one notification once: claim it with a conditional UPDATE, then send."""
    note = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if note is None or note.emailed_at is not None or not note.user.email:
        return False
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )
    if not claimed:
        return False
    try:
        send_mail(note.subject, note.body, None, [note.user.email])
    except OSError:
        Notification.objects.filter(pk=notification_id).update(emailed_at=None)
        raise
    return True


@shared_task(soft_time_limit=240, time_limit=300)
def deliver_pending_notifications(limit: int = 500) -> int:
    """Sweep notifications written in bulk by jobs; each is claimed before it is sent."""
    pending = (
        Notification.objects.filter(emailed_at__isnull=True, user__email__gt="")
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    return sum(1 for pk in list(pending) if deliver_notification.run(pk))
