"""Eligibility benchmark: the hot path against a minimal one-query Django view, same run.

    .venv/bin/python bench/bench_eligibility.py [--filings 1000000] [--duration 15] [--rounds 3]

Loads (once; reused on later runs) a realistic volume into PostgreSQL (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/portal_bench): 20,000 hospitals, 3,000 API keys, 600,000
insured persons and 1,000,000 filings. Then starts gunicorn on loopback and measures with wrk:
(a) GET /bench/minimal (one indexed query) and (b) POST /api/v1/eligibility with random people
and keys. Prints requests/s and p99 of both and the ratios. Goal: (b) >= 0.6x (a) in throughput
and (b)'s p99 <= 2x (a)'s. With --rounds N, (a) and (b) are measured alternately N times and
their medians compared, which is steadier on a machine busy with other work.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
os.environ.setdefault("HOSPITAL_KEY_RATE", "100000000/min")

AREAS = ["210102", "232701", "210202", "230102", "460202", "232721", "210103", "230103"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "秀兰建国伟芳明丽国强敏静磊军洋勇艳杰娟涛超"


def id_number(i: int) -> str:
    from stdnum.cn import ric

    area = AREAS[i % len(AREAS)]
    born = datetime.date(1940, 1, 1) + datetime.timedelta(days=(i // len(AREAS)) % 25000)
    seq = (i // (len(AREAS) * 25000)) % 1000
    body = f"{area}{born:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def person_name(i: int) -> str:
    return SURNAMES[i % 20] + GIVEN[(i // 20) % 20] + GIVEN[(i // 400) % 20]


def ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def load(n_filings: int, n_hospitals: int, n_keys: int, out) -> list[str]:
    """Load the volume (idempotent: skipped when already there). Returns the plain keys."""
    from django.db import connection
    from django.utils import timezone

    from filings.models import Filing
    from hospitals.models import ApiKey, Hospital
    from hospitals.services import api_key_create
    from portal.lib import idnumbers
    from portal.models import InsuredPerson, Province, Region

    db_name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    keys_file = ROOT / "bench" / "out" / f"keys-{db_name}.json"
    if Filing.objects.count() >= n_filings and keys_file.exists():
        print(f"reusing loaded data: {Filing.objects.count():,} filings", file=out)
        return json.loads(keys_file.read_text())

    print("loading data (first run only)…", file=out)
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE hospitals_accesslog, hospitals_apikey, filings_filing_hospitals, "
            "filings_filing, portal_insuredperson, hospitals_hospital CASCADE"
        )
    province, _ = Province.objects.get_or_create(code="990000", defaults={"name": "基准省"})
    regions = []
    for r in range(300):
        region, _ = Region.objects.get_or_create(
            code=f"99{r:04d}",
            defaults={
                "name": f"基准统筹区{r}",
                "province": province,
                "measures": "daxinganling" if r % 3 == 0 else "liaoning",
            },
        )
        regions.append(region.pk)
    now = timezone.now()
    with connection.cursor() as cursor:
        with cursor.copy(
            "COPY hospitals_hospital (code, name, name_en, province_id, region_id, level, kind, "
            "ownership, inpatient, general_outpatient, chronic_outpatient, "
            "resettlement_designated, pinyin, initials, suspension_reason) FROM STDIN"
        ) as copy:
            for h in range(n_hospitals):
                copy.write_row(
                    (
                        f"HB{h:010d}",
                        f"基准医院{h}",
                        "",
                        province.pk,
                        regions[h % 300],
                        1 + h % 3,
                        "general",
                        "public",
                        True,
                        True,
                        h % 2 == 0,
                        False,
                        "",
                        "",
                        "",
                    )
                )
    hospital_ids = list(Hospital.objects.order_by("pk").values_list("pk", flat=True))
    cipher = InsuredPerson._meta.get_field("id_number").get_prep_value("000000000000000000")
    n_persons = max(1, n_filings * 3 // 5)
    with connection.cursor() as cursor:
        with cursor.copy(
            "COPY portal_insuredperson (name, id_number, id_hash, social_security_no, "
            "region_id, scheme, retired, active, created_at) FROM STDIN"
        ) as copy:
            for i in range(n_persons):
                copy.write_row(
                    (
                        person_name(i),
                        cipher,
                        idnumbers.id_hash(id_number(i)),
                        "",
                        regions[i % 300],
                        "employee" if i % 3 else "resident",
                        i % 4 == 0,
                        True,
                        now,
                    )
                )
    first_person = InsuredPerson.objects.order_by("pk").values_list("pk", flat=True).first()
    today = timezone.localdate()
    types = ["long_term", "referral", "temporary", "chronic_outpatient"]
    with connection.cursor() as cursor:
        with cursor.copy(
            "COPY filings_filing (number, person_id, insured_region_id, type, subtype, status, "
            "place_province_id, place_region_id, covers_inpatient, covers_general_outpatient, "
            "covers_chronic_outpatient, start_date, valid_from, valid_until, basis, "
            "commitment_deadline, referral_source, receiving_hospital_id, diagnosis, "
            "referral_condition, attending_doctor, director_signed_by, "
            "medical_office_signed_by, disease, agent_name, agent_relationship, decision_note, "
            "relatives_home, created_at, updated_at) FROM STDIN"
        ) as copy:
            for i in range(n_filings):
                p = i % n_persons
                kind = "long_term" if i < n_persons else types[1 + i % 3]
                status = random.choices(["approved", "submitted", "expired"], [85, 5, 10])[0]
                start = today - datetime.timedelta(days=random.randint(1, 300))
                until = None if kind == "long_term" else start + datetime.timedelta(days=180)
                basis = ("commitment" if i % 5 == 0 else "materials") if kind == "long_term" else ""
                copy.write_row(
                    (
                        f"B{i:011d}",
                        first_person + p,
                        regions[p % 300],
                        kind,
                        "resettled_retiree" if kind == "long_term" else "",
                        status,
                        province.pk,
                        regions[(p + 1 + i % 7) % 300],
                        True,
                        True,
                        kind == "chronic_outpatient",
                        start,
                        start,
                        until,
                        basis,
                        start + datetime.timedelta(days=180) if basis == "commitment" else None,
                        "e_referral" if kind == "referral" else "",
                        hospital_ids[i % n_hospitals] if kind == "referral" else None,
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        False,
                        now,
                        now,
                    )
                )
        # A third of the long-term filings chose three hospitals (Daxinganling style).
        cursor.execute(
            "INSERT INTO filings_filing_hospitals (filing_id, hospital_id) "
            "SELECT f.id, h.id FROM filings_filing f JOIN LATERAL ("
            "  SELECT id FROM hospitals_hospital WHERE region_id = f.place_region_id LIMIT 3"
            ") h ON true WHERE f.type = 'long_term' AND f.id % 3 = 0"
        )
        # Vacuumed as well as analysed: otherwise autovacuum works through the fresh tables
        # during the first run's rounds and its figures are not the steady state's.
        cursor.execute("VACUUM ANALYZE")
    plain_keys = []
    for k in range(n_keys):
        hospital = Hospital.objects.get(pk=hospital_ids[(k * 7) % n_hospitals])
        _key, plain = api_key_create(hospital=hospital, name=f"bench {k}")
        plain_keys.append(plain)
    keys_file.parent.mkdir(parents=True, exist_ok=True)
    keys_file.write_text(json.dumps(plain_keys))
    print(
        f"loaded {n_hospitals:,} hospitals, {n_persons:,} persons, {n_filings:,} filings, "
        f"{ApiKey.objects.count():,} keys in {time.monotonic() - started:.0f} s",
        file=out,
    )
    return plain_keys


LUA_TEMPLATE = """
local bodies = {}
local paths = {}
local keys = {}
local n = 0
for line in io.lines("%(data)s") do
  local key, path, body = line:match("([^\\t]*)\\t([^\\t]*)\\t(.*)")
  n = n + 1
  keys[n] = key; paths[n] = path; bodies[n] = body
