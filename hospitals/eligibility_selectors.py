"""Reads for the admission-desk check: one database round trip per check.

The person and all their filings (with chosen-hospital ids) come back in a single SELECT with a
JSON aggregate; regions and hospitals are small, slowly changing tables cached in process.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from django.utils.translation import get_language

from filings.models import RESIDENCE_PROOF_KINDS, LongTermSubtype, MaterialKind
from hospitals import eligibility
from hospitals.models import CareType, Hospital
from portal.lib import idnumbers
from portal.models import Region

logger = logging.getLogger(__name__)
CACHE_SECONDS = 30
MISS_RELOAD_SECONDS = 1.0
_CARE_TYPES = tuple(CareType.values)
_COVERS = tuple((c, f"covers_{c}") for c in _CARE_TYPES)


def refresh_in_background() -> bool:
    """Production-like processes (ACCESS_LOG_FLUSH_MS > 0) reload snapshots in a daemon thread;
    tests and development reload them on the request that finds them stale."""
    return getattr(settings, "SNAPSHOT_REFRESH_IN_BACKGROUND", None) or (
        getattr(settings, "ACCESS_LOG_FLUSH_MS", 0) > 0
    )


class Snapshot:
    """A whole-table snapshot per process, checked every CACHE_SECONDS.

    In the background mode (see `refresh_in_background`) a daemon thread checks it and a request
    only ever waits for the very first load; otherwise the request that finds it stale does. On
    PostgreSQL the check is a fingerprint of the table's row versions (`_fingerprint`): the rows
    are loaded again only when it changed, so a 20,000-row table that did not change costs one
    small query, not a rebuild that holds the worker's interpreter for tens of milliseconds.
    A key missing from the snapshot (a row created since) checks it at once when
    `reload_on_miss` (in the background mode at most once per MISS_RELOAD_SECONDS).
    """

    def __init__(self, loader, model, *, reload_on_miss: bool = True):
        self.loader = loader
        self.model = model  # a callable returning the model whose table is snapshotted
        self.reload_on_miss = reload_on_miss
        self.lock = threading.Lock()
        self.loaded_at = -1e9
        self.fingerprint = None
        self.data: dict = {}
        _snapshots.append(self)

    def get(self, key, default=None):
        hit = self.data.get(key, _MISSING)
        age = time.monotonic() - self.loaded_at
        if age > CACHE_SECONDS and (self.loaded_at < 0 or not _refresher.active()):
            self.reload(if_older_than=CACHE_SECONDS)
            hit = self.data.get(key, _MISSING)
        elif hit is _MISSING and self.reload_on_miss:
            wait = MISS_RELOAD_SECONDS if refresh_in_background() else 0.0
            if age > wait:
                self.reload(if_older_than=wait)
                hit = self.data.get(key, _MISSING)
        return default if hit is _MISSING else hit

    def reload(self, if_older_than: float = 0.0) -> None:
        with self.lock:
            if time.monotonic() - self.loaded_at < if_older_than:
                return  # another thread reloaded it meanwhile
            # Taken before the rows: a change committed in between shows at the next check.
            fingerprint = _fingerprint(self.model()._meta.db_table)
            if fingerprint is None or fingerprint != self.fingerprint or self.loaded_at < 0:
                self.data = self.loader()
                self.fingerprint = fingerprint
            self.loaded_at = time.monotonic()

    def stale(self) -> bool:
        return time.monotonic() - self.loaded_at > CACHE_SECONDS

    def clear(self) -> None:
        with self.lock:
            self.loaded_at = -1e9
            self.fingerprint = None
            self.data = {}


def _fingerprint(table: str):
    """On PostgreSQL, the row count and a sum of hashes of the row versions' `xmin`: any insert,
    update or delete changes it. None elsewhere (always reload)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), sum(hashtext(xmin::text)) FROM {table}")
        return cursor.fetchone()


_MISSING = object()
_snapshots: list = []


