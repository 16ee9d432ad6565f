"""domain.md §2.1, filing by commitment: proof supplied by the deadline keeps the filing while the
agency reviews it (the nightly job does not revoke it), so the desk says the materials are in
and awaiting review, never that the filing will be revoked."""

import datetime
from dataclasses import replace

import pytest
import time_machine
from django.utils import timezone, translation

from filings import jobs
from filings.models import Filing, Material
from hospitals.eligibility import decide
from hospitals.eligibility_selectors import clear_caches
from tests.hospitals.test_eligibility import HARBIN, LI, ONE_WAY, SHENYANG
from tests.hospitals.test_eligibility_api import ask, keys  # noqa: F401 - the fixture

DEADLINE = ONE_WAY.commitment_deadline
SUPPLIED = replace(ONE_WAY, materials_supplied_on=DEADLINE)


def run(filing, hospital, visit_date):
    with translation.override("en"):
        return decide(
            person=LI,
            hospital=hospital,
            care_type="inpatient",
            visit_date=visit_date,
            filings=[filing],
        )


def test_rule_2_1_materials_supplied_in_time_await_review_with_no_revocation_warning():
    after = DEADLINE + datetime.timedelta(days=1)
    d = run(SUPPLIED, HARBIN, after)
    assert (d.eligible, d.category, d.two_way) == (True, "long_term", False)
    assert d.reasons == [
        f"One-way filing: the commitment materials were supplied on {DEADLINE} and await the "
        "agency's review."
    ]
    # Nothing supplied: the deadline and, for a visit after it, the revocation still show.
    assert "revoked" in " ".join(run(ONE_WAY, HARBIN, after).reasons)


def test_rule_2_1_at_home_materials_supplied_in_time_are_said_to_await_review():
    d = run(SUPPLIED, SHENYANG, DEADLINE + datetime.timedelta(days=1))
    assert (d.eligible, d.category) == (False, "local")
    assert f"supplied on {DEADLINE} and await the agency's review" in d.reasons[0]
    assert "Deadline" not in d.reasons[0] and "outstanding" not in d.reasons[0]


@pytest.mark.django_db
def test_rule_2_1_desk_says_a_commitment_supplied_on_the_deadline_day_awaits_review(
    client,
    keys,  # noqa: F811 - the fixture
):
    """李建国 uploads a residence certificate on the deadline day; the nightly job keeps his
    filing; the next day the desk at H23010300001 and the API say the same as his own page."""
    clear_caches()  # the desk's caches of hospitals and regions, from another test's demo
    filing = Filing.objects.get(person__name="李建国", type="long_term")
    deadline = filing.commitment_deadline
    tz = timezone.get_current_timezone()
    material = Material.objects.create(
        filing=filing,
        kind="residence_certificate",
        stored_name="supplement-li.png",
        original_name="居住证明.png",
        content_type="image/png",
        size=10,
    )
    uploaded = datetime.datetime.combine(deadline, datetime.time(22, 30), tzinfo=tz)
    Material.objects.filter(pk=material.pk).update(uploaded_at=uploaded)
    next_day = deadline + datetime.timedelta(days=1)
    with time_machine.travel(datetime.datetime.combine(next_day, datetime.time(1, 5), tzinfo=tz)):
        assert jobs.apply_changes(next_day)["revoke_commitment"] == 0
        body = ask(client, keys["H23010300001"], "李建国").json()
        assert (body["eligible"], body["category"]) == (True, "long_term"), body
        reasons = " ".join(body["reasons"])
        assert f"材料已于 {deadline:%Y-%m-%d} 补交，正在等待经办机构审核" in reasons
        assert "撤销" not in reasons and "尚未补齐" not in reasons
        body = ask(client, keys["H23010300001"], "李建国", lang="en").json()
        assert f"supplied on {deadline:%Y-%m-%d} and await the agency's review" in " ".join(
            body["reasons"]
        )
