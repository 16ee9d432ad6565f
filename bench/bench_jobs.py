"""Nightly job benchmark: the expiry job against a raw SQL UPDATE of the same rows.

    .venv/bin/python bench/bench_jobs.py [--filings 1000000]

PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/portal_benchjobs):
1,000,000 filings (--filings N for another size; `--filings 1000` checks the script in
seconds) of 200,000 people with accounts, so the job writes a notification per change as in
production; 4% of the people also have a long-term filing by commitment whose deadline is still
ahead. The nightly case has about 0.2% of the temporary filings due, the backlog about 25%.
Prints the job's time against the raw UPDATE of the same rows for both, and the query plans of
the nightly expiry, commitment revocation, commitment reminder and referral course paths.
Goal: the job <= 1.3x the raw UPDATE on the backlog, and index scans on those paths.
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


def explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(r[0] for r in cursor.fetchall())


def print_plans(today: datetime.date) -> bool:
    """The query plans of the nightly paths; True if each uses its partial index."""
    from django.db.models import Q
    from django.utils import timezone

    from filings import jobs
    from filings.models import Basis, Filing, Status

    by_name = {c.name: c for c in jobs.changes(today, course_lengths=[60])}
    now = timezone.now()
    plans = [
        (
            "nightly expiry (temporary)",
            explain(
                jobs.pg_change_sql(by_name["expire_temporary"]),
                jobs.pg_change_params(by_name["expire_temporary"], today, now),
            ),
            "filing_approved_valid_until",
        ),
        (
            "commitment revocation",
            explain(
                jobs.pg_change_sql(by_name["revoke_commitment"]),
                jobs.pg_change_params(by_name["revoke_commitment"], today, now),
            ),
            "filing_commitment_due",
        ),
        (
            "referral course over",
            explain(
                jobs.pg_change_sql(by_name["expire_referral_course"]),
                jobs.pg_change_params(by_name["expire_referral_course"], today, now),
            ),
            "filing_referral_course",
        ),
    ]
    # The 30-day commitment reminder: the due rows not reminded yet (the reminder's unique
    # index answers the NOT EXISTS).
    due = Filing.objects.filter(
        Q(commitment_deadline__gt=today + datetime.timedelta(days=7))
        & Q(commitment_deadline__lte=today + datetime.timedelta(days=30)),
        jobs._not_reminded(jobs.FILING, "commitment_30", "commitment_deadline"),
        status=Status.APPROVED,
        basis=Basis.COMMITMENT,
        materials_accepted_at__isnull=True,
    ).values("id", "number", "commitment_deadline", "person__user_id")
    batch = due.filter(id__gt=0).order_by("id")[: jobs.BATCH]  # as `jobs._batches` reads it
    plans.append(("commitment reminder (30 days)", batch.explain(), "filing_commitment_due"))
    ok = True
    for label, plan, index in plans:
        uses = index in plan
        ok &= uses
        print(f"query plan of the {label} path (index {index}: {'yes' if uses else 'NO'}):")
        print("\n".join("  " + line for line in plan.splitlines()[:14]))
    return ok


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
    persons = max(args.filings // 5, 1)
    commitments = len(range(1, persons, 25))
    loaded = (
        Filing.objects.count() == args.filings + commitments
        and not InsuredPerson.objects.filter(user__isnull=True).exists()
    )
    if not loaded:
        print("loading data (first run only)…")
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE filings_filing_hospitals, filings_filing, portal_insuredperson, "
                "portal_auditevent, portal_notification, portal_reminder, auth_user CASCADE"
            )
        province, _ = Province.objects.get_or_create(code="990000", defaults={"name": "基准省"})
        region, _ = Region.objects.get_or_create(
            code="990001", defaults={"name": "基准", "province": province}
        )
        place, _ = Region.objects.get_or_create(
            code="990002", defaults={"name": "就医地", "province": province}
        )
        now = timezone.now()
        with connection.cursor() as cursor:
            with cursor.copy(
                "COPY auth_user (password, is_superuser, username, first_name, last_name, "
                "email, is_staff, is_active, date_joined) FROM STDIN"
            ) as copy:
                for i in range(persons):
                    copy.write_row(
                        ("!", False, f"b{i}", "", "", f"b{i}@example.cn", False, True, now)
                    )
            cursor.execute("SELECT min(id) FROM auth_user")
            first_user = cursor.fetchone()[0]
            with cursor.copy(
                "COPY portal_insuredperson (user_id, name, id_number, id_hash, "
                "social_security_no, region_id, scheme, retired, active, created_at)"
                " FROM STDIN"
            ) as copy:
                for i in range(persons):
                    copy.write_row(
                        (
                            first_user + i,
                            "基准",
                            "x",
                            f"h{i:063d}",
                            "",
                            region.pk,
                            "employee",
                            False,
                            True,
                            now,
                        )
                    )
            first = InsuredPerson.objects.order_by("pk").values_list("pk", flat=True).first()
            columns = (
                "number, person_id, insured_region_id, type, subtype, status, "
                "place_province_id, place_region_id, covers_inpatient, covers_general_outpatient, "
                "covers_chronic_outpatient, valid_from, valid_until, basis, commitment_deadline, "
                "referral_source, diagnosis, referral_condition, attending_doctor, "
                "director_signed_by, medical_office_signed_by, disease, agent_name, "
                "agent_relationship, decision_note, created_at, updated_at"
            )

            def row(number, person, kind, subtype="", basis="", deadline=None):
                blank = ("",) * 10
                return (
                    (number, person, region.pk, kind, subtype, "approved", province.pk)
                    + (place.pk, True, True, False, today, far, basis, deadline)
                    + blank
                    + (now, now)
                )

            with cursor.copy(f"COPY filings_filing ({columns}) FROM STDIN") as copy:
                for i in range(args.filings):
                    copy.write_row(row(f"J{i:011d}", first + i % persons, "temporary"))
                # Long-term filings by commitment, one per 25 people, deadlines 1 to 180 days
                # ahead: the reminder and revocation paths see a realistic partial index.
                for i in range(1, persons, 25):
                    deadline = today + datetime.timedelta(days=1 + i % 180)
                    copy.write_row(
                        row(
                            f"C{i:011d}",
                            first + i,
                            "long_term",
                            "long_term_resident",
                            "commitment",
                            deadline,
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
            cursor.execute(
                "TRUNCATE portal_auditevent, portal_notification, portal_jobrun, portal_reminder"
            )
            cursor.execute("VACUUM ANALYZE filings_filing")

    def make_due(every: int):
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE filings_filing SET valid_until = %s "
                "WHERE type = 'temporary' AND id %% %s = 0",
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
            ok &= print_plans(today)
        job_time, job_rows = job()
        reset()
        make_due(every)
        raw_time, raw_rows = raw_update()
        ratio = job_time / raw_time
        print(
            f"{label:22s} job {job_time * 1000:8.1f} ms for {job_rows:,} rows (with audit events "
            f"and notifications);  raw UPDATE {raw_time * 1000:8.1f} ms for {raw_rows:,} rows;  "
            f"ratio {ratio:.2f}"
        )
        if every == 4:
            ok &= ratio <= 1.3
    reset()
    print(
        "GOAL MET"
        if ok
        else "GOAL NOT MET (goal: backlog ratio <= 1.3, index scans on the nightly paths)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
