"""Monthly clearing between regions (清算, domain.md §3.5).

One statement per month and pair of regions (place of treatment → place of insurance) lists every
direct settlement with status "settled" discharged in that month, and every one discharged earlier
that is on no current statement yet (a late approval: held on review when its month was cleared,
approved since), back to the first month ever cleared. A settlement is on at most one current
statement, and only a month that has ended is cleared. A statement is filled while it
is a draft (one INSERT … SELECT of its lines, totals aggregated over those lines) and issued in
the same transaction; once issued it never changes (on PostgreSQL triggers refuse it whatever
writes to the table). Agencies accept the amounts as they are: a discrepancy is a record on the
statement with a status, and a correction is a new version that supersedes the old one; it is
issued only when it changes a line or corrects a confirmed discrepancy, and closes only the
discrepancies it corrects (statement_correct).

Generating is idempotent: a pair and month that already have a current (not superseded)
statement are skipped, and the partial unique constraint decides between two concurrent runs.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, DecimalField, Exists, F, Max, Min, OuterRef, Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import audit
from portal.jobruns import record_run
from portal.lib.text import plain
from portal.models import AgencyStaff, AuditEvent, JobRun, Notification, Region
from portal.notices import params_of
from portal.notifications import notify_many
from portal.roles import agency_region
from settlement.models import (
    ClearingDiscrepancy,
    ClearingLine,
    ClearingStatement,
    DiscrepancyStatus,
    Settlement,
    StatementStatus,
)
from settlement.rules import RuleError

SHANGHAI = ZoneInfo("Asia/Shanghai")
CENTS = Decimal("0.01")
MONEY = {"total", "fund_pay", "person_pay"}
JOB_NAME = "settlement.clearing"
STATEMENT = "settlement.clearingstatement"
DISCREPANCY = "settlement.clearingdiscrepancy"

# Discrepancies: the agencies confirm or dismiss a reported one; "corrected" is set only by a
# corrected statement (statement_correct), never by hand.
DISCREPANCY_ALLOWED: dict[str, set[str]] = {
    DiscrepancyStatus.OPEN: {DiscrepancyStatus.CONFIRMED, DiscrepancyStatus.DISMISSED},
    DiscrepancyStatus.CONFIRMED: {DiscrepancyStatus.DISMISSED},
    DiscrepancyStatus.DISMISSED: set(),
    DiscrepancyStatus.CORRECTED: set(),
}
# A correction closes those of the pending ones whose lines it changed.
PENDING = [DiscrepancyStatus.OPEN, DiscrepancyStatus.CONFIRMED]
# Kinds about one settlement's line: corrected only when that line changes.
LINE_KINDS = {
    ClearingDiscrepancy.Kind.AMOUNT,
    ClearingDiscrepancy.Kind.MISSING,
    ClearingDiscrepancy.Kind.DUPLICATE,
}


class ClearingError(RuleError):
    """A refused clearing operation: `code` for programs, `message` for people."""

    def __init__(self, code: str, message: str, **params):
        super().__init__(code, str(message), **params)
        self.message = str(message)


def _locked(statement: ClearingStatement) -> ClearingError:
    return ClearingError(
        "statement_locked",
        _(
            "Clearing statement %(number)s is %(status)s and cannot change; report a discrepancy "
            "or issue a corrected statement instead."
        )
        % {"number": statement.number, "status": statement.get_status_display()},
        number=statement.number,
    )


# -- dates and numbers ---------------------------------------------------------------------------


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_bounds(period: datetime.date) -> tuple[datetime.date, datetime.date]:
    """[first day, first day of the next month)."""
    start = month_start(period)
    return start, start + relativedelta(months=1)


def previous_month(today: datetime.date | None = None) -> datetime.date:
    """The first day of last month, by the calendar in Asia/Shanghai."""
    today = today or timezone.localdate(timezone=SHANGHAI)
    return month_start(today) - relativedelta(months=1)


def statement_number(
    period: datetime.date, treatment_code: str, insured_code: str, version: int
) -> str:
    """QS202610-460200-232700-v1: month, place of treatment, place of insurance, version."""
    return f"QS{period:%Y%m}-{treatment_code}-{insured_code}-v{version}"


# -- reads ---------------------------------------------------------------------------------------


def month_ended(period: datetime.date, today: datetime.date | None = None) -> bool:
    """Whether the month of `period` is over by the calendar in Asia/Shanghai."""
    today = today or timezone.localdate(timezone=SHANGHAI)
    return month_bounds(period)[1] <= today


def due_settlements(period: datetime.date) -> QuerySet[Settlement]:
    """Settled settlements a statement of `period` lists, for every pair: those discharged in
    the month and the late approvals discharged earlier (back to the first month cleared),
    leaving out any that a current (not superseded) statement lists already. Bills of months
    before clearing began are not this system's to clear."""
    start, end = month_bounds(period)
    first = ClearingStatement.objects.aggregate(first=Min("period"))["first"]
    on_current = ClearingLine.objects.filter(settlement=OuterRef("pk")).exclude(
        statement__status=StatementStatus.SUPERSEDED
    )
    return Settlement.objects.filter(
        status=Settlement.Status.SETTLED,
        discharged_on__gte=min(start, first or start),
        discharged_on__lt=end,
    ).exclude(Exists(on_current))


