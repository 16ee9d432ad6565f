"""What the nightly job tells people (domain.md §2.1, §2.2): each notice fits the filing it is
about, and names its type and place; the agency's staff get one of their own. Each test runs
on both of the job's paths: the one configured (one SQL statement per kind on PostgreSQL,
under CI=true) and the ORM batches; both write the same rows."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.urls import resolve
from django.utils import timezone

from filings import jobs
from filings.models import Filing, Material
from portal.models import Notification, Province, Region
from tests.filings.test_jobs import TODAY, make_filing, make_person
from tests.filings.test_jobs import world as jobs_world
from tests.notes import said

pytestmark = pytest.mark.django_db
world = jobs_world
YESTERDAY = TODAY - datetime.timedelta(days=1)


@pytest.fixture(params=["as_configured", "orm"])
def path(request, monkeypatch):
    if request.param == "orm":
        monkeypatch.setattr(jobs, "_apply_pg", jobs._apply_orm)
    return request.param


@pytest.fixture
def places(world):
    """The world's places with their English names, and a second province."""
    Province.objects.filter(pk=world["province"].pk).update(name_en="Heilongjiang")
    Region.objects.filter(pk=world["place"].pk).update(name_en="Harbin")
    hainan = Province.objects.create(code="460000", name="海南省", name_en="Hainan")
    sanya = Region.objects.create(code="460200", name="三亚市", name_en="Sanya", province=hainan)
    return {"hainan": hainan, "sanya": sanya}


def notes_of(user):
    return Notification.objects.filter(user=user).order_by("id")


def text(note, language="zh-hans") -> str:
    return said([note], language)[0]


def overdue_commitment(world, **fields) -> Filing:
    return make_filing(
        world,
        type="long_term",
        basis="commitment",
        commitment_deadline=YESTERDAY,
        decided_at=timezone.now() - datetime.timedelta(days=200),
        **fields,
    )


# -- defect: the agency's staff were sent the person's notice, linked to "/admin/" ----------


def test_rule_2_1_agency_staff_are_told_of_a_revocation_in_their_own_words(world, path):
    filing = overdue_commitment(world)
    jobs.apply_changes(TODAY)
    (staff_note,) = notes_of(world["staff"])
    assert staff_note.notice == "filing_revoked_agency"
    # The filing's own admin page, where the staff member can act on it.
    assert staff_note.url == f"/admin/filings/filing/{filing.pk}/change/"
    assert resolve(staff_note.url).url_name == "filings_filing_change"
    chinese = text(staff_note)
    # The filing's number and the person's name (masked, as the admin shows it).
    assert filing.number in chinese and "李*国" in chinese and "撤销" in chinese
    assert "2026-11-21" in chinese  # the commitment deadline
    assert "您的备案" not in chinese
    english = text(staff_note, "en")
    assert f"filing {filing.number} of 李*国" in english and "Your filing" not in english
    # The person is still told in the person's words, on the filing's page.
    (person_note,) = notes_of(filing.person.user)
    assert person_note.notice == "filing_revoked"
    assert person_note.url == f"/filings/{filing.number}/"
    assert "您的备案" in text(person_note)


# -- defect: one "expired, file again" for every filing -------------------------------------


def test_rule_2_2_a_referral_whose_course_is_over_is_told_of_the_follow_up_notice(world, path):
    course_over = make_filing(
        world,
        type="referral",
        valid_until=TODAY + datetime.timedelta(days=30),
        treatment_started_on=TODAY - datetime.timedelta(days=61),
        course_days=60,
    )
    # Liaoning: not started within its validity; a new referral is what it needs.
    unused = make_filing(world, type="referral", valid_until=YESTERDAY)
    jobs.apply_changes(TODAY)
    (note,) = notes_of(course_over.person.user)
    assert note.notice == "referral_course_over"
    chinese = text(note)
    assert course_over.number in chinese
    assert "转入医院出具书面通知" in chinese and "无需重新备案" in chinese
    assert "请重新备案" not in chinese
    english = text(note, "en")
    assert "follow-up notice" in english and "File again" not in english
    (other,) = notes_of(unused.person.user)
    assert other.notice == "filing_expired"
    assert "请重新备案" in text(other)


