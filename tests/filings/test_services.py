"""Filing services: transitions with audit events, automatic approval, lock periods, races."""

import datetime
import threading

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.db import connection, connections
from django.utils import timezone, translation

from filings import services
from filings.messages import message
from filings.models import Filing, Material
from filings.rules import RuleError
from hospitals.models import Hospital
from portal.models import AuditEvent, InsuredPerson, Region
from tests.notes import says

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


def add_materials(filing, *kinds):
    for kind in kinds:
        Material.objects.create(
            filing=filing,
            kind=kind,
            stored_name=f"{kind}-{filing.pk}-{Material.objects.count()}.png",
            original_name=f"{kind}.png",
            content_type="image/png",
            size=10,
        )


def hospitals(*codes):
    return list(Hospital.objects.select_related("region").filter(code__in=codes))


def refused(fn, **kwargs):
    with pytest.raises(RuleError) as error:
        fn(**kwargs)
    return error.value


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
    assert says(filing.person.user.notifications.all(), filing.number) == 2


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
    sanya = Region.objects.get(code="460200")
    later = timezone.localdate() + datetime.timedelta(days=10)
    edited = services.filing_update(
        filing=filing, actor=filing.person.user, place_region=sanya, start_date=later
    )
    assert (edited.place_region_id, edited.place_province_id) == (sanya.pk, sanya.province_id)
    again = services.filing_submit(
        filing=Filing.objects.get(pk=filing.pk), actor=filing.person.user
    )
    assert again.status == "submitted"
    stored = Filing.objects.get(pk=filing.pk)
    assert (stored.place_region.code, stored.start_date) == ("460200", later)
    assert [e[0] for e in events(filing)][-3:] == [
        "filing.return",
        "filing.update",
        "filing.submit",
    ]


def test_rule_2_6_only_draft_and_returned_filings_are_edited(demo):
    filing = Filing.objects.get(number="BA210100000002")  # submitted
    error = refused(
        services.filing_update,
        filing=filing,
        actor=filing.person.user,
        start_date=timezone.localdate(),
    )
    assert error.code == "not_editable"


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
    add_materials(filing, "id_copy")
    later = services.filing_cancel(filing=filing, actor=filing.person.user, today=allowed)
    assert later.status == "cancelled"


def test_rule_2_1_cancellation_needs_an_id_copy_of_the_person_and_of_the_agent(demo):
    filing = new_long_term(
        agent_name="陈小明", agent_id_number="210102196208050352", agent_relationship="子"
    )
    add_materials(filing, "agent_id_copy")
    services.filing_submit(filing=filing, actor=filing.person.user)
    services.filing_approve(filing=filing, actor=demo["agency_shenyang"])
    allowed = Filing.objects.get(pk=filing.pk).valid_from + datetime.timedelta(days=200)
    error = refused(services.filing_cancel, filing=filing, actor=filing.person.user, today=allowed)
    assert (error.code, error.params["missing"]) == ("cancel_needs_copies", ["id_copy"])
    add_materials(filing, "id_copy")
    cancelled = services.filing_cancel(filing=filing, actor=filing.person.user, today=allowed)
    assert cancelled.status == "cancelled"


def test_rule_2_1_daxinganling_benefits_start_the_day_after_approval(demo):
    filing = new_long_term(who="赵丽", place="460200", basis="materials")
    filing.hospitals.set(hospitals("H46020000002"))
    add_materials(filing, "residence_certificate", "id_copy", "social_security_copy")
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
    # A posting certificate proves a stationed worker's residence, not a long-term resident's.
    assert filing.subtype == "long_term_resident"
    Material.objects.create(
        filing=filing,
        kind="posting_certificate",
        stored_name="p.pdf",
        original_name="派驻证明.pdf",
        content_type="application/pdf",
        size=10,
    )
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


