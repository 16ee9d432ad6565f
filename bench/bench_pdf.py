"""PDF benchmark: each form against a minimal one-page WeasyPrint document, same process.

    .venv/bin/python bench/bench_pdf.py

Goal: each form's warm render <= 1.5x the reference, <= 100 KB, first render <= 3x warm.

The first (cold) render of each form is measured in a fresh process of its own (this script
with `--cold KIND`), after Django and WeasyPrint are imported: template loading, fontconfig,
font loading and the first layout are in it. The warm figures come from one process that renders
the reference and the forms interleaved. Rendering is single-threaded and CPU-bound, so the
verdicts use the process's CPU time (stable on a shared machine); wall-clock times are printed
beside them.

Fails at once when WeasyPrint would not subset fonts with HarfBuzz (libharfbuzz-subset0 missing
or older than 4.1: WeasyPrint falls back silently to fontTools, a 15-50x slower path): the
library must load as WeasyPrint loads it, and a rendered CJK document must embed a subset font
(six-letter tag, a small fraction of the font file) with no fallback warning logged.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")

RUNS = 7
MINIMAL = (
    '<html><head><link rel="stylesheet" href="asset:pdf.css"></head>'
    "<body><h1>备案凭证</h1><p>参保人 王秀兰</p></body></html>"
)
# An embedded subset of the CJK font above this share of the whole font file means the
# font was not subset (wqy-microhei.ttc is about 5 MB; a subset for a form is tens of KB).
MAX_SUBSET_SHARE = 0.05


def timed(fn) -> float:
    """CPU seconds of this process spent in fn() (a busy machine does not inflate it)."""
    started = time.process_time()
    fn()
    return time.process_time() - started


def wall(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def setup_filing():
    """An in-memory database with one long-term filing that every form can print."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from filings.models import Filing
    from hospitals.models import Hospital
    from portal.models import InsuredPerson, Province, Region

    connection.creation.create_test_db(verbosity=0)
    call_command("migrate", verbosity=0)
    province = Province.objects.create(code="460000", name="海南省")
    region = Region.objects.create(code="460200", name="三亚市", province=province)
    home = Region.objects.create(code="232700", name="大兴安岭地区", province=province)
    person = InsuredPerson(name="王秀兰", region=home, scheme="employee")
    person.set_id_number("232701195603120223")
    person.save()
    hospitals = [
        Hospital.objects.create(
            code=f"H4602000000{i}",
            name=n,
            province=province,
            region=region,
            level=3,
            kind="general",
            ownership="public",
        )
        for i, n in enumerate(["三亚市人民医院", "海南省农垦三亚医院", "三亚市中医院"])
    ]
    today = timezone.localdate()
    filing = Filing.objects.create(
        number="BA2326110001",
        person=person,
        insured_region=home,
        type="long_term",
        subtype="resettled_retiree",
        status="approved",
        place_province=province,
        place_region=region,
        valid_from=today,
        valid_until=today + datetime.timedelta(days=365),
        basis="commitment",
        commitment_deadline=today + datetime.timedelta(days=180),
        receiving_hospital=hospitals[0],
        issuing_hospital=hospitals[1],
        attending_doctor="刘医生",
        diagnosis="冠心病",
        referral_condition="b",
    )
    filing.hospitals.set(hospitals)
    return Filing.objects.select_related(
        "person", "insured_region", "place_region", "place_province"
    ).get(pk=filing.pk)


def cold(kind: str) -> int:
    """In a fresh process: the first render of one form, then its warm renders."""
    filing = setup_filing()
    from filings import documents

    started = time.perf_counter()
    from portal.lib import pdf  # noqa: F401  (WeasyPrint's import is not part of a render)

    imported = time.perf_counter() - started
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    documents.render(filing, kind)
    first_wall = time.perf_counter() - started_wall
    first = time.process_time() - started_cpu
    warm = statistics.median(timed(lambda: documents.render(filing, kind)) for _ in range(RUNS))
    warm_wall = statistics.median(wall(lambda: documents.render(filing, kind)) for _ in range(RUNS))
    print(
        json.dumps(
            {
                "kind": kind,
                "import": imported,
                "first": first,
                "warm": warm,
                "first_wall": first_wall,
                "warm_wall": warm_wall,
            }
        )
    )
    return 0


