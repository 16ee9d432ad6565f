"""Scheduled jobs: expiry, commitment reminders and revocation; reruns change nothing."""

import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from filings import jobs
from filings.models import Filing
from portal.models import (
    Agency,
    AgencyStaff,
    AuditEvent,
    InsuredPerson,
    JobRun,
    Notification,
    Province,
    Region,
    Reminder,
)

pytestmark = pytest.mark.django_db(transaction=False)
TODAY = datetime.date(2026, 11, 22)


@pytest.fixture
def world(db):
    province = Province.objects.create(code="230000", name="黑龙江省")
    home = Region.objects.create(code="232700", name="大兴安岭地区", province=province)
    place = Region.objects.create(code="230100", name="哈尔滨市", province=province)
    agency = Agency.objects.create(region=home, name="大兴安岭医保中心")
    staff_user = get_user_model().objects.create_user("staff", "s@example.cn", "pw-12345678")
    AgencyStaff.objects.create(user=staff_user, agency=agency)
    return {"province": province, "home": home, "place": place, "staff": staff_user}


_seq = iter(range(10**6))


def make_filing(world, **fields):
    n = next(_seq)
    user = get_user_model().objects.create_user(f"p{n}", f"p{n}@example.cn", "pw-12345678")
    person = InsuredPerson(name="李建国", region=world["home"], scheme="employee", user=user)
    from tests.portal.factories import make_id_number

    person.set_id_number(make_id_number())
    person.save()
    defaults = {
        "number": f"BA{n:010d}",
        "person": person,
        "insured_region": world["home"],
        "type": "temporary",
        "status": "approved",
        "place_province": world["province"],
        "place_region": world["place"],
        "valid_from": TODAY - datetime.timedelta(days=200),
    }
    defaults.update(fields)
    return Filing.objects.create(**defaults)


def status(filing):
    return Filing.objects.get(pk=filing.pk).status


@time_machine.travel(datetime.datetime(2026, 11, 22, 1, 5, tzinfo=datetime.UTC), tick=False)
def test_rule_2_4_temporary_filing_expires_after_its_validity(world):
    due = make_filing(world, valid_until=TODAY - datetime.timedelta(days=1))
    last_day = make_filing(world, valid_until=TODAY)
    jobs.run_nightly(TODAY)
    assert status(due) == "expired"
    assert status(last_day) == "approved"
    event = AuditEvent.objects.get(object_id=str(due.pk))
    assert (event.from_state, event.to_state, event.actor_role) == ("approved", "expired", "system")
    assert Notification.objects.filter(user=due.person.user, subject__contains="过期").count() == 1


def test_rule_2_2_referral_not_used_within_its_start_window_expires_unless_extended(world):
    unused = make_filing(world, type="referral", valid_until=TODAY - datetime.timedelta(days=1))
    extended = make_filing(
        world,
        type="referral",
        valid_until=TODAY - datetime.timedelta(days=1),
        extended_until=TODAY + datetime.timedelta(days=30),
    )
    jobs.run_nightly(TODAY)
    assert status(unused) == "expired"
    assert status(extended) == "approved"
    # Once the extension has passed too, it expires.
    jobs.run_nightly(TODAY + datetime.timedelta(days=31))
    assert status(extended) == "expired"


def test_rule_2_1_long_term_filing_with_12_month_validity_expires(world):
    dxal = make_filing(
        world, type="long_term", basis="materials", valid_until=TODAY - datetime.timedelta(days=1)
    )
    open_ended = make_filing(world, type="long_term", basis="materials", valid_until=None)
    jobs.run_nightly(TODAY)
    assert status(dxal) == "expired"
    assert status(open_ended) == "approved"


def test_rule_2_1_commitment_deadline_passed_revokes_and_tells_person_and_agency(world):
    overdue = make_filing(
        world,
        type="long_term",
        basis="commitment",
        commitment_deadline=TODAY - datetime.timedelta(days=1),
    )
    supplied = make_filing(
        world,
        type="long_term",
        basis="commitment",
        commitment_deadline=TODAY - datetime.timedelta(days=1),
        materials_accepted_at=timezone.now(),
    )
    jobs.run_nightly(TODAY)
    assert status(overdue) == "revoked"
    assert status(supplied) == "approved"
    assert Notification.objects.filter(user=overdue.person.user, subject__contains="撤销").exists()
    assert Notification.objects.filter(user=world["staff"], body__contains=overdue.number).exists()


