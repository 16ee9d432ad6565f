"""Follow-up notices (domain.md §2.2, Daxinganling: "continued treatment or readmissions within one
treatment cycle (≤ 1 year) need the receiving hospital's written notice approved by the agency")."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from filings import rules, services
from filings.models import Filing
from filings.rules import RuleError
from hospitals import eligibility
from hospitals.eligibility_selectors import find_person, hospital_view
from hospitals.models import Hospital
from portal.models import AuditEvent, Notification

pytestmark = pytest.mark.django_db
ZHANG = ("232721197811200177", "张伟")


def _days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def _h1() -> Hospital:
    return Hospital.objects.get(code="H23010300001")


def _course_over(started_days_ago: int = 70) -> Filing:
    """张伟's referral to H1 as after one course: started, 60 days, expired by the nightly job."""
    filing = Filing.objects.get(person__name="张伟", type="referral")
    start = _days(-started_days_ago)
    Filing.objects.filter(pk=filing.pk).update(
        status="expired",
        valid_from=start - datetime.timedelta(days=3),
        treatment_started_on=start,
        course_days=60,
        valid_until=start + datetime.timedelta(days=59),
    )
    return Filing.objects.get(pk=filing.pk)


def _notice(referral: Filing, demo, **kwargs) -> Filing:
    values = {
        "kind": "readmission",
        "attending_doctor": "王医生",
        "medical_office": "医务处",
        **kwargs,
    }
    return services.referral_follow_up(
        referral=referral, hospital=_h1(), actor=demo["hosp_h23010300001"], **values
    )


def _refused(referral: Filing, demo, **kwargs) -> RuleError:
    with pytest.raises(RuleError) as error:
        _notice(referral, demo, **kwargs)
    return error.value


# --- the rule, pure ------------------------------------------------------------------------


def test_rule_2_2_follow_up_within_the_treatment_cycle_of_one_year():
    started = datetime.date(2026, 3, 15)
    assert rules.follow_up_cycle_end(started) == datetime.date(2027, 3, 14)
    ok = {"status": "expired", "course_days": 60, "first_started_on": started}
    rules.check_follow_up(**ok, today=datetime.date(2027, 3, 14))  # the cycle's last day
    with pytest.raises(RuleError) as error:
        rules.check_follow_up(**ok, today=datetime.date(2027, 3, 15))
    assert error.value.code == "follow_up_cycle_over"
    assert error.value.params["cycle_end"] == datetime.date(2027, 3, 14)


def test_rule_2_2_follow_up_needs_a_started_course_and_a_region_of_courses():
    today = datetime.date(2026, 11, 23)
    with pytest.raises(RuleError) as error:
        rules.check_follow_up(
            status="approved", course_days=None, first_started_on=today, today=today
        )
    assert error.value.code == "follow_up_not_needed"  # Liaoning: all care in the validity
    for status, started in (("approved", None), ("cancelled", today), ("submitted", None)):
        with pytest.raises(RuleError) as error:
            rules.check_follow_up(
                status=status, course_days=60, first_started_on=started, today=today
            )
        assert error.value.code == "follow_up_not_started"


# --- the service ---------------------------------------------------------------------------


def test_rule_2_2_the_receiving_hospitals_notice_goes_to_the_agency(demo):
    referral = _course_over()
    follow_up = _notice(referral, demo)
    assert follow_up.status == "submitted"
    assert (follow_up.type, follow_up.referral_source) == ("referral", "follow_up")
    assert follow_up.renews_id == referral.pk
    assert follow_up.receiving_hospital == _h1() == follow_up.issuing_hospital
    assert follow_up.diagnosis == referral.diagnosis
    assert follow_up.medical_office_signed_by == "医务处"
    assert follow_up.medical_office_signed_at is not None
    assert follow_up.director_signed_by == ""  # the hospital's notice: no director signs
    assert AuditEvent.objects.filter(
        object_id=str(referral.pk), action="referral.follow_up", reason__contains=follow_up.number
    ).exists()
    assert Notification.objects.filter(
        user=demo["agency_dxal"], notice="follow_up_submitted"
    ).exists()
    # Until the agency approves it, the person cannot settle directly there.
    assert not _decision().eligible


def test_rule_2_2_an_approved_follow_up_opens_a_new_course_at_the_hospital(demo):
    follow_up = _notice(_course_over(), demo)
    approved = services.filing_approve(filing=follow_up, actor=demo["agency_dxal"])
    assert approved.status == "approved"
    assert approved.valid_from == timezone.localdate()
    assert approved.course_days == 60
    decision = _decision()
    assert decision.eligible and decision.filing.number == approved.number
    assert decision.category == "referral"


def test_rule_2_2_one_follow_up_at_a_time(demo):
    referral = _course_over()
    first = _notice(referral, demo)
    assert _refused(referral, demo).code == "follow_up_open"
    services.filing_reject(filing=first, actor=demo["agency_dxal"], reason="无需复诊")
    assert _notice(referral, demo).status == "submitted"  # a rejected one is final


def test_rule_2_2_only_the_receiving_hospital_issues_the_notice(demo):
    referral = _course_over()
    other = Hospital.objects.get(code="H23010300016")
    with pytest.raises(RuleError) as error:
        services.referral_follow_up(
            referral=referral,
            hospital=other,
            actor=demo["hosp_h23010300001"],
            kind="continued",
            attending_doctor="王医生",
            medical_office="医务处",
        )
    assert error.value.code == "not_the_receiving_hospital"
    assert not Filing.objects.filter(renews=referral).exists()


