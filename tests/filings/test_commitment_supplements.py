"""domain.md §2.1, filing by commitment: materials supplied by the deadline and awaiting the
agency's review keep the filing; refused ones do not (the nightly job revokes it then); and
the reminders ask only those who have supplied nothing that is still pending."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from filings import jobs, services
from filings.models import Filing, Material
from filings.rules import RuleError
from portal.models import AuditEvent, Notification, Reminder
from tests.filings.test_jobs import (
    SHANGHAI,
    TODAY,
    at,
    make_filing,
    status,
    world,  # noqa: F401 - the fixture
)
from tests.notes import says

pytestmark = pytest.mark.django_db

DEADLINE = TODAY - datetime.timedelta(days=1)  # 21 November 2026: passed when the job runs


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)


def commitment(world, deadline=DEADLINE, **fields):  # noqa: F811 - the fixture
    return make_filing(
        world,
        type="long_term",
        basis="commitment",
        commitment_deadline=deadline,
        decided_at=local(deadline - datetime.timedelta(days=183), 15),
        **fields,
    )


_seq = iter(range(10**6))


def supply(filing, when: datetime.datetime, kind="household_register") -> Material:
    """A material of `filing` uploaded at `when`."""
    material = Material.objects.create(
        filing=filing,
        kind=kind,
        stored_name=f"supplement-{next(_seq)}.png",
        original_name="户口簿.png",
        content_type="image/png",
        size=10,
    )
    Material.objects.filter(pk=material.pk).update(uploaded_at=when)
    return material


def refuse(filing, actor, reason="户口簿照片无法辨认"):
    return services.filing_refuse_materials(filing=filing, actor=actor, reason=reason)


def test_rule_2_1_commitment_materials_supplied_by_the_deadline_and_awaiting_review_keep_the_filing(
    world,  # noqa: F811 - the fixture
):
    awaiting = commitment(world)
    supply(awaiting, local(DEADLINE, 23, 30))  # the deadline's last evening
    nothing = commitment(world)
    late = commitment(world)
    supply(late, local(TODAY, 0, 30))  # after the deadline (still 21 November in UTC)
    before_approval = commitment(world)  # only what came with the application
    supply(before_approval, local(DEADLINE - datetime.timedelta(days=190), 9), kind="id_copy")

    result = jobs.apply_changes(TODAY)

    assert result["revoke_commitment"] == 3
    assert status(awaiting) == "approved"
    assert [status(f) for f in (nothing, late, before_approval)] == ["revoked"] * 3
    assert not AuditEvent.objects.filter(object_id=str(awaiting.pk)).exists()
    # Idempotent: a rerun (or the next nights, the review still pending) changes nothing.
    assert jobs.apply_changes(TODAY)["revoke_commitment"] == 0
    assert jobs.apply_changes(TODAY + datetime.timedelta(days=30))["revoke_commitment"] == 0
    assert status(awaiting) == "approved"


@pytest.mark.parametrize(
    ("kind", "subtype"),
    [
        ("household_register", "long_term_resident"),
        ("property_certificate", "long_term_resident"),
        ("residence_certificate", "long_term_resident"),
        ("posting_certificate", "stationed_worker"),
    ],
)
def test_rule_2_1_a_proof_of_residence_keeps_the_commitment(world, kind, subtype):  # noqa: F811
    kept = commitment(world, subtype=subtype)
    supply(kept, local(DEADLINE, 10), kind=kind)
    assert jobs.apply_changes(TODAY)["revoke_commitment"] == 0
    assert status(kept) == "approved"


def test_rule_2_1_a_posting_certificate_keeps_only_a_stationed_workers_commitment(
    world,  # noqa: F811 - the fixture
):
    """domain.md §2.1: the employer's posting certificate is the proof for workers stationed
    elsewhere. A long-term resident who supplies one has supplied no proof of residence: the
    agency cannot accept it as keeping the promise, nor does the nightly job."""
    worker = commitment(world, subtype="stationed_worker")
    resident = commitment(world, subtype="long_term_resident")
    for filing in (worker, resident):
        supply(filing, local(DEADLINE, 10), kind="posting_certificate")
    assert jobs.apply_changes(TODAY)["revoke_commitment"] == 1
    assert (status(worker), status(resident)) == ("approved", "revoked")


@pytest.mark.parametrize("kind", ["id_copy", "social_security_copy", "other", "referral_scan"])
def test_rule_2_1_a_file_that_is_no_proof_of_residence_does_not_keep_the_commitment(
    world,  # noqa: F811 - the fixture
    kind,
):
    """What was promised is one of the proofs of residence: an ID copy (or any other file)
    supplied by the deadline leaves the promise unkept, and the filing is revoked."""
    unkept = commitment(world)
    supply(unkept, local(DEADLINE, 10), kind=kind)
    assert jobs.apply_changes(TODAY)["revoke_commitment"] == 1
    assert status(unkept) == "revoked"


def test_rule_2_1_the_agency_accepts_a_supplement_only_with_a_proof_of_residence(
    world,  # noqa: F811 - the fixture
):
    filing = commitment(world, deadline=TODAY + datetime.timedelta(days=30))
    supply(filing, local(TODAY, 9), kind="id_copy")
    reviewer = world["staff"]
    with pytest.raises(RuleError) as refused:
        services.filing_accept_materials(filing=filing, actor=reviewer)
    assert refused.value.code == "materials_missing"
    supply(filing, local(TODAY, 10), kind="residence_certificate")
    assert services.filing_accept_materials(filing=filing, actor=reviewer).two_way


def test_rule_2_1_supplied_materials_refused_after_the_deadline_revoke_the_filing_at_the_next_run(
    world,  # noqa: F811 - the fixture
):
    filing = commitment(world)
    supplement = supply(filing, local(DEADLINE, 10))
    with time_machine.travel(at(TODAY), tick=False):
        jobs.run_nightly()
        assert status(filing) == "approved"
    with time_machine.travel(local(TODAY, 10), tick=False):
        refused = refuse(filing, world["staff"])
    # The refusal itself changes no state: it records the decision and tells the person why.
    assert refused.status == "approved"
    supplement.refresh_from_db()
    assert supplement.refused_at == local(TODAY, 10)
    event = AuditEvent.objects.get(action="filing.refuse_materials")
    assert (event.object_id, event.reason) == (str(filing.pk), "户口簿照片无法辨认")
    person_notes = Notification.objects.filter(user=filing.person.user)
    assert says(person_notes.all(), "户口簿照片无法辨认", filing.number) == 1

    with time_machine.travel(at(TODAY + datetime.timedelta(days=1)), tick=False):
        run = jobs.run_nightly()
        again = jobs.run_nightly()
    assert run.details["revoke_commitment"] == 1 and again.details["revoke_commitment"] == 0
    assert status(filing) == "revoked"
    # The refusal said the filing "will be revoked"; the revocation's own notice says it is.
    assert says(person_notes.all(), "已被撤销", filing.number) == 1
    assert says(Notification.objects.filter(user=world["staff"]), "撤销", filing.number) == 1


def test_rule_2_1_supplied_materials_refused_before_the_deadline_can_be_supplied_again(
    world,  # noqa: F811 - the fixture
):
    deadline = TODAY + datetime.timedelta(days=10)
    filing = commitment(world, deadline=deadline)
    supply(filing, local(TODAY, 9))
    with time_machine.travel(local(TODAY, 10), tick=False):
        refuse(filing, world["staff"])
    # Nothing pending: the agency cannot accept the refused material.
    with pytest.raises(RuleError) as error:
        services.filing_accept_materials(filing=filing, actor=world["staff"])
    assert error.value.code == "materials_missing"
    supply(filing, local(TODAY + datetime.timedelta(days=3), 9))  # supplied again in time
    assert jobs.apply_changes(deadline + datetime.timedelta(days=1))["revoke_commitment"] == 0
    assert status(filing) == "approved"
    accepted = services.filing_accept_materials(filing=filing, actor=world["staff"])
    assert accepted.materials_accepted_at is not None and accepted.two_way


def test_rule_2_1_no_commitment_reminder_while_supplied_materials_await_review(
    world,  # noqa: F811 - the fixture
):
    deadline = TODAY + datetime.timedelta(days=7)
    awaiting = commitment(world, deadline=deadline)
    supply(awaiting, local(TODAY - datetime.timedelta(days=2), 9))
    silent = commitment(world, deadline=deadline)

    sent = jobs.send_commitment_reminders(TODAY)

    assert sent["commitment_7"] == 1
    assert set(Reminder.objects.values_list("object_id", flat=True)) == {str(silent.pk)}
    assert not Notification.objects.filter(user=awaiting.person.user).exists()
    # Refused: "supply them by the deadline, or the filing is revoked" makes sense again.
    with time_machine.travel(local(TODAY, 10), tick=False):
        refuse(awaiting, world["staff"])
    assert jobs.send_commitment_reminders(TODAY)["commitment_7"] == 1
    assert says(Notification.objects.filter(user=awaiting.person.user), "提醒", awaiting.number)


def test_refusing_supplied_materials_needs_a_reason_the_agency_and_a_pending_supplement(
    world,  # noqa: F811 - the fixture
):
    filing = commitment(world, deadline=TODAY + datetime.timedelta(days=30))

    def code(**kwargs):
        with pytest.raises(RuleError) as error:
            services.filing_refuse_materials(**{"filing": filing, **kwargs})
        return error.value.code

    assert code(actor=world["staff"], reason=" ") == "reason_required"
    assert code(actor=world["staff"], reason="不清楚") == "materials_missing"
    supply(filing, local(TODAY, 9))
    assert code(actor=filing.person.user, reason="不清楚") == "agency_only"
    Filing.objects.filter(pk=filing.pk).update(materials_accepted_at=timezone.now())
    assert code(actor=world["staff"], reason="不清楚") == "already_decided"
    materials = make_filing(world, type="long_term", basis="materials")
    with pytest.raises(RuleError) as error:
        services.filing_refuse_materials(filing=materials, actor=world["staff"], reason="x")
    assert error.value.code == "not_commitment"


def test_commitment_revocation_reaches_the_materials_through_an_index(
    world,  # noqa: F811 - the fixture
):
    """On PostgreSQL the revocation's NOT EXISTS is answered through an index of the materials
    (with sequential scans off, so a tiny test table does not hide a missing one)."""
    if connection.vendor != "postgresql":
        pytest.skip("query plans of PostgreSQL: runs with CI=true")
    change = next(c for c in jobs.changes(TODAY) if c.name == "revoke_commitment")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN " + jobs.pg_change_sql(change),
            jobs.pg_change_params(change, TODAY, timezone.now()),
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    material_scans = [ln for ln in plan.splitlines() if "filings_material" in ln]
    assert material_scans and all("Index" in ln for ln in material_scans), plan
