"""Scheduled jobs on filings (domain.md §2): expiry, commitment reminders and revocation.

Set-based, never a per-row save() loop: on PostgreSQL each kind of change is one statement
(`UPDATE … RETURNING` feeding `INSERT … SELECT` of the audit events and notifications), in
batches; the UPDATE re-checks `status = 'approved'` under the row lock, so of two overlapping
runs only one changes a row (the other re-evaluates, finds it changed and skips it). Other
databases take the same steps in ORM batches. Every change is conditional on the current
state, so a rerun for the same day, or a second beat started by mistake, changes nothing.
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from filings.models import Basis, Filing, FilingType, Status
from portal.models import AgencyStaff, AuditEvent, JobRun, Notification, Reminder

BATCH = 100_000
FILING = "filings.filing"
# Reminder thresholds before the commitment deadline, largest first (each sent once, ever).
REMINDER_DAYS = (30, 7, 1)


@dataclass(frozen=True)
class Change:
    """One kind of set-based transition."""

    name: str
    to_status: str
    where_sql: str  # on filings_filing f, parameters %(today)s
    where_q: Q
    action: str
    notify_agency: bool = False

    def subject(self) -> str:
        if self.to_status == Status.REVOKED:
            return _("Your filing has been revoked")
        return _("Your filing has expired")

    def body(self) -> str:
        if self.to_status == Status.REVOKED:
            return _(
                "Filing {n} has been revoked because the commitment materials were not supplied "
                "by the deadline. Settlements made before the revocation stand."
            )
        return _("Filing {n} has expired. File again if you still need treatment there.")


def _expired_q(today: datetime.date) -> Q:
    return Q(valid_until__lt=today) & (Q(extended_until__isnull=True) | Q(extended_until__lt=today))


_EXPIRED_SQL = (
    "f.valid_until < %(today)s AND (f.extended_until IS NULL OR f.extended_until < %(today)s)"
)


def changes(today: datetime.date) -> list[Change]:
    approved = Q(status=Status.APPROVED)
    return [
        Change(
            "expire_temporary",
            Status.EXPIRED,
            f"f.type = 'temporary' AND {_EXPIRED_SQL}",
            approved & Q(type=FilingType.TEMPORARY) & _expired_q(today),
            "filing.expire",
        ),
        # Referrals: valid_until is the start window, or the end of the course once treatment
        # started (set by the service), unless extended.
        Change(
            "expire_referral",
            Status.EXPIRED,
            f"f.type = 'referral' AND {_EXPIRED_SQL}",
            approved & Q(type=FilingType.REFERRAL) & _expired_q(today),
            "filing.expire",
        ),
        Change(
            "expire_emergency",
            Status.EXPIRED,
            f"f.type = 'emergency' AND {_EXPIRED_SQL}",
            approved & Q(type=FilingType.EMERGENCY) & _expired_q(today),
            "filing.expire",
        ),
        Change(
            "expire_chronic",
            Status.EXPIRED,
            f"f.type = 'chronic_outpatient' AND {_EXPIRED_SQL}",
            approved & Q(type=FilingType.CHRONIC) & _expired_q(today),
            "filing.expire",
        ),
        # Long-term filings with a validity (Daxinganling: 12 months).
        Change(
            "expire_long_term",
            Status.EXPIRED,
            f"f.type = 'long_term' AND {_EXPIRED_SQL}",
            approved & Q(type=FilingType.LONG_TERM) & _expired_q(today),
            "filing.expire",
        ),
        Change(
            "revoke_commitment",
            Status.REVOKED,
            "f.basis = 'commitment' AND f.materials_accepted_at IS NULL "
            "AND f.commitment_deadline < %(today)s",
            approved
            & Q(
                basis=Basis.COMMITMENT,
                materials_accepted_at__isnull=True,
                commitment_deadline__lt=today,
            ),
            "filing.revoke",
            notify_agency=True,
        ),
    ]


_PG_CHANGE = """
WITH picked AS (
    SELECT f.id FROM filings_filing f
    WHERE f.status = 'approved' AND {where}
    LIMIT %(batch)s
), changed AS (
    UPDATE filings_filing f SET status = %(to)s, updated_at = %(now)s
    FROM picked WHERE f.id = picked.id AND f.status = 'approved'
    RETURNING f.id, f.number, f.person_id, f.insured_region_id
), events AS (
    INSERT INTO portal_auditevent (actor_role, action, object_type, object_id, object_repr,
        region_id, from_state, to_state, reason, created_at)
    SELECT 'system', %(action)s, 'filings.filing', c.id::text, c.number, c.insured_region_id,
        'approved', %(to)s, %(reason)s, %(now)s FROM changed c
), person_notes AS (
    INSERT INTO portal_notification (user_id, subject, body, url, created_at)
    SELECT p.user_id, %(subject)s, replace(%(body)s, '{{n}}', c.number), '/filings/', %(now)s
    FROM changed c JOIN portal_insuredperson p ON p.id = c.person_id
    WHERE p.user_id IS NOT NULL
), agency_notes AS (
    INSERT INTO portal_notification (user_id, subject, body, url, created_at)
    SELECT s.user_id, %(subject)s, replace(%(body)s, '{{n}}', c.number), '/admin/', %(now)s
    FROM changed c JOIN portal_agency a ON a.region_id = c.insured_region_id
    JOIN portal_agencystaff s ON s.agency_id = a.id
    WHERE %(notify_agency)s
)
SELECT count(*) FROM changed
"""


def _apply_pg(change: Change, today: datetime.date, now: datetime.datetime) -> int:
    total = 0
    sql = _PG_CHANGE.format(where=change.where_sql)
    params = {
        "today": today,
        "now": now,
        "to": change.to_status,
        "action": change.action,
        "reason": change.name,
        "subject": change.subject(),
        "body": change.body(),
        "batch": BATCH,
        "notify_agency": change.notify_agency,
    }
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            count = cursor.fetchone()[0]
        total += count
        if count < BATCH:
            return total


def _apply_orm(change: Change, today: datetime.date, now: datetime.datetime) -> int:
    total = 0
    while True:
        with transaction.atomic():
            rows = list(
                Filing.objects.filter(change.where_q)
                .order_by("id")
                .values("id", "number", "person__user_id", "insured_region_id")[:BATCH]
            )
            if not rows:
                return total
            ids = [r["id"] for r in rows]
            Filing.objects.filter(id__in=ids, status=Status.APPROVED).update(
                status=change.to_status, updated_at=now
            )
            AuditEvent.objects.bulk_create(
                AuditEvent(
                    actor_role="system",
                    action=change.action,
                    object_type=FILING,
                    object_id=str(r["id"]),
                    object_repr=r["number"],
                    region_id=r["insured_region_id"],
                    from_state=Status.APPROVED,
                    to_state=change.to_status,
                    reason=change.name,
                )
                for r in rows
            )
            subject, body = change.subject(), change.body()
            notes = [
                Notification(
                    user_id=r["person__user_id"],
                    subject=subject,
                    body=body.replace("{n}", r["number"]),
                    url="/filings/",
                )
                for r in rows
                if r["person__user_id"]
            ]
            if change.notify_agency:
                staff = {}
                for s in AgencyStaff.objects.values("user_id", "agency__region_id"):
                    staff.setdefault(s["agency__region_id"], []).append(s["user_id"])
                notes += [
                    Notification(
                        user_id=uid,
                        subject=subject,
                        body=body.replace("{n}", r["number"]),
                        url="/admin/",
                    )
                    for r in rows
                    for uid in staff.get(r["insured_region_id"], [])
                ]
            Notification.objects.bulk_create(notes)
        total += len(rows)


def apply_changes(today: datetime.date | None = None) -> dict[str, int]:
    """Expire and revoke everything due on `today`. Returns rows changed per kind."""
    today = today or timezone.localdate()
    now = timezone.now()
    apply = _apply_pg if connection.vendor == "postgresql" else _apply_orm
    with translation.override("zh-hans"):
        return {change.name: apply(change, today, now) for change in changes(today)}


def send_commitment_reminders(today: datetime.date | None = None) -> dict[str, int]:
    """Reminders 30, 7 and 1 days before the commitment deadline, each sent once, ever.

    The reminder row (filing, kind, deadline) is unique and committed with the notification, so
    a rerun, a late run catching up, or a second beat never sends the same reminder again.
    """
    today = today or timezone.localdate()
    sent = {}
    thresholds = list(REMINDER_DAYS) + [0]
    with translation.override("zh-hans"):
        for days, next_days in zip(thresholds, thresholds[1:], strict=False):
            kind = f"commitment_{days}"
            due = Filing.objects.filter(
                status=Status.APPROVED,
                basis=Basis.COMMITMENT,
                materials_accepted_at__isnull=True,
                commitment_deadline__gt=today + datetime.timedelta(days=next_days),
                commitment_deadline__lte=today + datetime.timedelta(days=days),
            ).values("id", "number", "commitment_deadline", "person__user_id")
            count = 0
            for start in range(0, 10**9, BATCH):
                chunk = list(due.order_by("id")[start : start + BATCH])
                if not chunk:
                    break
                count += _remind(chunk, kind)
            sent[kind] = count
    return sent


def _remind(rows: list[dict], kind: str) -> int:
    with transaction.atomic():
        existing = set(
            Reminder.objects.filter(
                object_type=FILING, kind=kind, object_id__in=[str(r["id"]) for r in rows]
            ).values_list("object_id", "due_date")
        )
        new = [r for r in rows if (str(r["id"]), r["commitment_deadline"]) not in existing]
        # The unique constraint is the guard against a concurrent run: a duplicate aborts this
        # batch, and the next run finds the reminders already there.
        Reminder.objects.bulk_create(
            Reminder(
                object_type=FILING,
                object_id=str(r["id"]),
                kind=kind,
                due_date=r["commitment_deadline"],
            )
            for r in new
        )
        subject = _("Reminder: supply your commitment materials")
        Notification.objects.bulk_create(
            Notification(
                user_id=r["person__user_id"],
                subject=subject,
                url="/filings/",
                body=_(
                    "Filing {n}: supply the promised materials by {d}, or the filing will be "
                    "revoked."
                ).format(n=r["number"], d=r["commitment_deadline"]),
            )
            for r in new
            if r["person__user_id"]
        )
    return len(new)


def run_nightly(today: datetime.date | None = None) -> JobRun:
    """The nightly job: expiry, revocation, reminders, recorded as one JobRun."""
    run = JobRun.objects.create(name="filings.nightly")
    started = time.monotonic()
    details: dict = {}
    try:
        details.update(apply_changes(today))
        details.update(send_commitment_reminders(today))
    except Exception as exc:  # noqa: BLE001 - recorded for the admin, then re-raised
        JobRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}", details=details
        )
        raise
    details["seconds"] = round(time.monotonic() - started, 3)
    JobRun.objects.filter(pk=run.pk).update(
        finished_at=timezone.now(),
        rows=sum(v for k, v in details.items() if k != "seconds"),
        details=details,
    )
    run.refresh_from_db()
    return run
