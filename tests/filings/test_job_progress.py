"""A nightly run records each kind's count as soon as it has committed: one that fails part-way
shows what it did before the error, and a rerun does the rest, nothing twice."""

from __future__ import annotations

import datetime

import pytest

from filings import jobs
from portal.models import JobRun, Notification
from tests.filings.test_jobs import TODAY, make_filing
from tests.filings.test_jobs import world as jobs_world

pytestmark = pytest.mark.django_db
world = jobs_world


@pytest.fixture
def due(world):
    """One of each: an expiry, a revocation and a reminder due on TODAY."""
    make_filing(world, valid_until=TODAY - datetime.timedelta(days=1))
    make_filing(
        world,
        type="long_term",
        basis="commitment",
        commitment_deadline=TODAY - datetime.timedelta(days=1),
    )
    make_filing(
        world,
        type="long_term",
        basis="commitment",
        commitment_deadline=TODAY + datetime.timedelta(days=7),
    )


def stored() -> JobRun:
    return JobRun.objects.get(name="filings.nightly")


def test_a_run_failing_at_the_reminders_records_the_expiries_and_revocations_it_did(
    due, monkeypatch
):
    seen = {}

    def fail(*args, **kwargs):
        # What the run's row says while the run is still going, before the error.
        seen.update(stored().details, rows=stored().rows)
        raise RuntimeError("reminders broke")

    monkeypatch.setattr(jobs, "_remind", fail)
    with pytest.raises(RuntimeError):
        jobs.run_nightly(TODAY)
    assert seen["expire_temporary"] == 1 and seen["revoke_commitment"] == 1
    assert seen["rows"] == 2
    run = stored()
    assert run.error == "RuntimeError: reminders broke" and run.finished_at is not None
    assert run.details["expire_temporary"] == 1 and run.details["revoke_commitment"] == 1
    assert "commitment_7" not in run.details and "claim_deadline" not in run.details
    assert run.rows == 2

    monkeypatch.undo()
    rerun = jobs.run_nightly(TODAY)
    assert rerun.error == ""
    assert rerun.details["commitment_7"] == 1
    assert rerun.details["expire_temporary"] == rerun.details["revoke_commitment"] == 0
    assert rerun.rows == 1
    # expiry, revocation (person and agency), reminder: each written once.
    assert Notification.objects.count() == 4


@pytest.mark.parametrize("statement", ["as_configured", "orm"])
def test_a_run_failing_at_one_kind_of_change_records_the_kinds_before_it(
    due, monkeypatch, statement
):
    if statement == "orm":
        monkeypatch.setattr(jobs, "_apply_pg", jobs._apply_orm)
    apply_pg, apply_orm = jobs._apply_pg, jobs._apply_orm

    def failing(apply):
        def run(change, *args):
            if change.name == "revoke_commitment":
                raise RuntimeError("revocation broke")
            return apply(change, *args)

        return run

    monkeypatch.setattr(jobs, "_apply_pg", failing(apply_pg))
    monkeypatch.setattr(jobs, "_apply_orm", failing(apply_orm))
    with pytest.raises(RuntimeError):
        jobs.run_nightly(TODAY)
    run = stored()
    assert run.error == "RuntimeError: revocation broke"
    assert run.details["expire_temporary"] == 1 and run.rows == 1
    assert "revoke_commitment" not in run.details

    monkeypatch.setattr(jobs, "_apply_pg", apply_pg)
    monkeypatch.setattr(jobs, "_apply_orm", apply_orm)
    rerun = jobs.run_nightly(TODAY)
    assert (rerun.details["revoke_commitment"], rerun.details["commitment_7"]) == (1, 1)
    assert rerun.details["expire_temporary"] == 0 and rerun.rows == 2