def pair_settlements(
    *, period: datetime.date, treatment_region_id: int, insured_region_id: int
) -> QuerySet[Settlement]:
    """The settlements a statement of this pair and month lists (see due_settlements)."""
    return due_settlements(period).filter(
        hospital__region_id=treatment_region_id, insured_region_id=insured_region_id
    )


def statements_listing(settlement: Settlement) -> QuerySet[ClearingStatement]:
    """The issued (current) statements with a line for `settlement`: a settlement voided since
    leaves them only by a corrected statement (statement_correct), which no longer lists it."""
    return ClearingStatement.objects.filter(
        status=StatementStatus.ISSUED, lines__settlement=settlement
    ).order_by("period", "number")


def visible_statements(user) -> QuerySet[ClearingStatement]:
    """Statements `user` may see: superusers all, agency staff those of their region as place
    of treatment or of insurance, anyone else none."""
    qs = ClearingStatement.objects.select_related(
        "treatment_region", "insured_region", "supersedes", "superseded_by"
    )
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if user.is_superuser:
        return qs
    region = agency_region(user)
    if region is None or not user.is_staff:
        return qs.none()
    return qs.filter(Q(treatment_region=region) | Q(insured_region=region))


def _sum(field: str) -> Sum:
    return Sum(field, output_field=DecimalField(max_digits=14, decimal_places=2), default=0)


def _cents(row: dict) -> dict:
    # SQLite returns sums of decimals unquantized (as floats made Decimal): round once here.
    return {k: Decimal(v).quantize(CENTS) if k in MONEY else v for k, v in row.items()}


def line_totals(statement: ClearingStatement) -> dict:
    """count, total, fund_pay, person_pay aggregated over the statement's lines."""
    return _cents(
        ClearingLine.objects.filter(statement=statement).aggregate(
            settlement_count=Count("id"),
            total=_sum("total"),
            fund_pay=_sum("fund_pay"),
            person_pay=_sum("person_pay"),
        )
    )


def hospital_subtotals(statement: ClearingStatement) -> list[dict]:
    """Per hospital: code, name, name_en, count, total, fund_pay, person_pay, and `late`: how
    many of its lines were discharged before the statement's month (late approvals)."""
    rows = (
        ClearingLine.objects.filter(statement=statement)
        .values(
            code=F("settlement__hospital__code"),
            name=F("settlement__hospital__name"),
            name_en=F("settlement__hospital__name_en"),
        )
        .annotate(
            count=Count("id"),
            late=Count("id", filter=Q(settlement__discharged_on__lt=statement.period)),
            total=_sum("total"),
            fund_pay=_sum("fund_pay"),
            person_pay=_sum("person_pay"),
        )
        .order_by("code")
    )
    return [_cents(row) for row in rows]


# -- writes --------------------------------------------------------------------------------------


def _check_party(statement: ClearingStatement, actor) -> None:
    """Only the two regions' agencies (or superusers, or the system) act on a statement."""
    if actor is None or getattr(actor, "is_superuser", False):
        return
    region = agency_region(actor)
    if region is None or region.pk not in (
        statement.treatment_region_id,
        statement.insured_region_id,
    ):
        raise ClearingError(
            "not_a_party",
            _("Only the agencies of the two regions on the statement can act on it."),
        )


def _audit(
    *, action: str, actor, obj, statement: ClearingStatement, from_state="", to_state="", reason=""
) -> None:
    """One event for each of the two regions, so both agencies' audit lists show it."""
    regions = {statement.treatment_region_id, statement.insured_region_id}
    AuditEvent.objects.bulk_create(
        AuditEvent(
            **audit.event_kwargs(
                action=action,
                actor=actor,
                obj=obj,
                from_state=from_state,
                to_state=to_state,
                reason=reason,
            ),
            region_id=region_id,
        )
        for region_id in sorted(regions)
    )