def renewal_of(old: Filing, status: str) -> Filing:
    return Filing.objects.create(
        number=f"{old.number}-R",
        person=old.person,
        insured_region=old.insured_region,
        type="long_term",
        subtype="resettled_retiree",
        basis="materials",
        status=status,
        renews=old,
        place_province=old.place_province,
        place_region=old.place_region,
        submitted_at=timezone.now(),
    )


def test_rule_2_1_a_filing_ending_while_its_renewal_is_under_review_says_so(world, path):
    old = make_filing(world, type="long_term", basis="materials", valid_until=YESTERDAY)
    renewal = renewal_of(old, "submitted")
    jobs.apply_changes(TODAY)
    assert Filing.objects.get(pk=old.pk).status == "expired"
    (note,) = notes_of(old.person.user)
    assert note.notice == "filing_renewal_under_review"
    chinese = text(note)
    assert old.number in chinese and renewal.number in chinese
    assert "正在由医保经办机构审核" in chinese and "无需重新备案" in chinese
    assert "请重新备案" not in chinese
    assert "is under review by the agency" in text(note, "en")
    assert Filing.objects.get(pk=renewal.pk).status == "submitted"


@pytest.mark.parametrize("renewal_status", ["draft", "returned"])
def test_rule_2_1_a_filing_ending_with_its_renewal_unsent_says_to_submit_it(
    world, path, renewal_status
):
    """ "File again" was wrong for a person who had started the renewal: they are told to
    complete and submit it."""
    old = make_filing(world, type="long_term", basis="materials", valid_until=YESTERDAY)
    renewal = renewal_of(old, renewal_status)
    jobs.apply_changes(TODAY)
    (note,) = notes_of(old.person.user)
    assert note.notice == "filing_renewal_to_submit"
    chinese = text(note)
    assert renewal.number in chinese and "请重新备案" not in chinese
    assert "complete and submit it" in text(note, "en")


def test_a_renewal_that_was_rejected_leaves_the_expiry_notice(world, path):
    old = make_filing(world, type="long_term", basis="materials", valid_until=YESTERDAY)
    renewal_of(old, "rejected")
    jobs.apply_changes(TODAY)
    (note,) = notes_of(old.person.user)
    assert note.notice == "filing_expired"


def test_rule_2_6_two_filings_expiring_together_are_told_apart(world, places, path):
    person = make_person(world)
    harbin = make_filing(world, person=person, type="temporary", valid_until=YESTERDAY)
    sanya = make_filing(
        world,
        person=person,
        type="emergency",
        valid_until=YESTERDAY,
        place_province=places["hainan"],
        place_region=places["sanya"],
    )
    jobs.apply_changes(TODAY)
    first, second = notes_of(person.user)
    assert first.params["n"] == harbin.number and second.params["n"] == sanya.number
    assert text(first) != text(second)
    assert "其他临时外出就医" in text(first) and "黑龙江省哈尔滨市" in text(first)
    assert "急诊抢救" in text(second) and "海南省三亚市" in text(second)
    assert "Other temporary treatment" in text(first, "en")
    assert "Harbin, Heilongjiang" in text(first, "en")
    assert "Emergency" in text(second, "en") and "Sanya, Hainan" in text(second, "en")
    # The subject names the filing too (an inbox or mail client lists subjects).
    assert harbin.number in first.text("zh-hans")[0]