class _Refresher:
    """One daemon thread per process that reloads stale snapshots off the request path."""

    def __init__(self):
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.jobs: list = []  # extra callables run on each pass (the API key snapshot)

    def active(self) -> bool:
        if not refresh_in_background():
            return False
        if self.thread is None or not self.thread.is_alive():
            with self.lock:
                if self.thread is None or not self.thread.is_alive():
                    self.thread = threading.Thread(
                        target=self._run, daemon=True, name="snapshot-refresher"
                    )
                    self.thread.start()
        return True

    def _run(self) -> None:
        while True:
            time.sleep(1.0)
            try:
                refreshed = False
                for snapshot in list(_snapshots):
                    if snapshot.stale() and snapshot.loaded_at >= 0:  # loaded and in use
                        snapshot.reload(if_older_than=CACHE_SECONDS)
                        refreshed = True
                for job in list(self.jobs):
                    refreshed = job() or refreshed
                if refreshed:
                    connection.close()  # runs every CACHE_SECONDS: no idle connection kept
            except Exception:  # noqa: BLE001 - keep refreshing; the old snapshot stays
                logger.exception("snapshot refresh failed")
                with contextlib.suppress(Exception):
                    connection.close()


_refresher = _Refresher()


def _load_regions() -> dict:
    return {
        r.pk: (r.code, r.name, r.name_en, r.measures)
        for r in Region.objects.only("code", "name", "name_en", "measures")
    }


def _load_hospitals() -> dict:
    rows = Hospital.objects.values_list(
        "pk",
        "code",
        "name",
        "name_en",
        "region_id",
        "suspended_on",
        "resettlement_designated",
        "level",
        *CareType.values,
    )
    return {row[0]: row[1:] for row in rows}


def _load_adjustments() -> dict:
    """(insured region id, policy year) → {category: Adjustment} of the regional CategoryPolicy
    rows, the same source settlement.services.settle applies."""
    from settlement.models import CategoryPolicy

    table: dict = {}
    rows = CategoryPolicy.objects.values_list(
        "region_id",
        "year",
        "category",
        "ratio_reduction_points",
        "deductible_multiplier",
        "fund_share",
    )
    for region_id, year, category, points, multiplier, share in rows:
        adjustment = eligibility.Adjustment(points, multiplier, share)
        table.setdefault((region_id, year), {})[category] = adjustment
    return table


def _category_policy():
    from settlement.models import CategoryPolicy

    return CategoryPolicy


def _load_policy_levels() -> dict:
    """(insured region id, scheme, policy year) → the hospital levels the region's
    BenefitPolicy rows cover, the rows settlement.services.settle needs for a stay."""
    from settlement.models import BenefitPolicy

    table: dict = {}
    rows = BenefitPolicy.objects.values_list("region_id", "scheme", "year", "level")
    for region_id, scheme, year, level in rows:
        table.setdefault((region_id, scheme, year), set()).add(level)
    return table


def _benefit_policy():
    from settlement.models import BenefitPolicy

    return BenefitPolicy


regions = Snapshot(_load_regions, lambda: Region)
hospitals = Snapshot(_load_hospitals, lambda: Hospital)
adjustments = Snapshot(_load_adjustments, _category_policy, reload_on_miss=False)
# A missing key is the answer (no policy), not a row created since: no reload on a miss.
policy_levels = Snapshot(_load_policy_levels, _benefit_policy, reload_on_miss=False)
_NO_ADJUSTMENTS: dict = {}


def clear_caches() -> None:
    for snapshot in _snapshots:
        snapshot.clear()


def category_adjustments(region_id: int, year: int) -> dict:
    """The insured region's adjustments for the policy year (empty: the defaults apply)."""
    return adjustments.get((region_id, year), _NO_ADJUSTMENTS)


def has_benefit_policy(*, region_id: int, scheme: str, year: int, hospital_id: int) -> bool:
    """Whether the insured region has a benefit policy of `year` for the scheme at the hospital's
    level: without one, settlement.services refuses the stay's direct settlement (422)."""
    row = hospitals.get(hospital_id)
    if row is None:
        return True  # an unknown hospital is answered as such, not as a missing policy
    level = row[6]  # after code, name, name_en, region_id, suspended_on, resettlement
    return level in policy_levels.get((region_id, scheme, year), ())


def _region(region_id: int) -> tuple[str, str, str]:
    code, name, name_en, measures = regions.get(region_id)
    english = (get_language() or "").startswith("en")
    return code, (name_en or name) if english else name, measures


def hospital_view(hospital_id: int) -> eligibility.HospitalView | None:
    row = hospitals.get(hospital_id)
    if row is None:
        return None
    code, name, name_en, region_id, suspended_on, resettlement, _level, *services = row
    region_code, region_name, _measures = _region(region_id)
    english = (get_language() or "").startswith("en")
    return eligibility.HospitalView(
        code=code,
        name=(name_en or name) if english else name,
        region_code=region_code,
        region_name=region_name,
        services=frozenset(c for c, on in zip(_CARE_TYPES, services, strict=True) if on),
        suspended_on=suspended_on,
        resettlement_designated=resettlement,
    )


