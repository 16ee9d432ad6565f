"""PDF benchmark: each form against a minimal one-page WeasyPrint document, same process.

    .venv/bin/python bench/bench_pdf.py

Goal: each form's warm render <= 1.5x the reference, <= 100 KB, first render <= 3x warm.
Fails at once when libharfbuzz-subset0 is missing (WeasyPrint would silently fall back to a
15-50x slower font path).
"""

from __future__ import annotations

import ctypes.util
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")

RUNS = 7


def harfbuzz_subset_present() -> bool:
    return ctypes.util.find_library("harfbuzz-subset") is not None


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    if not harfbuzz_subset_present():
        print(
            "FAIL: libharfbuzz-subset0 is missing (apt-get install libharfbuzz-subset0); "
            "WeasyPrint would fall back to a 15-50x slower path."
        )
        return 1
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from filings import documents
    from filings.models import Filing
    from hospitals.models import Hospital
    from portal.lib import pdf
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
    minimal = (
        '<html><head><link rel="stylesheet" href="asset:pdf.css"></head>'
        "<body><h1>备案凭证</h1><p>参保人 王秀兰</p></body></html>"
    )

    forms = {kind: (lambda kind=kind: documents.render(filing, kind)) for kind in documents.KINDS}
    first = {kind: timed(fn) for kind, fn in forms.items()}
    reference = statistics.median(timed(lambda: pdf.render_html(minimal)) for _ in range(RUNS))
    ok = True
    print(f"reference (minimal one-page document): {reference * 1000:7.1f} ms")
    for kind, fn in forms.items():
        warm = statistics.median(timed(fn) for _ in range(RUNS))
        size = len(fn())
        ratio, first_ratio = warm / reference, first[kind] / warm
        good = ratio <= 1.5 and size <= 100_000 and first_ratio <= 3
        ok &= good
        print(
            f"{kind:14s} warm {warm * 1000:7.1f} ms  {ratio:4.2f}x ref  {size / 1024:6.1f} KB  "
            f"first {first[kind] * 1000:7.1f} ms = {first_ratio:4.2f}x warm  "
            f"{'ok' if good else 'GOAL NOT MET'}"
        )
    connection.creation.destroy_test_db(":memory:", verbosity=0)
    print("GOAL MET" if ok else "GOAL NOT MET (goal: <= 1.5x reference, <= 100 KB, first <= 3x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
