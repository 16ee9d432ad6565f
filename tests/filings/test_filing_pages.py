"""The person's filing pages say what can be done before anything is typed: the lock period,
the long-term filing already open, the two-way line only once it means something, a
cancellation confirmed, a draft's materials and sub-type kept, errors listed at the top of
each form, a PDF that does not come, and hospitals named in errors."""

import datetime
import re
import time

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from filings import rules
from filings.messages import message
from filings.models import Filing
from filings.rules import RuleError
from filings.selectors import parameters_for
from hospitals.models import Hospital
from portal.models import AuditEvent, Region
from tests.filings.test_views import png

pytestmark = pytest.mark.django_db

WANG = "BA232700000001"  # 王秀兰: long-term, effective 99 days ago (Daxinganling: 12-month lock)
LI = "BA210100000001"  # 李建国: long-term by commitment, effective 150 days ago (Shenyang)


def harbin():
    return Region.objects.get(code="230100")


def draft_of_chen(client, demo, **extra):
    """陈明 (not retired) saves a long-term draft for Harbin."""
    client.force_login(demo["chenming"])
    response = client.post(
        reverse("filings:new", args=["long_term"]),
        {"place_region": harbin().pk, "draft": "1", **extra},
    )
    assert response.status_code == 302, response.context["form"].errors
    return Filing.objects.get(person__name="陈明")


# --- 3. the lock period ---------------------------------------------------------------------


