"""Self-service pages: file, follow the timeline, upload, cancel; and who may see what."""

import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from filings import rules, services
from filings.models import Filing, Material
from filings.rules import RuleError
from filings.selectors import parameters_for
from portal.models import AuditEvent, InsuredPerson, Region

pytestmark = pytest.mark.django_db
# A start a week ahead: within the six months a filing may start ahead, whatever the day.
SOON = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()


def png(name="scan.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def login(client, demo, username):
    client.force_login(demo[username])


def test_long_term_filing_by_commitment_is_submitted(client, demo):
    login(client, demo, "chenming")
    from portal.models import Region

    harbin = Region.objects.get(code="230100")
    response = client.post(
        reverse("filings:new", args=["long_term"]),
        {
            "place_region": harbin.pk,
            "subtype": "long_term_resident",
            "start_date": SOON,
            "care": ["inpatient", "general_outpatient"],
            "basis": "commitment",
            "promise": "on",
            "submit": "1",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    filing = Filing.objects.get(person__name="陈明")
    assert (filing.type, filing.status, filing.basis) == ("long_term", "submitted", "commitment")
    detail = client.get(response["Location"]).content.decode()
    assert "已提交" in detail and 'data-state="submitted"' in detail


def test_bad_input_re_renders_with_messages_and_keeps_what_was_typed(client, demo):
    login(client, demo, "chenming")
    response = client.post(
        reverse("filings:new", args=["long_term"]),
        {
            "subtype": "long_term_resident",
            "start_date": SOON,
            "basis": "materials",
            "agent_name": "陈小明",
            "agent_id_number": "210103198512010132",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="陈小明"' in html
    assert "校验码" in html
    assert not Filing.objects.filter(person__name="陈明").exists()


def test_hostile_upload_is_refused_and_nothing_is_created(client, demo):
    login(client, demo, "chenming")
    from portal.models import Region

    evil = SimpleUploadedFile("x.pdf", b"PK\x03\x04" + b"\x00" * 100)
    response = client.post(
        reverse("filings:new", args=["long_term"]),
        {
            "place_region": Region.objects.get(code="230100").pk,
            "subtype": "long_term_resident",
            "start_date": SOON,
            "care": ["inpatient"],
            "basis": "materials",
            "material_kind": "residence_certificate",
            "files": [evil],
        },
    )
    assert response.status_code == 200
    assert "JPEG、PNG" in response.content.decode()
    assert not Filing.objects.filter(person__name="陈明").exists()


def test_rule_2_4_temporary_filing_is_approved_with_advice_about_long_term(client, demo):
    login(client, demo, "chenming")
    from portal.models import Region

    response = client.post(
        reverse("filings:new", args=["temporary"]),
        {
            "place_region": Region.objects.get(code="460200").pk,
            "start_date": SOON,
            "care": ["inpatient"],
        },
        follow=True,
    )
    assert Filing.objects.get(person__name="陈明").status == "approved"
    assert "长期居住备案" in response.content.decode()


def test_commitment_countdown_and_upload_of_materials_later(client, demo):
    login(client, demo, "lijianguo")
    url = reverse("filings:detail", args=["BA210100000001"])
    html = client.get(url).content.decode()
    filing = Filing.objects.get(number="BA210100000001")
    deadline = filing.commitment_deadline
    days_left = (deadline - timezone.localdate()).days
    assert 25 <= days_left <= 35  # shared/demo.md: "deadline in about 30 days"
    countdown = re.search(r'<div[^>]*id="countdown"[^>]*>(.*?)</div>', html, re.S)
    assert countdown, "no countdown"
    tag, text = countdown.group(0), countdown.group(1)
    assert f'data-deadline="{deadline:%Y-%m-%d}"' in tag
    assert f'data-days-left="{days_left}"' in tag
    assert f"{deadline:%Y-%m-%d}" in text and f"{days_left}" in text
    assert "alert-warning" in tag  # more than a week left
    two_way = re.search(r'id="two-way">(.*?)</dd>', html, re.S).group(1)
    assert "仅" in two_way and "居住地" in two_way  # one-way until the materials are accepted
    response = client.post(
        url, {"action": "upload", "kind": "residence_certificate", "files": [png()]}
    )
    assert response.status_code == 302
    assert Material.objects.filter(filing__number="BA210100000001").count() == 1


def test_rule_2_1_an_id_copy_leaves_the_countdown_and_says_what_is_still_owed(client, demo):
    """The promise is a proof of residence: an ID copy uploaded does not end the countdown, and
    the page names what is still to supply. The kinds offered are a long-term filing's."""
    login(client, demo, "lijianguo")
    url = reverse("filings:detail", args=["BA210100000001"])
    page = client.get(url)
    kinds = dict(page.context["upload_form"].fields["kind"].choices)
    assert "household_register" in kinds and "id_copy" in kinds
    assert "referral_scan" not in kinds and "hospitalisation_summary" not in kinds
    client.post(url, {"action": "upload", "kind": "id_copy", "files": [png()]})
    html = client.get(url).content.decode()
    assert 'id="countdown"' in html and 'id="awaiting-review"' not in html
    assert "尚需补交：一项居住证明材料" in html
    # A kind that is no long-term filing's is refused, not stored.
    refused = client.post(url, {"action": "upload", "kind": "referral_scan", "files": [png()]})
    assert refused.status_code == 200
    assert Material.objects.filter(filing__number="BA210100000001").count() == 1
    client.post(url, {"action": "upload", "kind": "household_register", "files": [png()]})
    html = client.get(url).content.decode()
    assert 'id="countdown"' not in html and 'id="awaiting-review"' in html


def test_of_several_files_uploaded_a_refused_one_is_named_and_the_good_ones_are_kept(client, demo):
    login(client, demo, "lijianguo")
    url = reverse("filings:detail", args=["BA210100000001"])
    fake = SimpleUploadedFile("fake.pdf", b"not a pdf at all", content_type="application/pdf")
    good = png()
    response = client.post(
        url,
        {"action": "upload", "kind": "household_register", "files": [good, fake]},
        follow=True,
    )
    # The good file is stored, so the page is reloaded (a reload does not post it again),
    # and the refused one is named in the messages.
    assert response.redirect_chain[-1][0] == url
    assert "fake.pdf：" in response.content.decode()
    kept = Material.objects.filter(filing__number="BA210100000001")
    assert [m.original_name for m in kept] == [good.name]


def test_a_revoked_commitment_filing_shows_no_countdown(client, demo):
    Filing.objects.filter(number="BA210100000001").update(status="revoked")
    login(client, demo, "lijianguo")
    html = client.get(reverse("filings:detail", args=["BA210100000001"])).content.decode()
    assert 'id="countdown"' not in html and "逾期将撤销" not in html


def test_cancel_inside_the_lock_period_is_refused_with_the_date(client, demo):
    login(client, demo, "wangxiulan")
    url = reverse("filings:detail", args=["BA232700000001"])
    response = client.post(url, {"action": "cancel", "reason": "回原籍"}, follow=True)
    html = response.content.decode()
    assert "锁定期" in html
    assert Filing.objects.get(number="BA232700000001").status == "approved"


def test_a_person_gets_404_for_someone_elses_filing_and_file(client, demo):
    filing = Filing.objects.get(number="BA210100000001")
    material = Material.objects.create(
        filing=filing,
        kind="other",
        stored_name="nope.png",
        original_name="a.png",
        content_type="image/png",
        size=1,
    )
    login(client, demo, "wangxiulan")
    assert client.get(reverse("filings:detail", args=[filing.number])).status_code == 404
    assert client.get(reverse("filings:material", args=[material.pk])).status_code == 404


def test_material_download_for_owner_and_own_region_agency_only(client, demo, settings):
    login(client, demo, "lijianguo")
    url = reverse("filings:detail", args=["BA210100000001"])
    client.post(url, {"action": "upload", "kind": "residence_certificate", "files": [png()]})
    material = Material.objects.get(filing__number="BA210100000001")
    download = reverse("filings:material", args=[material.pk])
    response = client.get(download)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert material.stored_name != "scan.png" and "scan" not in material.stored_name
    client.force_login(demo["agency_shenyang"])
    assert client.get(download).status_code == 200
    client.force_login(demo["agency_dxal"])
    assert client.get(download).status_code == 404


def test_list_shows_the_persons_filings_and_an_empty_state(client, demo):
    login(client, demo, "wangxiulan")
    assert "BA232700000001" in client.get(reverse("filings:list")).content.decode()
    login(client, demo, "chenming")
    assert "还没有备案" in client.get(reverse("filings:list")).content.decode()


def test_validity_dates_are_never_broken_across_lines(client, demo):
    from filings.models import Filing

    filing = Filing.objects.get(number="BA232700000001")
    login(client, demo, "wangxiulan")
    for url in (reverse("filings:list"), reverse("filings:detail", args=[filing.number])):
        html = client.get(url).content.decode()
        for day in (filing.valid_from, filing.valid_until):
            assert f'<span class="text-nowrap">{day.isoformat()}</span>' in html


EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def test_rule_2_5_chronic_filing_needs_a_filing_for_the_place_in_the_view(client, demo):
    harbin = Region.objects.get(code="230100")
    form = {"place_region": harbin.pk, "disease": "2型糖尿病", "start_date": SOON}
    login(client, demo, "chenming")
    response = client.post(reverse("filings:new", args=["chronic_outpatient"]), form, **EN)
    assert response.status_code == 200
    assert "on top of an effective long-term residence or temporary filing" in (
        response.content.decode()
    )
    assert not Filing.objects.filter(person__name="陈明").exists()
    login(client, demo, "liufang")  # other temporary filing to Harbin, approved
    response = client.post(reverse("filings:new", args=["chronic_outpatient"]), form)
    assert response.status_code == 302
    chronic = Filing.objects.get(person__name="刘芳", type="chronic_outpatient")
    assert (chronic.status, chronic.covers_chronic_outpatient) == ("submitted", True)


def test_rule_2_6_a_draft_is_saved_with_partial_input_and_completed_later(client, demo):
    login(client, demo, "chenming")
    harbin = Region.objects.get(code="230100")
    response = client.post(
        reverse("filings:new", args=["long_term"]), {"place_region": harbin.pk, "draft": "1"}
    )
    assert response.status_code == 302
    filing = Filing.objects.get(person__name="陈明")
    assert (filing.status, filing.subtype, filing.basis) == ("draft", "", "")
    detail = reverse("filings:detail", args=[filing.number])
    page = client.post(detail, {"action": "submit"}, follow=True, **EN).content.decode()
    # Named as the form names it ("Who you are"), not as the model does ("sub-type").
    assert "Fill in before submitting" in page and "Who you are" in page and "sub-type" not in page
    assert Filing.objects.get(pk=filing.pk).status == "draft"
    edit = reverse("filings:edit", args=[filing.number])
    assert f'value="{harbin.pk}" selected' in client.get(edit).content.decode()
    response = client.post(
        edit,
        {
            "place_region": harbin.pk,
            "subtype": "long_term_resident",
            "start_date": SOON,
            "care": ["inpatient"],
            "basis": "commitment",
            "promise": "on",
        },
    )
    assert response.status_code == 302
    filing.refresh_from_db()
    assert (filing.status, filing.subtype, filing.covers_general_outpatient) == (
        "submitted",
        "long_term_resident",
        False,
    )


def test_rule_2_6_returned_filing_is_edited_and_resubmitted_in_the_view(client, demo):
    login(client, demo, "chenming")
    harbin, sanya = Region.objects.get(code="230100"), Region.objects.get(code="460200")
    form = {
        "place_region": harbin.pk,
        "subtype": "long_term_resident",
        "start_date": SOON,
        "care": ["inpatient", "general_outpatient"],
        "basis": "commitment",
        "promise": "on",
    }
    client.post(reverse("filings:new", args=["long_term"]), form)
    filing = Filing.objects.get(person__name="陈明")
    services.filing_return(filing=filing, actor=demo["agency_shenyang"], reason="请核对居住地")
    detail = client.get(reverse("filings:detail", args=[filing.number])).content.decode()
    assert reverse("filings:edit", args=[filing.number]) in detail
    edit_page = client.get(reverse("filings:edit", args=[filing.number])).content.decode()
    assert "请核对居住地" in edit_page and 'value="long_term_resident"' in edit_page
    response = client.post(
        reverse("filings:edit", args=[filing.number]), {**form, "place_region": sanya.pk}
    )
    assert response.status_code == 302
    filing.refresh_from_db()
    assert (filing.status, filing.place_region_id, filing.place_province_id) == (
        "submitted",
        sanya.pk,
        sanya.province_id,
    )
    # a submitted filing is not editable any more
    again = client.get(reverse("filings:edit", args=[filing.number]))
    assert again.status_code == 302


def test_a_person_cannot_edit_someone_elses_filing(client, demo):
    login(client, demo, "chenming")
    assert client.get(reverse("filings:edit", args=["BA210100000002"])).status_code == 404


def test_rule_2_1_uploads_are_kept_when_the_rest_of_the_form_is_invalid(client, demo):
    login(client, demo, "chenming")
    harbin = Region.objects.get(code="230100")
    url = reverse("filings:new", args=["long_term"])
    response = client.post(
        url,
        {
            # no place: the form is invalid, the files are fine
            "subtype": "long_term_resident",
            "basis": "materials",
            "material_kind": "household_register",
            "files": [png("户口簿.png")],
            "file_id_copy": [png("身份证.png")],
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="pending-uploads"' in html and "户口簿.png" in html and "身份证.png" in html
    assert not Material.objects.filter(filing__person__name="陈明").exists()
    # the next post completes the form and adds the last copy: nothing is uploaded twice
    response = client.post(
        url,
        {
            "place_region": harbin.pk,
            "subtype": "long_term_resident",
            "start_date": SOON,
            "care": ["inpatient"],
            "basis": "materials",
            "file_social_security_copy": [png("社保卡.png")],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    filing = Filing.objects.get(person__name="陈明")
    assert filing.status == "submitted"
    assert sorted(filing.materials.values_list("kind", "original_name")) == [
        ("household_register", "户口簿.png"),
        ("id_copy", "身份证.png"),
        ("social_security_copy", "社保卡.png"),
    ]


def test_rule_2_1_missing_materials_are_named_and_the_uploads_kept(client, demo):
    login(client, demo, "chenming")
    harbin = Region.objects.get(code="230100")
    response = client.post(
        reverse("filings:new", args=["long_term"]),
        {
            "place_region": harbin.pk,
            "subtype": "long_term_resident",
            "start_date": SOON,
            "care": ["inpatient"],
            "basis": "materials",
            "material_kind": "residence_certificate",
            "files": [png("居住证明.png")],
        },
        **EN,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Materials missing" in html and "ID card copy" in html
    assert "居住证明.png" in html  # kept for the next try
    assert not Filing.objects.filter(person__name="陈明").exists()


def test_rule_2_1_ask_to_change_inside_the_lock_period_is_refused_with_the_date(client, demo):
    login(client, demo, "wangxiulan")
    filing = Filing.objects.get(number="BA232700000001")
    allowed = rules.change_allowed_from(filing.valid_from, parameters_for(filing.insured_region))
    url = reverse("filings:detail", args=[filing.number])
    page = client.get(url).content.decode()
    # No form to fill in for nothing. Daxinganling's lock (12 months) outlasts the validity (12
    # months): the page says so, not "from" the day after the filing ends.
    assert allowed > filing.valid_until
    until = f"{filing.valid_until:%Y-%m-%d}"
    assert 'id="change"' not in page and f"有效期内（至 {until}）" in page
    # A request sent all the same (a page kept open from before) is refused by the service.
    html = client.post(url, {"action": "change", "what": "更换定点医院"}, follow=True).content
    html = html.decode()
    assert "锁定期与有效期一样长" in html and f"{allowed:%Y-%m-%d}" not in html
    assert not AuditEvent.objects.filter(action="filing.change_request").exists()
    with pytest.raises(RuleError) as refused:
        services.filing_request_change(filing=filing, actor=demo["wangxiulan"], what="更换医院")
    assert refused.value.code == "locked_while_valid"


def test_rule_2_1_cancellation_by_the_person_needs_an_id_copy(client, demo):
    import time_machine

    url = reverse("filings:detail", args=["BA210100000001"])
    later = timezone.localdate() + datetime.timedelta(days=60)  # after the 6-month lock
    with time_machine.travel(later):
        login(client, demo, "lijianguo")
        cancel = {"action": "cancel", "reason": "回沈阳", "confirm": "on"}
        page = client.post(url, cancel, follow=True, **EN)
        assert "To cancel, upload first" in page.content.decode()
        client.post(url, {"action": "upload", "kind": "id_copy", "files": [png()]})
        client.post(url, cancel)
    assert Filing.objects.get(number="BA210100000001").status == "cancelled"


def test_internal_codes_are_never_shown_raw_on_the_timeline(client, demo):
    filing = Filing.objects.get(number="BA210100000001")
    login(client, demo, "lijianguo")
    url = reverse("filings:detail", args=[filing.number])
    client.post(url, {"action": "upload", "kind": "residence_certificate", "files": [png()]})
    services.filing_accept_materials(filing=filing, actor=demo["agency_shenyang"])
    AuditEvent.objects.create(
        action="filing.revoke",
        object_type="filings.filing",
        object_id=str(filing.pk),
        from_state="approved",
        to_state="revoked",
        reason="revoke_commitment",
        actor_role="system",
    )
    AuditEvent.objects.create(
        action="filing.expire",
        object_type="filings.filing",
        object_id=str(filing.pk),
        from_state="approved",
        to_state="expired",
        reason="expire_long_term",
        actor_role="system",
    )
    timeline = re.search(r'id="timeline">(.*?)</ol>', client.get(url).content.decode(), re.S)
    text = timeline.group(1)
    for code in ("two_way", "revoke_commitment", "expire_long_term", "filing.accept_materials"):
        assert code not in text
    assert "已转为双向备案" in text and "未按承诺补交材料" in text and "已过期" in text


def test_image_materials_preview_inline_pdfs_do_not(client, demo):
    wang = Material.objects.get(filing__number="BA232700000001", kind="household_register")
    sun = Material.objects.get(filing__number="BA210100000002", kind="property_certificate")
    login(client, demo, "wangxiulan")
    response = client.get(reverse("filings:material-preview", args=[wang.pk]))
    assert response.status_code == 200 and response["Content-Disposition"] == "inline"
    assert response["Content-Type"] == "image/png"
    assert client.get(reverse("filings:material-preview", args=[sun.pk])).status_code == 404
    client.force_login(demo["agency_shenyang"])
    assert client.get(reverse("filings:material-preview", args=[wang.pk])).status_code == 404
    assert client.get(reverse("filings:material-preview", args=[sun.pk])).status_code == 404


@pytest.mark.parametrize(
    "filing_type", ["long_term", "temporary", "emergency", "chronic_outpatient", "referral"]
)
def test_every_filing_form_renders_without_the_own_region(client, demo, filing_type):
    # 张伟: residents' scheme, Daxinganling; a chronic-disease filing needs a filing to sit on:
    # 刘芳 (Dalian) has a temporary one for Harbin (§2.5).
    who, own_code = (
        ("liufang", "210200") if filing_type == "chronic_outpatient" else ("zhangwei", "232700")
    )
    login(client, demo, who)
    html = client.get(reverse("filings:new", args=[filing_type])).content.decode()
    own = Region.objects.get(code=own_code)
    places = re.search(r'<select name="place_region".*?</select>', html, re.S).group(0)
    assert f'value="{own.pk}"' not in places and "哈尔滨" in places
    if filing_type == "long_term":
        assert 'name="file_payment_record"' in html and 'name="file_id_copy"' in html
        sanya = Region.objects.get(code="460200")
        url = reverse("filings:new", args=[filing_type])
        html = client.get(url, {"place": sanya.pk}).content.decode()
        assert "三亚市中医院" in html  # designated for resettled persons: may be chosen


def test_the_payment_record_is_asked_of_residents_scheme_members_only(client, demo):
    login(client, demo, "chenming")  # employees' scheme
    html = client.get(reverse("filings:new", args=["long_term"])).content.decode()
    assert 'name="file_payment_record"' not in html and 'name="file_social_security_copy"' in html


@pytest.mark.parametrize(
    ("days", "message"),
    [(-1, "备案最早从今天起生效"), (200, "备案最多可提前 6 个月办理")],
)
def test_a_start_before_today_or_far_ahead_is_refused_beside_the_date(client, demo, days, message):
    """Not replaced silently by today (a past start was), nor taken years ahead."""
    login(client, demo, "chenming")
    start = timezone.localdate() + datetime.timedelta(days=days)
    response = client.post(
        reverse("filings:new", args=["temporary"]),
        {
            "place_region": Region.objects.get(code="460200").pk,
            "start_date": start.isoformat(),
            "care": ["inpatient"],
        },
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["start_date"])
    assert not Filing.objects.filter(person__name="陈明").exists()


def test_a_second_temporary_filing_for_a_place_already_covered_is_refused_beside_its_date(
    client, demo
):
    """刘芳 has an other-temporary filing for Harbin: a second one from today would cover
    nothing more; one that starts the day after it ends continues it."""
    login(client, demo, "liufang")
    current = Filing.objects.get(person__name="刘芳", type="temporary", status="approved")
    form = {"place_region": current.place_region_id, "care": ["inpatient"]}
    url = reverse("filings:new", args=["temporary"])
    response = client.post(url, {**form, "start_date": timezone.localdate().isoformat()})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["start_date"])
    next_day = current.valid_until + datetime.timedelta(days=1)
    assert current.number in errors and f"{next_day:%Y-%m-%d}" in errors
    assert Filing.objects.filter(person__name="刘芳", type="temporary").count() == 1
    # From the day after it ends: a continuation, approved.
    going_on = client.post(url, {**form, "start_date": f"{next_day:%Y-%m-%d}"})
    assert going_on.status_code == 302
    assert Filing.objects.filter(person__name="刘芳", type="temporary").count() == 2
    # Another place is another matter.
    other = client.post(
        url, {**form, "place_region": Region.objects.get(code="460200").pk, "start_date": SOON}
    )
    assert other.status_code == 302


def test_a_refused_rule_goes_beside_the_fields_it_names(demo):
    """The service's refusals on the form: a missing field beside itself, a rule beside the
    field it is about, the rest at the top."""
    from filings.forms import FilingForm
    from filings.views import _add_rule_error

    person = InsuredPerson.objects.get(name="张伟")  # Daxinganling: hospitals are chosen
    form = FilingForm({}, filing_type="long_term", person=person, draft=True)
    form.is_valid()
    _add_rule_error(form, RuleError("incomplete", fields=["subtype", "director_signed_by"]))
    _add_rule_error(form, RuleError("too_many_hospitals", max=3))
    _add_rule_error(form, RuleError("open_long_term_exists"))
    assert form.errors["subtype"] == ["提交备案前须填写此项。"]
    assert "hospitals" in form.errors
    top = " ".join(form.non_field_errors())
    assert "科室主任" in top or "department director" in top.lower()  # not a field of this form
    assert len(form.non_field_errors()) == 2


def test_a_referrals_page_names_its_hospital_and_what_to_do_once_it_has_ended(client, demo):
    """张伟's referral is for one hospital, to be started by a day; 赵丽's has expired: the page
    says how to be treated there again, not only "file again"."""
    zhang = Filing.objects.get(person__name="张伟", type="referral", status="approved")
    login(client, demo, "zhangwei")
    html = client.get(reverse("filings:detail", args=[zhang.number])).content.decode()
    next_step = re.search(r'id="referral-next">(.*?)</span>', html, re.S).group(1)
    assert zhang.receiving_hospital.name in next_step
    assert f"{zhang.valid_until:%Y-%m-%d}" in next_step and "开始治疗" in next_step
    zhao = Filing.objects.get(person__name="赵丽", type="referral")
    login(client, demo, "zhaoli")
    html = client.get(reverse("filings:detail", args=[zhao.number])).content.decode()
    next_step = re.search(r'id="referral-next">(.*?)</span>', html, re.S).group(1)
    assert "申请新的转诊" in next_step and "复诊通知" in next_step
