"""E-referral: started by a hospital of the patient's own region, signed by the director,
stamped by the medical office, approved by the agency, seen by the person."""

import datetime

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from filings import services
from filings.models import Filing
from filings.rules import RuleError
from portal.models import AuditEvent, InsuredPerson

pytestmark = pytest.mark.django_db
CHEN = {"id_number": "210103198512010131", "name": "陈明"}


def start(client, demo, user="hosp_h21010000001", **extra):
    from hospitals.models import Hospital

    client.force_login(demo[user])
    return client.post(
        reverse("referrals"),
        {
            **CHEN,
            "receiving_hospital": Hospital.objects.get(code="H23010300001").pk,
            "diagnosis": "冠心病",
            "condition": "b",
            "attending_doctor": "刘洋",
            **extra,
        },
    )


def test_rule_2_2_e_referral_signed_level_by_level_then_approved(client, demo):
    response = start(client, demo)
    assert response.status_code == 302
    filing = Filing.objects.get(person__name="陈明", type="referral")
    assert filing.status == "draft" and filing.issuing_hospital.code == "H21010000001"
    url = reverse("referral-detail", args=[filing.number])
    client.post(url, {"step": "office", "signer": "医务科"})  # out of order: refused
    assert Filing.objects.get(pk=filing.pk).medical_office_signed_at is None
    client.post(url, {"step": "director", "signer": "赵主任"})
    client.post(url, {"step": "office", "signer": "医务科王科长"})
    filing.refresh_from_db()
    assert filing.status == "submitted"
    assert (filing.director_signed_by, filing.medical_office_signed_by) == (
        "赵主任",
        "医务科王科长",
    )
    actions = set(
        AuditEvent.objects.filter(object_id=str(filing.pk)).values_list("action", flat=True)
    )
    assert {"referral.sign_director", "referral.sign_office", "filing.submit"} <= actions
    services.filing_approve(filing=filing, actor=demo["agency_shenyang"])
    client.force_login(demo["chenming"])
    assert filing.number in client.get(reverse("filings:list")).content.decode()


def test_a_signers_name_longer_than_the_form_keeps_is_refused_and_kept_on_the_page(client, demo):
    start(client, demo)
    filing = Filing.objects.get(person__name="陈明", type="referral")
    url = reverse("referral-detail", args=[filing.number])
    response = client.post(url, {"step": "director", "signer": "张" * 61})
    assert response.status_code == 200
    page = response.content.decode()
    assert "姓名最多 60 个字。" in page and "张" * 61 in page  # what was typed, to shorten
    filing.refresh_from_db()
    assert filing.director_signed_at is None and filing.director_signed_by == ""
    assert not AuditEvent.objects.filter(action="referral.sign_director").exists()
    client.post(url, {"step": "director", "signer": f"  {'张' * 60}  "})
    filing.refresh_from_db()
    assert filing.director_signed_by == "张" * 60 and filing.director_signed_at is not None


def test_a_second_signature_of_the_same_step_is_refused_and_the_first_stands(client, demo):
    """Two tabs, or a double click: the director's signature is not silently replaced."""
    start(client, demo)
    filing = Filing.objects.get(person__name="陈明", type="referral")
    url = reverse("referral-detail", args=[filing.number])
    client.post(url, {"step": "director", "signer": "赵主任"})
    response = client.post(url, {"step": "director", "signer": "钱主任"}, follow=True)
    assert (
        "此步骤已于" in response.content.decode() and "以首次签字为准" in response.content.decode()
    )
    filing.refresh_from_db()
    assert filing.director_signed_by == "赵主任"
    assert AuditEvent.objects.filter(action="referral.sign_director").count() == 1


