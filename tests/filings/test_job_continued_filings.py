"""domain.md §2.4, §2.6: a filing that ends where another approved filing of the person for the
same place covers the next day (a temporary filing's continuation, a long-term filing) is not
"expired, file again": the person is told which filing continues it; and a temporary filing a
long-term filing cut short, whose person was told so then, is not told again that it expired.
Each test runs on both of the job's paths (the PostgreSQL statement under CI=true, and the ORM
batches); the last compares the rows they write."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from filings import jobs, services
from filings.models import Filing
from portal.models import AuditEvent, InsuredPerson, Notification, Region
from tests.filings.test_job_notices import notes_of, notes_of_both_paths, path, places, text  # noqa: F401
from tests.filings.test_jobs import TODAY, make_filing, make_person
from tests.filings.test_jobs import world as jobs_world

pytestmark = pytest.mark.django_db
world = jobs_world
YESTERDAY = TODAY - datetime.timedelta(days=1)


def continuation(world, old: Filing, **fields) -> Filing:
    defaults = {
        "type": "temporary",
        "valid_from": old.valid_until + datetime.timedelta(days=1),
        "valid_until": old.valid_until + datetime.timedelta(days=183),
    }
    return make_filing(world, person=old.person, **{**defaults, **fields})


def superseded(world) -> tuple[Filing, Filing]:
    """A temporary filing a long-term filing for its place cut short (as
    filings/services.py `_end_temporary_filings_there` leaves it), ending yesterday."""
    temporary = make_filing(world, type="temporary", valid_until=YESTERDAY)
    long_term = make_filing(
        world, person=temporary.person, type="long_term", basis="materials", valid_from=TODAY
    )
    AuditEvent.objects.create(
        actor_role="system",
        action="filing.superseded",
        object_type="filings.filing",
        object_id=str(temporary.pk),
        object_repr=temporary.number,
        reason=long_term.number,
    )
    return temporary, long_term


def test_rule_2_4_a_temporary_filing_continued_from_the_next_day_names_its_continuation(
    world,
    path,  # noqa: F811 - the fixture
):
    old = make_filing(world, type="temporary", valid_until=YESTERDAY)
    follow_on = continuation(world, old)
    assert jobs.apply_changes(TODAY)["expire_temporary"] == 1
    (note,) = notes_of(old.person.user)
    assert note.notice == "filing_continued"
    chinese, english = text(note), text(note, "en")
    assert old.number in chinese and follow_on.number in chinese
    assert "无需重新备案" in chinese and "请重新备案" not in chinese
    assert f"Filing {follow_on.number} continues it for the same place" in english
    assert "File again" not in english
    assert follow_on.number in note.text("en")[0]  # the subject names it too
    assert Filing.objects.get(pk=follow_on.pk).status == "approved"


def test_rule_2_6_a_long_term_filing_from_the_next_day_continues_a_temporary_one(
    world,
    path,  # noqa: F811 - the fixture
):
    """Not cut short (it ended the day before the long-term filing began): told what
    continues it, once."""
    old = make_filing(world, type="temporary", valid_until=YESTERDAY)
    long_term = make_filing(
        world, person=old.person, type="long_term", basis="materials", valid_from=TODAY
    )
    jobs.apply_changes(TODAY)
    (note,) = notes_of(old.person.user)
    assert (note.notice, note.params["r"]) == ("filing_continued", long_term.number)


def test_rule_2_6_a_temporary_filing_replaced_by_a_long_term_one_is_not_told_it_expired(
    world,
    path,  # noqa: F811 - the fixture
):
    temporary, _long_term = superseded(world)
    assert jobs.apply_changes(TODAY)["expire_temporary"] == 1
    assert Filing.objects.get(pk=temporary.pk).status == "expired"
    assert not notes_of(temporary.person.user).exists()
    # The expiry is recorded all the same.
    assert AuditEvent.objects.filter(action="filing.expire", object_id=str(temporary.pk)).exists()


@pytest.mark.parametrize(
    "follow_on",
    [
        {"valid_from": TODAY + datetime.timedelta(days=1)},  # a day without cover between
        {"status": "submitted"},  # not approved
        {"place": "sanya"},  # another place
        {"type": "referral"},  # one hospital, not the place
    ],
)
def test_a_filing_that_nothing_continues_still_says_file_again(
    world,
    places,  # noqa: F811 - the fixture
    path,  # noqa: F811 - the fixture
    follow_on,
):
    old = make_filing(world, type="temporary", valid_until=YESTERDAY)
    fields = dict(follow_on)
    if fields.pop("place", None):
        fields.update(place_province=places["hainan"], place_region=places["sanya"])
    continuation(world, old, **fields)
    jobs.apply_changes(TODAY)
    (note,) = notes_of(old.person.user)
    assert note.notice == "filing_expired"
    assert "请重新备案" in text(note)


def test_rule_2_6_chen_ming_is_told_once_that_his_long_term_filing_replaces_the_temporary_one(
    demo,
    path,  # noqa: F811 - the fixture
):
    """The audit's case over the demo: 陈明 (Shenyang: benefits on approval) has a temporary
    filing to Harbin; his long-term filing there is approved, which cuts it short and tells him
    so; the next night the job closes it without telling him "expired, file again"."""
    chen = InsuredPerson.objects.get(name="陈明")
    harbin = Region.objects.get(code="230100")
    today = timezone.localdate()
    common = {
        "person": chen,
        "insured_region": chen.region,
        "place_province": harbin.province,
        "place_region": harbin,
    }
    temporary = Filing.objects.create(
        number="LS-TEST-CHEN",
        type="temporary",
        status="approved",
        valid_from=today - datetime.timedelta(days=30),
        valid_until=today + datetime.timedelta(days=150),
        **common,
    )
    submitted = Filing.objects.create(
        number="BA-TEST-CHEN",
        type="long_term",
        subtype="long_term_resident",
        status="submitted",
        start_date=today,
        basis="materials",
        **common,
    )
    long_term = services.filing_approve(filing=submitted, actor=demo["admin"])
    assert long_term.valid_from == today
    told = list(Notification.objects.filter(user=chen.user))
    assert "temporary_superseded" in [n.notice for n in told]
    jobs.apply_changes(today + datetime.timedelta(days=1))
    assert Filing.objects.get(pk=temporary.pk).status == "expired"
    assert list(Notification.objects.filter(user=chen.user)) == told


def test_the_statement_and_the_orm_batches_write_the_same_continuation_notices(
    world,
    places,  # noqa: F811 - the fixture
):
    """On PostgreSQL: both paths over the same filings (the first rolled back) write the same
    notifications, the continued, the replaced and the plain expiry alike."""
    if connection.vendor != "postgresql":
        pytest.skip("compares the PostgreSQL statement with the ORM: runs with CI=true")
    old = make_filing(world, type="temporary", valid_until=YESTERDAY)
    continuation(world, old)
    # Two follow-ons: the long-term one is named, as in the statement.
    both = make_filing(world, type="temporary", valid_until=YESTERDAY)
    continuation(world, both)
    make_filing(world, person=both.person, type="long_term", basis="materials", valid_from=TODAY)
    ending_long_term = make_filing(
        world, type="long_term", basis="materials", valid_until=YESTERDAY
    )
    continuation(world, ending_long_term)
    superseded(world)
    make_filing(world, type="temporary", valid_until=YESTERDAY)
    later = make_filing(world, type="temporary", valid_until=YESTERDAY)
    continuation(world, later, valid_from=TODAY + datetime.timedelta(days=1))
    make_person(world)

    statement, batches = notes_of_both_paths(TODAY)
    assert batches == statement
    assert [row[1] for row in statement].count("filing_continued") == 3
    assert [row[1] for row in statement].count("filing_expired") == 2
