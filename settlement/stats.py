"""Statistics for the agency dashboard (issue 9): reads only, one aggregate query per figure.

Every selector takes the region whose agency asks (None: every region, for superusers) and the
first day of the window, and returns a few grouped rows (never one row per record), so the
dashboard makes the same number of queries however many filings, settlements and claims exist.
`build_dashboard` turns the rows into charts: the same numbers feed the chart, the table beside
it and the CSV export.
"""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    DateField,
    F,
    FloatField,
    Func,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from filings.models import Filing, FilingType
from filings.models import Status as FilingStatus
from portal.lib.text import spreadsheet_text
from portal.models import Region
from portal.roles import agency_region
from settlement.models import Claim, ClaimStatus, Settlement

MONTHS = 12
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

# Which side of a settlement or filing the region is on.
INSURED_HERE = "insured"  # the region is the place of insurance
TREATED_HERE = "treated"  # the region is the place of treatment (and not of insurance)
EVERYWHERE = "all"  # no region: a superuser looking at the whole portal


# --- the window -----------------------------------------------------------------------------


def month_starts(today: datetime.date | None = None, months: int = MONTHS) -> list[datetime.date]:
    """The first day of this month and of the months before it, oldest first."""
    today = today or timezone.localdate()
    year, month = today.year, today.month
    starts = []
    for _i in range(months):
        starts.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _window_start(since: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))


