"""domain.md §2.1, filing by commitment: the agency refuses supplied materials from the admin
(a filing's own page and the list), the person is told why and what follows, and both the
person's page and the review queue tell materials awaiting review from materials outstanding."""

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from filings import services
from filings.messages import message
from filings.models import Filing, Material
from filings.rules import RuleError
from portal import notices
from portal.models import AuditEvent, Notification
from tests.filings.test_views import png
from tests.signin import staff_login

pytestmark = pytest.mark.django_db

NUMBER = "BA210100000001"  # 李建国: long-term by commitment, deadline in about 30 days
REASON = "居住证明无公章"


def supply(client, demo, number=NUMBER):
    """李建国 uploads a residence certificate from his filing's page."""
    client.force_login(demo["lijianguo"])
    url = reverse("filings:detail", args=[number])
    client.post(url, {"action": "upload", "kind": "residence_certificate", "files": [png()]})
    return url


def changelist():
    return reverse("admin:filings_filing_changelist")


def test_rule_2_1_supplied_materials_are_refused_from_the_filings_own_page_with_a_reason(
    client, demo
):
    filing = Filing.objects.get(number=NUMBER)
    supply(client, demo)
    staff_login(client, "agency_shenyang")
    page = client.get(reverse("admin:filings_filing_change", args=[filing.pk])).content.decode()
    assert 'value="refuse_materials"' in page and 'value="accept_materials"' in page
    # The button opens the reason page; nothing is refused before the reason is given.
    asked = client.post(changelist(), {"action": "refuse_materials", "_selected_action": filing.pk})
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    assert not Material.objects.filter(filing=filing, refused_at__isnull=False).exists()
    client.post(
        changelist(),
        {
            "action": "refuse_materials",
            "_selected_action": filing.pk,
            "apply": "1",
            "reason": REASON,
        },
    )
    filing.refresh_from_db()
    assert filing.status == "approved" and filing.materials_accepted_at is None
    assert Material.objects.get(filing=filing).refused_at is not None
    event = AuditEvent.objects.get(action="filing.refuse_materials")
    assert (event.object_id, event.reason, event.actor.username) == (
        str(filing.pk),
        REASON,
        "agency_shenyang",
    )
    note = Notification.objects.get(user=demo["lijianguo"], notice="materials_refused")
    subject, body = note.text("zh-hans")
    assert filing.number in subject and "未予受理" in subject
    assert REASON in body and "重新补交" in body and "撤销" in body
    assert f"{filing.commitment_deadline:%Y-%m-%d}" in body
    # Refused: nothing awaits review any more, the buttons are gone (accepting too: it could
    # only fail, until the person supplies again).
    page = client.get(reverse("admin:filings_filing_change", args=[filing.pk])).content.decode()
    assert 'value="refuse_materials"' not in page and 'value="accept_materials"' not in page