@pytest.fixture
def seeded_for_races(transactional_db):
    """The demo, committed, for threads with connections of their own: PostgreSQL only (its
    row locks are what a race test is about)."""
    if connection.vendor != "postgresql":
        pytest.skip("races need PostgreSQL: runs with CI=true")
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", "--no-history", stdout=StringIO())


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
def test_8_threads_approving_the_same_filing_make_exactly_one_approval(seeded_for_races):
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.get(username="agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    results = _race(8, lambda: services.filing_approve(filing=filing, actor=staff).status)
    assert sorted(r[0] for r in results) == ["ok"] + ["rule"] * 7
    assert {r[1] for r in results if r[0] == "rule"} == {"already_decided"}
    assert AuditEvent.objects.filter(object_id=str(filing.pk), action="filing.approve").count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_8_threads_creating_a_long_term_filing_for_one_person_make_exactly_one_row(
    seeded_for_races,
):
    results = _race(8, lambda: new_long_term().pk)
    assert [r[0] for r in results].count("ok") == 1
    assert all(r == ("rule", "open_long_term_exists") for r in results if r[0] != "ok")
    assert Filing.objects.filter(person__name="陈明", type="long_term").count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_rule_2_6_a_double_tap_submits_one_temporary_filing_for_a_place_not_two(seeded_for_races):
    """8 requests at once (a retiree's double tap), each its own draft for Sanya and its
    submission: one is approved, the others are refused as covered by it (PostgreSQL)."""

    def file_and_submit():
        draft = _filing("陈明", "temporary", "460200")
        return services.filing_submit(filing=draft, actor=draft.person.user).status

    results = _race(8, file_and_submit)
    assert [r for r in results if r[0] == "ok"] == [("ok", "approved")]
    # Covered by the one approved (whose continuation can only be filed months later).
    covered = {("rule", "temporary_covers_place"), ("rule", "temporary_continue_later")}
    assert all(r in covered for r in results if r[0] != "ok"), results
    approved = Filing.objects.filter(person__name="陈明", type="temporary", status="approved")
    assert approved.count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_rule_2_2_a_double_click_starts_one_referral_to_a_hospital_not_two(seeded_for_races):
    start = {
        "hospital": Hospital.objects.get(code="H21010000001"),
        "actor": None,
        "person": person("陈明"),
        "receiving_hospital": Hospital.objects.get(code="H23010300001"),
        "diagnosis": "肺癌",
        "condition": "b",
        "attending_doctor": "刘洋",
    }
    results = _race(8, lambda: services.referral_start(**start).number)
    assert [r[0] for r in results].count("ok") == 1
    assert all(r == ("rule", "open_referral_exists") for r in results if r[0] != "ok")
    assert Filing.objects.filter(person__name="陈明", type="referral").count() == 1


# domain.md §2.1: proof materials, checked by the service on submission.


def test_rule_2_1_proof_materials_one_proof_plus_id_and_social_security_copies():
    def missing(*kinds, subtype="long_term_resident", scheme="employee", **extra):
        return services.missing_materials(
            kinds=kinds,
            subtype=subtype,
            scheme=scheme,
            basis=extra.pop("basis", "materials"),
            agent=extra.pop("agent", False),
            **extra,
        )

    assert missing() == ["proof", "id_copy", "social_security_copy"]
    for proof in ("household_register", "property_certificate", "residence_certificate"):
        assert missing(proof, "id_copy", "social_security_copy") == []
    assert missing("household_register", "id_copy") == ["social_security_copy"]
    # the commitment defers the proofs, not the agent's ID copy
    assert missing(basis="commitment") == []
    assert missing(basis="commitment", agent=True) == ["agent_id_copy"]


def test_rule_2_1_posting_certificate_counts_only_for_stationed_workers():
    kinds = ("posting_certificate", "id_copy", "social_security_copy")
    common = {"scheme": "employee", "basis": "materials", "agent": False}
    assert services.missing_materials(kinds=kinds, subtype="stationed_worker", **common) == []
    assert services.missing_materials(kinds=kinds, subtype="long_term_resident", **common) == [
        "proof"
    ]


def test_rule_2_1_a_relatives_home_needs_proof_of_the_relationship():
    kinds = ["property_certificate", "id_copy", "social_security_copy"]
    common = {"subtype": "resettled_retiree", "scheme": "employee", "basis": "materials"}
    assert services.missing_materials(kinds=kinds, agent=False, **common) == []
    assert services.missing_materials(kinds=kinds, agent=False, relatives_home=True, **common) == [
        "relationship_proof"
    ]
    assert (
        services.missing_materials(
            kinds=[*kinds, "relationship_proof"], agent=False, relatives_home=True, **common
        )
        == []
    )


def test_rule_2_1_residents_scheme_members_add_their_payment_record():
    kinds = ["residence_certificate", "id_copy", "social_security_copy"]
    common = {"subtype": "long_term_resident", "basis": "materials", "agent": False}
    assert services.missing_materials(kinds=kinds, scheme="resident", **common) == [
        "payment_record"
    ]
    assert (
        services.missing_materials(kinds=[*kinds, "payment_record"], scheme="resident", **common)
        == []
    )


def test_rule_2_1_submission_is_refused_with_the_missing_materials_named(demo):
    from django.utils import translation

    filing = new_long_term(
        basis="materials",
        agent_name="陈小明",
        agent_id_number="210102196208050352",
        agent_relationship="子",
    )
    add_materials(filing, "household_register")
    error = refused(services.filing_submit, filing=filing, actor=filing.person.user)
    assert error.code == "materials_incomplete"
    assert error.params["missing"] == ["id_copy", "social_security_copy", "agent_id_copy"]
    with translation.override("en"):
        text = message(error)
    assert "ID card copy" in text and "Social security card copy" in text and "Agent" in text
    assert Filing.objects.get(pk=filing.pk).status == "draft"
    add_materials(filing, "id_copy", "social_security_copy", "agent_id_copy")
    assert services.filing_submit(filing=filing, actor=filing.person.user).status == "submitted"


def test_rule_2_1_submission_needs_the_required_fields_a_draft_may_leave_empty(demo):
    filing = new_long_term(basis="", subtype="")
    error = refused(services.filing_submit, filing=filing, actor=filing.person.user)
    assert (error.code, error.params["fields"]) == ("incomplete", ["subtype", "basis"])


def test_rule_2_1_resettled_retiree_sub_type_only_for_retired_persons(demo):
    error = refused(new_long_term, subtype="resettled_retiree")
    assert error.code == "not_retired"
    InsuredPerson.objects.filter(name="陈明").update(retired=True)
    assert new_long_term(subtype="resettled_retiree").subtype == "resettled_retiree"


# domain.md §2.1: the chosen hospitals, checked by the service.


def test_rule_2_1_daxinganling_hospital_choice_is_checked_by_the_service(demo):
    error = refused(new_long_term, who="赵丽", place="230100", hospitals=hospitals("H46020000001"))
    assert error.code == "hospital_elsewhere"
    error = refused(new_long_term, who="赵丽", place="230100", hospitals=hospitals("H23010300009"))
    assert error.code == "hospital_not_eligible"  # a TCM hospital not designated for resettlement
    many = hospitals("H23010300001", "H23010300002", "H23010300004", "H23010300005")
    assert refused(new_long_term, who="赵丽", place="230100", hospitals=many).code == (
        "too_many_hospitals"
    )
    # a draft may come without hospitals, a submission may not
    filing = new_long_term(who="赵丽", place="230100")
    assert refused(services.filing_submit, filing=filing, actor=filing.person.user).code == (
        "choose_hospitals"
    )
    # Liaoning persons choose none
    assert refused(new_long_term, hospitals=hospitals("H23010300001")).code == "no_choice_here"


def test_rule_2_1_hospitals_designated_for_resettled_persons_are_eligible(demo):
    sanya = hospitals("H46020000001", "H46020000002", "H46020000003")  # 三亚市中医院 is TCM
    filing = new_long_term(who="赵丽", place="460200", hospitals=sanya)
    assert set(filing.hospitals.values_list("code", flat=True)) == {h.code for h in sanya}
    # and the demo's 王秀兰 (the same three) stays valid under the rule
    wang = Filing.objects.get(number="BA232700000001")
    services.check_filing(wang)
    assert services.hospital_choices(wang.hospitals.select_related("region"))


# domain.md §2.5 and §2.6: what a filing may sit on or next to.


def _filing(who, filing_type, place, **extra):
    p = person(who)
    region = Region.objects.select_related("province").get(code=place)
    return services.filing_create(
        person=p,
        actor=p.user,
        filing_type=filing_type,
        place_province=region.province,
        place_region=region,
        **extra,
    )


def test_rule_2_5_chronic_filing_needs_an_effective_long_term_or_temporary_filing(demo):
    disease = {"disease": "2型糖尿病", "covers_chronic_outpatient": True}
    # 陈明 has no filing at all; 赵丽's referral to Harbin has expired
    assert refused(
        _filing, who="陈明", filing_type="chronic_outpatient", place="230100", **disease
    ).code == ("chronic_needs_filing")
    assert refused(
        _filing, who="赵丽", filing_type="chronic_outpatient", place="230100", **disease
    ).code == ("chronic_needs_filing")
    # 刘芳's other temporary filing covers Harbin, not Sanya
    assert refused(
        _filing, who="刘芳", filing_type="chronic_outpatient", place="460200", **disease
    ).code == ("chronic_needs_filing")
    chronic = _filing("刘芳", "chronic_outpatient", "230100", **disease)
    assert services.filing_submit(filing=chronic, actor=chronic.person.user).status == "submitted"
    # on top of a long-term filing too (王秀兰, Sanya)
    assert _filing("王秀兰", "chronic_outpatient", "460200", **disease).status == "draft"


def test_rule_2_5_chronic_filing_is_checked_again_on_submission(demo):
    chronic = _filing("刘芳", "chronic_outpatient", "230100", disease="高血压")
    Filing.objects.filter(number="LS210200000001").update(status="expired")
    error = refused(services.filing_submit, filing=chronic, actor=chronic.person.user)
    assert error.code == "chronic_needs_filing"


def test_rule_2_6_temporary_filings_coexist_with_a_long_term_filing_only_for_other_places(demo):
    # 王秀兰: effective long-term filing for Sanya
    error = refused(_filing, who="王秀兰", filing_type="temporary", place="460200")
    assert (error.code, error.params["number"]) == ("long_term_covers_place", "BA232700000001")
    assert _filing("王秀兰", "temporary", "230100").status == "draft"
    error = refused(
        services.referral_start,
        hospital=Hospital.objects.get(code="H23270000001"),
        actor=None,
        person=person("王秀兰"),
        receiving_hospital=Hospital.objects.get(code="H46020000002"),
        diagnosis="冠心病",
        condition="b",
        attending_doctor="刘洋",
    )
    assert error.code == "referral_long_term_covers_place"  # told to the hospital
    with translation.override("zh-hans"):
        assert "患者的异地长期居住备案 BA232700000001" in message(error)
    # a long-term filing that is only submitted (孙国强) does not cover the place yet
    assert _filing("孙国强", "temporary", "460200").status == "draft"


# domain.md §2.3 and §2.2: checks that used to live only in the views.


def test_rule_2_3_emergency_retro_filing_window_is_checked_by_the_service(demo):
    harbin_hospital = Hospital.objects.get(code="H23010300001")
    common = {"receiving_hospital": harbin_hospital, "diagnosis": "急性心梗"}
    today = timezone.localdate()
    error = refused(
        _filing,
        who="陈明",
        filing_type="emergency",
        place="230100",
        transfer_date=today - datetime.timedelta(days=30),
        discharge_settled_on=today,
        **common,
    )
    assert error.code == "emergency_too_late"
    error = refused(
        _filing,
        who="陈明",
        filing_type="emergency",
        place="230100",
        transfer_date=today + datetime.timedelta(days=1),
        **common,
    )
    assert error.code == "transfer_in_future"
    # any time before discharge settlement
    filing = _filing(
        "陈明",
        "emergency",
        "230100",
        transfer_date=today - datetime.timedelta(days=30),
        **common,
    )
    assert services.filing_submit(filing=filing, actor=filing.person.user).status == "submitted"


def test_rule_2_2_paper_referral_hospital_at_the_place_outside_own_region_scan_required(demo):
    paper = {
        "diagnosis": "冠心病",
        "referral_condition": "b",
        "attending_doctor": "刘洋",
        "director_signed_by": "赵主任",
        "medical_office_signed_by": "医务科",
        "referral_source": "paper",
    }
    sanya_hospital = Hospital.objects.get(code="H46020000002")
    error = refused(
        _filing,
        who="陈明",
        filing_type="referral",
        place="230100",
        receiving_hospital=sanya_hospital,
        **paper,
    )
    assert (error.code, error.params["hospital"]) == ("hospital_not_at_place", "H46020000002")
    error = refused(
        _filing,
        who="陈明",
        filing_type="referral",
        place="210100",
        receiving_hospital=Hospital.objects.get(code="H21010000001"),
        **paper,
    )
    assert error.code == "same_region"
    filing = _filing(
        "陈明",
        "referral",
        "230100",
        receiving_hospital=Hospital.objects.get(code="H23010300001"),
        **paper,
    )
    error = refused(services.filing_submit, filing=filing, actor=filing.person.user)
    assert (error.code, error.params["missing"]) == ("materials_incomplete", ["referral_scan"])
    add_materials(filing, "referral_scan")
    assert services.filing_submit(filing=filing, actor=filing.person.user).status == "submitted"


# domain.md §2.1: asking to change an effective long-term filing.


def test_rule_2_1_change_request_refused_inside_the_lock_period_with_the_date(demo):
    filing = Filing.objects.get(number="BA210100000001")  # 李建国, Shenyang: 6 months
    error = refused(
        services.filing_request_change, filing=filing, actor=filing.person.user, what="换医院"
    )
    assert error.code == "locked"
    allowed = error.params["allowed_from"]
    assert allowed == filing.valid_from + relativedelta(months=6)
    services.filing_request_change(
        filing=filing, actor=filing.person.user, what="更换定点医院", today=allowed
    )
    event = AuditEvent.objects.get(object_id=str(filing.pk), action="filing.change_request")
    assert event.reason == "更换定点医院"
    assert says(demo["agency_shenyang"].notifications.all(), filing.number, "更换定点医院")
    assert Filing.objects.get(pk=filing.pk).status == "approved"


def test_rule_2_1_a_lock_as_long_as_the_validity_refuses_for_as_long_as_the_filing_is_valid(demo):
    """Daxinganling: 12 months of lock, 12 months of validity. No day of the validity allows a
    change, and the refusal says so rather than naming the day after the filing ends."""
    filing = Filing.objects.get(number="BA232700000001")  # 王秀兰
    for today in (filing.valid_from, filing.valid_until):
        error = refused(
            services.filing_request_change,
            filing=filing,
            actor=filing.person.user,
            what="换医院",
            today=today,
        )
        assert (error.code, error.params) == (
            "locked_while_valid",
            {"valid_until": filing.valid_until},
        )


# Calendar and parameters read from the database.


def test_rule_2_3_working_day_corrections_by_the_agency_are_applied(demo):
    from filings import rules
    from filings.models import WorkingDayCorrection
    from filings.selectors import is_working_day_function

    monday, saturday = datetime.date(2026, 11, 16), datetime.date(2026, 11, 14)
    calendar = is_working_day_function()
    assert calendar(monday) and not calendar(saturday)
    assert rules.emergency_deadline(datetime.date(2026, 11, 13), calendar) == datetime.date(
        2026, 11, 18
    )
    WorkingDayCorrection.objects.create(date=monday, is_working_day=False, note="local holiday")
    WorkingDayCorrection.objects.create(date=saturday, is_working_day=True, note="make-up day")
    corrected = is_working_day_function()
    assert not corrected(monday) and corrected(saturday)
    # Friday 13 → Sat 14 (make-up), Tue 17, Wed 18
    assert rules.emergency_deadline(datetime.date(2026, 11, 13), corrected) == datetime.date(
        2026, 11, 18
    )
    assert rules.emergency_deadline(datetime.date(2026, 11, 12), corrected) == datetime.date(
        2026, 11, 17
    )


def test_rule_2_3_a_transfer_on_30_december_runs_into_the_next_year(demo):
    from filings import rules
    from filings.models import WorkingDayCorrection
    from filings.selectors import is_working_day_function

    transfer = datetime.date(2026, 12, 30)
    # Thu 31 December, (Fri 1 January is New Year's Day, then the weekend), Mon 4, Tue 5
    assert rules.emergency_deadline(transfer, is_working_day_function()) == datetime.date(
        2027, 1, 5
    )
    # the next year's schedule published late: Saturday 2 January made a working day
    WorkingDayCorrection.objects.create(date=datetime.date(2027, 1, 2), is_working_day=True)
    assert rules.emergency_deadline(transfer, is_working_day_function()) == datetime.date(
        2027, 1, 4
    )


def test_rule_2_1_parameters_for_picks_the_version_in_force_on_the_date(demo):
    from filings.models import FilingParameters
    from filings.selectors import parameters_for

    shenyang = Region.objects.get(code="210100")
    FilingParameters.objects.create(
        region=shenyang, effective_from=datetime.date(2027, 1, 1), lock_months=9
    )
    assert parameters_for(shenyang, datetime.date(2026, 12, 31)).lock_months == 6
    assert parameters_for(shenyang, datetime.date(2027, 1, 1)).lock_months == 9
    assert parameters_for(shenyang, datetime.date(2030, 6, 1)).lock_months == 9
    # before the first version: the defaults of the region's measures
    dxal = Region.objects.get(code="232700")
    assert parameters_for(dxal, datetime.date(2021, 12, 31)).lock_months == 12
    FilingParameters.objects.filter(region=dxal).delete()
    assert parameters_for(dxal, datetime.date(2026, 1, 1)).max_hospitals == 3


def test_demo_materials_are_seeded_through_the_upload_pipeline_once(demo, settings):
    from io import StringIO
    from pathlib import Path

    from django.core.management import call_command

    root = Path(settings.PRIVATE_MEDIA_ROOT)
    wang = Material.objects.get(filing__number="BA232700000001")
    sun = Material.objects.get(filing__number="BA210100000002")
    assert (wang.kind, wang.content_type) == ("household_register", "image/png")
    assert (sun.kind, sun.content_type) == ("property_certificate", "application/pdf")
    assert (root / wang.stored_name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (root / sun.stored_name).read_bytes().startswith(b"%PDF-")
    assert "户口簿" not in wang.stored_name  # a random name on disk
    before = list(Material.objects.order_by("id").values_list("pk", "stored_name", "size"))
    call_command("seed_demo", "--no-history", stdout=StringIO())
    assert list(Material.objects.order_by("id").values_list("pk", "stored_name", "size")) == before
    (root / wang.stored_name).unlink()  # a fresh media directory
    call_command("seed_demo", "--no-history", stdout=StringIO())
    assert (root / wang.stored_name).is_file()
    assert list(Material.objects.order_by("id").values_list("pk", "stored_name", "size")) == before


def test_rule_2_1_a_relatives_home_said_at_submission_is_kept_for_the_reviewer(demo, client):
    from django.urls import reverse

    filing = new_long_term()
    services.filing_submit(filing=filing, actor=filing.person.user, relatives_home=True)
    filing.refresh_from_db()
    assert filing.relatives_home
    client.force_login(demo["agency_shenyang"])
    page = client.get(reverse("admin:filings_filing_change", args=[filing.pk]))
    assert "住所为亲属房产" in page.content.decode()
