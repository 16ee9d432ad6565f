"""Scheduled jobs on filings (domain.md §2): expiry, commitment reminders and revocation, and
the claim-deadline reminder the settlement app relies on (domain.md §3.4).

Set-based, never a per-row save() loop: on PostgreSQL each kind of change is one statement
(`UPDATE … RETURNING` feeding `INSERT … SELECT` of the audit events and notifications), in
batches; the UPDATE re-checks its whole condition (`status = 'approved'` and the kind's dates)
under the row lock, so of two overlapping runs only one changes a row (the other re-evaluates,
finds it changed and skips it). Reminders
are one `INSERT … ON CONFLICT DO NOTHING RETURNING` per batch feeding the notifications, so of
two overlapping runs only the one whose reminder row went in writes the message, and neither
fails. Other databases take the same steps in ORM batches. Every change is conditional on the
current state, so a rerun for the same day, or a second beat started by mistake, changes
nothing.

Notifications written here are emailed by `portal.tasks.deliver_pending_notifications` (every
five minutes), or, with `deliver=True` (the per-filing tasks), by one task each queued on
commit; the sweep also catches any whose task was lost between the commit and the enqueue.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from filings import rules, uploads
from filings.models import (
    RESIDENCE_PROOF_KINDS,
    Basis,
    Filing,
    FilingType,
    LongTermSubtype,
    Material,
    MaterialKind,
    Status,
    keeps_commitment_q,
)
from portal.jobruns import Progress, record_run
from portal.models import AgencyStaff, AuditEvent, JobRun, Notification, Reminder

BATCH = 100_000
FILING = "filings.filing"
CLAIM = "settlement.claim"
# Reminder thresholds before the commitment deadline, largest first (each sent once, ever).
REMINDER_DAYS = (30, 7, 1)
CLAIM_REMINDER_KIND = "claim_deadline"
# What the person is told when a long-term filing ends and its approved renewal takes over
# (domain.md §2.1): not "expired, file again"; nor while the renewal awaits review.
RENEWED_NOTICE = "filing_renewal_in_force"
# ... only once it has taken effect: a renewal approved to take effect later (Daxinganling's
# benefits start the day after approval) is named with the day it does, as at its approval.
RENEWAL_LATER_NOTICE = "filing_approved_from"
RENEWAL_PENDING_NOTICE = "filing_renewal_under_review"
# A renewal started but not sent (a draft, or returned for materials): finish and submit it.
RENEWAL_UNSENT_NOTICE = "filing_renewal_to_submit"
# A filing that ends where another approved filing of the person for the same place covers the
# next day (a temporary filing's continuation, a long-term filing): it continues, no need to file
# again (domain.md §2.4, §2.6).
CONTINUED_NOTICE = "filing_continued"
# The filings that cover a whole place, so one can continue another.
PLACE_TYPES = (FilingType.TEMPORARY, FilingType.LONG_TERM)
# The audit action of a temporary filing cut short by a long-term filing approved for its place
# (filings/services.py `_end_temporary_filings_there`), which told the person then.
SUPERSEDED_ACTION = "filing.superseded"
# The renewal's state -> what the person is told when the filing it renews expires.
RENEWAL_NOTICES: dict[str, str] = {
    Status.APPROVED: RENEWED_NOTICE,
    Status.SUBMITTED: RENEWAL_PENDING_NOTICE,
    Status.DRAFT: RENEWAL_UNSENT_NOTICE,
    Status.RETURNED: RENEWAL_UNSENT_NOTICE,
}


@dataclass(frozen=True)
class Change:
    """One kind of set-based transition."""

    name: str
    to_status: str
    where_sql: str  # on filings_filing f, parameters %(today)s and `params`
    where_q: Q
    action: str
    filing_type: str
    # What the person is told (portal/notices.py), and the agency's staff, if they are.
    notice: str = "filing_expired"
    agency_notice: str = ""
    params: dict = field(default_factory=dict)
    basis: str = ""  # only filings on this basis

    def may_apply(self, filing_type: str, basis: str) -> bool:
        return filing_type == self.filing_type and self.basis in ("", basis)

    @property
    def tells_renewal(self) -> bool:
        """An expiry tells the person what continues the filing: the long-term filing's
        renewal, or another filing for the same place from the next day; and tells nothing of
        a temporary filing the person was told a long-term filing replaced."""
        return self.to_status == Status.EXPIRED


def _not_extended_q(today: datetime.date) -> Q:
    return Q(extended_until__isnull=True) | Q(extended_until__lt=today)


def _expired_q(today: datetime.date) -> Q:
    return Q(valid_until__lt=today) & _not_extended_q(today)


_NOT_EXTENDED_SQL = "(f.extended_until IS NULL OR f.extended_until < %(today)s)"
_EXPIRED_SQL = f"f.valid_until < %(today)s AND {_NOT_EXTENDED_SQL}"


def supplied_in_time() -> Exists:
    """The filing has a supplemented material that still counts (domain.md §2.1): a proof of
    residence (or a stationed worker's posting certificate: `keeps_commitment_q`; an ID copy
    alone keeps no promise), uploaded after
    approval, on or before the commitment deadline (its day in TIME_ZONE), and not refused by
    the agency. Pending review or accepted, the promise was kept in time; once the agency
    refuses every supplement the filing is due again. The material's foreign-key index serves
    it (a few rows per filing)."""
    return Exists(
        Material.objects.filter(
            keeps_commitment_q(),
            filing=OuterRef("pk"),
            refused_at__isnull=True,
            uploaded_at__gt=OuterRef("decided_at"),
            uploaded_at__date__lte=OuterRef("commitment_deadline"),
        )
    )


# `supplied_in_time` on filings_filing f, for the PostgreSQL statement (parameter %(tz)s).
_SUPPLIED_SQL = (
    "EXISTS (SELECT 1 FROM filings_material m WHERE m.filing_id = f.id "
    "AND (m.kind IN ({kinds}) OR (m.kind = '{posting}' AND f.subtype = '{stationed}')) "
    "AND m.refused_at IS NULL AND m.uploaded_at > f.decided_at "
    "AND (m.uploaded_at AT TIME ZONE %(tz)s)::date <= f.commitment_deadline)"
).format(  # constants, not input
    kinds=", ".join(f"'{kind}'" for kind in RESIDENCE_PROOF_KINDS),
    posting=MaterialKind.POSTING_CERTIFICATE.value,
    stationed=LongTermSubtype.STATIONED_WORKER.value,
)


def _course_over(today: datetime.date, course_lengths: Iterable[int]) -> tuple[str, Q, dict]:
    """Started referrals whose course is over (domain.md §2.2, Daxinganling: 60 days).

    One term per course length in use (in practice one, 60), so each compares
    `treatment_started_on` with a date and the partial index `filing_referral_course` serves it.
    """
    sql, q, params = [], Q(pk__in=[]), {}
    for days in sorted({int(d) for d in course_lengths}):
        cutoff = rules.course_over_if_started_by(today, days)
        sql.append(f"(f.course_days = {days:d} AND f.treatment_started_on <= %(course_{days:d})s)")
        q |= Q(course_days=days, treatment_started_on__lte=cutoff)
        params[f"course_{days:d}"] = cutoff
    return (f"({' OR '.join(sql)})" if sql else "FALSE"), q, params


def changes(today: datetime.date, course_lengths: Iterable[int] = ()) -> list[Change]:
    approved = Q(status=Status.APPROVED)
    course_sql, course_q, course_params = _course_over(today, course_lengths)
    return [
        Change(
            "expire_temporary",
            Status.EXPIRED,
            f"f.type = 'temporary' AND {_EXPIRED_SQL}",
            approved & Q(type=FilingType.TEMPORARY) & _expired_q(today),
            "filing.expire",
            FilingType.TEMPORARY,
        ),
        # Referrals not started within their start window (Daxinganling: 1 month), and
        # referrals with a plain validity (Liaoning: 6 months), unless extended.
        Change(
            "expire_referral",
            Status.EXPIRED,
            "f.type = 'referral' AND (f.treatment_started_on IS NULL OR f.course_days IS NULL) "
            f"AND {_EXPIRED_SQL}",
            approved
            & Q(type=FilingType.REFERRAL)
            & (Q(treatment_started_on__isnull=True) | Q(course_days__isnull=True))
            & _expired_q(today),
            "filing.expire",
            FilingType.REFERRAL,
        ),
        # Started referrals whose one course (Daxinganling: 60 days) is over, unless extended.
        Change(
            "expire_referral_course",
            Status.EXPIRED,
            "f.type = 'referral' AND f.treatment_started_on IS NOT NULL "
            f"AND {course_sql} AND {_NOT_EXTENDED_SQL}",
            approved
            & Q(type=FilingType.REFERRAL, treatment_started_on__isnull=False)
            & course_q
            & _not_extended_q(today),
            "filing.expire",
            FilingType.REFERRAL,
            # Continued treatment within the cycle needs a follow-up notice, not a new filing.
            notice="referral_course_over",
            params=course_params,
        ),
        Change(
            "expire_emergency",
            Status.EXPIRED,
            f"f.type = 'emergency' AND {_EXPIRED_SQL}",
            approved & Q(type=FilingType.EMERGENCY) & _expired_q(today),
            "filing.expire",
            FilingType.EMERGENCY,
        ),
        Change(
            "expire_chronic",
            Status.EXPIRED,
            f"f.type = 'chronic_outpatient' AND {_EXPIRED_SQL}",
            approved & Q(type=FilingType.CHRONIC) & _expired_q(today),
            "filing.expire",
            FilingType.CHRONIC,
        ),
        # Long-term filings with a validity (Daxinganling: 12 months).
        Change(
            "expire_long_term",
            Status.EXPIRED,
            f"f.type = 'long_term' AND {_EXPIRED_SQL}",
            approved & Q(type=FilingType.LONG_TERM) & _expired_q(today),
            "filing.expire",
            FilingType.LONG_TERM,
        ),
        # Commitment filings whose deadline passed with no supplemented material pending
        # review or accepted (domain.md §2.1); a supplement the agency refuses later no longer
        # counts, so the next run revokes the filing then.
        Change(
            "revoke_commitment",
            Status.REVOKED,
            "f.basis = 'commitment' AND f.materials_accepted_at IS NULL "
            f"AND f.commitment_deadline < %(today)s AND NOT {_SUPPLIED_SQL}",
            approved
            & Q(
                basis=Basis.COMMITMENT,
                materials_accepted_at__isnull=True,
                commitment_deadline__lt=today,
            )
            & Q(~supplied_in_time()),
            "filing.revoke",
            FilingType.LONG_TERM,
            notice="filing_revoked",
            agency_notice="filing_revoked_agency",
            params={"tz": settings.TIME_ZONE},
            basis=Basis.COMMITMENT,
        ),
    ]


def course_lengths() -> list[int]:
    """The course lengths of the started referrals (an index-only scan of a few rows)."""
    started = Filing.objects.filter(
        status=Status.APPROVED,
        type=FilingType.REFERRAL,
        treatment_started_on__isnull=False,
        course_days__isnull=False,
    )
    days = started.order_by().values_list("course_days", flat=True).distinct()
    return sorted(d for d in days if d is not None)


# One batch of one kind of change, in one statement and one transaction. `picked` reads up to
# `batch` due rows through the kind's partial index (their tuple ids, so the UPDATE fetches them
# by a TID scan instead of joining the whole table); the UPDATE re-checks the full condition
# under the row lock, and its RETURNING feeds the audit events and notifications (the person's
# account, and the place's codes, read per changed row by primary key, not by hashing every
# person). The person's notice names the filing's type and place; an expiring long-term filing
# with a renewal approved or under review says so (found through one_renewal_per_filing, which
# allows at most one; an approved one that takes effect after today, by naming it and its first
# day); else an expiring temporary or long-term filing that another approved one of the person
# for the same place continues from the next day names that one (the long-term first, then the
# lowest id; through filing_person_status); and a temporary filing cut short by a long-term
# filing, whose person was told then, is told nothing more (its audit event, through the audit
# table's object index). The agency's staff get a notice of their own, naming the person and
# linked to the filing's admin page. `_apply_orm` writes the same rows.
_PG_CHANGE = """
WITH picked AS MATERIALIZED (
    SELECT ARRAY(
        SELECT f.ctid FROM filings_filing f
        WHERE f.status = 'approved' AND {where}
        LIMIT %(batch)s
    ) AS tids
), changed AS (
    UPDATE filings_filing f SET status = %(to)s, updated_at = %(now)s
    WHERE f.ctid = ANY((SELECT tids FROM picked)::tid[]) AND f.status = 'approved' AND {where}
    RETURNING f.id, f.number, f.insured_region_id, f.type, f.person_id, f.commitment_deadline,
        f.valid_until, f.place_region_id,
        (SELECT p.user_id FROM portal_insuredperson p WHERE p.id = f.person_id) AS user_id,
        (SELECT v.code FROM portal_province v WHERE v.id = f.place_province_id) AS province,
        (SELECT g.code FROM portal_region g WHERE g.id = f.place_region_id) AS region
), events AS (
    INSERT INTO portal_auditevent (actor_role, action, object_type, object_id, object_repr,
        region_id, from_state, to_state, reason, created_at)
    SELECT 'system', %(action)s, 'filings.filing', c.id::text, c.number, c.insured_region_id,
        'approved', %(to)s, %(reason)s, %(now)s FROM changed c
), person_notes AS (
    INSERT INTO portal_notification (user_id, notice, params, subject, body, url, created_at)
    SELECT c.user_id,
        CASE WHEN r.later THEN %(renewal_later_notice)s
            WHEN r.status = 'approved' THEN %(renewed_notice)s
            WHEN r.status = 'submitted' THEN %(renewal_pending_notice)s
            WHEN r.status IN ('draft', 'returned') THEN %(renewal_unsent_notice)s
            WHEN s.number IS NULL THEN %(notice)s ELSE %(continued_notice)s END,
        CASE WHEN r.later THEN jsonb_build_object('n', r.number, 'd', r.valid_from)
            ELSE jsonb_strip_nulls(jsonb_build_object('n', c.number, 'type', c.type,
                'province', c.province, 'region', c.region, 'r', COALESCE(r.number, s.number)))
            END,
        '', '', '/filings/' || CASE WHEN r.later THEN r.number ELSE c.number END || '/', %(now)s
    FROM changed c
    LEFT JOIN LATERAL (
        SELECT r.number, r.status, r.valid_from,
            r.status = 'approved' AND r.valid_from > %(today)s AS later
        FROM filings_filing r
        WHERE %(tells_renewal)s AND c.type = 'long_term' AND r.renews_id = c.id
            AND r.status IN ('approved', 'submitted', 'draft', 'returned')
        LIMIT 1
    ) r ON TRUE
    LEFT JOIN LATERAL (
        SELECT s.number FROM filings_filing s
        WHERE %(tells_renewal)s AND c.type IN ('temporary', 'long_term')
            AND s.person_id = c.person_id AND s.status = 'approved' AND s.id <> c.id
            AND s.type IN ('temporary', 'long_term') AND s.place_region_id = c.place_region_id
            AND s.valid_from <= c.valid_until + 1
            AND (s.valid_until IS NULL OR s.valid_until > c.valid_until)
        ORDER BY s.type = 'long_term' DESC, s.id
        LIMIT 1
    ) s ON TRUE
    WHERE c.user_id IS NOT NULL AND NOT (%(tells_renewal)s AND c.type = 'temporary' AND EXISTS (
        SELECT 1 FROM portal_auditevent e WHERE e.object_type = 'filings.filing'
            AND e.object_id = c.id::text AND e.action = %(superseded_action)s))
    RETURNING id
), agency_notes AS (
    INSERT INTO portal_notification (user_id, notice, params, subject, body, url, created_at)
    SELECT s.user_id, %(agency_notice)s,
        jsonb_strip_nulls(jsonb_build_object('n', c.number,
            'person', (SELECT p.name FROM portal_insuredperson p WHERE p.id = c.person_id),
            'd', c.commitment_deadline)),
        '', '', %(admin_url)s::text || c.id::text || %(admin_url_end)s::text, %(now)s
    FROM changed c JOIN portal_agency a ON a.region_id = c.insured_region_id
    JOIN portal_agencystaff s ON s.agency_id = a.id
    WHERE %(agency_notice)s <> ''
    RETURNING id
)
SELECT (SELECT cardinality(tids) FROM picked), (SELECT count(*) FROM changed),
    CASE WHEN %(collect)s THEN
        ARRAY(SELECT id FROM person_notes UNION ALL SELECT id FROM agency_notes)
    END