def _embedded_fonts(content: bytes) -> list[tuple[str, int]]:
    """(BaseFont, decoded size of the embedded font program) of every font in the PDF."""
    import pypdf

    found = []
    for page in pypdf.PdfReader(io.BytesIO(content)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = (target.get("/FontDescriptor") or {}).get_object()
            program = next(
                (
                    descriptor[k]
                    for k in ("/FontFile2", "/FontFile3", "/FontFile")
                    if k in descriptor
                ),
                None,
            )
            size = len(program.get_object().get_data()) if program is not None else 0
            found.append((str(font["/BaseFont"]), size))
    return found


def harfbuzz_subset_problem() -> str | None:
    """Why WeasyPrint would not subset fonts with HarfBuzz here, or None when it does."""
    try:
        from weasyprint.text.ffi import harfbuzz, harfbuzz_subset
    except OSError as exc:
        return f"WeasyPrint's libraries do not load ({exc})"
    if harfbuzz_subset is None:
        return "libharfbuzz-subset0 is missing (apt-get install libharfbuzz-subset0)"
    if not harfbuzz.hb_version_atleast(4, 1, 0):
        return "HarfBuzz is older than 4.1: WeasyPrint would subset with fontTools"

    from portal.lib import pdf

    records: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = logging.getLogger("weasyprint")
    handler = Catch(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        content = pdf.render_html(MINIMAL)
    finally:
        logger.removeHandler(handler)
    fallback = [r.getMessage() for r in records if "subset" in r.getMessage().lower()]
    if fallback:
        return f"WeasyPrint did not subset with HarfBuzz: {fallback[0]}"
    fonts = _embedded_fonts(content)
    cjk = [(name, size) for name, size in fonts if "WenQuanYi" in name]
    if not cjk:
        return f"no embedded CJK font in a Chinese document (fonts: {fonts})"
    source = subprocess.run(
        ["fc-match", "-f", "%{file}", "WenQuanYi Micro Hei"], capture_output=True, text=True
    ).stdout.strip()
    whole = Path(source).stat().st_size if source and Path(source).is_file() else 5_000_000
    for name, size in cjk:
        tag = name.lstrip("/").split("+", 1)[0]
        if "+" not in name or len(tag) != 6 or not tag.isupper():
            return f"{name} is not a subset font (no six-letter subset tag)"
        if not 0 < size <= whole * MAX_SUBSET_SHARE:
            return f"{name}: {size:,} bytes embedded of a {whole:,}-byte font: not subset"
    name, size = cjk[0]
    print(f"HarfBuzz subsetting: {name} embedded as {size / 1024:.1f} KB of {whole / 1024:.0f} KB")
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", metavar="KIND", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold:
        return cold(args.cold)

    filing = setup_filing()
    problem = harfbuzz_subset_problem()
    if problem:
        print(f"FAIL: {problem}; WeasyPrint would fall back to a 15-50x slower path.")
        return 1
    from django.db import connection

    from filings import documents
    from portal.lib import pdf

    print(f"load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    firsts = {}
    for kind in documents.KINDS:
        child = subprocess.run(
            [sys.executable, __file__, "--cold", kind], capture_output=True, text=True
        )
        if child.returncode != 0:
            print(f"FAIL: the cold render of {kind} failed:\n{child.stderr[-2000:]}")
            return 1
        firsts[kind] = json.loads(child.stdout.strip().splitlines()[-1])

    forms = {kind: (lambda kind=kind: documents.render(filing, kind)) for kind in documents.KINDS}
    reference_fn = lambda: pdf.render_html(MINIMAL)  # noqa: E731
    for fn in [reference_fn, *forms.values()]:
        fn()  # warm every path before measuring
    times: dict[str, list[float]] = {"reference": [], **{kind: [] for kind in forms}}
    walls: dict[str, list[float]] = {"reference": [], **{kind: [] for kind in forms}}
    for _ in range(RUNS):  # interleaved, so a busy moment hits all alike
        for kind, fn in [("reference", reference_fn), *forms.items()]:
            times[kind].append(timed(fn))
            walls[kind].append(wall(fn))
    reference = statistics.median(times["reference"])
    ok = True
    print(
        f"reference (minimal one-page document): {reference * 1000:7.1f} ms CPU "
        f"({statistics.median(walls['reference']) * 1000:.1f} ms wall)"
    )
    for kind, fn in forms.items():
        warm = statistics.median(times[kind])
        size = len(fn())
        cold_run = firsts[kind]
        ratio, first_ratio = warm / reference, cold_run["first"] / cold_run["warm"]
        good = ratio <= 1.5 and size <= 100_000 and first_ratio <= 3
        ok &= good
        print(
            f"{kind:14s} warm {warm * 1000:6.1f} ms CPU = {ratio:4.2f}x ref  "
            f"{size / 1024:5.1f} KB  first (own process) {cold_run['first'] * 1000:6.1f} ms "
            f"= {first_ratio:4.2f}x its warm {cold_run['warm'] * 1000:5.1f} ms  "
            f"{'ok' if good else 'GOAL NOT MET'}"
        )
        print(
            f"{'':14s} wall: warm {statistics.median(walls[kind]) * 1000:6.1f} ms, "
            f"first {cold_run['first_wall'] * 1000:6.1f} ms, "
            f"its warm {cold_run['warm_wall'] * 1000:6.1f} ms"
        )
    connection.creation.destroy_test_db(":memory:", verbosity=0)
    print("GOAL MET" if ok else "GOAL NOT MET (goal: <= 1.5x reference, <= 100 KB, first <= 3x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