def _notify_parties(statement: ClearingStatement, notice: str, *, skip_user=None, **params) -> None:
    """Tell the staff of both regions' agencies `notice` about the statement."""
    users = AgencyStaff.objects.filter(
        agency__region_id__in=[statement.treatment_region_id, statement.insured_region_id]
    ).values_list("user_id", flat=True)
    url = reverse("admin:settlement_clearingstatement_change", args=[statement.pk])
    skip = getattr(skip_user, "pk", None)
    notify_many(
        [
            Notification(
                user_id=uid,
                notice=notice,
                params=params_of(number=statement.number, **params),
                url=url,
            )
            for uid in users
            if uid != skip
        ]
    )


def statement_fill(*, statement: ClearingStatement) -> ClearingStatement:
    """Insert the lines of a draft statement set-based and store the totals aggregated over
    them. Precondition: draft (an issued statement raises ClearingError "statement_locked")."""
    with transaction.atomic():
        locked = ClearingStatement.objects.select_for_update().get(pk=statement.pk)
        if locked.status != StatementStatus.DRAFT:
            raise _locked(locked)
        if ClearingLine.objects.filter(statement=locked).exists():
            raise ClearingError("already_filled", _("This draft statement already has lines."))
        # One pair's statements are filled one at a time, whatever their months: otherwise two
        # could both take the same late approval. FOR NO KEY UPDATE leaves inserts that refer
        # to the region (FOR KEY SHARE) alone.
        list(
            Region.objects.select_for_update(no_key=True)
            .filter(pk=locked.insured_region_id)
            .values_list("pk")
        )
        rows = (
            pair_settlements(
                period=locked.period,
                treatment_region_id=locked.treatment_region_id,
                insured_region_id=locked.insured_region_id,
            )
            .order_by()
            .values_list("id", "total", "fund_pay", "person_pay")
        )
        select_sql, params = rows.query.sql_with_params()
        line_table = connection.ops.quote_name(ClearingLine._meta.db_table)
        with connection.cursor() as cursor:
            # One INSERT … SELECT: the amounts are copied as the settlements hold them now.
            cursor.execute(
                f"INSERT INTO {line_table} (statement_id, settlement_id, total, fund_pay, "
                f"person_pay) SELECT %s, picked.* FROM ({select_sql}) picked",
                (locked.pk, *params),
            )
        totals = line_totals(locked)
        ClearingStatement.objects.filter(pk=locked.pk, status=StatementStatus.DRAFT).update(
            **totals
        )
        locked.refresh_from_db()
        return locked


def statement_issue(*, statement: ClearingStatement, actor=None) -> ClearingStatement:
    """draft → issued. From then on the statement and its lines are locked."""
    with transaction.atomic():
        locked = ClearingStatement.objects.select_for_update().get(pk=statement.pk)
        if locked.status != StatementStatus.DRAFT:
            raise _locked(locked)
        locked.status = StatementStatus.ISSUED
        locked.issued_at = timezone.now()
        locked.save(update_fields=["status", "issued_at"])
        _audit(
            action="clearing.issue",
            actor=actor,
            obj=locked,
            statement=locked,
            from_state=StatementStatus.DRAFT,
            to_state=StatementStatus.ISSUED,
        )
        _notify_parties(
            locked,
            "clearing_issued",
            count=locked.settlement_count,
            total=locked.total,
            fund=locked.fund_pay,
        )
        return locked


def _create_draft(
    *, period: datetime.date, treatment: Region, insured: Region, supersedes=None
) -> ClearingStatement:
    latest = ClearingStatement.objects.filter(
        period=period, treatment_region=treatment, insured_region=insured
    ).aggregate(v=Max("version"))["v"]
    version = (latest or 0) + 1
    return ClearingStatement.objects.create(
        number=statement_number(period, treatment.code, insured.code, version),
        period=period,
        treatment_region=treatment,
        insured_region=insured,
        version=version,
        status=StatementStatus.DRAFT,
        supersedes=supersedes,
    )