def test_rule_2_2_a_refused_submission_leaves_the_referral_unstamped_to_stamp_again(client, demo):
    """The stamp submits the referral. Refused (the agency approved the patient's long-term
    filing for the place meanwhile), the stamp is not kept either: the referral is not left
    stamped yet unsubmitted, with "already stamped" on every new try."""
    from hospitals.models import Hospital

    sanya = Hospital.objects.get(code="H46020000002")
    start(
        client,
        demo,
        id_number="21010219580101055X",
        name="孙国强",
        receiving_hospital=sanya.pk,
    )
    filing = Filing.objects.get(person__name="孙国强", type="referral")
    url = reverse("referral-detail", args=[filing.number])
    client.post(url, {"step": "director", "signer": "赵主任"})
    long_term = Filing.objects.get(person__name="孙国强", type="long_term")
    services.filing_approve(filing=long_term, actor=demo["agency_shenyang"])

    response = client.post(url, {"step": "office", "signer": "医务科"})

    assert response.status_code == 200
    assert "无需转诊" in response.content.decode()
    filing.refresh_from_db()
    assert filing.status == "draft" and filing.medical_office_signed_at is None
    assert filing.medical_office_signed_by == ""
    assert not AuditEvent.objects.filter(action="referral.sign_office").exists()
    # The hospital can act on it again: the office's stamp is refused for the rule, not as
    # "already stamped".
    again = client.post(url, {"step": "office", "signer": "医务科"}).content.decode()
    assert "无需转诊" in again and "此步骤已于" not in again


def test_rule_2_2_a_second_referral_to_the_same_hospital_is_refused_naming_the_first(client, demo):
    """A double click, or a clerk who did not see the first: one open referral of a patient to
    a receiving hospital. Another hospital is another referral."""
    from hospitals.models import Hospital

    start(client, demo)
    first = Filing.objects.get(person__name="陈明", type="referral")
    response = start(client, demo, diagnosis="冠心病复查")
    assert response.status_code == 200
    page = response.content.decode()
    assert f"患者已有转往该医院的转诊{first.number}（草稿）" in page
    assert "冠心病复查" in page  # what was typed is kept
    assert Filing.objects.filter(person__name="陈明", type="referral").count() == 1
    other = Hospital.objects.get(code="H46020000002")
    assert start(client, demo, receiving_hospital=other.pk).status_code == 302
    # Once the first is over (rejected), the same hospital can be referred to again.
    Filing.objects.filter(pk=first.pk).update(status="rejected")
    assert start(client, demo).status_code == 302
    assert Filing.objects.filter(person__name="陈明", type="referral").count() == 3


def test_a_draft_referral_is_discarded_by_its_hospital_and_no_longer_blocks_a_new_one(client, demo):
    """A draft whose stamp is refused, or with a mistyped diagnosis, blocked every new
    referral of the patient to that hospital for good: the hospital could neither go on with
    it nor take it back."""

    start(client, demo)
    draft = Filing.objects.get(person__name="陈明", type="referral")
    url = reverse("referral-detail", args=[draft.number])
    page = client.get(url).content.decode()
    assert 'value="discard"' in page and "data-confirm=" in page
    # Another hospital cannot discard it (its page is not theirs).
    client.force_login(demo["hosp_h46020000002"])
    assert client.post(url, {"step": "discard"}).status_code == 404
    client.force_login(demo["hosp_h21010000001"])
    response = client.post(url, {"step": "discard"}, follow=True)
    assert f"转诊草稿{draft.number}已作废。" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "cancelled"
    event = AuditEvent.objects.get(action="referral.discard", object_id=str(draft.pk))
    assert (event.from_state, event.to_state) == ("draft", "cancelled")
    assert start(client, demo).status_code == 302  # a new one to the same hospital
    # A submitted referral is not a draft: it is not discarded.
    submitted = Filing.objects.filter(person__name="陈明", status="draft").get()
    Filing.objects.filter(pk=submitted.pk).update(status="submitted")
    refused = client.post(
        reverse("referral-detail", args=[submitted.number]), {"step": "discard"}, follow=True
    ).content.decode()
    assert "只有草稿状态的转诊可以作废" in refused
    assert Filing.objects.get(pk=submitted.pk).status == "submitted"


