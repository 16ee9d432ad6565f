"""Job runs are named in words in the reader's language, not by the job's code."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

from portal.jobruns import JOB_LABELS, job_label

ROOT = Path(__file__).resolve().parents[2]
HAN = re.compile("[\u4e00-\u9fff]")


def recorded_job_names() -> set[str]:
    """The names the source records runs under: `record_run("filings.nightly", …)`, or a
    module's JOB_NAME constant passed to it."""
    names = set()
    for path in ROOT.glob("*/*.py"):
        if path.parts[-2] in {".venv", "tests", "bench"} or path.name == "jobruns.py":
            continue
        source = path.read_text()
        for argument in re.findall(r"record_run\(\s*([^,]+),", source):
            if argument.startswith('"'):
                names.add(argument.strip('"'))
            else:
                constant = re.search(rf'^{argument} = "([^"]+)"', source, re.M)
                assert constant, (path, argument)
                names.add(constant.group(1))
    return names


def test_every_recorded_job_has_a_label_in_both_languages():
    names = recorded_job_names()
    assert {"filings.nightly", "filings.abandoned_uploads", "settlement.clearing"} <= names
    assert names <= set(JOB_LABELS)
    for name in names:
        with translation.override("zh-hans"):
            chinese = job_label(name)
        with translation.override("en"):
            english = job_label(name)
        assert HAN.search(chinese), name
        assert english.isascii() and english != name and "." not in english, name


def test_the_nightly_jobs_label_in_each_language():
    with translation.override("zh-hans"):
        assert job_label("filings.nightly") == "备案：每日到期、撤销与提醒"
    with translation.override("en"):
        assert job_label("filings.nightly") == "Filings: nightly expiry, revocation and reminders"


def test_a_job_without_a_label_is_shown_as_recorded():
    assert job_label("some.retired_job") == "some.retired_job"
