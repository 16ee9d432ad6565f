"""Demo hospitals (data/designated_hospitals.csv) and hospital staff accounts (idempotent)."""

from __future__ import annotations

import csv
from pathlib import Path

from django.db import transaction

from hospitals.models import Hospital, HospitalStaff
from hospitals.services import search_keys
from portal.demo import _user
from portal.models import Province, Region

CSV = Path(__file__).resolve().parent / "data" / "designated_hospitals.csv"
STAFF = ["H23010300001", "H46020000002", "H21010000001"]


def rows() -> list[dict]:
    with CSV.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@transaction.atomic
def seed(out) -> list[tuple[str, str]]:
    provinces = {p.name: p for p in Province.objects.all()}
    regions = {r.code: r for r in Region.objects.all()}
    for row in rows():
        pinyin, initials = search_keys(row["name_zh"])
        Hospital.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name_zh"],
                "name_en": row["name_en"],
                "province": provinces[row["province"]],
                "region": regions[row["region_code"]],
                "level": int(row["level"]),
                "kind": row["kind"],
                "ownership": row["ownership"],
                "inpatient": row["inpatient"] == "1",
                "general_outpatient": row["general_outpatient"] == "1",
                "chronic_outpatient": row["chronic_outpatient"] == "1",
                "resettlement_designated": row["resettlement_designated"] == "1",
                "pinyin": pinyin,
                "initials": initials,
            },
        )
    logins = []
    for code in STAFF:
        hospital = Hospital.objects.get(code=code)
        user = _user(f"hosp_{code.lower()}")
        HospitalStaff.objects.update_or_create(user=user, defaults={"hospital": hospital})
        logins.append((user.username, f"hospital staff, {hospital.name} ({code})"))
    return logins