def test_refusing_supplied_materials_from_the_list_needs_a_reason(client, demo):
    filing = Filing.objects.get(number=NUMBER)
    supply(client, demo)
    staff_login(client, "agency_shenyang")
    page = client.post(
        changelist(),
        {"action": "refuse_materials", "_selected_action": filing.pk, "apply": "1", "reason": ""},
    )
    assert page.status_code == 200 and page.context["form"].errors
    assert not Material.objects.filter(filing=filing, refused_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(action="filing.refuse_materials").exists()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_rule_2_1_the_refusal_notice_says_the_reason_the_deadline_and_what_follows(demo, language):
    filing = Filing.objects.get(number=NUMBER)
    deadline = filing.commitment_deadline
    staff = demo["agency_shenyang"]
    before = {"zh-hans": ("重新补交", "仅可在居住地"), "en": ("again by", "only at the place")}
    after = {"zh-hans": ("已过", "撤销前已发生的结算"), "en": ("has passed", "Settlements made")}
    Material.objects.create(
        filing=filing,
        kind="residence_certificate",
        stored_name="in-time.png",
        original_name="居住证明.png",
        content_type="image/png",
        size=10,
    )
    services.filing_refuse_materials(filing=filing, actor=staff, reason=REASON)
    in_time = Notification.objects.get(notice="materials_refused")
    with translation.override(language):
        shown = date_format(deadline, "Y-m-d")
    subject, body = in_time.text(language)
    assert filing.number in subject and REASON in body and shown in body
    assert all(part in body for part in before[language])
    assert notices.render("materials_refused", in_time.params, language)[1] == body
    # Refused once the deadline has passed: the filing goes at the next nightly run.
    late = Material.objects.create(
        filing=filing,
        kind="residence_certificate",
        stored_name="late.png",
        original_name="居住证明.png",
        content_type="image/png",
        size=10,
    )
    with time_machine.travel(deadline + datetime.timedelta(days=2)):
        services.filing_refuse_materials(filing=filing, actor=staff, reason=REASON)
    late.refresh_from_db()
    assert late.refused_at is not None
    _subject, body = Notification.objects.get(notice="materials_refused_late").text(language)
    assert REASON in body and shown in body and all(part in body for part in after[language])
    assert not Notification.objects.filter(notice="filing_status").exists()


def test_rule_2_1_the_persons_timeline_says_the_materials_were_not_accepted_and_why(client, demo):
    filing = Filing.objects.get(number=NUMBER)
    url = supply(client, demo)
    services.filing_refuse_materials(filing=filing, actor=demo["agency_shenyang"], reason=REASON)
    html = client.get(url).content.decode()
    timeline = re.search(r'id="timeline">(.*?)</ol>', html, re.S).group(1)
    assert "您补交的材料未予受理" in timeline and REASON in timeline
    assert "filing.refuse_materials" not in timeline


def test_rule_2_1_supplied_materials_awaiting_review_replace_the_countdown(client, demo):
    filing = Filing.objects.get(number=NUMBER)
    url = reverse("filings:detail", args=[NUMBER])
    client.force_login(demo["lijianguo"])
    assert 'id="countdown"' in client.get(url).content.decode()
    supply(client, demo)
    html = client.get(url).content.decode()
    today = timezone.localdate()
    waiting = re.search(r'<div[^>]*id="awaiting-review"[^>]*>(.*?)</div>', html, re.S)
    assert waiting and f"{today:%Y-%m-%d}" in waiting.group(1) and "等待经办机构审核" in html
    assert 'id="countdown"' not in html
    # Refused: the countdown to the deadline is back.
    services.filing_refuse_materials(filing=filing, actor=demo["agency_shenyang"], reason=REASON)
    html = client.get(url).content.decode()
    assert 'id="countdown"' in html and 'id="awaiting-review"' not in html


def test_rule_2_1_the_review_queue_holds_the_filings_whose_supplied_materials_await_review(
    client, demo
):
    soon = timezone.localdate() + datetime.timedelta(days=20)
    Filing.objects.filter(number=NUMBER).update(commitment_deadline=soon)
    staff_login(client, "agency_shenyang")

    def listed(choice):
        page = client.get(changelist(), {"commitment": choice})
        return {f.number for f in page.context["cl"].result_list}

    assert NUMBER in listed("outstanding") and NUMBER in listed("due30")
    assert NUMBER not in listed("awaiting_review")
    supply(Client(), demo)
    assert listed("awaiting_review") == {NUMBER}
    assert NUMBER not in listed("outstanding") and NUMBER not in listed("due30")
    filing = Filing.objects.get(number=NUMBER)
    services.filing_refuse_materials(filing=filing, actor=demo["agency_shenyang"], reason=REASON)
    assert NUMBER in listed("outstanding") and NUMBER not in listed("awaiting_review")


def test_rule_2_5_the_chronic_base_error_is_said_in_the_language_it_is_read_in(demo):
    """The error's words live in filings/messages.py with the others: raised while one
    language is active, it is read in the reader's."""
    Filing.objects.filter(number="ZZ232700000001").update(type="emergency")
    person = Filing.objects.get(number="ZZ232700000001").person
    with translation.override("zh-hans"), pytest.raises(RuleError) as error:
        services.filing_create(
            person=person,
            actor=person.user,
            filing_type="chronic_outpatient",
            place_region=Filing.objects.get(number="ZZ232700000001").place_region,
            disease="2型糖尿病",
            covers_chronic_outpatient=True,
        )
    with translation.override("en"):
        assert message(error.value).startswith("Filing ZZ232700000001 is a referral")
    with translation.override("zh-hans"):
        assert "转诊转院或急诊抢救备案" in message(error.value)


def test_a_refused_supplement_is_marked_so_on_the_persons_page_and_the_reviewers(client, demo):
    supply(client, demo)
    filing = Filing.objects.get(number=NUMBER)
    services.filing_refuse_materials(filing=filing, actor=demo["agency_shenyang"], reason=REASON)
    day = timezone.localdate().isoformat()
    client.force_login(demo["lijianguo"])
    page = client.get(reverse("filings:detail", args=[filing.number])).content.decode()
    assert f"已于 {day} 退回" in page
    staff_login(client, "agency_shenyang")
    admin = client.get(reverse("admin:filings_filing_change", args=[filing.pk]))
    assert f"已于 {day} 退回" in admin.content.decode()
