"""Reads for the admission-desk check: one database round trip per check.

The person and all their filings (with chosen-hospital ids) come back in a single SELECT with a
JSON aggregate; regions and hospitals are small, slowly changing tables cached in process.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from dataclasses import dataclass

from django.db import connection
from django.utils.translation import get_language

from hospitals import eligibility
from hospitals.models import CareType, Hospital
from portal.lib import idnumbers
from portal.models import Region

CACHE_SECONDS = 30


class _TtlCache:
    """A whole-table snapshot reloaded at most every CACHE_SECONDS (per process)."""

    def __init__(self, loader):
        self.loader = loader
        self.lock = threading.Lock()
        self.loaded_at = 0.0
        self.data: dict = {}

    def get(self, key):
        now = time.monotonic()
        if now - self.loaded_at > CACHE_SECONDS or key not in self.data:
            with self.lock:
                if now - self.loaded_at > CACHE_SECONDS or key not in self.data:
                    self.data = self.loader()
                    self.loaded_at = time.monotonic()
        return self.data.get(key)

    def clear(self) -> None:
        with self.lock:
            self.loaded_at = 0.0
            self.data = {}


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
        *CareType.values,
    )
    return {row[0]: row[1:] for row in rows}


regions = _TtlCache(_load_regions)
hospitals = _TtlCache(_load_hospitals)


def clear_caches() -> None:
    regions.clear()
    hospitals.clear()


def _region(region_id: int) -> tuple[str, str, str]:
    code, name, name_en, measures = regions.get(region_id)
    english = (get_language() or "").startswith("en")
    return code, (name_en or name) if english else name, measures


def hospital_view(hospital_id: int) -> eligibility.HospitalView | None:
    row = hospitals.get(hospital_id)
    if row is None:
        return None
    code, name, name_en, region_id, suspended_on, resettlement, *services = row
    region_code, region_name, _measures = _region(region_id)
    english = (get_language() or "").startswith("en")
    return eligibility.HospitalView(
        code=code,
        name=(name_en or name) if english else name,
        region_code=region_code,
        region_name=region_name,
        services=frozenset(c for c, on in zip(CareType.values, services, strict=True) if on),
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
    filings = (
        f"SELECT {agg}({obj}({pairs}, 'hospitals', {wrap.format('(' + chosen + ')')})) "
        "FROM filings_filing f WHERE f.person_id = p.id AND f.status <> 'draft'"
    )
    return (
        "SELECT p.id, p.name, p.scheme, p.active, p.region_id, "
        f"({filings}) FROM portal_insuredperson p WHERE p.id_hash = %s"
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


def find_person(*, id_number: str, name: str) -> Found | None:
    """The person with this ID number and exactly this name, with their filings; else None."""
    vendor = connection.vendor
    sql = _SQL.get(vendor) or _SQL.setdefault(vendor, _sql(vendor))
    id_hash = idnumbers.id_hash(id_number)
    with connection.cursor() as cursor:
        cursor.execute(sql, [id_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    person_id, person_name, scheme, active, region_id, filings_json = row
    if person_name != (name or "").strip():
        return None
    region_code, region_name, measures = _region(region_id)
    person = eligibility.PersonView(
        name=person_name,
        masked_name=idnumbers.mask_name(person_name),
        masked_id=idnumbers.mask(id_number),
        scheme=scheme,
        region_code=region_code,
        region_name=region_name,
        active=bool(active),
        resettled_reduction=measures == "daxinganling",
    )
    raw = filings_json if isinstance(filings_json, list) else json.loads(filings_json or "[]")
    return Found(person_id, person, [_filing_view(f) for f in raw or []], region_id, id_hash)


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
        covers=frozenset(c for c in CareType.values if f[f"covers_{c}"]),
        valid_from=_date(f["valid_from"]),
        valid_until=_date(f["valid_until"]),
        hospitals=tuple(sorted(filter(None, (hospital_code(h) for h in chosen if h)))),
        receiving_hospital=hospital_code(f["receiving_hospital_id"])
        if f["receiving_hospital_id"]
        else None,
        two_way=f["type"] == "long_term" and f["status"] == "approved" and not outstanding,
        commitment_deadline=_date(f["commitment_deadline"]),
        materials_outstanding=outstanding,
    )
