"""Admin list pages at a production volume: how long an agency reviewer and a superuser wait.

    .venv/bin/python bench/bench_admin.py [--rounds N] [--explain] [--scale F]

Loads, once, into its own PostgreSQL database (`portal_benchadmin`) the demo (`seed_demo
--no-history`) plus a few years of work of two regions (Shenyang, the demo's `agency_shenyang`,
and Daxinganling): 200,000 insured persons with accounts, 1,000,000 filings (600 a region
waiting in the *submitted* queue), 3,000,000 audit events, 1,000,000 notifications,
2,000,000 access-log entries and 1,000,000 direct settlements (300 a region held for review),
over two years, and 300 of Shenyang's filings by commitment whose supplied proof awaits review.
About four minutes the first time.

Then signs in as `agency_shenyang` (password and TOTP, as a reviewer does) and as `admin`, and
requests each busy list page of the admin `--rounds` times after one untimed request (Django's
test client in this process, DEBUG off, PostgreSQL), a deep page of the lists with actions (a
page past the 100 offered is the 100th) and the confirmation pages of "select all" over the
queues (hundreds of rows, in a number of queries that does not grow with them): prints the
median wall time, the number of queries and the slowest query of each page. `--explain` also
prints the plan of each page's slowest query. `--scale 0.001` loads a thousandth of the volume
(a quick check that the script runs).

Goal (PASS/FAIL, exit 1 on a FAIL): every page's median under 500 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_benchadmin")
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"

GOAL_MS = 500
VOLUME = {
    "persons": 200_000,
    "filings": 1_000_000,
    "submitted": 600,  # per region
    "events": 3_000_000,
    "notes": 1_000_000,
    "log": 2_000_000,
    "settlements": 1_000_000,
    "held": 300,  # per region
    "supplied": 300,  # Shenyang's commitment filings whose supplied proof awaits review
}
DAYS = 730

PAGES = [
    ("index, what waits", "admin:index", ""),
    ("filings", "admin:filings_filing_changelist", ""),
    ("filings, submitted queue", "admin:filings_filing_changelist", "?status__exact=submitted"),
    ("filings, search by number", "admin:filings_filing_changelist", "?q={number}"),
    ("insured persons", "admin:portal_insuredperson_changelist", ""),
    ("audit events", "admin:portal_auditevent_changelist", ""),
    ("audit events, about filings", "admin:portal_auditevent_changelist", "?about=filing"),
    ("audit events, past 7 days", "admin:portal_auditevent_changelist", "?created_at__gte={week}"),
    ("audit events, counts asked", "admin:portal_auditevent_changelist", "?_facets=True"),
    ("notifications", "admin:portal_notification_changelist", ""),
    ("access log", "admin:hospitals_accesslog_changelist", ""),
    ("access log, past 7 days", "admin:hospitals_accesslog_changelist", "?created_at__gte={week}"),
    ("settlements", "admin:settlement_settlement_changelist", ""),
    (
        "settlements, held queue",
        "admin:settlement_settlement_changelist",
        "?status__exact=held_for_review",
    ),
    ("settlements, a policy year", "admin:settlement_settlement_changelist", "?policy_year={year}"),
    # The last page's link of a list with actions: the 100th page, not an OFFSET into it all.
    ("filings, page 800", "admin:filings_filing_changelist", "?p=800"),
    ("settlements, page 1000", "admin:settlement_settlement_changelist", "?p=1000"),
]
# "Select all" over a queue, then an action: its confirmation page lists every row (nothing is
# done until it is confirmed).
CONFIRMATIONS = [
    (
        "submitted queue: approve all",
        "admin:filings_filing_changelist",
        "?status__exact=submitted",
        "approve",
    ),
    (
        "supplied proofs: accept all",
        "admin:filings_filing_changelist",
        "?commitment=awaiting_review",
        "accept_materials",
    ),
]


def load(volume: dict[str, int], out) -> None:
    """The volume, in SQL on the server (idempotent: skipped when already there)."""
    from django.core.management import call_command
    from django.db import connection

    from portal.models import AuditEvent, Region

    if AuditEvent.objects.count() >= volume["events"]:
        return
    started = time.perf_counter()
    print("loading data (first run only, about four minutes)…", file=out, flush=True)
    call_command("seed_demo", "--no-history", verbosity=0)
    regions = [Region.objects.get(code="210100").pk, Region.objects.get(code="232700").pk]
    place = Region.objects.get(code="230100")
    params = {
        "r0": regions[0],
        "r1": regions[1],
        "province": place.province_id,
        "place": place.pk,
        **volume,
        "days": DAYS,
    }
    statements = [
        # Persons with accounts, half in each region.
        """INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
            is_staff, is_active, date_joined)
           SELECT '!', false, 'bench' || i, '', '', 'bench' || i || '@example.cn', false, true,
            now() FROM generate_series(1, %(persons)s) i""",
        """INSERT INTO portal_insuredperson (user_id, name, id_number, id_hash,
            social_security_no, region_id, scheme, retired, active, created_at)
           SELECT u.id, '基准' || u.id, 'x', md5(u.username) || md5(u.email), '',
            CASE WHEN u.id %% 2 = 0 THEN %(r0)s ELSE %(r1)s END, 'employee', false, true, now()
           FROM auth_user u WHERE u.username LIKE 'bench%%'""",
        # Filings: a person's region is the filing's; most approved or expired, a queue waiting.
        """INSERT INTO filings_filing (number, person_id, insured_region_id, type, subtype,
            status, place_province_id, place_region_id, covers_inpatient,
            covers_general_outpatient, covers_chronic_outpatient, valid_from, valid_until, basis,
            referral_source, diagnosis, referral_condition, attending_doctor,
            director_signed_by, medical_office_signed_by, disease, agent_name,
            agent_relationship, decision_note, relatives_home, submitted_at, created_at,
            updated_at)
           SELECT 'BA' || CASE WHEN p.region_id = %(r0)s THEN '210100' ELSE '232700' END
                || lpad(i::text, 7, '0'),
            p.id, p.region_id, 'temporary', '', CASE WHEN i %% 3 = 0 THEN 'expired'
                ELSE 'approved' END, %(province)s, %(place)s, true, true, false,
            current_date - (i %% %(days)s), current_date - (i %% %(days)s) + 180, '',
            '', '', '', '', '', '', '', '', '', '', false,
            now() - make_interval(days => i %% %(days)s), now() - make_interval(days =>
                i %% %(days)s), now()
           FROM generate_series(1, %(filings)s) i
           JOIN portal_insuredperson p ON p.id = (SELECT min(id) FROM portal_insuredperson
                WHERE user_id IS NOT NULL AND name LIKE '基准%%') + i %% %(persons)s""",
        """UPDATE filings_filing SET status = 'submitted', valid_from = NULL, valid_until = NULL
           WHERE id IN (SELECT id FROM filings_filing WHERE insured_region_id = %(r0)s
                AND number LIKE 'BA210100%%' ORDER BY id DESC LIMIT %(submitted)s)
              OR id IN (SELECT id FROM filings_filing WHERE insured_region_id = %(r1)s
                AND number LIKE 'BA232700%%' ORDER BY id DESC LIMIT %(submitted)s)""",
        # What was done to them, as the services and jobs write it.
        """INSERT INTO portal_auditevent (actor_role, action, object_type, object_id,
            object_repr, region_id, from_state, to_state, reason, created_at)
           SELECT CASE WHEN i %% 4 = 0 THEN 'system' WHEN i %% 4 = 1 THEN 'agency'
                ELSE 'insured' END,
            (ARRAY['filing.submit', 'filing.approve', 'filing.expire', 'filing.return',
                'filing.reject', 'filing.cancel', 'filing.change', 'settlement.create',
                'claim.submit', 'claim.approve', 'filing.revoke', 'filing.materials_accept'])
                [1 + i %% 12],
            'filings.filing', (i %% %(filings)s)::text, 'BA' || lpad(i::text, 12, '0'),
            CASE WHEN i %% 2 = 0 THEN %(r0)s ELSE %(r1)s END, 'submitted', 'approved', '',
            now() - make_interval(secs => (i::float / %(events)s) * %(days)s * 86400)
           FROM generate_series(1, %(events)s) i""",
        """INSERT INTO portal_notification (user_id, notice, params, subject, body, url,
            created_at)
           SELECT p.user_id, 'filing_expired', jsonb_build_object('n', 'BA' || i), '', '',
            '/filings/', now() - make_interval(secs => (i::float / %(notes)s) * %(days)s * 86400)
           FROM generate_series(1, %(notes)s) i
           JOIN portal_insuredperson p ON p.id = (SELECT min(id) FROM portal_insuredperson
                WHERE name LIKE '基准%%') + i %% %(persons)s""",
        """INSERT INTO hospitals_accesslog (subject_hash, purpose, outcome, created_at,
            agency_region_id, subject_region_id, hospital_id)
           SELECT md5(i::text) || md5((i + 1)::text),
            (ARRAY['eligibility', 'settlement', 'verify'])[1 + i %% 3],
            (ARRAY['found', 'not_found', 'refused'])[1 + i %% 3],
            now() - make_interval(secs => (i::float / %(log)s) * %(days)s * 86400),
            NULL, CASE WHEN i %% 2 = 0 THEN %(r0)s ELSE %(r1)s END,
            (SELECT array_agg(id) FROM (SELECT id FROM hospitals_hospital ORDER BY id LIMIT 5) h)
                [1 + i %% 5]
           FROM generate_series(1, %(log)s) i""",
        # As autovacuum leaves a table in steady state: counts read the index alone.
        "VACUUM ANALYZE",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params)
    print(f"loaded in {time.perf_counter() - started:.0f} s", file=out, flush=True)


def load_settlements(volume: dict[str, int], out) -> None:
    """Direct settlements of the same persons at five hospitals, a few held for review."""
    from django.db import connection

    from settlement.models import Settlement

    if Settlement.objects.count() >= volume["settlements"]:
        return
    started = time.perf_counter()
    print("loading settlements (first run only)…", file=out, flush=True)
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO settlement_settlement (number, hospital_id, person_id,
                insured_region_id, idempotency_key, request_hash, category, policy_year,
                care_type, admitted_on, discharged_on, total, fund_pay, person_pay, breakdown,
                flags, items, ytd_fund_paid, ytd_deductible_paid, adjustment, status,
                review_reason, created_at)
               SELECT 'JS' || lpad(i::text, 12, '0'),
                (SELECT array_agg(id) FROM (SELECT id FROM hospitals_hospital ORDER BY id
                    LIMIT 5) h)[1 + i %% 5],
                p.id, p.region_id, '', md5(i::text), 'long_term',
                extract(year FROM now() - make_interval(days => i %% %(days)s))::int,
                'inpatient', current_date - (i %% %(days)s) - 5, current_date - (i %% %(days)s),
                1000.00, 700.00, 300.00, '{}', '[]', '[]', 0, 0, '{}',
                CASE WHEN i %% %(every)s = 0 THEN 'held_for_review' ELSE 'settled' END, '',
                now() - make_interval(secs => (1 - i::float / %(n)s) * %(days)s * 86400)
               FROM generate_series(1, %(n)s) i
               JOIN portal_insuredperson p ON p.id = (SELECT min(id) FROM portal_insuredperson
                    WHERE name LIKE '基准%%') + i %% %(persons)s""",
            {
                "n": volume["settlements"],
                "every": max(volume["settlements"] // (2 * volume["held"]), 1),
                "days": DAYS,
                "persons": volume["persons"],
            },
        )
        cursor.execute("VACUUM ANALYZE settlement_settlement")
    print(f"loaded in {time.perf_counter() - started:.0f} s", file=out, flush=True)