"""


@cache
def admin_url_parts() -> tuple[str, str]:
    """The filing admin change page's address around the filing's id ("/admin/filings/filing/",
    "/change/"), from the URLconf, for the statement to join with each id."""
    url = reverse("admin:filings_filing_change", args=[0])
    start, _zero, end = url.rpartition("/0/")
    return f"{start}/", f"/{end}"


def admin_url(filing_id: int) -> str:
    start, end = admin_url_parts()
    return f"{start}{filing_id}{end}"


def pg_change_sql(change: Change, ids: list[int] | None = None) -> str:
    where = change.where_sql + (" AND f.id = ANY(%(ids)s)" if ids is not None else "")
    return _PG_CHANGE.format(where=where)


def pg_change_params(
    change: Change,
    today: datetime.date,
    now: datetime.datetime,
    ids: list[int] | None = None,
    collect: bool = False,
) -> dict:
    return {
        **change.params,
        "today": today,
        "now": now,
        "to": change.to_status,
        "action": change.action,
        "reason": change.name,
        "notice": change.notice,
        "renewed_notice": RENEWED_NOTICE,
        "renewal_later_notice": RENEWAL_LATER_NOTICE,
        "renewal_pending_notice": RENEWAL_PENDING_NOTICE,
        "renewal_unsent_notice": RENEWAL_UNSENT_NOTICE,
        "continued_notice": CONTINUED_NOTICE,
        "superseded_action": SUPERSEDED_ACTION,
        "tells_renewal": change.tells_renewal,
        "agency_notice": change.agency_notice,
        "admin_url": admin_url_parts()[0],
        "admin_url_end": admin_url_parts()[1],
        "batch": BATCH,
        "ids": ids,
        "collect": collect,
    }


def _deliver_on_commit(note_ids: list[int]) -> None:
    if not note_ids:
        return
    from portal.tasks import deliver_notification

    transaction.on_commit(lambda: [deliver_notification.delay(pk) for pk in note_ids])


def _apply_pg(
    change: Change, today: datetime.date, now: datetime.datetime, ids, deliver: bool
) -> int:
    total = 0
    sql = pg_change_sql(change, ids)
    params = pg_change_params(change, today, now, ids, collect=deliver)
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            picked, count, note_ids = cursor.fetchone()
            if deliver:
                _deliver_on_commit(note_ids or [])
        total += count
        # A full pick may have more behind it (rows a concurrent run changed first drop out of
        # `count` but not of `picked`, so they do not end the loop early).
        if picked < BATCH:
            return total


def _apply_orm(
    change: Change, today: datetime.date, now: datetime.datetime, ids, deliver: bool
) -> int:
    total = 0
    where = change.where_q & Q(id__in=ids) if ids is not None else change.where_q
    while True:
        with transaction.atomic():
            rows = list(
                Filing.objects.filter(where)
                .order_by("id")
                .values(
                    "id",
                    "number",
                    "person_id",
                    "person__user_id",
                    "person__name",
                    "insured_region_id",
                    "type",
                    "commitment_deadline",
                    "valid_until",
                    "place_region_id",
                    "place_province__code",
                    "place_region__code",
                )[:BATCH]
            )
            if not rows:
                return total
            ids_now = [r["id"] for r in rows]
            # Read before the update, as the statement reads its snapshot: a follow-on filing
            # expiring in the same batch still counts as approved.
            successors: dict[int, str] = {}
            told: set[int] = set()
            if change.tells_renewal:
                successors, told = _successors(rows), _superseded(rows)
            Filing.objects.filter(id__in=ids_now, status=Status.APPROVED).update(
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
            # An expiry whose renewal takes over, or awaits review, says so (as the SQL does).
            renewals = (
                _renewals([r["id"] for r in rows if r["type"] == FilingType.LONG_TERM])
                if change.tells_renewal
                else {}
            )
            notes = [
                _person_note(change, r, renewals.get(r["id"]), successors.get(r["id"]), today=today)
                for r in rows
                if r["person__user_id"] and r["id"] not in told
            ]
            if change.agency_notice:
                staff: dict[int, list[int]] = {}
                for s in AgencyStaff.objects.values("user_id", "agency__region_id"):
                    staff.setdefault(s["agency__region_id"], []).append(s["user_id"])
                notes += [
                    Notification(
                        user_id=uid,
                        notice=change.agency_notice,
                        params=_without_nulls(
                            n=r["number"], person=r["person__name"], d=r["commitment_deadline"]
                        ),
                        url=admin_url(r["id"]),
                    )
                    for r in rows
                    for uid in staff.get(r["insured_region_id"], [])
                ]
            created = Notification.objects.bulk_create(notes)
            if deliver:
                _deliver_on_commit([n.pk for n in created if n.pk])
        total += len(rows)


def _without_nulls(**params) -> dict:
    """Notice parameters as the statement's `jsonb_strip_nulls(jsonb_build_object(…))` writes
    them: dates as ISO strings, no key whose value is null."""
    return {
        name: value.isoformat() if isinstance(value, datetime.date) else value
        for name, value in params.items()
        if value is not None
    }


def _person_note(
    change: Change,
    row: Mapping,
    renewal: tuple[str, str, datetime.date | None] | None,
    successor: str | None = None,
    *,
    today: datetime.date,
) -> Notification:
    """The person's notification of one changed filing (`row`), told of its renewal (number,
    state, first day) if it has one approved or under review, else of the filing that
    continues it (`successor`'s number), if any. An approved renewal whose first day is after
    `today` is not in force yet: the person is told the day it takes effect."""
    number, state, starts = renewal or (None, None, None)
    if state == Status.APPROVED and starts is not None and starts > today:
        return Notification(
            user_id=row["person__user_id"],
            notice=RENEWAL_LATER_NOTICE,
            params=_without_nulls(n=number, d=starts),
            url=f"/filings/{number}/",
        )
    notice = RENEWAL_NOTICES.get(state or "", change.notice)
    if renewal is None and successor is not None:
        number, notice = successor, CONTINUED_NOTICE
    return Notification(
        user_id=row["person__user_id"],
        notice=notice,
        params=_without_nulls(
            n=row["number"],
            type=row["type"],
            province=row["place_province__code"],
            region=row["place_region__code"],
            r=number,
        ),
        url=f"/filings/{row['number']}/",
    )


def _renewals(ids: list[int]) -> dict[int, tuple[str, str, datetime.date | None]]:
    """The renewal (number, state, first day) of each of the filings `ids` that has one not
    final: approved, awaiting review, or started and not sent (at most one each:
    one_renewal_per_filing)."""
    if not ids:
        return {}
    rows = Filing.objects.filter(renews_id__in=ids, status__in=list(RENEWAL_NOTICES)).values_list(
        "renews_id", "number", "status", "valid_from"
    )
    return {renews: (number, state, starts) for renews, number, state, starts in rows}


def _successors(rows: Sequence[Mapping]) -> dict[int, str]:
    """The number of the filing that continues each of the expiring temporary or long-term
    filings `rows`: another approved one of the person's for the same place whose validity
    covers the day after the row's last day (a long-term one first, then the lowest id), as
    the statement's lateral join picks it. One query for the batch."""
    ending = [r for r in rows if r["type"] in PLACE_TYPES and r["valid_until"] is not None]
    if not ending:
        return {}
    others = Filing.objects.filter(
        person_id__in={r["person_id"] for r in ending},
        status=Status.APPROVED,
        type__in=PLACE_TYPES,
        valid_from__isnull=False,
    ).values_list(
        "id", "person_id", "place_region_id", "type", "number", "valid_from", "valid_until"
    )
    by_place: dict[tuple[int, int], list[tuple]] = {}
    for other in sorted(others, key=lambda o: (o[3] != FilingType.LONG_TERM, o[0])):
        by_place.setdefault((other[1], other[2]), []).append(other)
    found = {}
    for r in ending:
        next_day = r["valid_until"] + datetime.timedelta(days=1)
        number = next(
            (
                number
                for pk, _person, _place, _type, number, start, end in by_place.get(
                    (r["person_id"], r["place_region_id"]), []
                )
                if pk != r["id"] and start <= next_day and (end is None or end >= next_day)
            ),
            None,
        )
        if number is not None:
            found[r["id"]] = number
    return found


def _superseded(rows: Sequence[Mapping]) -> set[int]:
    """The temporary filings among `rows` cut short by a long-term filing, whose person was
    told so then (filings/services.py `_end_temporary_filings_there`)."""
    ids = [str(r["id"]) for r in rows if r["type"] == FilingType.TEMPORARY]
    if not ids:
        return set()
    told = AuditEvent.objects.filter(
        object_type=FILING, object_id__in=ids, action=SUPERSEDED_ACTION
    ).values_list("object_id", flat=True)
    return {int(pk) for pk in told}


def apply_changes(
    today: datetime.date | None = None, *, ids: list[int] | None = None, deliver: bool = False
) -> dict[str, int]:
    """Expire and revoke everything due on `today` (only the filings `ids`, if given).

    Returns rows changed per kind. With `deliver`, each notification written is emailed by its
    own task queued on commit.
    """
    return dict(changes_applied(today, ids=ids, deliver=deliver))


def changes_applied(
    today: datetime.date | None = None, *, ids: list[int] | None = None, deliver: bool = False
) -> Iterator[tuple[str, int]]:
    """`apply_changes` one kind at a time: yields each kind's name and count once all its
    batches have committed (the nightly job records them as it goes)."""
    today = today or timezone.localdate()
    now = timezone.now()
    apply = _apply_pg if connection.vendor == "postgresql" else _apply_orm
    kinds = None
    if ids is None:
        lengths = course_lengths()
    else:
        # A task for a few filings runs only the statements their types can take.
        rows = list(
            Filing.objects.filter(id__in=ids, status=Status.APPROVED).values_list(
                "type", "basis", "course_days", "treatment_started_on"
            )
        )
        kinds = {(t, b) for t, b, _days, _started in rows}
        lengths = [d for t, _b, d, started in rows if t == FilingType.REFERRAL and d and started]
    for change in changes(today, lengths):
        if kinds is None or any(change.may_apply(t, b) for t, b in kinds):
            yield change.name, apply(change, today, now, ids, deliver)
        else:
            yield change.name, 0


@dataclass(frozen=True)
class Due:
    """One reminder to write: the object, its due date, who is told and what."""

    id: int
    number: str
    due_date: datetime.date
    user_id: int | None


_PG_REMIND = """
WITH due AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(numbers)s::text[], %(dates)s::date[],
        %(users)s::bigint[]) AS d(id, number, due_date, user_id)
), sent AS (
    INSERT INTO portal_reminder (object_type, object_id, kind, due_date, created_at)
    SELECT %(object_type)s, d.id::text, %(kind)s, d.due_date, %(now)s FROM due d
    ON CONFLICT DO NOTHING
    RETURNING object_id
), notes AS (
    INSERT INTO portal_notification (user_id, notice, params, subject, body, url, created_at)
    SELECT d.user_id, %(notice)s, jsonb_build_object('n', d.number, 'd', d.due_date), '', '',
        %(url)s || d.number || '/', %(now)s
    FROM sent s JOIN due d ON d.id::text = s.object_id
    WHERE d.user_id IS NOT NULL
    RETURNING id
)
SELECT (SELECT count(*) FROM sent), ARRAY(SELECT id FROM notes)
"""


def _remind(
    due: list[Due], *, object_type: str, kind: str, notice: str, url: str, deliver: bool
) -> int:
    """Write the reminder rows and, for each one that went in, the notification (linked to
    `url` + the object's number, its own page): one transaction, so a reminder is never
    recorded without its message or sent twice."""
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A concurrent run's reminder rows make ours conflict and drop out, without error.
            with connection.cursor() as cursor:
                cursor.execute(
                    _PG_REMIND,
                    {
                        "ids": [d.id for d in due],
                        "numbers": [d.number for d in due],
                        "dates": [d.due_date for d in due],
                        "users": [d.user_id for d in due],
                        "object_type": object_type,
                        "kind": kind,
                        "now": now,
                        "notice": notice,
                        "url": url,
                    },
                )
                count, note_ids = cursor.fetchone()
        else:
            existing = set(
                Reminder.objects.filter(
                    object_type=object_type, kind=kind, object_id__in=[str(d.id) for d in due]
                ).values_list("object_id", "due_date")
            )
            new = [d for d in due if (str(d.id), d.due_date) not in existing]
            Reminder.objects.bulk_create(
                Reminder(
                    object_type=object_type, object_id=str(d.id), kind=kind, due_date=d.due_date
                )
                for d in new
            )
            created = Notification.objects.bulk_create(
                Notification(
                    user_id=d.user_id,
                    notice=notice,
                    params={"n": d.number, "d": d.due_date.isoformat()},
                    url=f"{url}{d.number}/",
                )
                for d in new
                if d.user_id
            )
            count, note_ids = len(new), [n.pk for n in created if n.pk]
        if deliver:
            _deliver_on_commit(note_ids)
    return count


def _batches(rows: QuerySet) -> Iterator[list[dict]]:
    """Keyset batches by id: rows reminded in one batch leave the set without skipping others."""
    last = 0
    while True:
        batch = list(rows.filter(id__gt=last).order_by("id")[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1]["id"]


def _not_reminded(object_type: str, kind: str, due_field: str | None) -> Combinable:
    reminders = Reminder.objects.filter(
        object_type=object_type,
        kind=kind,
        object_id=Cast(OuterRef("id"), CharField()),
    )
    if due_field:
        reminders = reminders.filter(due_date=OuterRef(due_field))
    return ~Exists(reminders)


def send_commitment_reminders(
    today: datetime.date | None = None, *, ids: list[int] | None = None, deliver: bool = False
) -> dict[str, int]:
    """Reminders 30, 7 and 1 days before the commitment deadline, each sent once, ever.

    The reminder row (filing, kind, deadline) is unique and committed with the notification, so
    a rerun, a late run catching up, or a second beat never sends the same reminder again.
    A person whose supplemented materials await the agency's review is not asked to supply them
    (the reminder says "supply them or the filing is revoked"); if the agency refuses them, the
    reminders still due are sent.
    """
    return dict(commitment_reminders_sent(today, ids=ids, deliver=deliver))


def commitment_reminders_sent(
    today: datetime.date | None = None, *, ids: list[int] | None = None, deliver: bool = False
) -> Iterator[tuple[str, int]]:
    """`send_commitment_reminders` one threshold at a time: yields each kind and its count
    once its batches have committed."""
    today = today or timezone.localdate()
    thresholds = list(REMINDER_DAYS) + [0]
    for days, next_days in zip(thresholds, thresholds[1:], strict=False):
        kind = f"commitment_{days}"
        due = Filing.objects.filter(
            _not_reminded(FILING, kind, "commitment_deadline"),
            ~supplied_in_time(),
            status=Status.APPROVED,
            basis=Basis.COMMITMENT,
            materials_accepted_at__isnull=True,
            commitment_deadline__gt=today + datetime.timedelta(days=next_days),
            commitment_deadline__lte=today + datetime.timedelta(days=days),
        )
        if ids is not None:
            due = due.filter(id__in=ids)
        rows = due.values("id", "number", "commitment_deadline", "person__user_id")
        yield (
            kind,
            sum(
                _remind(
                    [
                        Due(r["id"], r["number"], r["commitment_deadline"], r["person__user_id"])
                        for r in batch
                    ],
                    object_type=FILING,
                    kind=kind,
                    notice="commitment_reminder",
                    url="/filings/",
                    deliver=deliver,
                )
                for batch in _batches(rows)
            ),
        )


def claim_discharges_due(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The discharge dates whose claim deadline falls within the reminder period: from today
    to CLAIM_REMINDER_DAYS ahead (month ends make `claim_deadline` step, so search exactly)."""
    from settlement.rules import CLAIM_REMINDER_DAYS, claim_deadline

    last = today + datetime.timedelta(days=CLAIM_REMINDER_DAYS)
    first_day = today - datetime.timedelta(days=400)
    while claim_deadline(first_day) < today:
        first_day += datetime.timedelta(days=1)
    last_day = last - datetime.timedelta(days=400)
    while claim_deadline(last_day + datetime.timedelta(days=1)) <= last:
        last_day += datetime.timedelta(days=1)
    return first_day, last_day


def send_claim_reminders(today: datetime.date | None = None) -> dict[str, int]:
    """domain.md §3.4: a returned claim must be resubmitted within 12 months of discharge.

    The person is reminded once, ever, when the deadline is at most 30 days away (the reminder
    row is keyed on the claim, the kind and the deadline).
    """
    from settlement.models import Claim, ClaimStatus
    from settlement.rules import claim_deadline

    today = today or timezone.localdate()
    first_day, last_day = claim_discharges_due(today)
    rows = Claim.objects.filter(
        _not_reminded(CLAIM, CLAIM_REMINDER_KIND, None),
        status=ClaimStatus.RETURNED,
        discharged_on__gte=first_day,
        discharged_on__lte=last_day,
    ).values("id", "number", "discharged_on", "person__user_id")
    count = 0
    for batch in _batches(rows):
        due = [
            Due(r["id"], r["number"], claim_deadline(r["discharged_on"]), r["person__user_id"])
            for r in batch
        ]
        count += _remind(
            due,
            object_type=CLAIM,
            kind=CLAIM_REMINDER_KIND,
            notice="claim_reminder",
            url="/settlement/claims/",
            deliver=False,
        )
    return {CLAIM_REMINDER_KIND: count}


def run_nightly(today: datetime.date | None = None) -> JobRun:
    """The nightly job: expiry, revocation, reminders, recorded as one JobRun.

    Each kind's count goes into the run's details (and its rows) as soon as that kind has
    committed, so a run that fails part-way shows what it did before the error; a rerun does
    the rest (every step is conditional on the current state).
    """
    today = today or timezone.localdate()

    def work(progress: Progress) -> int:
        for kind, count in changes_applied(today):
            progress.committed({kind: count}, rows=count)
        for kind, count in commitment_reminders_sent(today):
            progress.committed({kind: count}, rows=count)
        for kind, count in send_claim_reminders(today).items():
            progress.committed({kind: count}, rows=count)
        return progress.rows

    return record_run("filings.nightly", work)


def remove_abandoned_uploads(now: float | None = None) -> JobRun:
    """Delete the uploaded files nothing refers to a day after they were written (a form left
    after its files passed the checks), recorded as one JobRun. Safe to rerun."""
    # Claim documents are settlement's (which builds on filings): looked up, not imported.
    documents = apps.get_model("settlement", "ClaimDocument")

    def is_referenced(names: list[str]) -> set[str]:
        return {
            *Material.objects.filter(stored_name__in=names).values_list("stored_name", flat=True),
            *documents.objects.filter(stored_name__in=names).values_list("stored_name", flat=True),
        }

    def work(details: dict) -> int:
        files = uploads.abandoned_files(
            settings.PRIVATE_MEDIA_ROOT, time.time() if now is None else now, is_referenced
        )
        for path in files:
            path.unlink(missing_ok=True)
        details["removed"] = len(files)
        return len(files)

    return record_run("filings.abandoned_uploads", work)
