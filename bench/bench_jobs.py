"""Nightly job benchmark: the expiry job against a raw SQL UPDATE of the same rows.

    .venv/bin/python bench/bench_jobs.py [--filings 1000000] [--rounds 3]

PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/portal_benchjobs; give
another size its own database, the data are reloaded when the size differs): 1,000,000 filings
(--filings N for another size; `--filings 1000` checks the script in seconds) of 200,000 people
with accounts, so the job writes a notification per change as in production; 4% of the people
also have a long-term filing by commitment whose deadline is still ahead. The nightly case has
about 0.2% of the temporary filings due, the backlog about 25%.

What is compared, on the same due rows, each from the same state (due rows set, table vacuumed
and analysed, CHECKPOINT) and timed to its commit:
- job: `filings.jobs.apply_changes(today)`, all kinds of change, each in batches of
  `jobs.BATCH` rows, one transaction per batch: the conditional UPDATE ... RETURNING plus, for
  every changed filing, an audit event and a notification to the person (deferred foreign-key
  checks included).
- raw UPDATE: one `UPDATE filings_filing SET status = 'expired', updated_at = now() WHERE ...`,
  no audit events, no notifications (the issue's yardstick).
- raw SQL of the same writes (for information): that UPDATE ... RETURNING feeding the same
  INSERTs of audit events and notifications, one statement, no batches: the floor for the job's
  writes.
Each round runs the three back to back, the order rotating between rounds (--rounds, default
3); the goal is judged on the median of the per-round ratios. The PostgreSQL server process's
CPU time is printed too (when the server runs on this machine): on a machine busy with other
work it is the steadier figure. Prints every figure and the query plans of the nightly expiry,
commitment revocation, referral course and commitment reminder paths.
Goals (PASS/FAIL each): the job <= 1.3x the raw UPDATE on the backlog, and an index scan on a
partial index on each nightly path.

`--breakdown` adds, for information, what the required writes cost on the backlog: the raw SQL of
the same writes run again inside a transaction that is rolled back (its deferred foreign-key
checks forced first), as it is, without the foreign keys of the audit event and notification
tables, and without their secondary indexes too (dropped inside that transaction only), beside the
raw UPDATE: the floor below which no job writing an audit event and a notification per changed
filing can go on this schema.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import statistics
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
        scan = re.compile(
            rf"(Index Scan|Index Only Scan) using {index} |Bitmap Index Scan on {index}"
        )
        uses = [
            ln.strip().removeprefix("->").strip() for ln in plan.splitlines() if scan.search(ln)
        ]
        ok &= bool(uses)
        verdict = "PASS" if uses else "FAIL"
        print(
            f"query plan of the {label} path: {verdict} (partial index {index}: "
            f"{uses[0] if uses else 'not used'})"
        )
        print("\n".join("  " + line for line in plan.splitlines()[:16]))
    return ok


def same_writes_sql(where: str) -> str:
    """The job's writes in raw SQL: the UPDATE of the rows matching `where` ... RETURNING
    feeding the INSERTs of an audit event and a notification per changed filing, one statement,
    no batches (parameters: today, notice)."""
    return f"""
        WITH changed AS (
            UPDATE filings_filing f SET status = 'expired', updated_at = now()
            WHERE {where}
            RETURNING f.id, f.number, f.person_id, f.insured_region_id, f.type,
                (SELECT v.code FROM portal_province v WHERE v.id = f.place_province_id)
                    AS province,
                (SELECT g.code FROM portal_region g WHERE g.id = f.place_region_id) AS region
        ), events AS (
            INSERT INTO portal_auditevent (actor_role, action, object_type, object_id,
                object_repr, region_id, from_state, to_state, reason, created_at)
            SELECT 'system', 'filing.expire', 'filings.filing', c.id::text, c.number,
                c.insured_region_id, 'approved', 'expired', 'expire_temporary', now()
            FROM changed c
        ), notes AS (
            INSERT INTO portal_notification (user_id, notice, params, subject, body, url,
                created_at)
            SELECT p.user_id, %(notice)s, jsonb_strip_nulls(jsonb_build_object('n', c.number,
                'type', c.type, 'province', c.province, 'region', c.region)), '', '',
                '/filings/' || c.number || '/', now()
            FROM changed c JOIN portal_insuredperson p ON p.id = c.person_id
            WHERE p.user_id IS NOT NULL
        )
        SELECT count(*) FROM changed"""


def breakdown(prepare, raw_where: str, today: datetime.date) -> None:
    """The backlog's required writes, with and without the log tables' foreign keys and
    secondary indexes (dropped inside a transaction that is rolled back), beside the UPDATE."""
    from django.db import connection

    from filings import jobs

    tables = ("portal_auditevent", "portal_notification")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)",
            [list(tables)],
        )
        foreign_keys = [f'ALTER TABLE {t} DROP CONSTRAINT "{c}"' for t, c in cursor.fetchall()]
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexname NOT LIKE '%%pkey'",
            [list(tables)],
        )
        indexes = [f'DROP INDEX "{name}"' for (name,) in cursor.fetchall()]
    update = f"UPDATE filings_filing SET status = 'expired', updated_at = now() WHERE {raw_where}"
    params = {"today": today, "notice": jobs.changes(today)[0].notice}
    writes = same_writes_sql(raw_where)
    variants = [
        ("raw UPDATE", [], update),
        ("same writes", [], writes),
        ("same writes, no foreign keys on the log tables", foreign_keys, writes),
        ("same writes, no foreign keys, no secondary indexes", foreign_keys + indexes, writes),
    ]
    print(
        f"breakdown of the backlog's writes ({len(foreign_keys)} foreign keys, "
        f"{len(indexes)} secondary indexes on {' and '.join(tables)}):"
    )
    base = None
    for label, before, sql in variants:
        prepare(4)
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            try:
                for statement in before:
                    cursor.execute(statement)
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                seconds = time.perf_counter() - started
            finally:
                cursor.execute("ROLLBACK")
        base = base or seconds
        print(
            f"  {label:52s} {seconds * 1000:9.1f} ms  ({seconds / base:.2f}x the UPDATE)",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--filings", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--breakdown", action="store_true", help="cost of the required writes")
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
                "agent_relationship, decision_note, relatives_home, created_at, updated_at"
            )

            def row(number, person, kind, subtype="", basis="", deadline=None):
                blank = ("",) * 10
                return (
                    (number, person, region.pk, kind, subtype, "approved", province.pk)
                    + (place.pk, True, True, False, today, far, basis, deadline)
                    + blank
                    + (False, now, now)
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

    due_day = today - datetime.timedelta(days=1)

    def prepare(every: int):
        """Every filing approved and valid until `far`, except each `every`th temporary one, due
        since yesterday; no audit events or notifications; vacuumed, analysed, checkpointed.
        Touches only the rows that differ, so a round's setup costs about what it measures."""
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE filings_filing SET status = 'approved' WHERE status <> 'approved'"
            )
            cursor.execute(
                "UPDATE filings_filing SET valid_until = CASE "
                "WHEN type = 'temporary' AND id %% %(every)s = 0 THEN %(due)s ELSE %(far)s END "
                "WHERE valid_until <> CASE "
                "WHEN type = 'temporary' AND id %% %(every)s = 0 THEN %(due)s ELSE %(far)s END",
                {"every": every, "due": due_day, "far": far},
            )
            cursor.execute(
                "TRUNCATE portal_auditevent, portal_notification, portal_jobrun, portal_reminder"
            )
            cursor.execute("VACUUM ANALYZE filings_filing")
            cursor.execute("CHECKPOINT")

    def written() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM portal_auditevent), "
                "(SELECT count(*) FROM portal_notification)"
            )
            return cursor.fetchone()

    raw_where = "status = 'approved' AND type = 'temporary' AND valid_until < %(today)s"

    def raw_update() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE filings_filing SET status = 'expired', updated_at = now() "
                f"WHERE {raw_where}",
                {"today": today},
            )
            return cursor.rowcount

    def raw_writes() -> int:
        notice = jobs.changes(today)[0].notice
        with connection.cursor() as cursor:
            cursor.execute(same_writes_sql(raw_where), {"today": today, "notice": notice})
            return cursor.fetchone()[0]

    def job() -> int:
        return sum(jobs.apply_changes(today).values())

    cases = {"job": job, "raw UPDATE": raw_update, "raw SQL, same writes": raw_writes}

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = Path(f"/proc/{cursor.fetchone()[0]}/stat")

    def backend_cpu() -> float | None:
        """CPU seconds used so far by this connection's PostgreSQL process (user + system),
        when the server runs on this machine: steadier than wall time when other work runs."""
        try:
            fields = backend.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def measure(every: int, name: str):
        prepare(every)
        cpu, started = backend_cpu(), time.perf_counter()
        rows = cases[name]()  # autocommit: each statement or batch committed when it returns
        seconds, cpu_end = time.perf_counter() - started, backend_cpu()
        return seconds, (cpu_end - cpu if cpu is not None else None), rows, written()

    def ratios(times: dict, name: str, base: str, cpus: dict) -> tuple[float, str]:
        per_round = [a / b for a, b in zip(times[name], times[base], strict=True)]
        median = statistics.median(per_round)
        cpu = (
            f"{statistics.median(cpus[name]) / statistics.median(cpus[base]):.2f}"
            if None not in cpus[name] + cpus[base] and statistics.median(cpus[base]) > 0
            else "n/a"
        )
        rounds = " ".join(f"{r:.2f}" for r in per_round)
        return median, (
            f"  {name} / {base}: per round {rounds}; median {median:.2f}; "
            f"backend CPU (medians) {cpu}"
        )

    print(
        f"{Filing.objects.count():,} filings. job = jobs.apply_changes(): every kind of change "
        f"in batches of {jobs.BATCH:,}, per changed filing the UPDATE + 1 audit event + "
        "1 notification; raw UPDATE = the same rows' UPDATE only; raw SQL, same writes = that "
        f"UPDATE ... RETURNING feeding the same INSERTs in one statement. {args.rounds} "
        "round(s), order rotating; wall time to commit, and the server process's CPU time."
    )
    ok = True
    names = list(cases)
    for label, every in (("nightly (~0.2% due)", 500), ("backlog (~25% due)", 4)):
        if every == 500:
            prepare(every)
            ok &= print_plans(today)
        times: dict[str, list[float]] = {name: [] for name in names}
        cpus: dict[str, list] = {name: [] for name in names}
        for r in range(args.rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                seconds, cpu, rows, (events, notes) = measure(every, name)
                times[name].append(seconds)
                cpus[name].append(cpu)
                cpu_text = f"{cpu:6.2f} s" if cpu is not None else "n/a"
                print(
                    f"  {label} round {r + 1}: {name:20s} {seconds * 1000:9.1f} ms "
                    f"(server CPU {cpu_text}); {rows:,} filings changed, {events:,} audit "
                    f"events, {notes:,} notifications",
                    flush=True,
                )
        medians = ", ".join(
            f"{name} {statistics.median(times[name]) * 1000:.1f} ms" for name in names
        )
        print(f"{label}: medians: {medians}")
        ratio, line = ratios(times, "job", "raw UPDATE", cpus)
        if every == 4:
            met = ratio <= 1.3
            ok &= met
            line += f"  -> {'PASS' if met else 'FAIL'} (goal: job <= 1.3x raw UPDATE, median)"
        print(line)
        print(ratios(times, "job", "raw SQL, same writes", cpus)[1], flush=True)
    if args.breakdown:
        breakdown(prepare, raw_where, today)
    prepare(500)
    print(
        "GOAL MET"
        if ok
        else "GOAL NOT MET (goal: backlog ratio <= 1.3, index scans on the nightly paths)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