def test_a_stale_signature_on_a_submitted_referral_says_so_in_words(client, demo):
    start(client, demo)
    filing = Filing.objects.get(person__name="陈明", type="referral")
    url = reverse("referral-detail", args=[filing.number])
    client.post(url, {"step": "director", "signer": "赵主任"})
    client.post(url, {"step": "office", "signer": "医务科"})
    page = client.post(url, {"step": "office", "signer": "医务科"}, follow=True)
    text = page.content.decode()
    assert "该转诊已不是草稿（当前为“已提交，待审核”），本次未签字。" in text
    assert "signed" not in text


def test_the_hospitals_referrals_are_paged_and_found_by_number_or_name(client, demo):
    """A hospital that issued more referrals than a page holds reaches every one of them."""
    from hospitals.models import Hospital
    from hospitals.referral_views import PER_PAGE

    client.get(start(client, demo)["Location"])  # the "started" message shown there
    first = Filing.objects.get(person__name="陈明", type="referral")
    # More referrals, of other patients too, already decided (rows as the services leave them).
    sanya = Hospital.objects.get(code="H46020000002")
    for i, who in enumerate(["李建国", "孙国强", "陈明"] * 10):
        later = Filing.objects.get(pk=first.pk)
        later.pk, later.number, later.status = None, f"ZZ2101002611{i:08d}", "rejected"
        later.person = InsuredPerson.objects.get(name=who)
        later.receiving_hospital = sanya
        later.save()
    issued = Filing.objects.filter(issuing_hospital__code="H21010000001")
    total = issued.count()
    assert total > PER_PAGE + 1
    newest = issued.order_by("-created_at", "-id").first()

    page_one = client.get(reverse("referrals")).content.decode()
    assert newest.number in page_one and first.number not in page_one
    assert "?page=2#issued" in page_one
    last = (total + PER_PAGE - 1) // PER_PAGE
    page_last = client.get(reverse("referrals"), {"page": last}).content.decode()
    assert first.number in page_last

    found = client.get(reverse("referrals"), {"q": first.number[-6:].lower()}).content.decode()
    assert first.number in found and newest.number not in found

    def _found(term):  # a name is posted, and kept behind a token out of the address
        posted = client.post(reverse("referrals"), {"_search": "1", "q": term})
        return client.get(posted["Location"]).content.decode()

    by_name = _found("陈明")
    assert first.number in by_name
    nothing = _found("王秀兰")
    assert "没有与“王秀兰”相符的转诊。" in nothing


def test_invisible_and_control_characters_are_not_kept_in_a_signers_name(client, demo):
    """A right-to-left override printed the signature's date backwards on the referral form;
    a NUL byte would be refused by PostgreSQL."""
    start(client, demo)
    filing = Filing.objects.get(person__name="陈明", type="referral")
    url = reverse("referral-detail", args=[filing.number])
    client.post(url, {"step": "director", "signer": "\u202e张\u200b主任\x00"})
    filing.refresh_from_db()
    assert filing.director_signed_by == "张主任"


def test_rule_2_2_only_a_hospital_of_the_patients_own_region_refers(client, demo):
    response = start(client, demo, user="hosp_h46020000002")
    assert response.status_code == 200
    assert "参保统筹区" in response.content.decode()
    assert not Filing.objects.filter(person__name="陈明").exists()


def test_another_hospital_cannot_see_or_sign_the_referral(client, demo):
    start(client, demo)
    filing = Filing.objects.get(person__name="陈明", type="referral")
    client.force_login(demo["hosp_h23010300001"])
    assert client.get(reverse("referral-detail", args=[filing.number])).status_code == 404


# domain.md §2.2: the referral's lifecycle after approval.


def _zhangwei():
    return Filing.objects.get(number="ZZ232700000001")  # Daxinganling, approved 5 days ago


def _add(filing, *kinds):
    from filings.models import Material

    for kind in kinds:
        Material.objects.create(
            filing=filing,
            kind=kind,
            stored_name=f"{kind}-{filing.pk}.pdf",
            original_name=f"{kind}.pdf",
            content_type="application/pdf",
            size=10,
        )


def _refused(fn, **kwargs):
    with pytest.raises(RuleError) as error:
        fn(**kwargs)
    return error.value