def hospital_code(hospital_id: int) -> str | None:
    row = hospitals.get(hospital_id)
    return row[0] if row else None


_FIELDS = (
    "number",
    "type",
    "subtype",
    "status",
    "place_region_id",
    "valid_from",
    "valid_until",
    "covers_inpatient",
    "covers_general_outpatient",
    "covers_chronic_outpatient",
    "receiving_hospital_id",
    "basis",
    "materials_accepted_at",
    "commitment_deadline",
    "extended_until",
)


# `keeps_commitment_q` on filings_material m of filings_filing f (constants, not input).
_KEEPS_COMMITMENT = (
    "m.kind IN ({kinds}) OR (m.kind = '{posting}' AND f.subtype = '{stationed}')".format(
        kinds=", ".join(f"'{kind}'" for kind in RESIDENCE_PROOF_KINDS),
        posting=MaterialKind.POSTING_CERTIFICATE.value,
        stationed=LongTermSubtype.STATIONED_WORKER.value,
    )
)


def _sql(vendor: str) -> str:
    if vendor == "postgresql":
        obj, agg, wrap = "json_build_object", "json_agg", "{}"
    else:
        obj, agg, wrap = "json_object", "json_group_array", "json({})"
    pairs = ", ".join(f"'{name}', f.{name}" for name in _FIELDS)
    chosen = (
        f"SELECT {agg}(fh.hospital_id) FROM filings_filing_hospitals fh WHERE fh.filing_id = f.id"
    )
    # domain.md §2.1: the upload times of a commitment filing's promised proof that still
    # counts (filings/jobs.py `supplied_in_time`: after approval, not refused); which of them
    # fell by the deadline is decided on its day in TIME_ZONE, in `_supplied_on`.
    supplied = (
        f"SELECT {agg}(m.uploaded_at) FROM filings_material m WHERE m.filing_id = f.id "
        "AND f.basis = 'commitment' AND f.materials_accepted_at IS NULL "
        f"AND ({_KEEPS_COMMITMENT}) AND m.refused_at IS NULL AND m.uploaded_at > f.decided_at"
    )
    filings = (
        f"SELECT {agg}({obj}({pairs}, 'hospitals', {wrap.format('(' + chosen + ')')}, "
        f"'supplied', {wrap.format('(' + supplied + ')')})) "
        "FROM filings_filing f WHERE f.person_id = p.id AND f.status <> 'draft'"
    )
    # domain.md §3.3: the −5 points are a regional policy (Daxinganling's resettled persons),
    # so the region must have configured a "resettled" category adjustment (settlement's
    # CategoryPolicy, as the settlement applies it); read in the same round trip, through the
    # index of its (region, year, category) unique constraint.
    resettled = (
        "EXISTS (SELECT 1 FROM settlement_categorypolicy c "
        "WHERE c.region_id = p.region_id AND c.category = 'resettled')"
    )
    return (
        f"SELECT p.id, p.name, p.scheme, p.active, p.region_id, ({filings}), {resettled} "
        "FROM portal_insuredperson p WHERE p.id_hash = %s"
    )


_SQL: dict[str, str] = {}


def _date(value) -> datetime.date | None:
    if not value:
        return None
    return datetime.date.fromisoformat(str(value)[:10])


@dataclass
class Found:
    person_id: int
    person: eligibility.PersonView
    filings: list[eligibility.FilingView]
    region_id: int
    id_hash: str = ""


def _fetch(id_hash: str):
    vendor = connection.vendor
    sql = _SQL.get(vendor) or _SQL.setdefault(vendor, _sql(vendor))
    if (
        vendor == "postgresql"
        and not connection.queries_logged
        and getattr(settings, "ELIGIBILITY_PREPARED_QUERY", True)
    ):
        return _fetch_prepared(sql, id_hash)
    with connection.cursor() as cursor:
        cursor.execute(sql, [id_hash])
        return cursor.fetchone()


_ONLY_WHEN_ASKED = 2**31 - 1


