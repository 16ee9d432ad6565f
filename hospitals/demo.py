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
    fields = {
        "name": "name_zh",
        "name_en": "name_en",
        "level": "level",
        "kind": "kind",
        "ownership": "ownership",
    }
    flags = [
        "inpatient",
        "general_outpatient",
        "chronic_outpatient",
        "resettlement_designated",
    ]
    hospitals = []
    for row in rows():
        pinyin, initials = search_keys(row["name_zh"])
        values = {name: row[column] for name, column in fields.items()}
        values["level"] = int(values["level"])
        hospitals.append(
            Hospital(
                code=row["code"],
                province=provinces[row["province"]],
                region=regions[row["region_code"]],
                pinyin=pinyin,
                initials=initials,
                **values,
                **{flag: row[flag] == "1" for flag in flags},
            )
        )
    # One upsert on the national code (the demo is seeded before most tests).
    Hospital.objects.bulk_create(
        hospitals,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=[*fields, "province", "region", "pinyin", "initials", *flags],
    )
    logins = []
    for code in STAFF:
        hospital = Hospital.objects.get(code=code)
        user = _user(f"hosp_{code.lower()}")
        HospitalStaff.objects.update_or_create(user=user, defaults={"hospital": hospital})
        logins.append((user.username, f"hospital staff, {hospital.name} ({code})"))
    return logins
