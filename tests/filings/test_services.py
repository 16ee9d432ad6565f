"""Filing services: transitions with audit events, automatic approval, lock periods, races."""

import datetime
import threading

import pytest
import time_machine
from django.db import connection, connections
from django.utils import timezone

from filings import services
from filings.models import Filing, Material
from filings.rules import RuleError
from portal.models import AuditEvent, InsuredPerson, Region

pytestmark = pytest.mark.django_db


def person(name):
    return InsuredPerson.objects.select_related("region", "user").get(name=name)


def new_long_term(who="陈明", place="230100", **extra):
    p = person(who)
    region = Region.objects.select_related("province").get(code=place)
    fields = {
        "subtype": "long_term_resident",
        "place_province": region.province,
        "place_region": region,
        "basis": "commitment",
        "start_date": timezone.localdate(),
    }
    fields.update(extra)
    return services.filing_create(person=p, actor=p.user, filing_type="long_term", **fields)


def events(filing):
    return list(
        AuditEvent.objects.filter(object_id=str(filing.pk), object_type="filings.filing")
        .order_by("id")
        .values_list("action", "from_state", "to_state")
    )


def test_rule_2_6_submit_then_approve_records_every_transition(demo):
    staff = demo["agency_shenyang"]
    filing = new_long_term()
    services.filing_submit(filing=filing, actor=filing.person.user)
    approved = services.filing_approve(filing=filing, actor=staff, note="材料齐全")
    assert approved.status == "approved"
    assert approved.valid_from == timezone.localdate() and approved.valid_until is None
    assert approved.commitment_deadline is not None
    assert events(filing) == [
        ("filing.create", "", "draft"),
        ("filing.submit", "draft", "submitted"),
        ("filing.approve", "submitted", "approved"),
    ]
    assert filing.person.user.notifications.filter(subject__contains=filing.number).count() == 2


def test_rule_2_4_other_temporary_filing_is_approved_automatically_on_submission(demo):
    p = person("陈明")
    region = Region.objects.select_related("province").get(code="460200")
    filing = services.filing_create(
        person=p,
        actor=p.user,
        filing_type="temporary",
        place_province=region.province,
        place_region=region,
    )
    filing = services.filing_submit(filing=filing, actor=p.user)
    assert filing.status == "approved"
    assert (filing.valid_until - filing.valid_from).days >= 181


def test_rule_2_6_reject_needs_a_reason_the_person_sees(demo):
    filing = new_long_term()
    services.filing_submit(filing=filing, actor=filing.person.user)
    with pytest.raises(RuleError):
        services.filing_reject(filing=filing, actor=demo["agency_shenyang"], reason=" ")
    rejected = services.filing_reject(
        filing=filing, actor=demo["agency_shenyang"], reason="居住证明不清晰"
    )
    assert rejected.decision_note == "居住证明不清晰"


def test_rule_2_6_returned_filing_is_edited_and_resubmitted(demo):
    filing = new_long_term()
    services.filing_submit(filing=filing, actor=filing.person.user)
    services.filing_return(filing=filing, actor=demo["agency_shenyang"], reason="请补充户口簿")
    again = services.filing_submit(
        filing=Filing.objects.get(pk=filing.pk), actor=filing.person.user
    )
    assert again.status == "submitted"


def test_rule_2_6_at_most_one_open_long_term_filing_per_person(demo):
    new_long_term()
    with pytest.raises(RuleError) as error:
        new_long_term(place="460200")
    assert error.value.code == "open_long_term_exists"


def test_rule_2_1_approved_long_term_cannot_be_cancelled_within_the_lock_period(demo):
    filing = new_long_term()
    services.filing_submit(filing=filing, actor=filing.person.user)
    services.filing_approve(filing=filing, actor=demo["agency_shenyang"])
    with pytest.raises(RuleError) as error:
        services.filing_cancel(filing=filing, actor=filing.person.user)
    assert error.value.code == "locked"
    allowed = error.value.params["allowed_from"]
    later = services.filing_cancel(filing=filing, actor=filing.person.user, today=allowed)
    assert later.status == "cancelled"


def test_rule_2_1_daxinganling_benefits_start_the_day_after_approval(demo):
    filing = new_long_term(
        who="赵丽", place="460200", subtype="resettled_retiree", basis="materials"
    )
    services.filing_submit(filing=filing, actor=filing.person.user)
    approved = services.filing_approve(filing=filing, actor=demo["agency_dxal"])
    assert approved.valid_from == timezone.localdate() + datetime.timedelta(days=1)
    assert approved.valid_until is not None


def test_rule_2_1_accepted_commitment_materials_make_the_filing_two_way(demo):
    filing = Filing.objects.get(number="BA210100000001")  # 李建国, commitment
    assert not filing.two_way
    with pytest.raises(RuleError) as error:
        services.filing_accept_materials(filing=filing, actor=demo["agency_shenyang"])
    assert error.value.code == "materials_missing"
    Material.objects.create(
        filing=filing,
        kind="residence_certificate",
        stored_name="x.pdf",
        original_name="居住证明.pdf",
        content_type="application/pdf",
        size=10,
    )
    services.filing_accept_materials(filing=filing, actor=demo["agency_shenyang"])
    assert Filing.objects.get(pk=filing.pk).two_way


def test_rule_2_6_a_decided_filing_cannot_be_decided_again(demo):
    filing = Filing.objects.get(number="BA210100000002")  # 孙国强, submitted
    services.filing_approve(filing=filing, actor=demo["agency_shenyang"])
    with pytest.raises(RuleError) as error:
        services.filing_reject(filing=filing, actor=demo["agency_shenyang"], reason="x")
    assert error.value.code == "already_decided"


@time_machine.travel(datetime.datetime(2026, 11, 22, 10, tzinfo=datetime.UTC))
def test_the_demo_filings_are_in_their_documented_states(demo):
    states = dict(Filing.objects.values_list("person__name", "status"))
    assert states == {
        "王秀兰": "approved",
        "李建国": "approved",
        "张伟": "approved",
        "刘芳": "approved",
        "赵丽": "expired",
        "孙国强": "submitted",
    }
    assert Filing.objects.get(person__name="王秀兰").two_way
    assert not Filing.objects.get(person__name="李建国").two_way


def _race(n, fn):
    barrier = threading.Barrier(n)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(("ok", fn()))
        except RuleError as exc:
            results.append(("rule", exc.code))
        except Exception as exc:  # noqa: BLE001 - a server error would be the failure
            results.append(("error", repr(exc)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_8_threads_approving_the_same_filing_make_exactly_one_approval():
    if connection.vendor != "postgresql":
        pytest.skip("races need PostgreSQL: runs with CI=true")
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    staff = get_user_model().objects.get(username="agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    results = _race(8, lambda: services.filing_approve(filing=filing, actor=staff).status)
    assert sorted(r[0] for r in results) == ["ok"] + ["rule"] * 7
    assert {r[1] for r in results if r[0] == "rule"} == {"already_decided"}
    assert AuditEvent.objects.filter(object_id=str(filing.pk), action="filing.approve").count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_8_threads_creating_a_long_term_filing_for_one_person_make_exactly_one_row():
    if connection.vendor != "postgresql":
        pytest.skip("races need PostgreSQL: runs with CI=true")
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", stdout=StringIO())
    results = _race(8, lambda: new_long_term().pk)
    assert [r[0] for r in results].count("ok") == 1
    assert all(r == ("rule", "open_long_term_exists") for r in results if r[0] != "ok")
    assert Filing.objects.filter(person__name="陈明", type="long_term").count() == 1