def _fetch_prepared(sql: str, id_hash: str, *, retry: bool = True):
    """The one round trip of a check, on PostgreSQL.

    A server-side prepared statement (psycopg 3): parsed and planned once per connection, then
    only executed. Django's cursors bind on the client, which cannot prepare, so the statement
    goes through a binding cursor of the same connection. And outside a transaction it is its
    own health check: Django's (CONN_HEALTH_CHECKS) would send a `SELECT 1` first on every
    request; here a persistent connection that went away fails the query, is closed, and the
    query is sent once more on a new connection. Behind a pooler in transaction mode (which
    does not keep a session's prepared statements) set ELIGIBILITY_PREPARED_QUERY = False.
    """
    import psycopg

    raw = connection.connection
    checked = raw is None or raw.closed or connection.in_atomic_block or not retry
    if checked:
        with connection.cursor():  # connects, or health-checks, the Django way
            raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's prepared statements off (prepare_threshold None), which also
        # ignores prepare=True. A threshold no query reaches prepares only the queries that ask
        # (Django's own cursors bind on the client and never prepare).
        raw.prepare_threshold = _ONLY_WHEN_ASKED
    try:
        with connection.wrap_database_errors, psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, [id_hash], prepare=True)
            row = cursor.fetchone()
    except (OperationalError, InterfaceError):
        if checked:
            raise
        connection.close()
        return _fetch_prepared(sql, id_hash, retry=False)
    connection.health_check_done = True  # type: ignore[attr-defined]  # not in the stubs
    return row


def find_person(*, id_number: str, name: str) -> Found | None:
    """The person with this ID number and exactly this name, with their filings; else None."""
    id_hash = idnumbers.id_hash(id_number)
    row = _fetch(id_hash)
    if row is None:
        return None
    person_id, person_name, scheme, active, region_id, filings_json, resettled = row
    if person_name != (name or "").strip():
        return None
    region_code, region_name, _measures = _region(region_id)
    person = eligibility.PersonView(
        name=person_name,
        masked_name=idnumbers.mask_name(person_name),
        masked_id=idnumbers.mask(id_number),
        scheme=scheme,
        region_code=region_code,
        region_name=region_name,
        active=bool(active),
        resettled_reduction=bool(resettled),
    )
    raw = filings_json if isinstance(filings_json, list) else json.loads(filings_json or "[]")
    return Found(person_id, person, [_filing_view(f) for f in raw or []], region_id, id_hash)


def _until(valid_until: datetime.date | None, extended_until: datetime.date | None):
    if valid_until is None or extended_until is None:
        return valid_until
    return max(valid_until, extended_until)


def _supplied_on(uploads, deadline: datetime.date | None) -> datetime.date | None:
    """The last day (in TIME_ZONE) a proof that counts was uploaded by the deadline, or None."""
    if isinstance(uploads, str):
        uploads = json.loads(uploads)
    days = []
    for value in uploads or []:
        moment = datetime.datetime.fromisoformat(str(value))
        if timezone.is_naive(moment):  # SQLite keeps UTC without an offset
            moment = timezone.make_aware(moment, datetime.UTC)
        days.append(timezone.localdate(moment))
    return max((d for d in days if deadline and d <= deadline), default=None)


def _filing_view(f: dict) -> eligibility.FilingView:
    place_code, place_name, _measures = _region(f["place_region_id"])
    chosen = f.get("hospitals") or []
    if isinstance(chosen, str):
        chosen = json.loads(chosen)
    # Mirrors Filing.two_way: materials, or commitment materials since accepted.
    backed = f["basis"] == "materials" or bool(f["materials_accepted_at"])
    outstanding = f["type"] == "long_term" and not backed
    return eligibility.FilingView(
        number=f["number"],
        type=f["type"],
        subtype=f["subtype"] or "",
        status=f["status"],
        place_region_code=place_code,
        place_region_name=place_name,
        covers=frozenset(c for c, column in _COVERS if f[column]),
        valid_from=_date(f["valid_from"]),
        # A referral's start window or course extended on request (domain.md §2.2) runs to the
        # later of the two days.
        valid_until=_until(_date(f["valid_until"]), _date(f["extended_until"])),
        hospitals=tuple(sorted(filter(None, (hospital_code(h) for h in chosen if h)))),
        receiving_hospital=hospital_code(f["receiving_hospital_id"])
        if f["receiving_hospital_id"]
        else None,
        two_way=f["type"] == "long_term"
        and f["status"] in eligibility.IN_FORCE_STATES
        and not outstanding,
        commitment_deadline=_date(f["commitment_deadline"]),
        materials_outstanding=outstanding,
        materials_supplied_on=_supplied_on(f.get("supplied"), _date(f["commitment_deadline"]))
        if outstanding
        else None,
    )