def generate_statements(
    *,
    period: datetime.date,
    actor=None,
    on_issued: Callable[[ClearingStatement], None] | None = None,
) -> list[ClearingStatement]:
    """Create and issue the statements of `period` (any day of a month that has ended) for
    every pair of different regions with settlements due (due_settlements: discharged that
    month, or late approvals of earlier months). Pairs that already have a current statement
    are skipped: a rerun creates nothing. Each statement is issued in a transaction of its own,
    and `on_issued(statement)` is called once it has committed. Returns the new statements.
    A month not yet over raises ClearingError "month_not_ended": bills settled later in it
    would be on no statement."""
    period = month_start(period)
    if not month_ended(period):
        raise ClearingError(
            "month_not_ended",
            _(
                "%(month)s has not ended yet: its statements can be generated from the first "
                "day of the next month."
            )
            % {"month": f"{period:%Y-%m}"},
        )
    pairs = (
        due_settlements(period)
        .exclude(hospital__region_id=F("insured_region_id"))
        .values_list("hospital__region_id", "insured_region_id")
        .distinct()
        .order_by("hospital__region_id", "insured_region_id")
    )
    current = set(
        ClearingStatement.objects.filter(period=period)
        .exclude(status=StatementStatus.SUPERSEDED)
        .values_list("treatment_region_id", "insured_region_id")
    )
    todo = [pair for pair in pairs if pair not in current]
    regions = Region.objects.in_bulk({r for pair in todo for r in pair})
    created = []
    for treatment_id, insured_id in todo:
        try:
            with transaction.atomic():
                draft = _create_draft(
                    period=period, treatment=regions[treatment_id], insured=regions[insured_id]
                )
                if statement_fill(statement=draft).settlement_count == 0:
                    # Its only late approvals went on another month's statement meanwhile.
                    transaction.set_rollback(True)
                    continue
                issued = statement_issue(statement=draft, actor=actor)
        except IntegrityError:
            # A concurrent run issued this pair's statement first: nothing left to do here.
            continue
        created.append(issued)
        if on_issued is not None:
            on_issued(issued)
    return created


def pending_discrepancies(statement: ClearingStatement) -> QuerySet[ClearingDiscrepancy]:
    """The open and confirmed discrepancies reported on any version of the statement's pair and
    month: a correction that does not change its line leaves one pending for the next."""
    return ClearingDiscrepancy.objects.filter(
        statement__period=statement.period,
        statement__treatment_region_id=statement.treatment_region_id,
        statement__insured_region_id=statement.insured_region_id,
        status__in=PENDING,
    )


def changed_settlements(old: ClearingStatement, new: ClearingStatement) -> set[int]:
    """Ids of the settlements whose line differs between two statements: on one of them only,
    or with other amounts (two set-based queries)."""

    def same_on(statement: ClearingStatement) -> Exists:
        return Exists(
            ClearingLine.objects.filter(
                statement=statement,
                settlement=OuterRef("settlement"),
                total=OuterRef("total"),
                fund_pay=OuterRef("fund_pay"),
                person_pay=OuterRef("person_pay"),
            )
        )

    changed: set[int] = set()
    for mine, other in ((old, new), (new, old)):
        changed.update(
            ClearingLine.objects.filter(statement=mine)
            .exclude(same_on(other))
            .values_list("settlement_id", flat=True)
        )
    return changed


def _corrects(item: ClearingDiscrepancy, changed: set[int], ids: dict[str, int]) -> bool:
    """Whether a correction that changed the lines of `changed` corrects `item`: one naming a
    settlement only if that settlement's line changed (amounts, or on / off the statement); an
    amount, missing or duplicate error naming none only if confirmed and some line changed; any
    other confirmed remark naming none by the correction itself."""
    if item.settlement_number:
        return ids.get(item.settlement_number) in changed
    if item.status != DiscrepancyStatus.CONFIRMED:
        return False
    return bool(changed) or item.kind not in LINE_KINDS