def test_rule_2_2_a_referral_not_yet_started_needs_no_follow_up(demo):
    referral = Filing.objects.get(person__name="张伟", type="referral")  # approved, not started
    assert _refused(referral, demo).code == "follow_up_not_started"


def test_rule_2_2_after_the_cycle_a_new_referral_is_needed(demo):
    referral = _course_over(started_days_ago=400)
    error = _refused(referral, demo)
    assert error.code == "follow_up_cycle_over"


def test_rule_2_2_the_cycle_counts_from_the_first_course_not_the_follow_up(demo):
    first = _course_over(started_days_ago=370)  # began a year and a few days ago
    Filing.objects.filter(pk=first.pk).update(treatment_started_on=_days(-300))
    second = services.filing_approve(filing=_notice(first, demo), actor=demo["agency_dxal"])
    Filing.objects.filter(pk=second.pk).update(treatment_started_on=_days(-10), status="expired")
    # Within a year of the first course's start: a second notice may follow the second course.
    assert _notice(Filing.objects.get(pk=second.pk), demo).status == "submitted"
    # A year and more after it: refused, however recent the last course.
    Filing.objects.filter(renews=second).delete()
    Filing.objects.filter(pk=first.pk).update(treatment_started_on=_days(-370))
    assert _refused(Filing.objects.get(pk=second.pk), demo).code == "follow_up_cycle_over"


def test_a_notice_needs_its_kind_and_signers(demo):
    referral = _course_over()
    assert _refused(referral, demo, kind="holiday").code == "follow_up_kind"
    assert _refused(referral, demo, medical_office=" ").code == "signer_required"
    too_long = _refused(referral, demo, attending_doctor="刘" * 61)
    assert (too_long.code, too_long.params) == ("signer_too_long", {"max": 60})
    assert not Filing.objects.filter(renews=referral).exists()


def _decision() -> eligibility.Decision:
    found = find_person(id_number=ZHANG[0], name=ZHANG[1])
    hospital = hospital_view(_h1().pk)
    assert found is not None and hospital is not None
    return eligibility.decide(
        person=found.person,
        hospital=hospital,
        care_type="inpatient",
        visit_date=timezone.localdate(),
        filings=found.filings,
    )


# --- the hospital's page -------------------------------------------------------------------


def test_the_receiving_hospital_sends_the_notice_from_its_referrals_page(client, demo):
    referral = _course_over()
    client.force_login(demo["hosp_h23010300001"])
    page = client.get(reverse("referrals")).content.decode()
    assert reverse("referral-follow-up", args=[referral.number]) in page
    response = client.post(
        reverse("referral-follow-up", args=[referral.number]),
        {"kind": "continued", "attending_doctor": "王医生", "medical_office": "医务处"},
        follow=True,
    )
    follow_up = Filing.objects.get(renews=referral)
    html = response.content.decode()
    assert follow_up.number in html and "follow-up-open" in html
    # The form is not offered again while the notice is open.
    assert reverse("referral-follow-up", args=[referral.number]) not in html


def test_a_refused_notice_keeps_what_was_typed(client, demo):
    referral = _course_over()
    client.force_login(demo["hosp_h23010300001"])
    response = client.post(
        reverse("referral-follow-up", args=[referral.number]),
        {"kind": "readmission", "attending_doctor": "王医生", "medical_office": ""},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert referral.number in html and 'value="王医生"' in html
    assert not Filing.objects.filter(renews=referral).exists()


def test_another_hospital_cannot_reach_the_notice(client, demo):
    referral = _course_over()
    client.force_login(demo["hosp_h46020000002"])
    response = client.post(
        reverse("referral-follow-up", args=[referral.number]),
        {"kind": "continued", "attending_doctor": "王医生", "medical_office": "医务处"},
    )
    assert response.status_code == 404
    assert not Filing.objects.filter(renews=referral).exists()


def test_the_agency_sees_a_follow_up_notice_for_what_it_is(client, demo):
    follow_up = _notice(_course_over(), demo)
    client.force_login(demo["agency_dxal"])
    listing = client.get(reverse("admin:filings_filing_changelist")).content.decode()
    change = client.get(
        reverse("admin:filings_filing_change", args=[follow_up.pk])
    ).content.decode()
    assert "转入医院复诊通知" in listing and "转入医院复诊通知" in change
    assert follow_up.renews.number in change  # the referral it follows up


def test_once_followed_up_the_page_offers_the_notice_on_the_latest_referral(client, demo):
    first = _course_over(started_days_ago=100)
    second = services.filing_approve(filing=_notice(first, demo), actor=demo["agency_dxal"])
    Filing.objects.filter(pk=second.pk).update(treatment_started_on=_days(-70), status="expired")
    client.force_login(demo["hosp_h23010300001"])
    html = client.get(reverse("referrals")).content.decode()
    assert reverse("referral-follow-up", args=[second.number]) in html
    assert reverse("referral-follow-up", args=[first.number]) not in html
    row = html.split(f'data-number="{first.number}"')[1].split("incoming-referral")[0]
    assert second.number in row and "已过期" in row


def test_a_notice_refused_on_submission_leaves_no_draft_behind(demo, monkeypatch):
    referral = _course_over()

    def refused(**kwargs):
        raise RuleError("incomplete", fields=["diagnosis"])

    monkeypatch.setattr(services, "filing_submit", refused)
    assert _refused(referral, demo).code == "incomplete"
    assert not Filing.objects.filter(renews=referral).exists()
    monkeypatch.undo()
    assert _notice(referral, demo).status == "submitted"  # the next notice is not blocked
