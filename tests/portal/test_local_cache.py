"""`make run` starts several processes (web, Celery worker and beat) and an operator may run a
`manage.py` command beside them: they share one cache, so a hospital API key revoked in one
stops working in the others within about a second (README)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, cache_dir: Path) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.local",
        "CACHE_DIR": str(cache_dir),
        "REDIS_URL": "",
    }
    script = f"import django; django.setup(); {code}"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_revocation_mark_written_in_one_process_is_read_in_another(tmp_path):
    _run("from hospitals import auth; auth.mark_revoked()", tmp_path)
    seen = _run("from hospitals import auth; print(auth._revoked_mark())", tmp_path)
    assert seen.isdigit()  # the nanosecond time the other process wrote