def _as_date(value) -> datetime.date | None:
    """TruncMonth gives a date, or an aware datetime on some backends: always a date."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


# --- SQL helpers ----------------------------------------------------------------------------


class DaysBetween(Func):
    """(end - start) in days, as a float, for two datetime columns."""

    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra):
        return super().as_sql(
            compiler,
            connection,
            template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)::double precision",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        end, start = self.get_source_expressions()
        end_sql, end_params = compiler.compile(end)
        start_sql, start_params = compiler.compile(start)
        return f"(julianday({end_sql}) - julianday({start_sql}))", (*end_params, *start_params)


class _SQLiteMedian:
    """The MEDIAN aggregate SQLite lacks (PostgreSQL has percentile_cont)."""

    def __init__(self):
        self.values: list[float] = []

    def step(self, value):
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return statistics.median(self.values) if self.values else None


class Median(Aggregate):
    name = "Median"
    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()
    allow_distinct = False

    def as_sqlite(self, compiler, connection, **extra):
        # Registered on the connection that runs the query (idempotent, cheap).
        connection.ensure_connection()
        connection.connection.create_aggregate("STATS_MEDIAN", 1, _SQLiteMedian)
        return super().as_sql(
            compiler, connection, function="STATS_MEDIAN", template="%(function)s(%(expressions)s)"
        )


# --- who sees what --------------------------------------------------------------------------


class NotAllowed(Exception):
    """The user may not see the dashboard (or not this region's): the view answers 404."""


def region_for(user, code: str | None = None) -> Region | None:
    """The region whose figures `user` sees: an agency its own, a superuser any (or all).

    Raises NotAllowed for everyone else, and for an agency asking for another region.
    """
    if not getattr(user, "is_authenticated", False):
        raise NotAllowed
    if user.is_superuser:
        if not code:
            return None
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise NotAllowed
        return region
    region = agency_region(user)
    if region is None or not user.is_staff:
        raise NotAllowed
    if code and code != region.code:
        raise NotAllowed
    return region


# --- selectors: one grouped query each ------------------------------------------------------


def filing_counts(*, region: Region | None, since: datetime.date) -> list[dict]:
    """Submitted filings per month of submission, type, current state and side."""
    qs = Filing.objects.filter(submitted_at__gte=_window_start(since))
    if region is None:
        side = Value(EVERYWHERE)
    else:
        qs = qs.filter(Q(insured_region=region) | Q(place_region=region))
        side = Case(
            When(insured_region=region, then=Value(INSURED_HERE)), default=Value(TREATED_HERE)
        )
    return list(
        qs.annotate(month=TruncMonth("submitted_at", output_field=DateField()), side=side)
        .values("month", "type", "status", "side")
        .annotate(count=Count("id"))
        .order_by("month", "type", "status", "side")
    )


def _settled(since: datetime.date, today: datetime.date):
    return Settlement.objects.filter(
        status=Settlement.Status.SETTLED, discharged_on__gte=since, discharged_on__lte=today
    )


def settlement_months(
    *, region: Region | None, since: datetime.date, today: datetime.date | None = None
) -> list[dict]:
    """Direct settlements per month of discharge and side: count, total and fund payments.

    A settlement counts once: on the insured side when the region is the place of insurance,
    else on the treated side."""
    today = today or timezone.localdate()
    qs = _settled(since, today)
    if region is None:
        side = Value(EVERYWHERE)
    else:
        qs = qs.filter(Q(insured_region=region) | Q(hospital__region=region))
        side = Case(
            When(insured_region=region, then=Value(INSURED_HERE)), default=Value(TREATED_HERE)
        )
    rows = (
        qs.annotate(month=TruncMonth("discharged_on"), side=side)
        .values("month", "side")
        .annotate(count=Count("id"), total=Sum("total"), fund_pay=Sum("fund_pay"))
        .order_by("month", "side")
    )
    return [
        {**row, "total": _money(row["total"]), "fund_pay": _money(row["fund_pay"])} for row in rows
    ]


def _money(value) -> Decimal:
    """A sum of amounts to the cent (SQLite adds decimals as floats)."""
    return (value or ZERO).quantize(CENT, rounding=ROUND_HALF_UP)


_REGION_FIELDS = ("code", "name", "name_en")


def settlements_by_place_of_treatment(
    *, region: Region | None, since: datetime.date, today: datetime.date | None = None
) -> list[dict]:
    """Direct settlements of the region's insured (all, with no region) by place of treatment."""
    return _by_place(
        scope="insured_region", place="hospital__region", region=region, since=since, today=today
    )


def settlements_by_place_of_insurance(
    *, region: Region | None, since: datetime.date, today: datetime.date | None = None
) -> list[dict]:
    """Direct settlements made in the region (all, with no region) by place of insurance."""
    return _by_place(
        scope="hospital__region", place="insured_region", region=region, since=since, today=today
    )


def _by_place(
    *,
    scope: str,
    place: str,
    region: Region | None,
    since: datetime.date,
    today: datetime.date | None,
) -> list[dict]:
    """Count, total and fund payment of the settled bills whose `scope` is `region` (all, with
    no region), one row for each `place` region, in code order."""
    qs = _settled(since, today or timezone.localdate())
    if region is not None:
        qs = qs.filter(**{scope: region})
    rows = (
        qs.values(*(f"{place}__{f}" for f in _REGION_FIELDS))
        .annotate(count=Count("id"), total=Sum("total"), fund_pay=Sum("fund_pay"))
        .order_by(f"{place}__code")
    )
    return [_place_row(row, f"{place}__") for row in rows]


def _place_row(row: dict, prefix: str) -> dict:
    return {
        "code": row[f"{prefix}code"],
        "name": row[f"{prefix}name"],
        "name_en": row[f"{prefix}name_en"],
        "count": row["count"],
        "total": _money(row["total"]),
        "fund_pay": _money(row["fund_pay"]),
    }


def _decided_claims(region: Region | None, since: datetime.date):
    decided = [ClaimStatus.APPROVED, ClaimStatus.PAID, ClaimStatus.REJECTED]
    qs = Claim.objects.filter(
        status__in=decided, decided_at__gte=_window_start(since), submitted_at__isnull=False
    )
    if region is not None:
        qs = qs.filter(insured_region=region)
    return qs.annotate(days=DaysBetween(F("decided_at"), F("submitted_at")))


def claim_turnaround(*, region: Region | None, since: datetime.date) -> list[dict]:
    """Decided claims of the region's insured per month of decision: count, median and average
    days from submission to decision."""
    return list(
        _decided_claims(region, since)
        .annotate(month=TruncMonth("decided_at", output_field=DateField()))
        .values("month")
        .annotate(count=Count("id"), median=Median("days"), average=Avg("days"))
        .order_by("month")
    )


def claim_turnaround_overall(*, region: Region | None, since: datetime.date) -> dict:
    """The same over the whole window: count, median and average days."""
    return _decided_claims(region, since).aggregate(
        count=Count("id"), median=Median("days"), average=Avg("days")
    )


# --- charts ---------------------------------------------------------------------------------

COUNT, YUAN, DAYS = "count", "yuan", "days"


@dataclass
class Series:
    key: str
    label: str
    values: list
    unit: str = COUNT
    kind: str = "bar"  # bar | line
    hidden: bool = False  # drawn but switched off in the legend at first


@dataclass
class Chart:
    slug: str
    title: str
    description: str
    keys: list  # months (date) or region codes
    labels: list[str]  # what the reader sees for each key
    series: list[Series]
    key_header: str
    stacked: bool = False
    empty_text: str = ""
    months: bool = True
    totals: list = field(default_factory=list)

    def __post_init__(self):
        self.totals = [None if s.unit == DAYS else _total(s.values) for s in self.series]

    @property
    def empty(self) -> bool:
        return not any(v for s in self.series for v in s.values)

    @property
    def rows(self) -> list[dict]:
        """One row per key for the table beside the chart (and the CSV)."""
        return [
            {
                "key": key,
                "label": label,
                "values": [s.values[i] for s in self.series],
                "cells": [_cell(s.values[i], s.unit) for s in self.series],
            }
            for i, (key, label) in enumerate(zip(self.keys, self.labels, strict=True))
        ]

    @property
    def total_cells(self) -> list[dict]:
        return [_cell(t, s.unit) for s, t in zip(self.series, self.totals, strict=True)]

    @property
    def columns(self) -> list[tuple[str, str]]:
        return [(s.label, s.unit) for s in self.series]

    def as_json(self) -> dict:
        """What static/js/dashboard.js draws (numbers as JSON numbers, labels translated)."""
        return {
            "labels": self.labels,
            "stacked": self.stacked,
            "units": {COUNT: _("Number"), YUAN: _("Yuan"), DAYS: _("Days")},
            "datasets": [
                {
                    "label": s.label,
                    "type": s.kind,
                    "unit": s.unit,
                    "hidden": s.hidden,
                    "data": [None if v is None else float(v) for v in s.values],
                }
                for s in self.series
            ],
        }

    def csv_header(self) -> list[str]:
        first = [_("Month")] if self.months else [_("Region code"), _("Region")]
        return first + [f"{s.label} ({_unit_name(s.unit)})" for s in self.series]

    def csv_rows(self) -> list[list[str]]:
        out = []
        for row in self.rows:
            first = (
                [f"{row['key']:%Y-%m}"]
                if self.months
                else [spreadsheet_text(row["key"]), spreadsheet_text(row["label"])]
            )
            out.append(first + [_csv_value(v) for v in row["values"]])
        return out


def _cell(value, unit: str) -> dict:
    """A table cell: the number, and its text in the reader's locale (grouped digits)."""
    if value is None:
        text = "–"
    else:
        places = {COUNT: 0, YUAN: 2, DAYS: 1}[unit]
        text = formats.number_format(value, places, use_l10n=True, force_grouping=True)
    return {"value": value, "unit": unit, "text": text}


def _unit_name(unit: str) -> str:
    return {COUNT: _("number"), YUAN: _("yuan"), DAYS: _("days")}[unit]


def _total(values: list):
    present = [v for v in values if v is not None]
    if not present:
        return None
    return sum(present)


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def _days(value) -> Decimal | None:
    """Days as shown, in the chart, table and CSV alike: one decimal, half up. Durations come
    from float arithmetic (julianday on SQLite), so the noise below a millisecond goes first."""
    if value is None:
        return None
    exact = Decimal(str(value)).quantize(Decimal("0.00000001"))
    return exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def month_label(month: datetime.date) -> str:
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


def region_label(row: dict) -> str:
    region = Region(code=row["code"], name=row["name"], name_en=row["name_en"] or "")
    return region.display_name


@dataclass
class Headline:
    settlements: int
    total: Decimal
    fund_pay: Decimal
    insured_here: int
    treated_here: int
    filings: int
    filings_incoming: int
    claims_decided: int
    claims_median_days: Decimal | None
    claims_average_days: Decimal | None = None


@dataclass
class Dashboard:
    region: Region | None
    months: list[datetime.date]
    headline: Headline
    charts: list[Chart]

    def chart(self, slug: str) -> Chart | None:
        return next((c for c in self.charts if c.slug == slug), None)


CHART_SLUGS = [
    "filings-by-type",
    "filings-by-state",
    "settlements-by-month",
    "fund-by-month",
    "by-place-of-treatment",
    "by-place-of-insurance",
    "claims-turnaround",
]


def build_dashboard(*, region: Region | None, today: datetime.date | None = None) -> Dashboard:
    """Every figure of the dashboard, from six aggregate queries."""
    today = today or timezone.localdate()
    months = month_starts(today)
    since = months[0]
    filings = filing_counts(region=region, since=since)
    by_month = settlement_months(region=region, since=since, today=today)
    treatment = settlements_by_place_of_treatment(region=region, since=since, today=today)
    insurance = settlements_by_place_of_insurance(region=region, since=since, today=today)
    claims = claim_turnaround(region=region, since=since)
    claims_overall = claim_turnaround_overall(region=region, since=since)

    month_labels = [month_label(m) for m in months]
    index = {m: i for i, m in enumerate(months)}
    own = INSURED_HERE if region is not None else EVERYWHERE

    # Filings: the ones the region's agency reviews (its insured persons'), per type and state.
    by_type = {t: [0] * MONTHS for t in FilingType.values}
    states = [s for s in FilingStatus.values if s != FilingStatus.DRAFT]
    by_state = {s: [0] * MONTHS for s in states}
    filings_incoming = 0
    for row in filings:
        if row["side"] == TREATED_HERE:
            filings_incoming += row["count"]
            continue
        i = index.get(_as_date(row["month"]))
        if i is None:
            continue
        if row["type"] in by_type:
            by_type[row["type"]][i] += row["count"]
        if row["status"] in by_state:
            by_state[row["status"]][i] += row["count"]

    sides = [INSURED_HERE, TREATED_HERE] if region is not None else [EVERYWHERE]
    side_labels = {
        INSURED_HERE: _("Our insured, treated elsewhere"),
        TREATED_HERE: _("Treated here, insured elsewhere"),
        EVERYWHERE: _("All regions"),
    }
    counts = {s: [0] * MONTHS for s in sides}
    funds = {s: [ZERO] * MONTHS for s in sides}
    totals = {s: ZERO for s in sides}
    for row in by_month:
        i = index.get(_as_date(row["month"]))
        if i is None or row["side"] not in counts:
            continue
        counts[row["side"]][i] += row["count"]
        funds[row["side"]][i] += row["fund_pay"]
        totals[row["side"]] += row["total"]

    turnaround = {_as_date(r["month"]): r for r in claims}
    claim_rows = [turnaround.get(m) for m in months]

    scope = region.display_name if region is not None else _("all regions")
    charts = [
        Chart(
            slug="filings-by-type",
            title=_("Filings by type"),
            description=_(
                "Filings of %(scope)s's insured persons, by month of submission and type."
            )
            % {"scope": scope}
            if region is not None
            else _("Filings of all regions, by month of submission and type."),
            keys=months,
            labels=month_labels,
            series=[Series(t, str(FilingType(t).label), by_type[t]) for t in FilingType.values],
            key_header=_("Month"),
            stacked=True,
            empty_text=_("No filings were submitted in the last 12 months."),
        ),
        Chart(
            slug="filings-by-state",
            title=_("Filings by state"),
            description=_("The same filings by their state today, by month of submission."),
            keys=months,
            labels=month_labels,
            series=[Series(s, str(FilingStatus(s).label), by_state[s]) for s in states],
            key_header=_("Month"),
            stacked=True,
            empty_text=_("No filings were submitted in the last 12 months."),
        ),
        Chart(
            slug="settlements-by-month",
            title=_("Direct settlements per month"),
            description=_("Settled direct settlements by month of discharge."),
            keys=months,
            labels=month_labels,
            series=[Series(s, side_labels[s], counts[s]) for s in sides],
            key_header=_("Month"),
            stacked=True,
            empty_text=_("No direct settlements in the last 12 months."),
        ),
        Chart(
            slug="fund-by-month",
            title=_("Fund payments per month"),
            description=_("What the funds paid for those settlements, in yuan."),
            keys=months,
            labels=month_labels,
            series=[Series(s, side_labels[s], funds[s], unit=YUAN) for s in sides],
            key_header=_("Month"),
            stacked=True,
            empty_text=_("No direct settlements in the last 12 months."),
        ),
        _place_chart(
            "by-place-of-treatment",
            title=_("Where our insured were treated")
            if region is not None
            else _("Direct settlements by place of treatment"),
            description=_(
                "Direct settlements of %(scope)s's insured persons by place of treatment."
            )
            % {"scope": scope}
            if region is not None
            else _("Direct settlements of all regions by place of treatment."),
            rows=treatment,
        ),
        _place_chart(
            "by-place-of-insurance",
            title=_("Whom our hospitals treated")
            if region is not None
            else _("Direct settlements by place of insurance"),
            description=_("Direct settlements made in %(scope)s by place of insurance.")
            % {"scope": scope}
            if region is not None
            else _("Direct settlements of all regions by place of insurance."),
            rows=insurance,
        ),
        Chart(
            slug="claims-turnaround",
            title=_("Reimbursement claims: turnaround"),
            description=_(
                "Claims decided per month, and the median and average days from submission "
                "to decision."
            ),
            keys=months,
            labels=month_labels,
            series=[
                Series(
                    "decided", _("Claims decided"), [r["count"] if r else 0 for r in claim_rows]
                ),
                Series(
                    "median",
                    _("Median days"),
                    [_days(r["median"]) if r else None for r in claim_rows],
                    unit=DAYS,
                    kind="line",
                ),
                Series(
                    "average",
                    _("Average days"),
                    [_days(r["average"]) if r else None for r in claim_rows],
                    unit=DAYS,
                    kind="line",
                ),
            ],
            key_header=_("Month"),
            empty_text=_("No claims were decided in the last 12 months."),
        ),
    ]

    headline = Headline(
        settlements=sum(sum(v) for v in counts.values()),
        total=sum(totals.values(), ZERO),
        fund_pay=sum((sum(v, ZERO) for v in funds.values()), ZERO),
        insured_here=sum(counts.get(own, [])) if region is not None else 0,
        treated_here=sum(counts.get(TREATED_HERE, [])),
        filings=sum(sum(v) for v in by_type.values()),
        filings_incoming=filings_incoming,
        claims_decided=claims_overall["count"],
        claims_median_days=_days(claims_overall["median"]),
        claims_average_days=_days(claims_overall["average"]),
    )
    return Dashboard(region=region, months=months, headline=headline, charts=charts)


def _place_chart(slug: str, *, title: str, description: str, rows: list[dict]) -> Chart:
    return Chart(
        slug=slug,
        title=title,
        description=description,
        keys=[r["code"] for r in rows],
        labels=[region_label(r) for r in rows],
        series=[
            Series("count", _("Direct settlements"), [r["count"] for r in rows]),
            Series("fund_pay", _("Fund payments"), [r["fund_pay"] for r in rows], unit=YUAN),
            Series(
                "total", _("Total expenses"), [r["total"] for r in rows], unit=YUAN, hidden=True
            ),
        ],
        key_header=_("Region"),
        empty_text=_("No direct settlements in the last 12 months."),
        months=False,
    )


# --- headline text --------------------------------------------------------------------------


def large_yuan(amount: Decimal) -> str:
    """'10.91 million yuan'; a translation picks its own unit (万元: divisor 10000)."""
    # Translators: the divisor for large amounts: 1000000 in English, 10000 for 万元 in Chinese.
    divisor = Decimal(pgettext("large amount divisor", "1000000"))
    value = formats.number_format(
        (amount / divisor).quantize(Decimal("0.01")), 2, use_l10n=True, force_grouping=True
    )
    # Translators: a large amount in the unit chosen by "large amount divisor", e.g. 1091.36万元.
    return pgettext("large amount", "%(value)s million yuan") % {"value": value}


def headline_text(headline: Headline) -> str:
    """'1,251 direct settlements, 10.91 million yuan' (fund payments), localized."""
    count = formats.number_format(headline.settlements, 0, use_l10n=True, force_grouping=True)
    return ngettext(
        "%(count)s direct settlement, %(amount)s",
        "%(count)s direct settlements, %(amount)s",
        headline.settlements,
    ) % {
        "count": count,
        "amount": large_yuan(headline.fund_pay),
    }


def seed_summary(today: datetime.date | None = None) -> str:
    """The seed command's line, in English (like the rest of its output), from the same
    figures a superuser's dashboard shows."""
    today = today or timezone.localdate()
    since = month_starts(today)[0]
    figures = _settled(since, today).aggregate(count=Count("id"), fund=Sum("fund_pay"))
    fund = _money(figures["fund"])
    millions = (fund / Decimal("1000000")).quantize(Decimal("0.01"))
    return f"Statistics: {figures['count']:,} direct settlements, {millions:,} million yuan"