def statement_correct(*, statement: ClearingStatement, actor, reason: str) -> ClearingStatement:
    """Issue version n+1 of an issued statement, regenerated from the settlements as they are
    now (e.g. one approved on review since, or one voided since at its source:
    services.settlement_void, which leaves it off). The old statement turns superseded (the only
    change an issued statement allows) and the new one links to it. Of the pending (open or
    confirmed) discrepancies of the pair and month, those the new version corrects (_corrects)
    turn corrected; the others stay as they are, each with an audit event naming the new
    statement. Refused on a superseded statement, and (ClearingError "nothing_to_correct") when
    the new version would change no line and correct no discrepancy: §3.5, amounts are
    corrected by the source, not by reissuing the same statement."""
    reason = plain(reason)
    if not reason:
        raise ClearingError("reason_required", _("Give the reason for the correction."))
    with transaction.atomic():
        old = (
            ClearingStatement.objects.select_for_update(of=("self",))
            .select_related("treatment_region", "insured_region")
            .get(pk=statement.pk)
        )
        _check_party(old, actor)
        if old.status != StatementStatus.ISSUED:
            raise ClearingError(
                "statement_not_current",
                _("Statement %(number)s is not the current issued version: correct the latest.")
                % {"number": old.number},
            )
        old.status = StatementStatus.SUPERSEDED
        old.save(update_fields=["status"])
        new = _create_draft(
            period=old.period,
            treatment=old.treatment_region,
            insured=old.insured_region,
            supersedes=old,
        )
        statement_fill(statement=new)
        changed = changed_settlements(old, new)
        pending = list(
            pending_discrepancies(old).select_for_update(of=("self",)).order_by("created_at", "id")
        )
        ids = dict(
            Settlement.objects.filter(
                number__in={d.settlement_number for d in pending if d.settlement_number}
            ).values_list("number", "id")
        )
        corrected = [d for d in pending if _corrects(d, changed, ids)]
        if not changed and not corrected:
            # Rolls back the supersession and the draft.
            raise ClearingError(
                "nothing_to_correct",
                _(
                    "Nothing to correct on %(number)s: no settlement on it has changed since it "
                    "was issued, and no confirmed discrepancy is corrected by a new version. A "
                    "discrepancy is confirmed by the other region's agency; settled amounts are "
                    "corrected at their source, never on the statement."
                )
                % {"number": old.number},
            )
        for item in pending:
            done = item in corrected
            _audit(
                action="clearing.discrepancy.corrected"
                if done
                else "clearing.discrepancy.not_corrected",
                actor=actor,
                obj=item,
                statement=old,
                from_state=item.status,
                to_state=DiscrepancyStatus.CORRECTED if done else item.status,
                reason=new.number,
            )
        ClearingDiscrepancy.objects.filter(pk__in=[d.pk for d in corrected]).update(
            status=DiscrepancyStatus.CORRECTED
        )
        _audit(
            action="clearing.supersede",
            actor=actor,
            obj=old,
            statement=old,
            from_state=StatementStatus.ISSUED,
            to_state=StatementStatus.SUPERSEDED,
            reason=reason,
        )
        return statement_issue(statement=new, actor=actor)


def correction_reason(statement: ClearingStatement) -> str:
    """Why `statement` was issued in place of the one it supersedes: the reason given to
    `statement_correct` (kept on the supersession's audit event), "" for a first version."""
    if statement.supersedes_id is None:
        return ""
    event = (
        AuditEvent.objects.filter(
            action="clearing.supersede",
            object_type=ClearingStatement._meta.label_lower,
            object_id=str(statement.supersedes_id),
        )
        .order_by("-pk")
        .values_list("reason", flat=True)
        .first()
    )
    return event or ""


def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value)).quantize(CENTS)
    except (InvalidOperation, ValueError):
        raise ClearingError("bad_amount", _("The amount is not a number.")) from None
    return amount


def discrepancy_report(
    *,
    statement: ClearingStatement,
    kind: str,
    description: str,
    settlement_number: str = "",
    amount=None,
    actor,
) -> ClearingDiscrepancy:
    """Record a discrepancy on an issued statement. Nothing settled changes: not the statement,
    its lines, nor the settlement. An amount or duplicate error names a settlement on the
    statement; a missing settlement names one that is not on it."""
    description = (description or "").strip()
    settlement_number = (settlement_number or "").strip()
    if kind not in ClearingDiscrepancy.Kind.values:
        raise ClearingError("bad_kind", _("Unknown kind of discrepancy."))
    if not description:
        raise ClearingError("description_required", _("Describe the discrepancy."))
    amount = _amount(amount)
    with transaction.atomic():
        locked = ClearingStatement.objects.select_for_update(of=("self",)).get(pk=statement.pk)
        _check_party(locked, actor)
        if locked.status != StatementStatus.ISSUED:
            raise ClearingError(
                "statement_not_current",
                _("Statement %(number)s is not the current issued version: correct the latest.")
                % {"number": locked.number},
            )
        if settlement_number:
            on_statement = ClearingLine.objects.filter(
                statement=locked, settlement__number=settlement_number
            ).exists()
            if kind == ClearingDiscrepancy.Kind.MISSING and on_statement:
                raise ClearingError(
                    "settlement_on_statement",
                    _("Settlement %(n)s is on the statement.") % {"n": settlement_number},
                )
            if kind in (ClearingDiscrepancy.Kind.AMOUNT, ClearingDiscrepancy.Kind.DUPLICATE) and (
                not on_statement
            ):
                raise ClearingError(
                    "settlement_not_on_statement",
                    _("Settlement %(n)s is not on the statement.") % {"n": settlement_number},
                )
        discrepancy = ClearingDiscrepancy.objects.create(
            statement=locked,
            kind=kind,
            description=description,
            settlement_number=settlement_number,
            amount=amount,
            reported_by=actor if getattr(actor, "pk", None) else None,
        )
        _audit(
            action="clearing.discrepancy.report",
            actor=actor,
            obj=discrepancy,
            statement=locked,
            to_state=DiscrepancyStatus.OPEN,
            reason=description,
        )
        _notify_parties(locked, "clearing_discrepancy", text=description, skip_user=actor)
        return discrepancy


