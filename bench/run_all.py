"""Run every benchmark in turn; exit non-zero if any missed its goal."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    "bench_engine.py",
    "bench_pdf.py",
    "bench_recheck.py",
    "bench_jobs.py",
    "bench_eligibility.py",
    "bench_admin.py",
]

failed = []
for name in BENCHES:
    print(f"=== {name}", flush=True)
    if subprocess.run([sys.executable, str(HERE / name)]).returncode != 0:
        failed.append(name)
print("goals missed: " + ", ".join(failed) if failed else "all goals met")
sys.exit(1 if failed else 0)
