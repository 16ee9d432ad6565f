"""The agency review queue in the admin: own region only, actions through the services."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from filings.models import Filing, Material
from portal.models import AuditEvent
from tests.portal.factories import InsuredPersonFactory
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


def test_agency_staff_see_only_their_regions_filings_and_404_for_others(client, demo):
    staff_login(client, "agency_shenyang")
    listing = client.get(reverse("admin:filings_filing_changelist")).content.decode()
    assert "BA210100000001" in listing and "BA210100000002" in listing
    assert "BA232700000001" not in listing
    own = Filing.objects.get(number="BA210100000002")
    other = Filing.objects.get(number="BA232700000001")
    assert client.get(reverse("admin:filings_filing_change", args=[own.pk])).status_code == 200
    assert client.get(reverse("admin:filings_filing_change", args=[other.pk])).status_code == 404


def test_search_by_id_number_uses_the_keyed_hash(client, demo):
    staff_login(client, "agency_shenyang")
    page = client.get(
        reverse("admin:filings_filing_changelist"), {"q": "21010219580101055X"}, follow=True
    )
    assert "21010219580101055X" not in page.redirect_chain[-1][0]  # answered with a token
    html = page.content.decode()
    assert "BA210100000002" in html and "BA210100000001" not in html


def test_approve_action_goes_through_the_service(client, demo):
    staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    client.post(
        reverse("admin:filings_filing_changelist"),
        {"action": "approve", "_selected_action": [filing.pk]},
    )
    filing.refresh_from_db()
    assert filing.status == "approved" and filing.valid_from is not None
    assert AuditEvent.objects.filter(object_id=str(filing.pk), action="filing.approve").exists()


def test_reject_asks_for_a_reason_first(client, demo):
    staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    url = reverse("admin:filings_filing_changelist")
    page = client.post(url, {"action": "reject", "_selected_action": [filing.pk]})
    assert page.status_code == 200 and "reason" in page.content.decode()
    assert Filing.objects.get(pk=filing.pk).status == "submitted"
    client.post(
        url,
        {
            "action": "reject",
            "_selected_action": [filing.pk],
            "apply": "1",
            "reason": "房产证与本人不符",
        },
    )
    filing.refresh_from_db()
    assert filing.status == "rejected" and filing.decision_note == "房产证与本人不符"


def test_agency_staff_of_another_region_cannot_act_on_a_filing(client, demo):
    staff_login(client, "agency_dxal")
    filing = Filing.objects.get(number="BA210100000002")
    client.post(
        reverse("admin:filings_filing_changelist"),
        {"action": "approve", "_selected_action": [filing.pk]},
    )
    assert Filing.objects.get(pk=filing.pk).status == "submitted"


def _emails_to(mailoutbox, username, number):
    from portal.tasks import deliver_pending_notifications

    deliver_pending_notifications()
    return [
        m
        for m in mailoutbox
        if f"{username}@demo.example.cn" in m.to and number in (m.subject + m.body)
    ]


def _act(client, action, filing, **data):
    return client.post(
        reverse("admin:filings_filing_changelist"),
        {"action": action, "_selected_action": [filing.pk], **data},
    )


def test_rule_2_6_return_action_asks_what_is_missing_and_emails_the_person(
    client, demo, mailoutbox
):
    staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    page = _act(client, "return_for_materials", filing)
    assert page.status_code == 200 and Filing.objects.get(pk=filing.pk).status == "submitted"
    _act(client, "return_for_materials", filing, apply="1", reason="请补充亲属关系证明")
    filing.refresh_from_db()
    assert (filing.status, filing.decision_note) == ("returned", "请补充亲属关系证明")
    assert AuditEvent.objects.filter(object_id=str(filing.pk), action="filing.return").exists()
    mails = _emails_to(mailoutbox, "sunguoqiang", filing.number)
    assert len(mails) == 1 and "请补充亲属关系证明" in mails[0].body


def test_rule_2_1_accept_materials_action_makes_the_filing_two_way_and_emails_the_person(
    client, demo, mailoutbox
):
    from filings.models import Material

    filing = Filing.objects.get(number="BA210100000001")  # 李建国, commitment
    staff_login(client, "agency_shenyang")
    _act(client, "accept_materials", filing)
    assert not Filing.objects.get(pk=filing.pk).two_way  # nothing supplied yet: refused
    Material.objects.create(
        filing=filing,
        kind="residence_certificate",
        stored_name="accept.pdf",
        original_name="居住证明.pdf",
        content_type="application/pdf",
        size=10,
    )
    _act(client, "accept_materials", filing, apply="1")
    filing.refresh_from_db()
    assert filing.two_way and filing.materials_accepted_at is not None
    mails = _emails_to(mailoutbox, "lijianguo", filing.number)
    assert len(mails) == 1


def test_rule_2_6_cancel_action_needs_a_reason_and_emails_the_person(client, demo, mailoutbox):
    staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    _act(client, "cancel", filing, apply="1", reason="")
    assert Filing.objects.get(pk=filing.pk).status == "submitted"
    _act(client, "cancel", filing, apply="1", reason="本人申请撤回")
    filing.refresh_from_db()
    assert filing.status == "cancelled"
    event = AuditEvent.objects.get(object_id=str(filing.pk), action="filing.cancel")
    assert (event.from_state, event.to_state, event.reason) == (
        "submitted",
        "cancelled",
        "本人申请撤回",
    )
    assert len(_emails_to(mailoutbox, "sunguoqiang", filing.number)) == 1


def test_rule_2_1_cancel_action_inside_the_lock_period_is_refused(client, demo):
    staff_login(client, "agency_dxal")
    filing = Filing.objects.get(number="BA232700000001")
    response = client.post(
        reverse("admin:filings_filing_changelist"),
        {"action": "cancel", "_selected_action": [filing.pk], "apply": "1", "reason": "x"},
        follow=True,
    )
    assert Filing.objects.get(pk=filing.pk).status == "approved"
    html = response.content.decode()
    # One filing: the refusal comes back on the cancellation's form, the reason kept.
    assert "锁定期" in html and 'name="reason"' in html and "x</textarea>" in html


def test_materials_are_previewed_inline_images_shown_pdfs_linked(client, demo):
    staff_login(client, "agency_dxal")
    wang = Filing.objects.get(number="BA232700000001")
    html = client.get(reverse("admin:filings_filing_change", args=[wang.pk])).content.decode()
    material = wang.materials.get(kind="household_register")
    preview = reverse("filings:material-preview", args=[material.pk])
    assert f'<img src="{preview}"' in html
    assert client.get(preview).status_code == 200
    client.logout()
    staff_login(client, "agency_shenyang")
    sun = Filing.objects.get(number="BA210100000002")
    html = client.get(reverse("admin:filings_filing_change", args=[sun.pk])).content.decode()
    pdf = sun.materials.get(kind="property_certificate")
    assert reverse("filings:material", args=[pdf.pk]) in html
    assert reverse("filings:material-preview", args=[pdf.pk]) not in html
    assert client.get(preview).status_code == 404  # another region's image


def test_rule_2_2_referral_actions_in_the_admin(client, demo):
    from hospitals.models import Hospital

    staff_login(client, "agency_dxal")
    filing = Filing.objects.get(number="ZZ232700000001")
    today = timezone.localdate()
    page = _act(client, "start_treatment", filing)
    assert page.status_code == 200 and 'name="started_on"' in page.content.decode()
    _act(client, "start_treatment", filing, apply="1", started_on=today.isoformat())
    filing.refresh_from_db()
    assert filing.treatment_started_on == today and filing.course_days == 60
    until = filing.valid_until + datetime.timedelta(days=30)
    _act(client, "extend_referral", filing, apply="1", until=until.isoformat(), reason="病重")
    assert Filing.objects.get(pk=filing.pk).extended_until is None  # no summary yet: refused
    sanya = Hospital.objects.get(code="H46020000002")
    _act(client, "change_receiving_hospital", filing, apply="1", hospital=sanya.pk, reason="转")
    assert Filing.objects.get(pk=filing.pk).receiving_hospital_id == sanya.pk


def test_filing_parameters_agency_staff_edit_their_own_region_only(client, demo):
    from filings.models import FilingParameters
    from portal.models import Region

    staff_login(client, "agency_shenyang")
    shenyang, dalian = Region.objects.get(code="210100"), Region.objects.get(code="210200")
    add = reverse("admin:filings_filingparameters_add")
    form = client.get(add).content.decode()
    assert f'value="{shenyang.pk}"' in form and f'value="{dalian.pk}"' not in form
    values = {
        "effective_from": "2027-01-01",
        "benefits_start": "on_approval",
        "lock_months": 6,
        "max_hospitals": 0,
        "commitment_months": 6,
        "referral_validity_months": 6,
        "temporary_validity_months": 6,
    }
    response = client.post(add, {**values, "region": dalian.pk})
    assert response.status_code == 200  # not a choice: the form is shown again
    assert not FilingParameters.objects.filter(region=dalian, effective_from="2027-01-01").exists()
    response = client.post(add, {**values, "region": shenyang.pk})
    assert response.status_code == 302
    assert FilingParameters.objects.filter(region=shenyang, effective_from="2027-01-01").exists()
    other = FilingParameters.objects.filter(region=dalian).first()
    change = reverse("admin:filings_filingparameters_change", args=[other.pk])
    assert client.get(change).status_code == 404
    own = FilingParameters.objects.filter(region=shenyang).order_by("effective_from").first()
    own_change = reverse("admin:filings_filingparameters_change", args=[own.pk])
    response = client.post(
        own_change, {**values, "effective_from": own.effective_from, "region": dalian.pk}
    )
    assert response.status_code == 200
    assert FilingParameters.objects.get(pk=own.pk).region_id == shenyang.pk


def test_the_queue_of_submitted_filings_is_first_come_first_served_with_days_waited(client, demo):
    """Reviewers with hundreds in the queue work the oldest first and see how long each waited;
    the kind is one column and dates are digits, so the list fits beside the filters."""
    own = Filing.objects.get(number="BA210100000002")  # submitted, 沈阳's queue
    older = Filing.objects.get(pk=own.pk)
    older.pk, older.number = None, "BA210100000009"
    older.person = InsuredPersonFactory(region=own.insured_region, name="赵敏")  # one open each
    older.save()
    now = timezone.now()
    Filing.objects.filter(pk=own.pk).update(submitted_at=now - datetime.timedelta(days=1))
    Filing.objects.filter(pk=older.pk).update(
        submitted_at=now - datetime.timedelta(days=12),
        created_at=own.created_at - datetime.timedelta(days=1),  # the usual order puts it last
    )
    staff_login(client, "agency_shenyang")
    url = reverse("admin:filings_filing_changelist")

    queue = client.get(url, {"status__exact": "submitted"})
    rows = list(queue.context["cl"].result_list)
    assert [f.number for f in rows] == ["BA210100000009", "BA210100000002"]
    html = queue.content.decode()
    assert "12 天" in html and "1 天" in html
    assert "异地长期居住<br>异地安置退休人员" in html  # type and sub-type in one column
    assert f"{timezone.localtime(now - datetime.timedelta(days=12)):%Y-%m-%d %H:%M}" in html

    # Elsewhere the usual order (newest first), and no waiting time for a decided filing.
    everything = client.get(url)
    numbers = [f.number for f in everything.context["cl"].result_list]
    assert numbers.index("BA210100000002") < numbers.index("BA210100000009")
    approved = Filing.objects.get(number="BA210100000001")
    cells = client.get(url, {"status__exact": "approved"}).content.decode()
    assert "天" not in cells.split("BA210100000001")[1].split("</tr>")[0]
    assert f"{approved.valid_from:%Y-%m-%d} –<br>" in cells

    client.cookies["django_language"] = "en"
    english = client.get(url, {"status__exact": "submitted"}).content.decode()
    assert "12 days" in english and "1 day<" in english


def test_a_decision_on_a_filings_page_lands_back_in_the_queue_it_was_opened_from(client, demo):
    """Opened from the submitted queue, the page's decisions post to the list with that filter,
    so the reviewer is back in the queue, not on the whole list."""
    import re
    from html import unescape

    staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")  # submitted
    queue = "status__exact=submitted"
    change = reverse("admin:filings_filing_change", args=[filing.pk])
    html = client.get(change, {"_changelist_filters": queue}).content.decode()
    actions = {
        unescape(a)
        for a in re.findall(r'<form method="post" action="([^"]+)" class="decision"', html)
    }
    assert actions == {f"{reverse('admin:filings_filing_changelist')}?{queue}"}
    response = client.post(actions.pop(), {"action": "approve", "_selected_action": filing.pk})
    assert response.status_code == 302 and response["Location"].endswith(f"?{queue}")
    filing.refresh_from_db()
    assert filing.status == "approved"
    # Back in the queue, the message names the filing decided, linked to its page.
    told = client.get(response["Location"]).content.decode()
    assert f'<a href="{change}">{filing.number}</a>：已批准。' in told


def test_a_decision_on_several_filings_is_counted(client, demo):
    staff_login(client, "agency_shenyang")
    # 李建国's filing back in the queue beside 孙国强's.
    Filing.objects.filter(number="BA210100000001").update(status="submitted")
    submitted = Filing.objects.filter(insured_region__code="210100", status="submitted")
    pks = list(submitted.values_list("pk", flat=True))
    assert len(pks) == 2
    url = reverse("admin:filings_filing_changelist")
    # Several rows are listed on a page to confirm first, with how many: nothing is done yet.
    asked = client.post(url, {"action": "approve", "_selected_action": pks})
    assert asked.status_code == 200 and "已选 2 项" in asked.content.decode()
    assert Filing.objects.filter(pk__in=pks, status="submitted").count() == 2
    response = client.post(
        url, {"action": "approve", "_selected_action": pks, "apply": "1"}, follow=True
    )
    assert f"已批准 {len(pks)} 件备案。" in response.content.decode()


def test_a_filing_is_decided_from_its_own_page(client, demo):
    """Beside the materials, the filing's page offers the decisions its state allows, as buttons
    that post the list's actions for it alone; a decided filing offers the next ones."""
    staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")  # submitted
    change = reverse("admin:filings_filing_change", args=[filing.pk])
    page = client.get(change)
    offered = [name for name, _ in page.context["decisions"]]
    assert offered == ["approve", "reject", "return_for_materials"]
    html = page.content.decode()
    assert html.count('class="decision-button ') == 3 and "批准" in html
    assert f'name="_selected_action" value="{filing.pk}"' in html

    # The button's post: the list's action for this filing alone, back to the list.
    response = client.post(
        reverse("admin:filings_filing_changelist"),
        {"action": "approve", "_selected_action": filing.pk},
    )
    assert response.status_code == 302
    filing.refresh_from_db()
    assert filing.status == "approved"
    assert [name for name, _ in client.get(change).context["decisions"]] == ["cancel"]
    # Filed by commitment, it offers deciding on the supplemented materials once there are
    # some: none supplied, nothing to accept.
    Filing.objects.filter(pk=filing.pk).update(basis="commitment", materials_accepted_at=None)
    offered = [name for name, _ in client.get(change).context["decisions"]]
    assert offered == ["cancel"]
    Material.objects.create(
        filing=filing,
        kind="residence_certificate",
        stored_name=f"rc-{filing.pk}.png",
        original_name="rc.png",
        content_type="image/png",
        size=10,
    )
    offered = [name for name, _ in client.get(change).context["decisions"]]
    assert offered == ["accept_materials", "refuse_materials", "cancel"]

    # A reason-asking decision opens the reason page first, as from the list.
    page = client.post(
        reverse("admin:filings_filing_changelist"),
        {"action": "cancel", "_selected_action": filing.pk},
    )
    assert page.status_code == 200 and Filing.objects.get(pk=filing.pk).status == "approved"