def _same_side(actor, reporter) -> bool:
    """Whether `actor` speaks for the region that reported a discrepancy: the reporter
    themselves (a superuser too), or staff of the same agency region. The system, and a
    superuser who did not report it, speak for neither side."""
    if actor is None or reporter is None:
        return False
    if getattr(actor, "pk", None) == reporter.pk:
        return True
    if getattr(actor, "is_superuser", False):
        return False
    region = agency_region(actor)
    return region is not None and region == agency_region(reporter)


def discrepancy_set_status(
    *, discrepancy: ClearingDiscrepancy, status: str, actor
) -> ClearingDiscrepancy:
    """open → confirmed | dismissed, confirmed → dismissed. "corrected" comes only with a
    corrected statement. Amounts are never touched. A discrepancy is confirmed by the other
    party to the statement (§3.5: reported back for correction): the region that reported it
    may withdraw it (dismiss) while it is open, not confirm its own report, nor dismiss it once
    the other party has confirmed it."""
    with transaction.atomic():
        locked = (
            ClearingDiscrepancy.objects.select_for_update(of=("self",))
            .select_related("statement")
            .get(pk=discrepancy.pk)
        )
        _check_party(locked.statement, actor)
        if status == DiscrepancyStatus.CONFIRMED and _same_side(actor, locked.reported_by):
            raise ClearingError(
                "own_report",
                _(
                    "A discrepancy is confirmed by the other region's agency, not by the one "
                    "that reported it. It can be withdrawn (dismissed) here."
                ),
            )
        if status not in DISCREPANCY_ALLOWED.get(locked.status, set()):
            raise ClearingError(
                "transition_not_allowed",
                _("A discrepancy that is %(current)s cannot become %(target)s.")
                % {
                    "current": locked.get_status_display(),
                    "target": dict(DiscrepancyStatus.choices).get(status, status),
                },
                current=locked.status,
                target=status,
            )
        if (
            locked.status == DiscrepancyStatus.CONFIRMED
            and status == DiscrepancyStatus.DISMISSED
            and _same_side(actor, locked.reported_by)
        ):
            # Once the other side has confirmed it, the report is theirs to withdraw.
            raise ClearingError(
                "confirmed_by_other",
                _(
                    "The other region's agency has confirmed this discrepancy: only it can "
                    "dismiss it now, or a corrected statement closes it."
                ),
            )
        previous = locked.status
        locked.status = status
        locked.save(update_fields=["status"])
        _audit(
            action=f"clearing.discrepancy.{status}",
            actor=actor,
            obj=locked,
            statement=locked.statement,
            from_state=previous,
            to_state=status,
        )
        return locked


# -- the monthly job -----------------------------------------------------------------------------


def run_monthly(period: datetime.date | None = None) -> JobRun:
    """Generate last month's statements (or `period`'s), recorded as one JobRun.

    Each statement is issued in a transaction of its own and recorded in the run as it commits:
    if one fails, or the worker is killed, those issued before it stand and the run shows them
    (a rerun issues the rest)."""
    period = month_start(period or previous_month())

    def work(progress) -> int:
        issued: list[ClearingStatement] = []

        def record(statement: ClearingStatement | None = None) -> None:
            # Each statement is recorded as it commits: a run that fails or is killed later
            # still shows those issued before.
            if statement is not None:
                issued.append(statement)
            progress.committed(
                {
                    "statements": len(issued),
                    "settlements": sum(s.settlement_count for s in issued),
                    "numbers": [s.number for s in issued],
                },
                rows=0 if statement is None else 1,
            )

        record()
        generate_statements(period=period, on_issued=record)
        return len(issued)

    return record_run(JOB_NAME, work, {"period": period.isoformat()})
