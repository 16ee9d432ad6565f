"""The hospitals a referral names are told of the agency's decision (domain.md §2.2: a referral
is issued by one hospital, approved by the agency and used at another): the clerks of the issuing
hospital (its link opens the referral's page there) and of the receiving one (its referrals page),
with the reviewer's reason when there is one."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.formats import date_format

from filings import services
from filings.models import Filing
from hospitals.models import Hospital, HospitalStaff
from portal.models import Notification

pytestmark = pytest.mark.django_db
ISSUING, RECEIVING = "H23270000001", "H23010300001"  # 大兴安岭地区人民医院 → 哈医大一院


def _clerk(code: str, username: str, active: bool = True):
    user = get_user_model().objects.create_user(username, is_active=active)
    HospitalStaff.objects.create(user=user, hospital=Hospital.objects.get(code=code))
    return user


def _submitted_e_referral(demo) -> Filing:
    """An e-referral of 赵丽 (insured in Daxinganling, her own referral long expired) from her
    region's hospital to Harbin, signed by the director and stamped: submitted to the agency."""
    issuing = Hospital.objects.get(code=ISSUING)
    filing = services.referral_start(
        hospital=issuing,
        actor=None,
        person=Filing.objects.filter(person__name="赵丽").first().person,
        receiving_hospital=Hospital.objects.get(code=RECEIVING),
        diagnosis="冠心病",
        condition="b",
        attending_doctor="刘洋",
    )
    services.referral_sign(
        filing=filing, hospital=issuing, actor=None, step="director", signer="李主任"
    )
    return services.referral_sign(
        filing=filing, hospital=issuing, actor=None, step="office", signer="医务科"
    )


def _told(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user).order_by("pk"))


def test_rule_2_2_an_approved_referral_is_told_to_both_hospitals(demo):
    issuing_clerk = _clerk(ISSUING, "dxal_clerk")
    away = _clerk(ISSUING, "dxal_clerk_gone", active=False)
    receiving_clerk = demo["hosp_h23010300001"]
    before = len(_told(receiving_clerk))
    filing = _submitted_e_referral(demo)
    assert filing.status == "submitted" and not _told(issuing_clerk)
    services.filing_approve(filing=filing, actor=demo["agency_dxal"])

    (issued,) = _told(issuing_clerk)
    assert issued.notice == "referral_decided"
    assert issued.url == reverse("referral-detail", args=[filing.number])
    subject, body = issued.text("zh-hans")
    assert filing.number in subject and "已批准" in subject
    assert "哈尔滨医科大学附属第一医院" in body
    assert "approved" in issued.text("en")[0].lower()
    received = _told(receiving_clerk)[before:]
    assert [n.url for n in received] == [reverse("referrals")]
    assert not _told(away)  # an inactive account is not written to


def test_rule_2_2_a_rejected_referral_tells_the_hospitals_why(demo):
    issuing_clerk = _clerk(ISSUING, "dxal_clerk")
    filing = _submitted_e_referral(demo)
    services.filing_reject(filing=filing, actor=demo["agency_dxal"], reason="本地可治疗")
    (told,) = _told(issuing_clerk)
    subject, body = told.text("zh-hans")
    assert "未通过" in subject and body.endswith("\n原因：本地可治疗")


def test_a_filing_that_is_not_a_referral_tells_no_hospital(demo):
    receiving_clerk = demo["hosp_h23010300001"]
    before = len(_told(receiving_clerk))
    filing = Filing.objects.get(person__name="孙国强")  # long-term, submitted, to Sanya
    services.filing_approve(filing=filing, actor=demo["agency_shenyang"])
    assert len(_told(receiving_clerk)) == before
    assert not Notification.objects.filter(notice="referral_decided").exists()


def _zhang() -> Filing:
    return Filing.objects.get(person__name="张伟", type="referral")  # approved, to H23010300001


def test_rule_2_2_an_extension_is_told_to_the_receiving_hospital(demo):
    clerk = demo["hosp_h23010300001"]
    before = len(_told(clerk))
    filing = _zhang()
    until = filing.valid_until + datetime.timedelta(days=15)
    services.referral_extend(filing=filing, actor=demo["agency_dxal"], until=until, reason="候床")
    (told,) = _told(clerk)[before:]
    # Before treatment started (Daxinganling's course), the start window is what was extended.
    assert filing.course_days and filing.treatment_started_on is None
    assert told.notice == "referral_start_extended" and told.url == reverse("referrals")
    assert date_format(until, "Y-m-d") in told.text("zh-hans")[1]


def test_rule_2_2_a_new_receiving_hospital_and_the_old_one_are_told(demo):
    old, new = demo["hosp_h23010300001"], demo["hosp_h46020000002"]
    before = len(_told(old))
    filing = _zhang()
    services.referral_change_hospital(
        filing=filing,
        actor=demo["agency_dxal"],
        hospital=Hospital.objects.get(code="H46020000002"),
        reason="专科更对口",
    )
    (gone,) = _told(old)[before:]
    (coming,) = _told(new)
    assert gone.notice == coming.notice == "referral_hospital_moved"
    assert gone.url == coming.url == reverse("referrals")
    subject, body = coming.text("zh-hans")
    assert filing.number in subject and "三亚市人民医院" in subject
    assert body.endswith("\n原因：专科更对口")  # the reviewer's reason
    english = Notification(notice=coming.notice, params={**coming.params, "text": ""})
    assert "instead of First Affiliated Hospital of Harbin" in english.text("en")[1]