def load_supplements(volume: dict[str, int], out) -> None:
    """Shenyang filings by commitment, approved a month ago, each with a proof of residence
    supplied since: the queue of supplemented materials awaiting review."""
    from django.db import connection

    from filings.models import Material

    if Material.objects.filter(stored_name__startswith="bench-").exists():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH chosen AS (
                 UPDATE filings_filing SET basis = 'commitment', materials_accepted_at = NULL,
                    decided_at = now() - interval '30 days',
                    commitment_deadline = current_date + 60
                 WHERE id IN (SELECT id FROM filings_filing WHERE number LIKE 'BA210100%%'
                    AND status = 'approved' ORDER BY id DESC LIMIT %(n)s)
                 RETURNING id)
               INSERT INTO filings_material (kind, stored_name, original_name, content_type,
                size, uploaded_at, filing_id)
               SELECT 'residence_certificate', 'bench-' || id, 'residence.png', 'image/png',
                1000, now() - interval '1 day', id FROM chosen""",
            {"n": volume["supplied"]},
        )
        cursor.execute("VACUUM ANALYZE filings_filing")
    print(f"{volume['supplied']} supplied proofs awaiting review", file=out, flush=True)


def sign_in(username: str):
    from django.test import Client
    from django.urls import reverse

    from portal.management.commands.demo_totp import current_code

    client = Client()
    client.post(reverse("account_login"), {"login": username, "password": "Demo#2026"})
    client.post(reverse("mfa_authenticate"), {"code": current_code(username)})
    return client


def measure(client, url: str, rounds: int, explain: bool, data: dict | None = None):
    """`url` requested (posted with `data`, if any) once untimed, then `rounds` times."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def request():
        return client.get(url) if data is None else client.post(url, data)

    response = request()
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    times = []
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = request()
            times.append(time.perf_counter() - started)
    slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
    plan = ""
    if explain and slowest["sql"].lstrip().upper().startswith("SELECT"):
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
            plan = "\n".join("      " + row[0] for row in cursor.fetchall()[:14])
    return statistics.median(times), len(queries.captured_queries), slowest, plan


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="plan of each slowest query")
    parser.add_argument("--scale", type=float, default=1.0, help="share of the full volume")
    args = parser.parse_args()
    from bench.bench_eligibility import ensure_database

    ensure_database()
    import django

    django.setup()
    import datetime

    from django.core.management import call_command
    from django.urls import reverse

    from filings.models import Filing

    call_command("migrate", verbosity=0)
    volume = {name: max(int(n * args.scale), 10) for name, n in VOLUME.items()}
    load(volume, sys.stdout)
    load_settlements(volume, sys.stdout)
    load_supplements(volume, sys.stdout)
    week = (datetime.date.today() - datetime.timedelta(days=7)).isoformat()
    year = datetime.date.today().year
    number = (
        Filing.objects.filter(number__startswith="BA210100", status="approved")
        .order_by("-id")
        .values_list("number", flat=True)[volume["filings"] // 200]
    )
    print(
        f"admin list pages over {volume['filings']:,} filings, {volume['events']:,} audit "
        f"events, {volume['notes']:,} notifications, {volume['log']:,} access-log entries "
        f"(two regions, {DAYS} days); median of {args.rounds} requests after one untimed, "
        f"DEBUG off, PostgreSQL; goal: every page under {GOAL_MS} ms",
        flush=True,
    )
    worst = 0.0
    for username in ("agency_shenyang", "admin"):
        client = sign_in(username)
        pages = [
            (label, reverse(name) + query.format(week=week, number=number, year=year), None)
            for label, name, query in PAGES
        ]
        # Django asks for one row ticked besides "select all".
        one = Filing.objects.filter(number__startswith="BA210100").values_list("pk")[0][0]
        for label, name, query, action in CONFIRMATIONS:
            data = {"action": action, "select_across": "1", "index": "0", "_selected_action": one}
            pages.append((label, reverse(name) + query, data))
        for label, url, data in pages:
            seconds, count, slowest, plan = measure(client, url, args.rounds, args.explain, data)
            worst = max(worst, seconds)
            verdict = "PASS" if seconds * 1000 < GOAL_MS else "FAIL"
            print(
                f"  {username:16s} {label:28s} {seconds * 1000:8.1f} ms {verdict}  "
                f"{count:2d} queries, slowest {float(slowest['time']) * 1000:7.1f} ms: "
                f"{slowest['sql'][:90]}",
                flush=True,
            )
            if plan:
                print(plan)
    met = worst * 1000 < GOAL_MS
    print(
        f"{'GOAL MET' if met else 'GOAL NOT MET'}: slowest page {worst * 1000:.0f} ms "
        f"(goal: every page under {GOAL_MS} ms)"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