def test_rule_2_1_the_revocation_reads_true_whether_nothing_was_supplied_or_it_was_refused(
    world, places, path
):
    nothing = overdue_commitment(world)
    refused = overdue_commitment(world)
    material = Material.objects.create(
        filing=refused,
        kind="household_register",
        stored_name="refused.png",
        original_name="户口簿.png",
        content_type="image/png",
        size=10,
    )
    Material.objects.filter(pk=material.pk).update(
        uploaded_at=timezone.now() - datetime.timedelta(days=20),
        refused_at=timezone.now() - datetime.timedelta(days=10),
    )
    assert jobs.apply_changes(TODAY)["revoke_commitment"] == 2
    for filing in (nothing, refused):
        (note,) = notes_of(filing.person.user)
        chinese, english = text(note), text(note, "en")
        assert "截至承诺期限没有证明材料获受理" in chinese
        assert "异地长期居住" in chinese and "黑龙江省哈尔滨市" in chinese
        assert "no proof materials were accepted by the commitment deadline" in english
        # Not "were not supplied": the refused filing's person did supply them.
        assert "补交" not in chinese and "not supplied" not in english


def test_notifications_stored_before_the_place_was_named_still_read_whole(world):
    """Rows the job wrote before it named the filing's type and place ({"n": …} only) are
    not shown with dashes for what they lack."""
    user = world["staff"]
    expired = Notification.objects.create(user=user, notice="filing_expired", params={"n": "B1"})
    revoked = Notification.objects.create(user=user, notice="filing_revoked", params={"n": "B2"})
    for note in (expired, revoked):
        for language in ("zh-hans", "en"):
            assert "-" not in text(note, language), text(note, language)
    assert "B1" in text(expired) and "请重新备案" in text(expired)
    assert "B2" in text(revoked) and "没有证明材料获受理" in text(revoked)


# -- both paths write the same rows ------------------------------------------------------------


def test_the_statement_and_the_orm_batches_write_the_same_notifications(world, places):
    """On PostgreSQL: one run of each path over the same filings (the first rolled back),
    every notification alike: who, what, its parameters and its link."""
    if connection.vendor != "postgresql":
        pytest.skip("compares the PostgreSQL statement with the ORM: runs with CI=true")
    overdue_commitment(world)
    make_filing(world, type="temporary", valid_until=YESTERDAY)
    make_filing(
        world,
        type="referral",
        valid_until=TODAY + datetime.timedelta(days=30),
        treatment_started_on=TODAY - datetime.timedelta(days=61),
        course_days=60,
    )
    renewing = make_filing(world, type="long_term", basis="materials", valid_until=YESTERDAY)
    renewal_of(renewing, "submitted")
    renewed = make_filing(world, type="long_term", basis="materials", valid_until=YESTERDAY)
    renewal_of(renewed, "approved")
    make_filing(
        world,
        type="chronic_outpatient",
        valid_until=YESTERDAY,
        place_province=places["hainan"],
        place_region=places["sanya"],
    )

    statement, batches = notes_of_both_paths(TODAY)
    assert batches == statement
    assert {row[1] for row in statement} == {
        "filing_revoked",
        "filing_revoked_agency",
        "filing_expired",
        "referral_course_over",
        "filing_renewal_under_review",
        "filing_renewal_in_force",
    }


def notes_of_both_paths(today) -> tuple[list[tuple], list[tuple]]:
    """The notifications the PostgreSQL statement writes for `today` (then rolled back), and
    those the ORM batches write for the same rows: (recipient, notice, params, link) each."""

    def written() -> list[tuple]:
        return sorted(
            (n.user_id, n.notice, sorted(n.params.items()), n.url)
            for n in Notification.objects.all()
        )

    with transaction.atomic():
        jobs.apply_changes(today)
        statement = written()
        transaction.set_rollback(True)
    assert not Notification.objects.exists()
    original = jobs._apply_pg
    try:
        jobs._apply_pg = jobs._apply_orm
        jobs.apply_changes(today)
    finally:
        jobs._apply_pg = original
    return statement, written()