def test_rule_2_2_start_of_treatment_moves_validity_to_the_course_end(demo):
    today = timezone.localdate()
    filing = services.referral_start_treatment(
        filing=_zhangwei(), actor=demo["agency_dxal"], started_on=today
    )
    assert filing.treatment_started_on == today
    assert filing.valid_until == today + datetime.timedelta(days=59)  # one course of 60 days
    assert filing.course_days == 60
    error = _refused(services.referral_start_treatment, filing=filing, actor=demo["agency_dxal"])
    assert error.code == "treatment_already_started"
    assert AuditEvent.objects.filter(
        object_id=str(filing.pk), action="referral.start_treatment"
    ).exists()


def test_rule_2_2_start_of_treatment_within_the_start_window_only(demo):
    filing = _zhangwei()
    before = filing.valid_from - datetime.timedelta(days=1)
    error = _refused(
        services.referral_start_treatment,
        filing=filing,
        actor=demo["agency_dxal"],
        started_on=before,
    )
    assert error.code == "outside_validity"
    error = _refused(
        services.referral_start_treatment,
        filing=filing,
        actor=demo["agency_dxal"],
        started_on=timezone.localdate() + datetime.timedelta(days=1),
    )
    assert error.code == "date_in_future"
    expired = Filing.objects.get(number="ZZ232700000002")  # 赵丽: expired
    error = _refused(services.referral_start_treatment, filing=expired, actor=demo["agency_dxal"])
    assert error.code == "not_an_open_referral"


def test_rule_2_2_the_receiving_hospital_or_the_agency_records_the_start(demo):
    for other in ("agency_shenyang", "hosp_h46020000002", "zhangwei"):
        error = _refused(services.referral_start_treatment, filing=_zhangwei(), actor=demo[other])
        assert error.code == "agency_only", other
    filing = services.referral_start_treatment(filing=_zhangwei(), actor=demo["hosp_h23010300001"])
    assert filing.treatment_started_on == timezone.localdate()


def test_rule_2_2_liaoning_referral_keeps_its_6_months_when_treatment_starts(client, demo):
    start(client, demo)
    filing = Filing.objects.get(person__name="陈明", type="referral")
    hospital = filing.issuing_hospital
    services.referral_sign(
        filing=filing, hospital=hospital, actor=None, step="director", signer="赵"
    )
    services.referral_sign(
        filing=filing, hospital=hospital, actor=None, step="office", signer="医务科"
    )
    approved = services.filing_approve(filing=filing, actor=demo["agency_shenyang"])
    started = services.referral_start_treatment(filing=approved, actor=demo["agency_shenyang"])
    assert started.valid_until == approved.valid_until
    assert started.course_days is None


def test_rule_2_2_course_extension_needs_hospitalisation_summary_and_diagnosis_certificate(demo):
    staff = demo["agency_dxal"]
    filing = services.referral_start_treatment(filing=_zhangwei(), actor=staff)
    until = filing.valid_until + datetime.timedelta(days=30)
    assert (
        _refused(services.referral_extend, filing=filing, actor=staff, until=until, reason=" ").code
        == "reason_required"
    )
    error = _refused(
        services.referral_extend, filing=filing, actor=staff, until=until, reason="病情危重"
    )
    assert (error.code, error.params["missing"]) == (
        "materials_incomplete",
        ["hospitalisation_summary", "diagnosis_certificate"],
    )
    _add(filing, "hospitalisation_summary")
    error = _refused(
        services.referral_extend, filing=filing, actor=staff, until=until, reason="病情危重"
    )
    assert error.params["missing"] == ["diagnosis_certificate"]
    _add(filing, "diagnosis_certificate")
    error = _refused(
        services.referral_extend,
        filing=filing,
        actor=staff,
        until=filing.valid_until,
        reason="病情危重",
    )
    assert error.code == "extension_not_later"
    extended = services.referral_extend(filing=filing, actor=staff, until=until, reason="病情危重")
    assert extended.extended_until == until
    assert (
        _refused(
            services.referral_extend,
            filing=filing,
            actor=demo["agency_shenyang"],
            until=until + datetime.timedelta(days=1),
            reason="x",
        ).code
        == "agency_only"
    )


