"""Scheduled jobs: expiry, commitment reminders and revocation; reruns change nothing."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from filings import jobs, services
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
from tests.checked_files import checked
from tests.notes import says

pytestmark = pytest.mark.django_db(transaction=False)
TODAY = datetime.date(2026, 11, 22)
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
D = datetime.date


def at(day: datetime.date) -> datetime.datetime:
    """01:05 in Shanghai on `day`, when the nightly job runs."""
    return datetime.datetime.combine(day, datetime.time(1, 5), tzinfo=SHANGHAI)


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


def make_person(world) -> InsuredPerson:
    from tests.portal.factories import make_id_number

    n = next(_seq)
    user = get_user_model().objects.create_user(f"p{n}", f"p{n}@example.cn", "pw-12345678")
    person = InsuredPerson(name="李建国", region=world["home"], scheme="employee", user=user)
    person.set_id_number(make_id_number())
    person.save()
    return person


def make_filing(world, **fields):
    n = next(_seq)
    person = fields.pop("person", None) or make_person(world)
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


@time_machine.travel(at(TODAY), tick=False)
def test_rule_2_4_temporary_filing_expires_after_its_validity(world):
    due = make_filing(world, valid_until=TODAY - datetime.timedelta(days=1))
    last_day = make_filing(world, valid_until=TODAY)
    jobs.run_nightly()  # today from the clock: timezone.localdate()
    assert status(due) == "expired"
    assert status(last_day) == "approved"
    event = AuditEvent.objects.get(object_id=str(due.pk))
    assert (event.from_state, event.to_state, event.actor_role) == ("approved", "expired", "system")
    assert says(Notification.objects.filter(user=due.person.user), "已过期", due.number) == 1
    note = Notification.objects.get(user=due.person.user)
    assert note.url == f"/filings/{due.number}/"


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
    assert says(Notification.objects.filter(user=overdue.person.user), "撤销", overdue.number)
    assert says(Notification.objects.filter(user=world["staff"]), "撤销", overdue.number)


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
    # Each opens the filing's own page, where the materials are uploaded (not the list).
    urls = set(Notification.objects.filter(user=filing.person.user).values_list("url", flat=True))
    assert urls == {f"/filings/{filing.number}/"}


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
    assert deliver_pending_notifications() == {"sent": 1, "failed": 0}
    assert deliver_pending_notifications() == {"sent": 0, "failed": 0}
    assert len(mailoutbox) == 1


def test_tasks_for_some_filings_change_only_those_that_are_due_and_queue_their_emails(
    world, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    from filings.tasks import expire_filings, remind_filings
    from portal.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    due = make_filing(world, valid_until=TODAY - datetime.timedelta(days=1))
    not_due = make_filing(world, valid_until=TODAY)
    elsewhere = make_filing(world, valid_until=TODAY - datetime.timedelta(days=1))
    remind = make_filing(
        world,
        type="long_term",
        basis="commitment",
        commitment_deadline=TODAY + datetime.timedelta(days=7),
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = expire_filings([due.pk, not_due.pk, remind.pk], TODAY.isoformat())
        assert remind_filings([due.pk, remind.pk], TODAY.isoformat())["commitment_7"] == 1
    assert result["expire_temporary"] == 1 and sum(result.values()) == 1
    assert (status(due), status(not_due), status(elsewhere)) == ("expired", "approved", "approved")
    # Each notification was emailed by its own task (eager here), queued on commit.
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [due.person.user.email, remind.person.user.email]
    )
    # Run again (a redelivered task): nothing changes, nothing is sent.
    with django_capture_on_commit_callbacks(execute=True):
        assert sum(expire_filings([due.pk], TODAY.isoformat()).values()) == 0
        assert remind_filings([remind.pk], TODAY.isoformat())["commitment_7"] == 0
    assert len(mailoutbox) == 2


def daily(traveller, first: datetime.date, last: datetime.date, runs: int = 2):
    """Move the clock to 01:05 of each day from `first` to `last` and run the nightly job
    `runs` times (a rerun, or a second beat), on the default date path."""
    day = first
    while day <= last:
        traveller.move_to(at(day))
        for _ in range(runs):
            run = jobs.run_nightly()
            assert run.error == ""
            yield day, run
        day += datetime.timedelta(days=1)


@pytest.mark.parametrize("kind", ["emergency", "chronic_outpatient"])
def test_rule_2_3_2_5_emergency_and_chronic_filings_expire_after_their_validity(world, kind):
    until = D(2026, 12, 31)
    filing = make_filing(world, type=kind, valid_until=until)
    with time_machine.travel(at(until), tick=False) as traveller:
        expired_on = [
            day
            for day, run in daily(traveller, until, until + datetime.timedelta(days=2))
            if run.rows
        ]
    assert expired_on == [D(2027, 1, 1)]  # the day after its last day, once
    assert status(filing) == "expired"
    event = AuditEvent.objects.get(object_id=str(filing.pk), action="filing.expire")
    name = {"emergency": "expire_emergency", "chronic_outpatient": "expire_chronic"}[kind]
    assert event.reason == name
    assert Notification.objects.filter(user=filing.person.user).count() == 1


def daxinganling_referral(world, approved_on: datetime.date) -> Filing:
    """A referral approved by the agency on `approved_on` under the Daxinganling measures."""
    world["home"].measures = Region.Measures.DAXINGANLING
    world["home"].save(update_fields=["measures"])
    filing = make_filing(world, type="referral", status="submitted", valid_from=None)
    with time_machine.travel(at(approved_on), tick=False):
        return services.filing_approve(filing=filing, actor=world["staff"])


def test_rule_2_2_daxinganling_referral_not_started_within_one_month_expires(world):
    filing = daxinganling_referral(world, D(2026, 3, 10))
    assert (filing.valid_until, filing.course_days) == (D(2026, 4, 10), 60)
    with time_machine.travel(at(D(2026, 4, 9)), tick=False) as traveller:
        changed = [
            (day, run.details["expire_referral"])
            for day, run in daily(traveller, D(2026, 4, 9), D(2026, 4, 12))
            if run.details["expire_referral"]
        ]
    # Valid until 10 April (approval + 1 month): expired on the 11th, once across reruns.
    assert changed == [(D(2026, 4, 11), 1)]
    assert status(filing) == "expired"
    event = AuditEvent.objects.get(object_id=str(filing.pk), action="filing.expire")
    assert event.reason == "expire_referral"


def test_rule_2_2_daxinganling_referral_course_of_60_days_expires_after_its_last_day(world):
    started = daxinganling_referral(world, D(2026, 3, 10))
    with time_machine.travel(at(D(2026, 4, 1)), tick=False):
        services.referral_start_treatment(
            filing=started, actor=world["staff"], started_on=D(2026, 4, 1)
        )
    # A row whose start was recorded without moving valid_until (data from before the
    # service did): the job goes by the start of treatment and the course length alone.
    recorded = make_filing(
        world,
        type="referral",
        valid_until=D(2026, 4, 10),
        treatment_started_on=D(2026, 4, 1),
        course_days=60,
    )
    # Liaoning: no course limit, the 6-month validity holds even after treatment started.
    liaoning = make_filing(
        world, type="referral", valid_until=D(2026, 5, 29), treatment_started_on=D(2026, 4, 1)
    )
    # The start window (10 April) passes: a started course goes on.
    with time_machine.travel(at(D(2026, 4, 11)), tick=False) as traveller:
        for _ in daily(traveller, D(2026, 4, 11), D(2026, 4, 11)):
            pass
        assert status(started) == status(recorded) == "approved"
        # 1 April + 60 days: the course's last day is 30 May, expired on 31 May.
        expired = {}
        for day, run in daily(traveller, D(2026, 5, 29), D(2026, 6, 1)):
            for name in ("expire_referral", "expire_referral_course"):
                if run.details[name]:
                    expired.setdefault(name, []).append((day, run.details[name]))
    assert expired == {
        "expire_referral": [(D(2026, 5, 30), 1)],  # Liaoning, by its validity
        "expire_referral_course": [(D(2026, 5, 31), 2)],
    }
    assert status(started) == status(recorded) == status(liaoning) == "expired"
    reasons = AuditEvent.objects.filter(action="filing.expire").values_list("reason", flat=True)
    assert sorted(reasons) == [
        "expire_referral",
        "expire_referral_course",
        "expire_referral_course",
    ]


def test_rule_2_2_extended_referral_course_expires_only_after_the_extension(world):
    filing = make_filing(
        world,
        type="referral",
        valid_until=D(2026, 5, 30),
        treatment_started_on=D(2026, 4, 1),
        course_days=60,
        extended_until=D(2026, 6, 15),
    )
    with time_machine.travel(at(D(2026, 6, 15)), tick=False) as traveller:
        for _ in daily(traveller, D(2026, 6, 15), D(2026, 6, 15)):
            pass
        assert status(filing) == "approved"
        for _ in daily(traveller, D(2026, 6, 16), D(2026, 6, 16)):
            pass
    assert status(filing) == "expired"


def test_rule_2_1_commitment_filing_reminded_30_7_1_days_before_then_revoked_once(world):
    deadline = D(2027, 1, 20)
    filing = make_filing(world, type="long_term", basis="commitment", commitment_deadline=deadline)
    # The days on either side of each threshold, each run twice.
    windows = [
        (D(2026, 12, 19), D(2026, 12, 22)),
        (D(2027, 1, 12), D(2027, 1, 14)),
        (D(2027, 1, 18), D(2027, 1, 22)),
    ]
    with time_machine.travel(at(D(2026, 12, 19)), tick=False) as traveller:
        events = [
            (day, name)
            for first, last in windows
            for day, run in daily(traveller, first, last)
            for name, n in run.details.items()
            if name != "seconds" and n
        ]
    assert events == [
        (D(2026, 12, 21), "commitment_30"),
        (D(2027, 1, 13), "commitment_7"),
        (D(2027, 1, 19), "commitment_1"),
        (D(2027, 1, 21), "revoke_commitment"),
    ]
    assert status(filing) == "revoked"
    person_notes = Notification.objects.filter(user=filing.person.user)
    assert person_notes.count() == 4  # three reminders and the revocation
    assert says(Notification.objects.filter(user=world["staff"]), filing.number) == 1
    assert Reminder.objects.filter(object_id=str(filing.pk)).count() == 3


def make_claim(world, *, discharged_on, claim_status="returned", person=None):
    from hospitals.models import Hospital
    from settlement.models import Claim

    hospital, _ = Hospital.objects.get_or_create(
        code="H23010000001",
        defaults={
            "name": "哈尔滨医科大学附属第一医院",
            "province": world["province"],
            "region": world["place"],
            "level": 3,
            "kind": "general",
            "ownership": "public",
        },
    )
    n = next(_seq)
    return Claim.objects.create(
        number=f"BX{n:010d}",
        person=person or make_person(world),
        insured_region=world["home"],
        hospital=hospital,
        care_type="inpatient",
        admitted_on=discharged_on - datetime.timedelta(days=5),
        discharged_on=discharged_on,
        category="referral",
        policy_year=discharged_on.year,
        total=Decimal("100.00"),
        estimated_fund_pay=Decimal("50.00"),
        status=claim_status,
    )


def test_rule_3_4_returned_claim_reminded_once_30_days_before_its_12_month_deadline(world):
    returned = make_claim(world, discharged_on=D(2026, 1, 5))  # deadline 5 January 2027
    submitted = make_claim(world, discharged_on=D(2026, 1, 5), claim_status="submitted")
    lapsed = make_claim(world, discharged_on=D(2025, 11, 20))  # deadline 20 November 2026
    with time_machine.travel(at(D(2026, 11, 25)), tick=False) as traveller:
        sent_on = [
            day
            for first, last in [
                (D(2026, 11, 25), D(2026, 11, 26)),
                (D(2026, 12, 4), D(2026, 12, 8)),
            ]
            for day, run in daily(traveller, first, last)
            if run.details["claim_deadline"]
        ]
        # Returned again later (resubmitted, returned): the reminder is still sent once, ever.
        returned.status = "returned"
        returned.save(update_fields=["status"])
        assert jobs.send_claim_reminders(D(2027, 1, 1)) == {"claim_deadline": 0}
    assert sent_on == [D(2026, 12, 6)]
    note = Notification.objects.get(user=returned.person.user)
    assert says([note], returned.number, "2027-01-05")
    assert says([note], returned.number, "2027-01-05", language="en")
    assert not Notification.objects.filter(user=submitted.person.user).exists()
    assert not Notification.objects.filter(user=lapsed.person.user).exists()
    assert Reminder.objects.get().due_date == D(2027, 1, 5)


def test_rule_3_4_claim_reminder_window_matches_the_claim_deadline_across_leap_years():
    from settlement.rules import CLAIM_REMINDER_DAYS, claim_deadline

    # Around the ends of February of a leap year (2028) and of the years either side.
    days = [D(2028, 1, 20) + datetime.timedelta(days=k) for k in range(50)]
    days += [
        D(year, 1, 25) + datetime.timedelta(days=k) for year in (2027, 2029) for k in range(40)
    ]
    for day in days:
        first, last = jobs.claim_discharges_due(day)
        candidates = [day - datetime.timedelta(days=k) for k in range(320, 380)]
        due = sorted(
            d
            for d in candidates
            if day <= claim_deadline(d) <= day + datetime.timedelta(days=CLAIM_REMINDER_DAYS)
        )
        assert (first, last) == (due[0], due[-1]), day


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_beats_running_the_job_at_once_do_not_double_any_effect(mailoutbox):
    """Two runs at once on PostgreSQL, then two email sweeps at once: no error, and every
    expiry, revocation, reminder and email exactly once."""
    import threading

    from django.db import connection, connections

    from portal.tasks import deliver_pending_notifications

    if connection.vendor != "postgresql":
        pytest.skip("a race needs PostgreSQL: runs with CI=true")
    province = Province.objects.create(code="230000", name="黑龙江省")
    home = Region.objects.create(code="232700", name="大兴安岭地区", province=province)
    place = Region.objects.create(code="230100", name="哈尔滨市", province=province)
    agency = Agency.objects.create(region=home, name="大兴安岭医保中心")
    staff = get_user_model().objects.create_user("staff-race", "s@example.cn", "pw-12345678")
    AgencyStaff.objects.create(user=staff, agency=agency)
    world = {"province": province, "home": home, "place": place}
    for _ in range(40):
        make_filing(world, valid_until=TODAY - datetime.timedelta(days=1))
        make_filing(
            world,
            type="long_term",
            basis="commitment",
            commitment_deadline=TODAY + datetime.timedelta(days=5),
        )
    for _ in range(10):
        make_filing(
            world,
            type="long_term",
            basis="commitment",
            commitment_deadline=TODAY - datetime.timedelta(days=1),
        )
        make_claim(world, discharged_on=D(2025, 12, 10))  # deadline 10 December 2026
    errors = []

    def twice(work):
        barrier = threading.Barrier(2)

        def run():
            try:
                barrier.wait()
                work()
            except Exception as exc:  # noqa: BLE001 - collected: the test allows none
                errors.append(exc)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    twice(lambda: jobs.run_nightly(TODAY))
    assert errors == []
    assert JobRun.objects.filter(error="").count() == 2
    assert Filing.objects.filter(status="expired").count() == 40
    assert Filing.objects.filter(status="revoked").count() == 10
    assert AuditEvent.objects.filter(action="filing.expire").count() == 40
    assert AuditEvent.objects.filter(action="filing.revoke").count() == 10
    assert Reminder.objects.filter(kind="commitment_7").count() == 40
    assert Reminder.objects.filter(kind="claim_deadline").count() == 10
    notes = Notification.objects.count()
    assert notes == 40 + 40 + 10 + 10 + 10  # expired, reminded, revoked (person, agency), claims
    twice(deliver_pending_notifications)
    assert errors == []
    assert len(mailoutbox) == notes
    assert len({m.extra_headers["Message-ID"] for m in mailoutbox}) == notes
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def _claim_with_a_document(demo):
    from hospitals.models import Hospital
    from portal.models import InsuredPerson
    from settlement import services as settlement_services
    from tests.filings.corpus import _pdf

    today = timezone.localdate()
    person = InsuredPerson.objects.get(name="陈明")
    return settlement_services.claim_submit(
        person=person,
        actor=person.user,
        hospital=Hospital.objects.get(code="H21010000001"),
        care_type="inpatient",
        admitted_on=today - datetime.timedelta(days=9),
        discharged_on=today - datetime.timedelta(days=3),
        items=[{"code": "X1", "name": "住院费", "class": "A", "amount": "1000.00"}],
        documents=[("discharge_summary", checked("s.pdf", _pdf()))],
    )


def test_abandoned_uploads_are_removed_a_day_later_and_nothing_else(demo, settings, tmp_path):
    import os
    import time

    from filings import jobs, uploads
    from filings.models import Material
    from portal.models import JobRun
    from settlement.models import ClaimDocument

    root = tmp_path / "private"
    (root / "pdf").mkdir(parents=True)
    settings.PRIVATE_MEDIA_ROOT = str(root)
    now = time.time()
    day = uploads.ABANDONED_AFTER_SECONDS

    def written(name: str, age: float):
        path = root / name
        path.write_bytes(b"x")
        os.utime(path, (now - age, now - age))
        return path

    orphan = written("a" * 32 + ".pdf", day + 60)
    recent = written("b" * 32 + ".png", day - 60)  # a form may still be open
    material = written("c" * 32 + ".jpg", day * 3)
    document = written("d" * 32 + ".pdf", day * 3)
    other = written("notes.txt", day * 3)
    rendered = root / "pdf" / ("e" * 32 + ".pdf")
    rendered.write_bytes(b"x")
    os.utime(rendered, (now - day * 3, now - day * 3))
    filing = Material.objects.select_related("filing").first().filing
    Material.objects.create(
        filing=filing,
        kind="other",
        stored_name=material.name,
        original_name="x.jpg",
        content_type="image/jpeg",
        size=1,
    )
    claim = _claim_with_a_document(demo)
    ClaimDocument.objects.filter(claim=claim).update(stored_name=document.name)

    run = jobs.remove_abandoned_uploads(now=now)
    assert not orphan.exists()
    assert recent.exists() and material.exists() and document.exists() and other.exists()
    assert rendered.exists()
    assert (run.rows, run.details["removed"], run.error) == (1, 1, "")
    assert JobRun.objects.filter(name="filings.abandoned_uploads").count() == 1
    assert jobs.remove_abandoned_uploads(now=now).rows == 0  # a rerun changes nothing


def test_abandoned_uploads_removal_is_scheduled_daily(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="filings.tasks.remove_abandoned_uploads")
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_month) == ("40", "3", "*")
