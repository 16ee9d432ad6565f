"""The monthly clearing run records each statement it issues as it commits, so a run that fails
or is killed later shows those issued before; a rerun issues the rest."""

from __future__ import annotations

import pytest

from portal.models import JobRun
from settlement import clearing
from settlement.models import ClearingStatement
from tests.settlement.test_clearing import PERIOD, SMALL, build

pytestmark = pytest.mark.django_db


def test_a_clearing_run_failing_at_the_third_statement_records_the_first_two(demo, monkeypatch):
    build(SMALL, noise=0)
    issue = clearing.statement_issue
    calls = []

    def third_fails(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("statement 3 broke")
        return issue(**kwargs)

    monkeypatch.setattr(clearing, "statement_issue", third_fails)
    with pytest.raises(RuntimeError):
        clearing.run_monthly(PERIOD)
    run = JobRun.objects.get(name="settlement.clearing")
    issued = list(ClearingStatement.objects.filter(status="issued").order_by("id"))
    assert len(issued) == 2
    assert run.error == "RuntimeError: statement 3 broke" and run.finished_at is not None
    assert run.details["period"] == PERIOD.isoformat()
    assert run.details["statements"] == run.rows == 2
    assert run.details["numbers"] == [s.number for s in issued]
    assert run.details["settlements"] == sum(s.settlement_count for s in issued)

    monkeypatch.undo()
    rerun = clearing.run_monthly(PERIOD)
    assert rerun.error == "" and rerun.details["statements"] == rerun.rows == len(SMALL) - 2
    assert ClearingStatement.objects.filter(status="issued").count() == len(SMALL)


def test_a_clearing_run_killed_at_the_third_statement_shows_the_first_two(demo, monkeypatch):
    """A killed worker runs no error handler: what shows is what each step recorded itself."""
    build(SMALL, noise=0)
    issue = clearing.statement_issue
    calls = []

    def killed_at_third(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise SystemExit("worker killed")  # not an Exception: record_run's handler skips it
        return issue(**kwargs)

    monkeypatch.setattr(clearing, "statement_issue", killed_at_third)
    with pytest.raises(SystemExit):
        clearing.run_monthly(PERIOD)
    run = JobRun.objects.get(name="settlement.clearing")
    issued = list(ClearingStatement.objects.filter(status="issued").order_by("id"))
    assert len(issued) == 2 and run.finished_at is None
    assert run.details["statements"] == run.rows == 2
    assert run.details["numbers"] == [s.number for s in issued]
    assert run.details["settlements"] == sum(s.settlement_count for s in issued)