def test_rule_2_1_within_the_lock_period_the_page_says_from_when_instead_of_offering_forms(
    client, demo
):
    # 李建国 (Shenyang: a 6-month lock, no end of validity), effective 150 days ago.
    filing = Filing.objects.get(number=LI)
    allowed = rules.change_allowed_from(filing.valid_from, parameters_for(filing.insured_region))
    client.force_login(demo["lijianguo"])
    url = reverse("filings:detail", args=[LI])
    html = client.get(url).content.decode()
    assert 'value="cancel"' not in html and 'value="change"' not in html
    assert 'name="reason"' not in html and 'name="what"' not in html
    locked = re.search(r'<p[^>]*id="locked"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert f"{allowed:%Y-%m-%d}" in locked and "可申请变更或取消" in locked
    # Sent all the same (a page kept open), it is still refused, with the date.
    page = client.post(url, {"action": "cancel", "reason": "回原籍", "confirm": "on"}, follow=True)
    assert f"{allowed:%Y-%m-%d}" in page.content.decode()
    assert Filing.objects.get(number=LI).status == "approved"
    # Once the lock period is over, both can be asked for.
    with time_machine.travel(allowed + datetime.timedelta(days=1)):
        client.force_login(demo["lijianguo"])
        html = client.get(url).content.decode()
    assert 'value="cancel"' in html and 'value="change"' in html and 'id="locked"' not in html


def test_rule_2_1_a_lock_as_long_as_the_validity_is_told_as_such_with_renewal(client, demo):
    """Daxinganling: 12 months of lock and 12 months of validity. The day a change would be
    allowed is the day after the filing ends: the page says it cannot be changed or cancelled
    while valid, and that renewing goes on from there, not "from" a day it no longer exists."""
    filing = Filing.objects.get(number=WANG)
    allowed = rules.change_allowed_from(filing.valid_from, parameters_for(filing.insured_region))
    assert allowed > filing.valid_until
    client.force_login(demo["wangxiulan"])
    html = client.get(reverse("filings:detail", args=[WANG])).content.decode()
    assert 'value="cancel"' not in html and 'value="change"' not in html
    locked = re.search(r'<p[^>]*id="locked"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert f"有效期内（至 {filing.valid_until:%Y-%m-%d}）不能变更或取消" in locked
    assert "续期" in locked and f"{allowed:%Y-%m-%d}" not in locked


# --- 4. one long-term filing at a time ------------------------------------------------------


def test_rule_2_6_a_person_with_an_open_long_term_filing_is_shown_it_not_a_form_for_another(
    client, demo
):
    new = reverse("filings:new", args=["long_term"])
    own = reverse("filings:detail", args=[WANG])
    client.force_login(demo["wangxiulan"])
    listing = client.get(reverse("filings:list")).content.decode()
    assert f'href="{new}"' not in listing
    sentence = re.search(r'id="open-long-term"[^>]*>(.*?)</div>', listing, re.S).group(1)
    assert f'href="{own}"' in sentence and WANG in sentence and "已有异地长期居住备案" in sentence
    form_page = client.get(new).content.decode()
    assert 'name="place_region"' not in form_page and 'type="file"' not in form_page
    assert f'href="{own}"' in form_page
    # A draft counts too; someone without one gets the link and the form.
    client.force_login(demo["chenming"])
    assert f'href="{new}"' in client.get(reverse("filings:list")).content.decode()
    assert 'name="place_region"' in client.get(new).content.decode()
    draft = draft_of_chen(client, demo)
    listing = client.get(reverse("filings:list")).content.decode()
    assert f'href="{new}"' not in listing and draft.number in listing
    assert reverse("filings:detail", args=[draft.number]) in client.get(new).content.decode()


# --- 5. cancelling is confirmed -------------------------------------------------------------


def test_a_cancellation_needs_its_confirmation_ticked_checked_on_the_server(client, demo):
    filing = draft_of_chen(client, demo)
    url = reverse("filings:detail", args=[filing.number])
    assert 'name="confirm"' in client.get(url).content.decode()
    page = client.post(url, {"action": "cancel", "reason": "不去了"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "请勾选确认" in html and "不去了" in html  # the reason typed is kept
    assert Filing.objects.get(pk=filing.pk).status == "draft"
    assert not AuditEvent.objects.filter(action="filing.cancel").exists()
    client.post(url, {"action": "cancel", "reason": "不去了", "confirm": "on"})
    assert Filing.objects.get(pk=filing.pk).status == "cancelled"


# --- 6. no sub-type chosen for the person ---------------------------------------------------


def test_rule_2_1_no_sub_type_is_preselected_and_a_non_retirees_draft_saves_without_one(
    client, demo
):
    client.force_login(demo["chenming"])
    html = client.get(reverse("filings:new", args=["long_term"])).content.decode()
    select = re.search(r'<select name="subtype".*?</select>', html, re.S).group(0)
    options = re.findall(r'<option value="([^"]*)"([^>]*)>', select)
    assert options[0][0] == ""  # what a browser sends when nobody chooses
    assert not [value for value, attrs in options if "selected" in attrs and value]
    filing = draft_of_chen(client, demo, subtype=options[0][0], basis="commitment")
    assert (filing.status, filing.subtype) == ("draft", "")
    # Submitting still asks for it.
    response = client.post(
        reverse("filings:edit", args=[filing.number]),
        {"place_region": harbin().pk, "subtype": "", "submit": ""},
    )
    assert response.status_code == 200 and "subtype" in response.context["form"].errors


def test_a_draft_saved_without_a_start_date_keeps_it_blank(client, demo):
    """A start date left blank on a draft is not stored as the day it was saved: resumed a
    week later, the draft would be refused for a start "before today" nobody typed."""
    filing = draft_of_chen(client, demo, basis="commitment", start_date="")
    assert filing.start_date is None
    edit = client.get(reverse("filings:edit", args=[filing.number])).content.decode()
    assert re.search(r'name="start_date"[^>]*value="\d', edit) is None


# --- 7. editing a draft -----------------------------------------------------------------------


def test_editing_a_draft_lists_its_materials_and_keeps_the_kind_of_proof(client, demo):
    filing = draft_of_chen(
        client,
        demo,
        material_kind="residence_certificate",
        files=[png("居住证明.png")],
        file_id_copy=[png("身份证.png")],
    )
    assert filing.materials.count() == 2
    html = client.get(reverse("filings:edit", args=[filing.number])).content.decode()
    attached = re.search(r'id="attached-materials">(.*?)</div>', html, re.S).group(1)
    assert "居住证明 · 居住证明.png" in attached and "身份证复印件 · 身份证.png" in attached
    select = re.search(r'<select name="material_kind".*?</select>', html, re.S).group(0)
    assert re.search(r'<option value="residence_certificate"[^>]*selected', select)


# --- 8. a PDF that does not come ------------------------------------------------------------


def test_the_pdf_page_stops_refreshing_after_about_a_minute_and_offers_a_way_on(
    client, demo, monkeypatch
):
    monkeypatch.setattr("filings.document_views.WAIT_SECONDS", 0)
    monkeypatch.setattr("filings.document_views.render_document.delay", lambda *a: None)
    client.force_login(demo["wangxiulan"])
    url = reverse("document-download", args=[WANG, "certificate"])
    first = client.get(url)
    assert first.status_code == 202
    html = first.content.decode()
    # No page reload (axe meta-refresh): a status region that portal.js asks again for, for
    # a minute from the first ask, and a link that does the same by hand.
    assert 'http-equiv="refresh"' not in html
    waiting = re.search(r'<div id="document-waiting" role="status" data-poll="([^"]+)"', html)
    assert waiting and waiting.group(1).startswith(f"{url}?since=")
    since = int(waiting.group(1).rsplit("=", 1)[1])
    until = int(re.search(r'data-poll-until="(\d+)"', html).group(1))
    assert until == since + 60
    assert f'href="{waiting.group(1)}" id="check-again"' in html
    still = client.get(url, {"since": since}).content.decode()
    assert 'id="document-waiting"' in still and 'id="document-late"' not in still
    assert client.head(url, {"since": since}).status_code == 202  # what the script asks
    late = client.get(url, {"since": int(time.time()) - 61})
    html = late.content.decode()
    assert late.status_code == 202 and 'id="document-waiting"' not in html
    assert 'id="document-late"' in html and "比平时长" in html
    assert f'href="{url}"' in html  # try again, from the start
    assert f'href="{reverse("filings:detail", args=[WANG])}"' in html


# --- 9. two-way only once decided -----------------------------------------------------------


def test_rule_2_1_the_two_way_line_is_shown_only_for_an_approved_long_term_filing(client, demo):
    filing = draft_of_chen(client, demo)
    html = client.get(reverse("filings:detail", args=[filing.number])).content.decode()
    assert 'id="two-way"' not in html and "双向" not in html
    client.force_login(demo["wangxiulan"])
    html = client.get(reverse("filings:detail", args=[WANG])).content.decode()
    assert 'id="two-way"' in html


# --- 10. errors at the top of each form -----------------------------------------------------


def _summary(html: str) -> str | None:
    found = re.search(r'<div class="[^"]*form-errors-summary[^"]*"[^>]*>(.*?)</div>', html, re.S)
    return found.group(1) if found else None


def test_the_filing_forms_list_their_errors_at_the_top_linked_to_the_fields(client, demo):
    client.force_login(demo["chenming"])
    response = client.post(
        reverse("filings:new", args=["long_term"]), {"subtype": "long_term_resident"}
    )
    html = response.content.decode()
    summary = _summary(html)
    assert summary and 'href="#id_place_region"' in summary
    assert html.index("form-errors-summary") < html.index('name="place_region"')
    filing = draft_of_chen(client, demo)
    edit = client.post(
        reverse("filings:edit", args=[filing.number]), {"place_region": "", "submit": ""}
    )
    assert _summary(edit.content.decode())
    detail = reverse("filings:detail", args=[filing.number])
    upload = client.post(detail, {"action": "upload", "kind": "id_copy"}).content.decode()
    assert 'href="#id_files"' in _summary(upload)
    cancel = client.post(detail, {"action": "cancel", "reason": ""}).content.decode()
    assert 'href="#id_reason"' in _summary(cancel) and 'href="#id_confirm"' in _summary(cancel)


def test_a_change_request_with_nothing_asked_lists_the_error_at_the_top(client, demo):
    filing = Filing.objects.get(number=WANG)
    allowed = rules.change_allowed_from(filing.valid_from, parameters_for(filing.insured_region))
    with time_machine.travel(allowed + datetime.timedelta(days=1)):
        client.force_login(demo["wangxiulan"])
        url = reverse("filings:detail", args=[WANG])
        html = client.post(url, {"action": "change", "what": ""}).content.decode()
    assert 'href="#id_what"' in _summary(html)


# --- 12. hospitals named in errors ----------------------------------------------------------


@pytest.mark.parametrize("code", ["hospital_elsewhere", "hospital_not_eligible"])
def test_an_error_about_a_hospital_names_it_with_its_code(demo, code):
    hospital = Hospital.objects.get(code="H46020000001")
    with translation.override("zh-hans"):
        text = message(RuleError(code, hospital="H46020000001"))
    assert hospital.name in text and "H46020000001" in text
    with translation.override("en"):
        text = message(RuleError(code, hospital="H46020000001"))
    assert (hospital.name_en or hospital.name) in text and "H46020000001" in text


def test_a_chosen_hospital_elsewhere_is_named_on_the_form(client, demo):
    """王秀兰's region (Daxinganling) asks for hospitals at the place of residence: one in Sanya
    chosen for Harbin is refused by name."""
    sanya = Hospital.objects.get(code="H46020000002")
    Filing.objects.filter(number=WANG).update(status="cancelled")
    client.force_login(demo["wangxiulan"])
    response = client.post(
        reverse("filings:new", args=["long_term"]),
        {
            "place_region": harbin().pk,
            "subtype": "resettled_retiree",
            "hospitals": [sanya.pk],
            "draft": "1",
        },
    )
    assert response.status_code == 200
    assert f"{sanya.name}（H46020000002）不在居住地。" in response.content.decode()
    assert not Filing.objects.filter(person__name="王秀兰", status="draft").exists()


def test_my_filings_shows_the_open_ones_and_pages_the_past_ones(client, demo):
    """The filings still open stand first on every page; the closed ones follow under their
    own heading, ten a page, newest first."""
    zhao = demo["zhaoli"]
    expired = Filing.objects.get(person=zhao.insured, status="expired")
    for n in range(11):  # eleven more closed filings: twelve in all, two pages
        copy = Filing.objects.get(pk=expired.pk)
        copy.pk = None
        copy.number = f"BA2327009{n:05d}"
        copy.status = "cancelled"
        copy.save()
    open_one = Filing.objects.get(pk=expired.pk)
    open_one.pk, open_one.number, open_one.status = None, "ZZ232700988888", "draft"
    open_one.referral_source = "paper"  # a hospital's e-referral draft is not the patient's yet
    open_one.save()
    client.force_login(zhao)

    first = client.get("/filings/")
    html = first.content.decode()
    current = html[html.index('id="current"') : html.index('id="past"')]
    assert "ZZ232700988888" in current and "BA2327009" not in current
    assert "过往备案" in html and "（12）" not in html and "(12)" in html
    assert len(first.context["page"].object_list) == 10
    second = client.get("/filings/", {"page": 2})
    assert len(second.context["page"].object_list) == 2
    assert "ZZ232700988888" in second.content.decode()  # the open one on every page
    shown = [f.number for f in first.context["page"]] + [f.number for f in second.context["page"]]
    assert sorted(shown) == sorted([expired.number] + [f"BA2327009{n:05d}" for n in range(11)])


def test_a_closed_filing_takes_no_more_materials_even_from_an_old_page(client, demo):
    """The page of an expired referral offers no upload; a form sent from a page opened before
    it ended is refused with the filing's state, and nothing is stored."""
    from filings.models import Material

    zhao = Filing.objects.get(number="ZZ232700000002")
    assert zhao.status == "expired"
    client.force_login(demo["zhaoli"])
    before = Material.objects.filter(filing=zhao).count()
    response = client.post(
        f"/filings/{zhao.number}/",
        {"action": "upload", "kind": "other", "files": png()},
        follow=True,
    )
    assert Material.objects.filter(filing=zhao).count() == before
    assert "该备案当前状态为“已过期”，不能再补充材料。" in response.content.decode()
    assert "材料已上传" not in response.content.decode()


@pytest.mark.parametrize("confirmed", [True, False])
def test_a_cancellation_sent_after_the_agency_decided_is_answered(client, demo, confirmed):
    """孙国强 opened his submitted filing's page; the agency rejected the filing meanwhile. The
    cancellation he then sends is refused in words on the page he lands on (the form itself is
    not shown for a rejected filing), whether or not his form was complete."""
    from filings import services

    filing = Filing.objects.select_related("person__user").get(
        person__name="孙国强", status="submitted"
    )
    services.filing_reject(filing=filing, actor=demo["agency_shenyang"], reason="材料不全")
    client.force_login(filing.person.user)
    data = {"action": "cancel", "reason": "不去了"} | ({"confirm": "on"} if confirmed else {})
    response = client.post(f"/filings/{filing.number}/", data, follow=True)
    html = response.content.decode()
    assert response.redirect_chain  # back on the page, not a form that is not drawn
    assert "未通过" in html and ("不能变为" in html or "已不适用" in html)
    assert Filing.objects.get(pk=filing.pk).status == "rejected"


def test_a_course_started_by_a_direct_settlement_is_told_in_the_readers_language(client, demo):
    """The timeline of a referral whose course a direct settlement started: "开始治疗" then the
    reason, in words of the page's language, not the recorded "direct settlement at …"."""
    from filings import services

    filing = Filing.objects.get(number="ZZ232700000001")
    Filing.objects.filter(pk=filing.pk).update(treatment_started_on=None)
    admitted = filing.valid_from
    services.referral_course_for_stay(
        number=filing.number,
        admitted_on=admitted,
        discharged_on=admitted,
        hospital=filing.receiving_hospital.code,
    )
    client.force_login(demo["zhangwei"])
    page = client.get(f"/filings/{filing.number}/").content.decode()
    assert "direct settlement at" not in page
    assert f"直接结算，入院日期为 {admitted.isoformat()}。" in page
    assert filing.receiving_hospital.name in page
    client.cookies["django_language"] = "en"
    english = client.get(f"/filings/{filing.number}/").content.decode()
    assert "Settled directly at" in english and "直接结算，入院日期" not in english


def test_places_and_hospitals_are_written_as_each_language_writes_them(demo):
    """Chinese: "黑龙江省哈尔滨市" and "三亚市人民医院（H46020000002）", without the stray space
    and half-width parentheses; "Harbin, Heilongjiang" and "(H46020000002)" in English."""
    filing = Filing.objects.get(number="BA210100000001")  # 李建国: Harbin
    sanya = Hospital.objects.get(code="H46020000002")
    with translation.override("zh-hans"):
        assert filing.place == "黑龙江省哈尔滨市"
        assert str(sanya) == f"{sanya.name}（H46020000002）"
    with translation.override("en"):
        assert filing.place == "Harbin, Heilongjiang"
        assert str(sanya) == f"{sanya.name_en} (H46020000002)"


@pytest.mark.parametrize("days", [1, 400])
def test_an_emergency_transfer_date_in_the_future_or_long_ago_is_refused(client, demo, days):
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate()
    day = today + dt.timedelta(days=1) if days == 1 else today - dt.timedelta(days=days)
    client.force_login(demo["chenming"])
    response = client.post(
        reverse("filings:new", args=["emergency"]),
        {"place_region": harbin().pk, "transfer_date": day.isoformat(), "draft": "1"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["transfer_date"]
    assert ("不能晚于今天" in errors[0]) == (days == 1)
    assert not Filing.objects.filter(person__name="陈明").exists()