end
math.randomseed(os.time())
request = function()
  local i = math.random(n)
  if bodies[i] == "" then
    return wrk.format("GET", paths[i], {}, nil)
  end
  local headers = {}
  headers["Authorization"] = "Bearer " .. keys[i]
  headers["Content-Type"] = "application/json"
  return wrk.format("POST", paths[i], headers, bodies[i])
end
"""


def write_requests(path: Path, kind: str, keys: list[str], n_persons: int) -> None:
    from portal.lib import idnumbers

    rng = random.Random(42)
    care = ["inpatient", "general_outpatient", "chronic_outpatient"]
    with path.open("w") as f:
        for _ in range(20000):
            i = rng.randrange(n_persons)
            if kind == "minimal":
                f.write(f"\t/bench/minimal?h={idnumbers.id_hash(id_number(i))}\t\n")
            else:
                body = json.dumps(
                    {
                        "id_number": id_number(i),
                        "name": person_name(i),
                        "care_type": rng.choice(care),
                    },
                    ensure_ascii=False,
                )
                f.write(f"{rng.choice(keys)}\t/api/v1/eligibility\t{body}\n")


def wrk(url: str, lua: Path, duration: int, connections: int) -> tuple[float, float, str]:
    result = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(lua), url],
        capture_output=True,
        text=True,
        check=True,
    )
    text = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", text)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return rps, float(p99.group(1)) * scale, non2xx.group(1) if non2xx else "0"


def _median(measured: list[tuple[float, float, str]]) -> tuple[float, float, str]:
    """Median throughput and median p99 of the rounds; non-2xx summed."""
    rps = statistics.median(m[0] for m in measured)
    p99 = statistics.median(m[1] for m in measured)
    return rps, p99, str(sum(int(m[2]) for m in measured))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filings", type=int, default=1_000_000)
    parser.add_argument("--hospitals", type=int, default=20_000)
    parser.add_argument("--keys", type=int, default=3_000)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure (a) and (b) alternately this many times and compare the medians "
        "(steadier on a machine that is busy with other work)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2

    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    keys = load(args.filings, args.hospitals, args.keys, sys.stdout)
    n_persons = max(1, args.filings * 3 // 5)
    tmp = Path(tempfile.mkdtemp(prefix="bench-elig-"))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings_bench"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{args.port}"
    from hospitals.models import AccessLog

    logged_before = AccessLog.objects.count()
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/bench/minimal?h=x", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        runs: dict[str, list] = {"minimal": [], "eligibility": []}
        scripts = {}
        for kind in runs:
            data = tmp / f"{kind}.tsv"
            write_requests(data, kind, keys, n_persons)
            scripts[kind] = tmp / f"{kind}.lua"
            scripts[kind].write_text(LUA_TEMPLATE % {"data": data})
        for round_ in range(args.rounds):
            for kind, lua in scripts.items():
                if round_ == 0:
                    wrk(base, lua, 3, args.connections)  # warm-up: caches, connections
                runs[kind].append(wrk(base, lua, args.duration, args.connections))
            if args.rounds > 1:
                (a_rps, a_p99, _a), (b_rps, b_p99, _b) = (
                    runs["minimal"][-1],
                    runs["eligibility"][-1],
                )
                print(
                    f"round {round_ + 1}: (a) {a_rps:.1f} req/s p99 {a_p99:.2f} ms, "
                    f"(b) {b_rps:.1f} req/s p99 {b_p99:.2f} ms, ratio {b_rps / a_rps:.2f}, "
                    f"p99 ratio {b_p99 / a_p99:.2f}"
                )
        results = {kind: _median(measured) for kind, measured in runs.items()}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)

    logged = AccessLog.objects.count() - logged_before
    (a_rps, a_p99, a_err), (b_rps, b_p99, b_err) = results["minimal"], results["eligibility"]
    ratio, p99_ratio = b_rps / a_rps, b_p99 / a_p99
    if args.rounds > 1:
        print(f"medians of {args.rounds} alternating rounds:")
    print(f"(a) minimal one-query view : {a_rps:9.1f} req/s  p99 {a_p99:7.2f} ms  non-2xx {a_err}")
    print(f"(b) POST /api/v1/eligibility: {b_rps:9.1f} req/s  p99 {b_p99:7.2f} ms  non-2xx {b_err}")
    print(f"access-log rows written during the run: {logged:,} (one per check)")
    print(f"throughput ratio (b)/(a) = {ratio:.2f}  (goal >= 0.60)")
    print(f"p99 ratio        (b)/(a) = {p99_ratio:.2f}  (goal <= 2.00)")
    ok = ratio >= 0.6 and p99_ratio <= 2.0 and b_err == "0"
    print("GOAL MET" if ok else "GOAL NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
