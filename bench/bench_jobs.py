"""Nightly job benchmark: the expiry job against a raw SQL UPDATE of the same rows.

    .venv/bin/python bench/bench_jobs.py [--filings 1000000]

PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/portal_benchjobs):
1,000,000 filings; the nightly case has about 0.2% due, the backlog about 25%. Prints the
job's time against the raw UPDATE for both, and the query plan of the nightly path.
Goal: the job <= 1.3x the raw UPDATE on the backlog, and an index scan on the nightly path.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_benchjobs")
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--filings", type=int, default=1_000_000)
    args = parser.parse_args()
    from bench.bench_eligibility import ensure_database

    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from filings import jobs
    from filings.models import Filing
    from portal.models import InsuredPerson, Province, Region

    call_command("migrate", verbosity=0)
    today = timezone.localdate()
    far = today + datetime.timedelta(days=365)
    if Filing.objects.count() != args.filings:
        print("loading data (first run only)…")
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE filings_filing_hospitals, filings_filing, "
                "portal_insuredperson, portal_auditevent, portal_notification CASCADE"
            )
        province, _ = Province.objects.get_or_create(code="990000", defaults={"name": "基准省"})
        region, _ = Region.objects.get_or_create(
            code="990001", defaults={"name": "基准", "province": province}
        )
        place, _ = Region.objects.get_or_create(
            code="990002", defaults={"name": "就医地", "province": province}
        )
        now = timezone.now()
        persons = args.filings // 5
        with connection.cursor() as cursor:
            with cursor.copy(
                "COPY portal_insuredperson (name, id_number, id_hash, "
                "social_security_no, region_id, scheme, retired, active, created_at)"
                " FROM STDIN"
            ) as copy:
                for i in range(persons):
                    copy.write_row(
                        ("基准", "x", f"h{i:063d}", "", region.pk, "employee", False, True, now)
                    )
            first = InsuredPerson.objects.order_by("pk").values_list("pk", flat=True).first()
            with cursor.copy(
                "COPY filings_filing (number, person_id, insured_region_id, type, subtype, "
                "status, place_province_id, place_region_id, covers_inpatient, "
                "covers_general_outpatient, covers_chronic_outpatient, valid_from, valid_until, "
                "basis, referral_source, diagnosis, referral_condition, attending_doctor, "
                "director_signed_by, medical_office_signed_by, disease, agent_name, "
                "agent_relationship, decision_note, created_at, updated_at) FROM STDIN"
            ) as copy:
                for i in range(args.filings):
                    copy.write_row(
                        (
                            f"J{i:011d}",
                            first + i % persons,
                            region.pk,
                            "temporary",
                            "",
                            "approved",
                            province.pk,
                            place.pk,
                            True,
                            True,
                            False,
                            today,
                            far,
                            "",
                            "",
                            "",
                            "",
                            "",
                            "",
                            "",
                            "",
                            "",
                            "",
                            "",
                            now,
                            now,
                        )
                    )
            cursor.execute("ANALYZE")

    def reset():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE filings_filing SET status = 'approved', valid_until = %s "
                "WHERE status <> 'approved' OR valid_until <> %s",
                [far, far],
            )
            cursor.execute("TRUNCATE portal_auditevent, portal_notification, portal_jobrun")
            cursor.execute("VACUUM ANALYZE filings_filing")

    def make_due(every: int):
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE filings_filing SET valid_until = %s WHERE id %% %s = 0",
                [today - datetime.timedelta(days=1), every],
            )
            cursor.execute("ANALYZE filings_filing")

    def raw_update() -> tuple[float, int]:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE filings_filing SET status = 'expired', updated_at = now() "
                "WHERE status = 'approved' AND type = 'temporary' "
                "AND valid_until < %s",
                [today],
            )
            rows = cursor.rowcount
        return time.perf_counter() - started, rows

    def job() -> tuple[float, int]:
        started = time.perf_counter()
        result = jobs.apply_changes(today)
        return time.perf_counter() - started, sum(result.values())

    ok = True
    for label, every in (("nightly (~0.2% due)", 500), ("backlog (~25% due)", 4)):
        reset()
        make_due(every)
        if every == 500:
            with connection.cursor() as cursor:
                sql = jobs._PG_CHANGE.format(where=jobs.changes(today)[0].where_sql)
                cursor.execute(
                    "EXPLAIN " + sql,
                    {
                        "today": today,
                        "now": timezone.now(),
                        "to": "expired",
                        "action": "x",
                        "reason": "x",
                        "subject": "x",
                        "body": "x",
                        "batch": jobs.BATCH,
                        "notify_agency": False,
                    },
                )
                plan = "\n".join(r[0] for r in cursor.fetchall())
            print("query plan of the nightly path:")
            print("\n".join("  " + line for line in plan.splitlines()[:12]))
            index_scan = "filing_approved_valid_until" in plan
            print(f"index scan on the partial index: {'yes' if index_scan else 'NO'}")
            ok &= index_scan
        job_time, job_rows = job()
        reset()
        make_due(every)
        raw_time, raw_rows = raw_update()
        ratio = job_time / raw_time
        print(
            f"{label:22s} job {job_time * 1000:8.1f} ms for {job_rows:,} rows (with audit "
            f"events);  raw UPDATE {raw_time * 1000:8.1f} ms for {raw_rows:,} rows;  "
            f"ratio {ratio:.2f}"
        )
        if every == 4:
            ok &= ratio <= 1.3
    reset()
    print("GOAL MET" if ok else "GOAL NOT MET (goal: backlog ratio <= 1.3, index scan nightly)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