def test_an_approved_referrals_page_offers_its_referral_decisions(client, demo):
    staff_login(client, "agency_dxal")
    referral = Filing.objects.get(number="ZZ232700000001")  # approved, treatment not started
    change = reverse("admin:filings_filing_change", args=[referral.pk])
    offered = [name for name, _ in client.get(change).context["decisions"]]
    assert referral.treatment_started_on is None
    assert offered == ["start_treatment", "extend_referral", "change_receiving_hospital", "cancel"]
    Filing.objects.filter(pk=referral.pk).update(treatment_started_on=referral.valid_from)
    offered = [name for name, _ in client.get(change).context["decisions"]]
    assert offered == ["extend_referral", "change_receiving_hospital", "cancel"]


def test_a_stale_decision_from_a_filtered_queue_is_told_not_dropped(client, demo):
    """Reviewer A opened 孙国强's filing from the "submitted" queue; reviewer B approved it
    meanwhile. A's rejection, posted back to the filtered queue, found no row and said nothing:
    now it names the filing and its state, and changes nothing."""
    from filings import services

    staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    services.filing_approve(filing=filing, actor=demo["agency_shenyang"])  # reviewer B
    queue = reverse("admin:filings_filing_changelist") + "?status__exact=submitted"
    for step in ({}, {"apply": "1", "reason": "房产证与本人不符"}):
        page = client.post(
            queue,
            {"action": "reject", "_selected_action": [filing.pk], **step},
            follow=True,
        )
        html = page.content.decode()
        assert "BA210100000002" in html
        assert "已被他人处理或更改，当前为“已批准（生效）”：本次未作任何处理。" in html
        assert 'name="reason"' not in html  # no reason form over an empty selection
    filing.refresh_from_db()
    assert filing.status == "approved"
    assert not AuditEvent.objects.filter(action="filing.reject").exists()