def test_rule_2_1_commitment_reminders_30_7_1_days_before_each_sent_once_ever(world):
    deadline = TODAY + datetime.timedelta(days=30)
    filing = make_filing(world, type="long_term", basis="commitment", commitment_deadline=deadline)
    sent_kinds = []
    for offset in range(0, 31):
        day = TODAY + datetime.timedelta(days=offset)
        for _ in range(2):  # every day the job runs twice (a rerun, or a second beat)
            result = jobs.send_commitment_reminders(day)
            sent_kinds += [kind for kind, count in result.items() for _ in range(count)]
    assert sent_kinds == ["commitment_30", "commitment_7", "commitment_1"]
    reminders = Reminder.objects.filter(object_id=str(filing.pk))
    assert sorted(reminders.values_list("kind", flat=True)) == [
        "commitment_1",
        "commitment_30",
        "commitment_7",
    ]
    assert Notification.objects.filter(user=filing.person.user).count() == 3


def test_a_late_run_catches_up_with_the_reminder_it_missed(world):
    filing = make_filing(
        world,
        type="long_term",
        basis="commitment",
        commitment_deadline=TODAY + datetime.timedelta(days=20),
    )
    # The job did not run 30 days before; 20 days before it still sends the 30-day reminder.
    assert jobs.send_commitment_reminders(TODAY)["commitment_30"] == 1
    assert jobs.send_commitment_reminders(TODAY)["commitment_30"] == 0
    assert Reminder.objects.filter(object_id=str(filing.pk)).count() == 1


def test_rerunning_the_nightly_job_for_the_same_day_changes_nothing(world):
    make_filing(world, valid_until=TODAY - datetime.timedelta(days=1))
    make_filing(
        world,
        type="long_term",
        basis="commitment",
        commitment_deadline=TODAY - datetime.timedelta(days=2),
    )
    make_filing(
        world,
        type="long_term",
        basis="commitment",
        commitment_deadline=TODAY + datetime.timedelta(days=7),
    )
    first = jobs.run_nightly(TODAY)
    counts = (
        AuditEvent.objects.count(),
        Notification.objects.count(),
        Reminder.objects.count(),
        list(Filing.objects.order_by("pk").values_list("status", flat=True)),
    )
    second = jobs.run_nightly(TODAY)
    assert first.rows == 3
    assert second.rows == 0
    assert counts == (
        AuditEvent.objects.count(),
        Notification.objects.count(),
        Reminder.objects.count(),
        list(Filing.objects.order_by("pk").values_list("status", flat=True)),
    )


def test_job_run_records_what_it_did(world):
    make_filing(world, valid_until=TODAY - datetime.timedelta(days=1))
    run = jobs.run_nightly(TODAY)
    stored = JobRun.objects.get(pk=run.pk)
    assert stored.finished_at is not None and stored.error == ""
    assert stored.details["expire_temporary"] == 1
    assert stored.rows == 1


def test_notifications_written_in_bulk_are_emailed_once(world, mailoutbox):
    from portal.tasks import deliver_pending_notifications

    make_filing(world, valid_until=TODAY - datetime.timedelta(days=1))
    jobs.run_nightly(TODAY)
    assert deliver_pending_notifications() == 1
    assert deliver_pending_notifications() == 0
    assert len(mailoutbox) == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_beats_running_the_job_at_once_do_not_double_any_effect():
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("a race needs PostgreSQL: runs with CI=true")
    province = Province.objects.create(code="230000", name="黑龙江省")
    home = Region.objects.create(code="232700", name="大兴安岭地区", province=province)
    place = Region.objects.create(code="230100", name="哈尔滨市", province=province)
    world = {"province": province, "home": home, "place": place}
    for _ in range(40):
        make_filing(world, valid_until=TODAY - datetime.timedelta(days=1))
        make_filing(
            world,
            type="long_term",
            basis="commitment",
            commitment_deadline=TODAY + datetime.timedelta(days=5),
        )
    barrier = threading.Barrier(2)
    errors = []

    def beat():
        try:
            barrier.wait()
            jobs.run_nightly(TODAY)
        except Exception as exc:  # noqa: BLE001 - an IntegrityError on reminders is allowed
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    jobs.run_nightly(TODAY)  # a later run finishes whatever a failed one left
    assert Filing.objects.filter(status="expired").count() == 40
    assert AuditEvent.objects.filter(action="filing.expire").count() == 40
    assert Reminder.objects.count() == 40
    assert Notification.objects.filter(subject__contains="提醒").count() == 40
    assert Notification.objects.filter(subject__contains="过期").count() == 40
