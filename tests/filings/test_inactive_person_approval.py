"""A person the agency's records no longer show as insured and active (InsuredPerson.active) is
not approved, automatically or by a reviewer (domain.md §2.4), nor referred by a hospital
(§2.2); the reviewer sees the person's standing on the filing's page, with a warning."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.urls import reverse
from django.utils import timezone, translation

from filings import services
from filings.messages import message
from filings.models import Filing
from filings.rules import RuleError, check_person_active
from hospitals.models import Hospital
from portal.models import AuditEvent, InsuredPerson, Region
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
SUBMITTED = "BA210100000002"  # 孙国强's long-term filing, submitted in Shenyang (demo)
ZH_REFUSAL = "经办机构的记录显示该参保人参保状态不正常：不能批准，未作任何处理。"


def _untick(name: str) -> None:
    InsuredPerson.objects.filter(name=name).update(active=False)


def _refused(fn, **kwargs) -> RuleError:
    with pytest.raises(RuleError) as error:
        fn(**kwargs)
    return error.value


def _approvals(filing: Filing) -> int:
    return AuditEvent.objects.filter(
        object_id=str(filing.pk), action__in=["filing.approve", "filing.auto_approve"]
    ).count()


def test_rule_2_4_only_a_person_insured_and_active_passes_the_check():
    check_person_active(True)
    with pytest.raises(RuleError) as error:
        check_person_active(False)
    assert error.value.code == "person_not_active"


def test_rule_2_4_an_agency_approval_of_a_person_not_insured_and_active_is_refused(demo):
    filing = Filing.objects.get(number=SUBMITTED)
    _untick(filing.person.name)
    error = _refused(services.filing_approve, filing=filing, actor=demo["agency_shenyang"])
    assert error.code == "person_not_active"
    filing.refresh_from_db()
    assert filing.status == "submitted" and filing.valid_from is None
    assert filing.decided_at is None and _approvals(filing) == 0
    with translation.override("zh-hans"):
        assert message(error).startswith(ZH_REFUSAL)
    with translation.override("en"):
        assert "not insured and active" in message(error)
    # The agency confirms the person's insurance: the same filing is approved.
    InsuredPerson.objects.filter(pk=filing.person_id).update(active=True)
    approved = services.filing_approve(filing=filing, actor=demo["agency_shenyang"])
    assert approved.status == "approved" and _approvals(filing) == 1


def test_rule_2_4_a_filing_already_decided_is_named_as_decided_not_as_inactive(demo):
    filing = Filing.objects.get(number="BA210100000001")  # approved
    _untick(filing.person.name)
    error = _refused(services.filing_approve, filing=filing, actor=demo["agency_shenyang"])
    assert error.code == "already_decided"


def test_rule_2_4_approve_from_the_admin_is_refused_in_the_reviewers_language(client, demo):
    filing = Filing.objects.get(number=SUBMITTED)
    _untick(filing.person.name)
    staff_login(client, "agency_shenyang")
    response = client.post(
        reverse("admin:filings_filing_changelist") + "?status__exact=submitted",
        {"action": "approve", "_selected_action": filing.pk},
        follow=True,
    )
    html = response.content.decode()
    assert f"{filing.number}：{ZH_REFUSAL}" in html and "已批准。" not in html
    filing.refresh_from_db()
    assert filing.status == "submitted" and _approvals(filing) == 0


def test_rule_2_4_the_filing_page_shows_the_persons_standing_above_the_decisions(client, demo):
    filing = Filing.objects.get(number=SUBMITTED)
    staff_login(client, "agency_shenyang")
    change = reverse("admin:filings_filing_change", args=[filing.pk])
    html = client.get(change).content.decode()
    standing = html[html.index('id="person-standing"') : html.index('class="object-tools')]
    assert "险种" in standing and filing.person.get_scheme_display() in standing
    assert "参保状态正常" in standing and "退休" in standing
    assert 'id="person-not-active"' not in html

    _untick(filing.person.name)
    html = client.get(change).content.decode()
    warning = html[html.index('id="person-not-active"') : html.index('class="object-tools')]
    assert "经办机构的记录显示该参保人参保状态不正常。" in warning
    assert "该备案不能批准" in warning  # submitted: the approval is still to be decided
    assert "decision-approve" in html[html.index('id="person-not-active"') :]  # above them
    record = reverse("admin:portal_insuredperson_change", args=[filing.person_id])
    assert record in warning


def test_rule_2_4_a_decided_filing_warns_without_speaking_of_its_approval(client, demo):
    filing = Filing.objects.get(number="BA210100000001")  # approved
    _untick(filing.person.name)
    staff_login(client, "agency_shenyang")
    html = client.get(reverse("admin:filings_filing_change", args=[filing.pk])).content.decode()
    assert 'id="person-not-active"' in html and "该备案不能批准" not in html


def _temporary_draft(name: str = "陈明", place: str = "460200") -> Filing:
    person = InsuredPerson.objects.select_related("region", "user").get(name=name)
    region = Region.objects.select_related("province").get(code=place)
    return services.filing_create(
        person=person,
        actor=person.user,
        filing_type="temporary",
        place_province=region.province,
        place_region=region,
    )


def test_rule_2_4_no_automatic_approval_for_a_person_no_longer_active(demo):
    """The caller's copy of the person (read when the page was opened) still says active; the
    agency unticked it since. The submission goes to review, and is not approved there either
    until the agency confirms the person."""
    draft = _temporary_draft()
    assert draft.person.active  # the copy the submission is given
    _untick("陈明")
    filing = services.filing_submit(filing=draft, actor=draft.person.user)
    assert filing.status == "submitted" and filing.valid_from is None
    assert _approvals(filing) == 0
    error = _refused(services.filing_approve, filing=filing, actor=demo["agency_shenyang"])
    assert error.code == "person_not_active"
    assert Filing.objects.get(pk=filing.pk).status == "submitted"


def test_rule_2_4_a_person_active_again_is_approved_automatically(demo):
    _untick("陈明")
    draft = _temporary_draft()
    InsuredPerson.objects.filter(name="陈明").update(active=True)
    stale = Filing.objects.select_related("person").get(pk=draft.pk)
    stale.person.active = False  # an old copy: the database decides
    assert services.filing_submit(filing=stale, actor=None).status == "approved"


SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_rule_2_1_a_renewal_of_a_person_no_longer_active_is_not_approved(demo):
    old = Filing.objects.select_related("person__user").get(number="BA232700000001")
    day = old.valid_until - datetime.timedelta(days=30)
    user = old.person.user
    with time_machine.travel(
        datetime.datetime.combine(day, datetime.time(10), tzinfo=SHANGHAI), tick=False
    ):
        renewal = services.filing_renew(filing=old, actor=user)
        services.filing_update(filing=renewal, actor=user, basis="commitment")
        services.filing_submit(filing=renewal, actor=user)
        _untick(old.person.name)
        error = _refused(services.filing_approve, filing=renewal, actor=demo["agency_dxal"])
    assert error.code == "person_not_active"
    renewal.refresh_from_db()
    assert renewal.status == "submitted" and renewal.valid_from is None


ISSUING, RECEIVING = "H23270000001", "H23010300001"  # 大兴安岭地区人民医院 → 哈医大一院


def _start_referral():
    return services.referral_start(
        hospital=Hospital.objects.get(code=ISSUING),
        actor=None,
        person=Filing.objects.filter(person__name="赵丽").first().person,
        receiving_hospital=Hospital.objects.get(code=RECEIVING),
        diagnosis="冠心病",
        condition="b",
        attending_doctor="刘洋",
    )


def test_rule_2_2_a_hospital_cannot_start_an_e_referral_for_a_patient_not_active(demo):
    _untick("赵丽")
    before = Filing.objects.filter(type="referral").count()
    error = _refused(_start_referral)
    assert error.code == "referral_person_not_active"
    assert Filing.objects.filter(type="referral").count() == before
    with translation.override("zh-hans"):
        assert "不能开具或签署转诊" in message(error)


def test_rule_2_2_a_referral_started_before_the_patient_was_unticked_is_not_signed(demo):
    filing = _start_referral()
    issuing = Hospital.objects.get(code=ISSUING)
    services.referral_sign(
        filing=filing, hospital=issuing, actor=None, step="director", signer="李主任"
    )
    _untick("赵丽")
    error = _refused(
        services.referral_sign,
        filing=filing,
        hospital=issuing,
        actor=None,
        step="office",
        signer="医务科",
    )
    assert error.code == "referral_person_not_active"
    filing.refresh_from_db()
    assert filing.status == "draft" and filing.medical_office_signed_at is None


def test_rule_2_2_no_follow_up_notice_for_a_patient_not_active(demo):
    referral = Filing.objects.get(person__name="张伟", type="referral")
    start = timezone.localdate() - datetime.timedelta(days=70)
    Filing.objects.filter(pk=referral.pk).update(
        status="expired",
        valid_from=start - datetime.timedelta(days=3),
        treatment_started_on=start,
        course_days=60,
        valid_until=start + relativedelta(days=59),
    )
    _untick("张伟")
    error = _refused(
        services.referral_follow_up,
        referral=Filing.objects.get(pk=referral.pk),
        hospital=Hospital.objects.get(code=RECEIVING),
        actor=demo["hosp_h23010300001"],
        kind="readmission",
        attending_doctor="王医生",
        medical_office="医务处",
    )
    assert error.code == "referral_person_not_active"
    assert not Filing.objects.filter(renews=referral).exists()