def test_a_filings_page_shows_the_care_the_start_asked_for_and_who_decided(client, demo):
    """What the reviewer approves: the care covered and the requested start (validity is
    computed from it); once decided, who decided."""
    from filings import services

    staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    Filing.objects.filter(pk=filing.pk).update(
        covers_general_outpatient=False, start_date=datetime.date(2026, 12, 1)
    )
    url = reverse("admin:filings_filing_change", args=[filing.pk])
    html = client.get(url).content.decode()
    care = html.split("field-care_covered")[1].split("</div>\n")[0]
    assert "住院" in care and "普通门诊" not in care
    assert "2026年12月1日" in html.split("field-start_date")[1][:600]
    services.filing_approve(filing=filing, actor=demo["agency_shenyang"])
    decided = client.get(url).content.decode().split("field-decider")[1][:600]
    assert "agency_shenyang" in decided


def test_a_filings_audit_trail_is_found_by_its_number_and_from_its_history_button(client, demo):
    """Services write audit events, not Django's edit log: the History button said "no
    history" and the audit log's search did not know filing numbers."""
    from filings import services

    staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    services.filing_approve(filing=filing, actor=demo["agency_shenyang"], note="材料齐全")
    other = Filing.objects.get(number="BA210100000001")
    history = client.get(reverse("admin:filings_filing_history", args=[filing.pk]), follow=True)
    rows = history.content.decode()
    assert history.redirect_chain and "q=BA210100000002" in history.redirect_chain[-1][0]
    listing = history.context["cl"].result_list
    assert {e.object_id for e in listing} == {str(filing.pk)}
    assert other.number not in rows
    found = client.get(reverse("admin:portal_auditevent_changelist"), {"q": "ba210100000002"})
    assert {e.object_id for e in found.context["cl"].result_list} == {str(filing.pk)}
    assert "完整的备案、报销申请、结算或清算单编号" in found.content.decode()


def test_a_refused_referral_extension_comes_back_on_its_form_with_what_was_typed(client, demo):
    """An extension to a date before the referral's end was refused as a message over the
    list, and the reason typed was lost; a refusal of one row now comes back on the form."""
    staff_login(client, "agency_dxal")
    referral = Filing.objects.get(number="ZZ232700000001")
    page = client.post(
        reverse("admin:filings_filing_changelist"),
        {
            "action": "extend_referral",
            "_selected_action": [referral.pk],
            "apply": "1",
            "until": "2020-01-01",
            "reason": "病情需要继续治疗",
        },
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert "延期截止日期须晚于" in html and "病情需要继续治疗" in html
    assert 'name="until"' in html
    referral.refresh_from_db()
    assert referral.extended_until is None
    assert not AuditEvent.objects.filter(action="referral.extend").exists()
