"""What an auditor found filing on a phone: every refusal leaves a way forward and sits beside
the field it is about, a draft saves with what is typed, and what the pages say agrees with
what the services do."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from filings import rules, services
from filings.models import Filing
from portal.models import InsuredPerson, Region
from tests.filings.test_views import png

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def sanya():
    return Region.objects.select_related("province").get(code="460200")


def _approved_temporary(person, place, valid_from, valid_until, number="LS-TEST-SANYA"):
    return Filing.objects.create(
        number=number,
        person=person,
        insured_region=person.region,
        type="temporary",
        status="approved",
        place_province=place.province,
        place_region=place,
        covers_inpatient=True,
        covers_general_outpatient=True,
        start_date=valid_from,
        valid_from=valid_from,
        valid_until=valid_until,
    )


# --- 2. continuing a temporary filing that runs beyond the latest start allowed today --------


def test_rule_2_4_a_continuation_too_far_ahead_says_from_which_day_it_can_be_filed(client, demo):
    """刘芳's Sanya filing, approved today, runs 6 months: the day after it is beyond the
    latest start a filing made today may have, so "start on the day after it or later" would be
    refused as too far ahead. The refusal names the day the continuation can be filed."""
    liu = InsuredPerson.objects.get(name="刘芳")
    today = timezone.localdate()
    starts = today
    until = rules.validity("temporary", rules.Parameters(), today, today)[1]
    _approved_temporary(liu, sanya(), starts, until)
    next_day = until + DAY
    assert next_day > rules.latest_start(today)
    client.force_login(demo["liufang"])
    url = reverse("filings:new", args=["temporary"])
    page = client.post(
        url,
        {"place_region": sanya().pk, "start_date": today.isoformat(), "care": ["inpatient"]},
    )
    form = page.context["form"]
    said = " ".join(form.errors["start_date"])
    file_from = rules.first_filing_day(next_day)
    assert f"{file_from:%Y-%m-%d}" in said and f"{next_day:%Y-%m-%d}" in said
    assert "或之后" not in said
    # That day, the continuation starting the day after is accepted (not "too far ahead").
    assert rules.latest_start(file_from) >= next_day
    assert rules.latest_start(file_from - DAY) < next_day


def test_rule_2_4_a_continuation_within_reach_is_told_to_start_the_day_after(demo):
    liu = InsuredPerson.objects.get(name="刘芳")
    today = timezone.localdate()
    _approved_temporary(liu, sanya(), today - 10 * DAY, today + 30 * DAY)
    filing = Filing(
        person=liu,
        insured_region=liu.region,
        type="temporary",
        place_province=sanya().province,
        place_region=sanya(),
        start_date=today,
    )
    with pytest.raises(rules.RuleError) as refused:
        services.check_filing(filing, today=today)
    assert refused.value.code == "temporary_covers_place"
    assert refused.value.params["next_day"] == today + 31 * DAY


@pytest.mark.parametrize(
    "start",
    [datetime.date(2027, 5, 25), datetime.date(2027, 8, 31), datetime.date(2028, 3, 1)],
)
def test_the_first_filing_day_of_a_start_is_the_first_whose_latest_start_reaches_it(start):
    day = rules.first_filing_day(start)
    assert rules.latest_start(day) >= start > rules.latest_start(day - DAY)


# --- 3. files added to a draft are not yet with the agency ------------------------------------


def _chen_draft(client, demo, **extra):
    client.force_login(demo["chenming"])
    response = client.post(
        reverse("filings:new", args=["long_term"]),
        {"place_region": Region.objects.get(code="230100").pk, "draft": "1", **extra},
    )
    assert response.status_code == 302, response.context["form"].errors
    return Filing.objects.get(person__name="陈明", status="draft")


def test_files_added_to_a_draft_are_said_to_wait_for_the_submission(client, demo):
    draft = _chen_draft(client, demo)
    page = client.post(
        reverse("filings:detail", args=[draft.number]),
        {"action": "upload", "kind": "id_copy", "files": [png()]},
        follow=True,
    )
    html = page.content.decode()
    assert draft.materials.count() == 1
    assert "经办机构将进行审核" not in html
    assert "材料已随草稿保存" in html and "提交" in html


# --- 4. a draft saves with only the agent's name -------------------------------------------


def test_a_draft_saves_with_only_the_agents_name_and_submission_asks_for_the_id(client, demo):
    draft = _chen_draft(client, demo, agent_name="陈小明")
    assert draft.agent_name == "陈小明" and not draft.agent_id_number
    # Submitted, the pair is needed: the ID number is asked for beside its field.
    page = client.post(
        reverse("filings:edit", args=[draft.number]),
        {
            "place_region": draft.place_region_id,
            "subtype": "long_term_resident",
            "start_date": timezone.localdate().isoformat(),
            "care": ["inpatient"],
            "basis": "commitment",
            "agent_name": "陈小明",
        },
    )
    assert page.status_code == 200
    assert page.context["form"].errors.get("agent_id_number")
    draft.refresh_from_db()
    assert draft.status == "draft"


# --- 5. a missing material is named beside its own upload field ----------------------------


def test_a_missing_payment_record_is_named_beside_its_own_upload_field(client, demo):
    """张伟 (residents' scheme) files for Sanya with his proof and copies but no payment record:
    the refusal sits under the payment-record field, not under the proof of residence."""
    from hospitals.models import Hospital

    client.force_login(demo["zhangwei"])
    chosen = Hospital.objects.filter(code__in=["H46020000001", "H46020000002", "H46020000003"])
    page = client.post(
        reverse("filings:new", args=["long_term"]),
        {
            "place_region": sanya().pk,
            "subtype": "long_term_resident",
            "start_date": timezone.localdate().isoformat(),
            "care": ["inpatient", "general_outpatient"],
            "hospitals": [h.pk for h in chosen],
            "basis": "materials",
            "material_kind": "household_register",
            "files": [png("hukou.png")],
            "file_id_copy": [png("id.png")],
            "file_social_security_copy": [png("card.png")],
        },
    )
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert "缴费记录" in " ".join(errors.get("file_payment_record", []))
    assert not errors.get("files")
    assert not Filing.objects.filter(person__name="张伟", type="long_term").exists()


def test_missing_kinds_without_an_upload_field_of_their_own_go_to_the_summary(demo):
    from filings.forms import FilingForm
    from filings.rules import RuleError
    from filings.views import _add_rule_error

    zhang = InsuredPerson.objects.get(name="张伟")
    form = FilingForm({}, filing_type="long_term", person=zhang, draft=True)
    form.is_valid()
    _add_rule_error(
        form, RuleError("materials_incomplete", missing=["proof", "payment_record", "x_ray"])
    )
    assert "户口簿" in " ".join(form.errors["files"])  # the proof of residence
    assert "缴费记录" in " ".join(form.errors["file_payment_record"])
    assert "x_ray" in " ".join(form.non_field_errors())


# --- 6. an emergency filed too late: beside the transfer date, with the way to claim ---------


def test_rule_2_3_an_emergency_filed_too_late_is_told_beside_the_date_with_the_claim_link(
    client, demo
):
    from hospitals.models import Hospital

    client.force_login(demo["chenming"])
    harbin = Region.objects.get(code="230100")
    page = client.post(
        reverse("filings:new", args=["emergency"]),
        {
            "place_region": harbin.pk,
            "receiving_hospital": Hospital.objects.get(code="H23010300001").pk,
            "transfer_date": (timezone.localdate() - 20 * DAY).isoformat(),
            "diagnosis": "急性心肌梗死",
            "discharge_settled": "on",
        },
    )
    assert page.status_code == 200
    said = " ".join(page.context["form"].errors.get("transfer_date", []))
    assert "3个工作日" in said or "3 个工作日" in said
    claim = reverse("settlement:claim-new")
    html = page.content.decode()
    assert f'href="{claim}"' in html
    field = html.split('id="id_transfer_date"')[1]
    assert f'href="{claim}"' in field  # beside the date, not only in the summary


# --- 9. a chronic-disease filing ends no later than the filing it sits on --------------------


def test_rule_2_5_a_chronic_disease_filing_ends_no_later_than_its_temporary_base(client, demo):
    """刘芳's temporary filing to Harbin ends in about 5 months; her chronic-disease filing on
    top of it, approved today, would otherwise run 6 months."""
    liu = InsuredPerson.objects.select_related("region").get(name="刘芳")
    base = Filing.objects.get(person=liu, type="temporary", place_region__code="230100")
    harbin = Region.objects.select_related("province").get(code="230100")
    chronic = services.filing_create(
        person=liu,
        actor=liu.user,
        filing_type="chronic_outpatient",
        place_province=harbin.province,
        place_region=harbin,
        covers_chronic_outpatient=True,
        disease="2型糖尿病",
        start_date=timezone.localdate(),
    )
    services.filing_submit(filing=chronic, actor=liu.user)
    chronic = services.filing_approve(filing=chronic, actor=demo["admin"])
    own_end = rules.validity("chronic_outpatient", rules.Parameters(), timezone.localdate())[1]
    assert base.valid_until < own_end
    assert chronic.valid_until == base.valid_until
    client.force_login(demo["liufang"])
    html = client.get(reverse("filings:detail", args=[chronic.number])).content.decode()
    assert "2型糖尿病" in html.split('id="disease"')[1][:40]
    assert f"{base.valid_until:%Y-%m-%d}" in html.split('id="validity"')[1][:300]


def test_rule_2_5_an_open_ended_base_leaves_the_chronic_filing_its_own_end():
    assert rules.within_base(datetime.date(2027, 5, 24), None) == datetime.date(2027, 5, 24)
    assert rules.within_base(datetime.date(2027, 5, 24), datetime.date(2027, 5, 4)) == (
        datetime.date(2027, 5, 4)
    )
    assert rules.within_base(None, datetime.date(2027, 5, 4)) == datetime.date(2027, 5, 4)


# --- 10. a newly signed-up retiree is told who records retirement ----------------------------


def test_a_person_not_on_record_as_retired_is_told_to_ask_the_agency(client, demo):
    client.force_login(demo["chenming"])  # not retired on the agency's record
    page = client.post(
        reverse("filings:new", args=["long_term"]),
        {
            "place_region": Region.objects.get(code="230100").pk,
            "subtype": "resettled_retiree",
            "draft": "1",
        },
    )
    said = " ".join(page.context["form"].errors["subtype"])
    assert "仅适用于退休人员" in said and "经办机构" in said and "更新" in said


# --- 11. the list's next step agrees with the filing's page on the lock ---------------------


def test_the_list_does_not_offer_changing_a_filing_its_page_says_is_locked(client, demo):
    """王秀兰 (Daxinganling: a lock as long as the validity): her page says her filing cannot
    be changed or cancelled while valid; the list says the same, not "change or cancel it"."""
    client.force_login(demo["wangxiulan"])
    html = client.get(reverse("filings:list")).content.decode()
    note = html.split('id="open-long-term"')[1].split("</div>")[0]
    assert "变更或取消该备案" not in note
    filing = Filing.objects.get(number="BA232700000001")
    assert f"{filing.valid_until:%Y-%m-%d}" in note and "不能变更或取消" in note
    # 李建国 (Shenyang, 6-month lock, effective 150 days ago): the day it becomes possible.
    client.force_login(demo["lijianguo"])
    html = client.get(reverse("filings:list")).content.decode()
    li = Filing.objects.select_related("insured_region").get(number="BA210100000001")
    from filings.selectors import parameters_for

    allowed = rules.change_allowed_from(li.valid_from, parameters_for(li.insured_region))
    note = html.split('id="open-long-term"')[1].split("</div>")[0]
    assert f"{allowed:%Y-%m-%d}" in note


# --- 12. cancelling: the copies it needs are said before, and offered for upload -------------


def _chen_long_term_in_force(**extra):
    chen = InsuredPerson.objects.select_related("region").get(name="陈明")
    harbin = Region.objects.select_related("province").get(code="230100")
    today = timezone.localdate()
    fields = {
        "number": "BA-TEST-CHEN",
        "person": chen,
        "insured_region": chen.region,
        "type": "long_term",
        "subtype": "long_term_resident",
        "status": "approved",
        "place_province": harbin.province,
        "place_region": harbin,
        "covers_inpatient": True,
        "covers_general_outpatient": True,
        "basis": "materials",
        "start_date": today - 300 * DAY,
        "valid_from": today - 300 * DAY,  # past Shenyang's 6-month lock
        "materials_accepted_at": timezone.now() - 300 * DAY,
        **extra,
    }
    return Filing.objects.create(**fields)


def test_the_cancel_form_says_beforehand_which_copies_it_needs(client, demo):
    filing = _chen_long_term_in_force(agent_name="陈小明")
    client.force_login(demo["chenming"])
    url = reverse("filings:detail", args=[filing.number])
    page = client.get(url)
    html = page.content.decode()
    needs = html.split('id="cancel-needs"')[1].split("</p>")[0]
    assert "身份证复印件" in needs and "代办人身份证复印件" in needs
    # The upload form offers the copy needed, not the household register silently.
    assert page.context["upload_form"]["kind"].value() == "id_copy"
    assert page.context["upload_form"].initial["kind"] == "id_copy"
    # The same rule the service checks: once both copies are uploaded, nothing is said.
    for kind in ("id_copy", "agent_id_copy"):
        client.post(url, {"action": "upload", "kind": kind, "files": [png(f"{kind}.png")]})
    html = client.get(url).content.decode()
    assert 'id="cancel-needs"' not in html
    client.post(url, {"action": "cancel", "reason": "回原籍", "confirm": "on"})
    filing.refresh_from_db()
    assert filing.status == "cancelled"


def test_the_cancel_forms_link_preselects_the_kind_it_needs(client, demo):
    filing = _chen_long_term_in_force()
    client.force_login(demo["chenming"])
    url = reverse("filings:detail", args=[filing.number])
    html = client.get(url).content.decode()
    assert 'href="?kind=id_copy#upload"' in html
    page = client.get(url, {"kind": "id_copy"})
    assert page.context["upload_form"]["kind"].value() == "id_copy"


# --- 13. a filing cancelled before it took effect was never in force ------------------------


def test_a_renewal_cancelled_before_it_took_effect_reads_never_in_force(client, demo):
    wang = InsuredPerson.objects.select_related("region").get(name="王秀兰")
    base = Filing.objects.get(number="BA232700000001")
    starts = base.valid_until + DAY
    renewal = Filing.objects.create(
        number="BA-TEST-RENEWAL",
        person=wang,
        insured_region=wang.region,
        type="long_term",
        subtype="resettled_retiree",
        status="cancelled",
        place_province=sanya().province,
        place_region=sanya(),
        covers_inpatient=True,
        basis="materials",
        renews=base,
        start_date=starts,
        valid_from=starts,
        valid_until=rules.last_day_of_months(starts, 12),
    )
    client.force_login(demo["wangxiulan"])
    detail = client.get(reverse("filings:detail", args=[renewal.number])).content.decode()
    validity = detail.split('id="validity">')[1].split("</dd>")[0]
    assert "未曾生效" in validity and f"{renewal.valid_until:%Y-%m-%d}" not in validity
    listed = client.get(reverse("filings:list")).content.decode()
    row = listed.split("BA-TEST-RENEWAL ·")[1].split("</a>")[0]
    assert "未曾生效" in row and f"{renewal.valid_until:%Y-%m-%d}" not in row


def test_a_filing_cancelled_while_in_force_reads_no_longer_in_force(client, demo):
    filing = _chen_long_term_in_force(
        status="cancelled", valid_until=timezone.localdate() + 60 * DAY
    )
    client.force_login(demo["chenming"])
    detail = client.get(reverse("filings:detail", args=[filing.number])).content.decode()
    validity = detail.split('id="validity">')[1].split("</dd>")[0]
    assert "已终止" in validity and f"{filing.valid_from:%Y-%m-%d}" in validity
    assert f"{filing.valid_until:%Y-%m-%d}" not in validity


def test_the_proof_field_s_label_reads_as_one_label_in_the_error_summary(client, demo):
    """The summary writes "label：error": a label with a colon of its own read
    "居住证明材料：文件（JPEG、PNG或PDF）：缺少材料：…"."""
    client.force_login(demo["chenming"])
    page = client.get(reverse("filings:new", args=["long_term"])).content.decode()
    assert "居住证明材料文件（JPEG、PNG或PDF）" in page
    assert "居住证明材料：文件" not in page