def test_rule_2_2_start_window_is_extended_on_request_without_materials(demo):
    filing = _zhangwei()
    until = filing.valid_until + datetime.timedelta(days=20)
    extended = services.referral_extend(
        filing=filing, actor=demo["agency_dxal"], until=until, reason="等待床位"
    )
    assert extended.extended_until == until
    # treatment may then start after the original window, within the extension
    later = until - datetime.timedelta(days=1)
    with time_machine.travel(datetime.datetime.combine(later, datetime.time(12))):
        started = services.referral_start_treatment(
            filing=extended, actor=demo["agency_dxal"], started_on=later
        )
    assert started.treatment_started_on == later and started.extended_until is None


def test_rule_2_2_only_the_agency_changes_the_receiving_hospital(demo):
    from hospitals.models import Hospital

    filing = _zhangwei()
    other = Hospital.objects.get(code="H46020000002")  # Sanya
    for who in ("agency_shenyang", "hosp_h23010300001", "zhangwei"):
        error = _refused(
            services.referral_change_hospital,
            filing=filing,
            actor=demo[who],
            hospital=other,
            reason="x",
        )
        assert error.code == "agency_only", who
    own = Hospital.objects.get(code="H23270000002")  # Daxinganling: the person's own region
    assert (
        _refused(
            services.referral_change_hospital,
            filing=filing,
            actor=demo["agency_dxal"],
            hospital=own,
            reason="x",
        ).code
        == "referral_same_region"
    )
    changed = services.referral_change_hospital(
        filing=filing, actor=demo["agency_dxal"], hospital=other, reason="专科更对口"
    )
    assert changed.receiving_hospital.code == "H46020000002"
    assert changed.place_region.code == "460200"
    event = AuditEvent.objects.get(object_id=str(filing.pk), action="referral.change_hospital")
    assert "H23010300001" in event.reason and "H46020000002" in event.reason


def test_rule_2_2_extension_materials_are_kinds_a_person_can_upload():
    from django.core.exceptions import ValidationError

    from filings.forms import ALL_KIND_CHOICES
    from filings.models import Material

    offered = {kind for kind, _label in ALL_KIND_CHOICES}
    for kind in services.EXTENSION_KINDS:
        assert kind in offered
        try:
            Material(kind=kind).clean_fields(
                exclude=["filing", "stored_name", "original_name", "content_type", "size"]
            )
        except ValidationError as error:  # pragma: no cover - the failure message
            raise AssertionError(f"{kind} is not a valid material kind: {error}") from error


def test_rule_2_2_the_receiving_hospital_records_the_start_of_treatment_on_its_page(client, demo):
    filing = _zhangwei()  # to H23010300001, Daxinganling: one 60-day course
    today = timezone.localdate()
    client.force_login(demo["hosp_h23010300001"])
    page = client.get(reverse("referrals")).content.decode()
    assert f'data-number="{filing.number}"' in page and "转入本院的转诊" in page
    url = reverse("referral-start-treatment", args=[filing.number])
    refused = client.post(url, {"started_on": (today + datetime.timedelta(days=1)).isoformat()})
    assert refused.status_code == 200  # the list again, with the error
    filing.refresh_from_db()
    assert filing.treatment_started_on is None  # a day in the future changes nothing
    client.post(url, {"started_on": today.isoformat()})
    filing.refresh_from_db()
    assert filing.treatment_started_on == today
    assert filing.valid_until == today + datetime.timedelta(days=59)
    assert "开始治疗日期" in client.get(reverse("referrals")).content.decode()
    # Another hospital's clerks neither see it nor reach it.
    client.force_login(demo["hosp_h46020000002"])
    assert f'data-number="{filing.number}"' not in client.get(reverse("referrals")).content.decode()
    assert client.post(url, {"started_on": today.isoformat()}).status_code == 404
    assert client.get(url).status_code in (404, 405)
