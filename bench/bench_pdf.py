"""PDF benchmark: each form against a minimal one-page WeasyPrint document, same process.

    .venv/bin/python bench/bench_pdf.py [--form KIND] [--quick]

`--form KIND` (repeatable) measures only that form, e.g. `--form certificate` (each form costs
two fresh processes, about 10 s). By default, every form. `--quick` (with the suite's smoke
test): 3 rounds, and no informational first render without warm-up, so one fresh process a
form; a check that the script runs, not figures to go by.

Goals, per form: warm render <= 1.5x the reference, PDF <= 100 KB, first render <= 3x warm.

Reference: the portal's minimal printable page. One A4 page with a heading and one paragraph of
ordinary Chinese text (two lines, with the usual full-width punctuation), in the same CJK font,
rendered by the same code path as the forms (portal.lib.pdf.render_form_html: the same
stylesheet with its page-number footer, URL fetcher and font configuration). A form's time is
the whole of filings.documents.render(): the database read of the filing's hospitals, the
signed token, the QR code, the template and WeasyPrint.

Warm: one process renders the reference and the forms interleaved, RUNS rounds after one
untimed render of each; the verdicts use the median CPU time of the process (rendering is
single-threaded and CPU-bound, and a shared machine's load does not inflate CPU time as it does
wall-clock time, which is printed beside it).

First: the first render of each form in a fresh process of its own (`--first KIND`), after
django.setup() and the import of WeasyPrint, and after filings.documents.warm_up(): the warm-up
that every Celery worker process runs at start (worker_process_init, in a background thread;
it renders each form once with a made-up filing whose personal data differ from the one
measured). So "first" is the first document a worker renders; its ratio is to the warm
median of the same process. The warm-up's own time, and a first render without any warm-up
(`--cold KIND`: template compilation, translations, fontconfig, font loading all in it), are
printed for information.

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

RUNS = 11
MAX_RATIO, MAX_BYTES, MAX_FIRST_RATIO = 1.5, 100_000, 3.0
REFERENCE = (
    '<!DOCTYPE html><html lang="zh-hans"><head><meta charset="utf-8"></head><body>'
    "<h1>异地就医备案须知</h1>"
    "<p>参保人员办理异地就医备案后，可在备案地的定点医疗机构直接结算住院和门诊费用。"
    "备案有效期内，参保人员应按规定就医，并持本人医保凭证办理结算；"
    "备案信息发生变化的，应及时办理变更或取消。</p></body></html>"
)
REFERENCE_LABEL = "one A4 page: h1 + a 2-line paragraph of Chinese, forms' stylesheet and footer"
# Printed for information: the forms' size for a person whose name has rare characters that
# wqy-microhei lacks (CJK Ext B U+20000 and U+21484), drawn from the fallback font, Hanazono
# (static/css/pdf-forms.css): a subset of HanaMinA and one of HanaMinB embedded beside wqy's.
RARE_NAME = "王\U00020000\U00021484"
# HarfBuzz subsets keep glyph ids (WeasyPrint's RETAIN_GIDS): empty slots up to the highest glyph
# used stay in the font program, and full-width punctuation (，：（）) sits near glyph 34,400 of
# the 49,531 in wqy-microhei, so a subset of a Chinese page is about 370 KB decoded (tens of KB
# compressed); the whole face is about 5 MB.
MAX_SUBSET_SHARE = 0.10


def cpu(fn) -> float:
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


def first(kind: str, warm_up: bool) -> int:
    """A fresh process: (the worker's warm-up,) the first render of one form, its warm renders."""
    filing = setup_filing()
    from filings import documents
    from portal.lib import pdf  # noqa: F401  (WeasyPrint's import is not part of a render)

    warm_up_cpu = cpu(documents.warm_up) if warm_up else 0.0
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    documents.render(filing, kind)
    first_wall = time.perf_counter() - started_wall
    first_cpu = time.process_time() - started_cpu
    warm = statistics.median(cpu(lambda: documents.render(filing, kind)) for _ in range(RUNS))
    warm_wall = statistics.median(
        wall(lambda: documents.render(filing, kind)) for _ in range(min(RUNS, 5))
    )
    print(
        json.dumps(
            {
                "kind": kind,
                "warm_up": warm_up_cpu,
                "first": first_cpu,
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
        content = pdf.render_form_html(REFERENCE)
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
    sizes = ", ".join(f"{name.split('+')[-1]} {size / 1024:.0f} KB" for name, size in cjk)
    print(f"HarfBuzz subsetting: {sizes} embedded (decoded) of a {whole / 1024:.0f} KB font")
    return None


def _child(kind: str, flag: str, quick: bool = False) -> dict:
    extra = ["--quick"] if quick else []
    child = subprocess.run(
        [sys.executable, __file__, flag, kind, *extra], capture_output=True, text=True, cwd=ROOT
    )
    if child.returncode != 0:
        raise RuntimeError(f"{flag} {kind} failed:\n{child.stderr[-2000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def verdict(good: bool) -> str:
    return "PASS" if good else "FAIL"


def translations_problem() -> str | None:
    """The forms print Chinese labels: without the compiled catalogue they would print English
    ones, fewer and narrower glyphs, and every figure would be too good."""
    from django.utils import translation

    with translation.override("zh-hans"):
        if translation.gettext("Patient referral form") == "Patient referral form":
            return "the Chinese catalogue is not compiled (make compilemessages)"
    return None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--first", metavar="KIND", help=argparse.SUPPRESS)
    parser.add_argument("--cold", metavar="KIND", help=argparse.SUPPRESS)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 rounds and no first render without warm-up (printed for information only): "
        "a check that the script runs, not figures to go by",
    )
    parser.add_argument(
        "--form",
        action="append",
        metavar="KIND",
        help="measure only this form (repeatable; default: every form): a quick check",
    )
    args = parser.parse_args()
    global RUNS
    if args.quick:
        RUNS = 3
    if args.first or args.cold:
        return first(args.first or args.cold, warm_up=bool(args.first))

    filing = setup_filing()
    problem = harfbuzz_subset_problem()
    if problem:
        print(f"FAIL: {problem}; WeasyPrint would fall back to a 15-50x slower path.")
        return 1
    problem = translations_problem()
    if problem:
        print(f"FAIL: {problem}; the forms would not be measured as printed.")
        return 1
    import pypdf
    from django.db import connection

    from filings import documents
    from portal.lib import pdf

    unknown = sorted(set(args.form or ()) - set(documents.KINDS))
    if unknown:
        parser.error(f"no form {', '.join(unknown)}: the forms are {', '.join(documents.KINDS)}")
    kinds = args.form or documents.KINDS
    print(f"load average {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs); CPU time, median")
    try:
        firsts = {kind: _child(kind, "--first", args.quick) for kind in kinds}
        colds = {} if args.quick else {kind: _child(kind, "--cold") for kind in kinds}
    except RuntimeError as exc:
        print(f"FAIL: {exc}")
        return 1

    forms = {kind: (lambda kind=kind: documents.render(filing, kind)) for kind in kinds}
    reference_fn = lambda: pdf.render_form_html(REFERENCE)  # noqa: E731
    for fn in [reference_fn, *forms.values()]:
        fn()  # warm every path before measuring
    times: dict[str, list[float]] = {"reference": [], **{kind: [] for kind in forms}}
    walls: dict[str, list[float]] = {"reference": [], **{kind: [] for kind in forms}}
    for _ in range(RUNS):  # interleaved, so a busy moment hits all alike
        for kind, fn in [("reference", reference_fn), *forms.items()]:
            times[kind].append(cpu(fn))
            walls[kind].append(wall(fn))
    reference = statistics.median(times["reference"])
    reference_pdf = reference_fn()
    print(
        f"reference ({REFERENCE_LABEL}): {reference * 1000:.1f} ms "
        f"({statistics.median(walls['reference']) * 1000:.1f} ms wall), "
        f"{len(reference_pdf) / 1024:.1f} KB"
    )
    ok = True
    for kind, fn in forms.items():
        content = fn()
        pages = len(pypdf.PdfReader(io.BytesIO(content)).pages)
        warm = statistics.median(times[kind])
        ratio = warm / reference
        first_run = firsts[kind]
        first_ratio = first_run["first"] / first_run["warm"]
        goals = [ratio <= MAX_RATIO, len(content) <= MAX_BYTES, first_ratio <= MAX_FIRST_RATIO]
        ok &= all(goals)
        print(
            f"{kind:13s} warm {warm * 1000:6.1f} ms = {ratio:4.2f}x ref {verdict(goals[0])} | "
            f"{len(content) / 1024:5.1f} KB {verdict(goals[1])} | "
            f"first {first_run['first'] * 1000:6.1f} ms = {first_ratio:4.2f}x its warm "
            f"{first_run['warm'] * 1000:.1f} ms {verdict(goals[2])}"
        )
        cold = (
            f"without warm-up first {colds[kind]['first'] * 1000:.0f} ms = "
            f"{colds[kind]['first'] / colds[kind]['warm']:.1f}x"
            if kind in colds
            else "without warm-up: not measured (--quick)"
        )
        print(
            f"{'':13s} {pages} page(s), {ratio / pages:4.2f}x ref a page; "
            f"wall: warm {statistics.median(walls[kind]) * 1000:.1f} ms, "
            f"first {first_run['first_wall'] * 1000:.1f} ms; "
            f"warm-up before it {first_run['warm_up'] * 1000:.0f} ms; {cold}"
        )
    print(f"for information, the same forms for a name with rare characters ({RARE_NAME}):")
    name, filing.person.name = filing.person.name, RARE_NAME
    try:
        for kind, fn in forms.items():
            content = fn()
            fonts = dict(_embedded_fonts(content))  # a font the copies share, once
            fallback = [(n, size) for n, size in fonts.items() if "WenQuanYi" not in n]
            subsets = ", ".join(
                f"{n.split('+')[-1]} {size / 1024:.0f} KB decoded" for n, size in fallback
            )
            print(
                f"  {kind:13s} {len(content) / 1024:5.1f} KB {verdict(len(content) <= MAX_BYTES)}"
                f" | fallback: {subsets or 'none'}"
            )
    finally:
        filing.person.name = name
    connection.creation.destroy_test_db(":memory:", verbosity=0)
    print(
        "ALL GOALS MET"
        if ok
        else f"GOAL NOT MET (goals: <= {MAX_RATIO}x reference, <= {MAX_BYTES // 1000} KB, "
        f"first <= {MAX_FIRST_RATIO}x warm)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
