"""A hospital's direct settlements on its clerks' desk (/hospitals/settlements/): only its own,
by state and number, 25 a page; the agency's decision on a held one, with the reviewer's
reason, reaches the hospital's clerks as a message and on the settlement's page."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from hospitals.models import Hospital
from portal.models import Notification
from settlement import services
from settlement.hospital_views import PER_PAGE

pytestmark = pytest.mark.django_db
H1, H2 = "H23010300001", "H46020000002"  # the clerks hosp_h23010300001 and hosp_h46020000002
ITEMS = [{"code": "X1", "name": "住院费", "class": "A", "amount": "5000.00"}]


ZHANG = ("232721197811200177", "张伟")  # referred to H1: settled there
CHEN = ("210103198512010131", "陈明")  # no filing: an emergency of his is held for review


def _settle(code: str, who=ZHANG, **visit):
    today = datetime.date.today()
    return services.settle(
        hospital_id=Hospital.objects.get(code=code).pk,
        api_key_id=None,
        payload={
            "id_number": who[0],
            "name": who[1],
            "visit": {
                "care_type": "inpatient",
                "admitted_on": today - datetime.timedelta(days=3),
                "discharged_on": today,
                **visit,
            },
            "items": ITEMS,
        },
    ).settlement


def _clerk(client, demo, code: str = H1, lang: str = "zh-hans"):
    client.force_login(demo[f"hosp_{code.lower()}"])
    client.cookies["django_language"] = lang
    return client


def _numbers(response) -> list[str]:
    return [s.number for s in response.context["page"].object_list]


def test_a_clerk_sees_only_their_hospitals_settlements_newest_first(client, demo):
    mine = [_settle(H1), _settle(H1, who=CHEN, emergency=True)]
    theirs = _settle(H2, who=("232701195603120223", "王秀兰"))
    response = _clerk(client, demo).get(reverse("hospital-settlements"))
    assert response.status_code == 200
    assert _numbers(response) == [mine[1].number, mine[0].number]
    html = response.content.decode()
    assert theirs.number not in html
    assert "陈*" in html and CHEN[0] not in html  # masked, as at the desk
    other = client.get(reverse("hospital-settlement", args=[theirs.number]))
    assert other.status_code == 404


def test_the_list_is_filtered_by_state_and_found_by_number(client, demo):
    settled = _settle(H1)
    held = _settle(H1, who=CHEN, emergency=True)
    assert (settled.status, held.status) == ("settled", "held_for_review")
    clerk = _clerk(client, demo)
    url = reverse("hospital-settlements")
    response = clerk.get(url, {"status": "held_for_review"})
    assert _numbers(response) == [held.number]
    tabs = {value: count for value, _label, count in response.context["tabs"]}
    assert tabs[""] == 2 and tabs["held_for_review"] == 1 and tabs["settled"] == 1
    assert tabs["returned"] == 0
    assert _numbers(clerk.get(url, {"q": settled.number.lower()})) == [settled.number]
    assert _numbers(clerk.get(url, {"q": settled.number[:-1]})) != []
    assert _numbers(clerk.get(url, {"q": settled.number[-6:].lower()})) == [settled.number]
    assert _numbers(clerk.get(url, {"status": "nonsense"})) == [held.number, settled.number]
    nothing = clerk.get(url, {"q": "JS-NO-SUCH"})
    assert _numbers(nothing) == [] and "没有符合条件的结算" in nothing.content.decode()


def test_the_list_shows_25_a_page_and_an_empty_state(client, demo):
    clerk = _clerk(client, demo)
    url = reverse("hospital-settlements")
    assert "暂无直接结算" in clerk.get(url).content.decode()
    made = [_settle(H1) for _ in range(PER_PAGE + 3)]
    first, second = clerk.get(url), clerk.get(url, {"page": 2})
    assert len(_numbers(first)) == PER_PAGE and len(_numbers(second)) == 3
    assert set(_numbers(first)) | set(_numbers(second)) == {s.number for s in made}
    assert "?page=2" in first.content.decode()


@pytest.mark.parametrize("decision", ["return", "reject", "approve_adjusted"])
def test_the_agencys_decision_on_a_held_settlement_reaches_the_hospitals_clerks(
    client, demo, decision
):
    held = _settle(H1, who=CHEN, emergency=True)
    agency = get_user_model().objects.get(username="agency_shenyang")  # 陈明 is insured there
    reason = "请补充急诊抢救证明"
    if decision == "return":
        services.settlement_return(settlement=held, actor=agency, reason=reason)
        label = "已退回医疗机构"
    elif decision == "reject":
        services.settlement_reject(settlement=held, actor=agency, reason=reason)
        label = "审核未通过"
    else:
        amount = held.fund_pay - D("100.00")
        services.settlement_approve(settlement=held, actor=agency, fund_pay=amount, reason=reason)
        label = "已结算"
    url = reverse("hospital-settlement", args=[held.number])
    note = Notification.objects.get(user=demo["hosp_h23010300001"], notice="settlement_reviewed")
    assert note.url == url
    subject, body = note.text("zh-hans")
    assert held.number in subject and label in subject and body.endswith(f"\n原因：{reason}")
    # The other hospital's clerks and the person hear nothing of it.
    assert not Notification.objects.filter(
        notice="settlement_reviewed", user=demo["hosp_h46020000002"]
    ).exists()
    page = _clerk(client, demo).get(url).content.decode()
    assert reason in page and "审核意见" in page
    if decision == "approve_adjusted":
        assert f"{held.fund_pay:,.2f}" in page  # the engine's amount (grouped), beside the new
        assert "审核通过（调整金额）" in page
    held.refresh_from_db()
    listing = client.get(reverse("hospital-settlements"), {"status": held.status})
    assert _numbers(listing) == [held.number]


def test_a_clerk_reads_the_settlement_and_its_decision_in_english(client, demo):
    held = _settle(H1, who=CHEN, emergency=True)
    agency = get_user_model().objects.get(username="agency_shenyang")
    services.settlement_return(settlement=held, actor=agency, reason="missing emergency record")
    page = _clerk(client, demo, lang="en").get(reverse("hospital-settlement", args=[held.number]))
    html = page.content.decode()
    assert "Returned to the hospital" in html and "missing emergency record" in html
    assert "Emergency without a filing" in html  # why it was held
    note = Notification.objects.get(user=demo["hosp_h23010300001"], notice="settlement_reviewed")
    assert note.text("en")[0] == f"Settlement {held.number} reviewed: Returned to the hospital"


def test_only_hospital_clerks_have_a_settlements_page(client, demo):
    held = _settle(H1)
    for username in ["wangxiulan", "agency_shenyang"]:
        client.force_login(demo[username])
        assert client.get(reverse("hospital-settlements")).status_code == 404
        assert client.get(reverse("hospital-settlement", args=[held.number])).status_code == 404
    client.logout()
    assert client.get(reverse("hospital-settlements")).status_code == 302  # to sign in


def test_the_desk_points_to_the_settlements_returned_to_the_hospital(client, demo):
    clerk = _clerk(client, demo)
    desk = clerk.get(reverse("hospitals:home")).content.decode()
    assert f'href="{reverse("hospital-settlements")}"' in desk and "已退回" not in desk
    held = _settle(H1, who=CHEN, emergency=True)
    agency = get_user_model().objects.get(username="agency_shenyang")
    services.settlement_return(settlement=held, actor=agency, reason="请补充急诊抢救证明")
    desk = clerk.get(reverse("hospitals:home")).content.decode()
    assert "1 笔已退回" in desk
    assert f'href="{reverse("hospital-settlements")}?status=returned"' in desk


def test_the_list_is_found_by_month_of_discharge_and_a_bad_month_is_said(client, demo):
    made = _settle(H1)
    clerk = _clerk(client, demo)
    url = reverse("hospital-settlements")
    this_month = made.discharged_on.strftime("%Y-%m")
    assert _numbers(clerk.get(url, {"month": this_month})) == [made.number]
    assert _numbers(clerk.get(url, {"month": "2001-01"})) == []
    bad = clerk.get(url, {"month": "2026-13"})
    assert _numbers(bad) == [made.number]  # ignored, and said so
    assert "请按 YYYY-MM 输入月份" in bad.content.decode()


def test_the_list_downloads_as_csv_under_its_filters_with_the_patient_masked(client, demo):
    import csv
    import io

    from tests.settlement.test_stats import sign_in

    settled = _settle(H1)
    held = _settle(H1, who=CHEN, emergency=True)
    _settle(H2, who=("232701195603120223", "王秀兰"))
    url = reverse("hospital-settlements-csv")
    client.force_login(demo["hosp_h23010300001"])  # no recent sign-in: asked to confirm first
    assert "reauthenticate" in client.get(url)["Location"]
    sign_in(client, demo["hosp_h23010300001"])
    client.cookies["django_language"] = "zh-hans"
    response = client.get(url, {"status": "held_for_review"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "结算编号" and len(rows) == 2
    assert rows[1][0] == held.number and rows[1][4] == "陈*" and CHEN[0] not in text
    assert rows[1][7:10] == [str(held.total), str(held.fund_pay), str(held.person_pay)]
    everything = b"".join(client.get(url).streaming_content).decode("utf-8")
    numbers = {row[0] for row in csv.reader(io.StringIO(everything.lstrip("\ufeff")))}
    assert numbers == {"结算编号", settled.number, held.number}  # not the other hospital's
    page = client.get(reverse("hospital-settlements"), {"status": "held_for_review"})
    assert f'href="{url}?status=held_for_review"' in page.content.decode()


def _held_stays(code: str, count: int, start: int = 0):
    """`count` held settlements of 陈明 (an emergency without a filing) at the hospital, each a
    stay of its own (the same stay twice would be a duplicate bill)."""
    today = datetime.date.today()
    return [
        _settle(
            code,
            who=CHEN,
            emergency=True,
            admitted_on=today - datetime.timedelta(days=10 * i + 3),
            discharged_on=today - datetime.timedelta(days=10 * i),
        )
        for i in range(start, start + count)
    ]


def test_a_reviewers_decisions_on_several_held_bills_reach_the_clerks_in_one_message(demo):
    from settlement.rules import RuleError

    agency = get_user_model().objects.get(username="agency_shenyang")
    first, returned, third = _held_stays(H1, 3)
    (alone,) = _held_stays(H2, 1, start=5)
    with services.reviews_told_together():
        services.settlement_approve(settlement=first, actor=agency)
        services.settlement_return(settlement=returned, actor=agency, reason="请补充病历")
        services.settlement_approve(settlement=third, actor=agency)
        services.settlement_reject(settlement=alone, actor=agency, reason="非急诊")
        with pytest.raises(RuleError):  # already settled: refused, and not told twice
            services.settlement_approve(settlement=first, actor=agency)
        # Nothing reaches the desks before the action is over.
        assert not Notification.objects.filter(user__hospital_staff__isnull=False).exists()

    (note,) = Notification.objects.filter(user=demo["hosp_h23010300001"])
    assert note.notice == "settlements_reviewed"
    assert note.url == reverse("hospital-settlements") + "?status=returned"  # what needs work
    assert note.text("en") == (
        "3 settlements of this hospital reviewed",
        "Settled: 2; rejected: 0; returned to the hospital: 1. "
        "Each settlement's page gives the reviewer's reason.",
    )
    assert note.text("zh-hans") == (
        "本院 3 笔结算已审核",
        "已结算 2 笔，审核未通过 0 笔，退回医疗机构 1 笔。审核意见见各笔结算的页面。",
    )
    # A hospital with one decision hears of it as usual, with the reason.
    (single,) = Notification.objects.filter(user=demo["hosp_h46020000002"])
    assert single.notice == "settlement_reviewed" and single.text("zh-hans")[1].endswith(
        "\n原因：非急诊"
    )
    assert single.url == reverse("hospital-settlement", args=[alone.number])
    # The person is told of each of their bills.
    person = Notification.objects.filter(notice="settlement_reviewed_person")
    assert person.count() == 4


def test_the_admins_bulk_approval_is_one_message_on_the_desk(client, demo):
    from tests.signin import staff_login

    held = _held_stays(H1, 3)
    staff_login(client, "agency_shenyang")
    url = reverse("admin:settlement_settlement_changelist")
    chosen = {"action": "approve", "_selected_action": [s.pk for s in held]}
    asked = client.post(url, chosen)  # several rows: a page to confirm first, nothing done
    assert asked.status_code == 200 and not Notification.objects.filter(
        user=demo["hosp_h23010300001"]
    )
    response = client.post(url, {**chosen, "apply": "1"})
    assert response.status_code == 302
    (note,) = Notification.objects.filter(user=demo["hosp_h23010300001"])
    assert note.notice == "settlements_reviewed"
    assert note.url == reverse("hospital-settlements") + "?status=settled"
    assert note.text("en")[0] == "3 settlements of this hospital reviewed"


def test_the_held_settlements_queue_is_oldest_first_with_the_days_each_has_waited(client, demo):
    from django.utils import timezone

    from settlement.models import Settlement
    from tests.signin import staff_login

    newer, older = _held_stays(H1, 2)
    now = timezone.now()
    Settlement.objects.filter(pk=newer.pk).update(created_at=now - datetime.timedelta(days=1))
    Settlement.objects.filter(pk=older.pk).update(created_at=now - datetime.timedelta(days=4))
    staff_login(client, "agency_shenyang")
    queue = client.get(
        reverse("admin:settlement_settlement_changelist"), {"status__exact": "held_for_review"}
    )
    assert [s.number for s in queue.context["cl"].result_list] == [older.number, newer.number]
    html = queue.content.decode()
    assert '<td class="field-waiting">4 天</td>' in html
    assert '<td class="field-waiting">1 天</td>' in html


def test_a_held_settlement_is_decided_from_its_own_page(client, demo):
    from tests.signin import staff_login

    (held,) = _held_stays(H1, 1)
    settled = _settle(H1)  # 张伟 under his referral: not held
    staff_login(client, "agency_shenyang")
    page = client.get(reverse("admin:settlement_settlement_change", args=[held.pk]))
    names = [name for name, _ in page.context["decisions"]]
    assert names == [
        "approve",
        "approve_adjusted",
        "reject",
        "return_to_hospital",
        "void_settlement",
    ]
    assert page.content.decode().count('class="decision-button ') == 5
    client.logout()  # 张伟 is insured in Daxinganling
    staff_login(client, "agency_dxal")
    page = client.get(reverse("admin:settlement_settlement_change", args=[settled.pk]))
    # A settled bill is only voided (a duplicate, say): nothing else to decide.
    names = [name for name, _ in page.context["decisions"]]
    assert page.status_code == 200 and names == ["void_settlement"]


def test_the_clerks_pages_group_the_thousands_of_amounts(client, demo):
    """A clerk reading 150345.58 at a busy desk misreads it; 150,345.58 as on the person's
    pages (the CSV keeps 150345.58)."""
    held = _settle(H1, who=CHEN, emergency=True)
    assert held.total >= 1000
    page = _clerk(client, demo).get(reverse("hospital-settlement", args=[held.number]))
    html = page.content.decode()
    assert f'id="fund-pay">{held.fund_pay:,.2f}</dd>' in html
    assert f"{held.total:,.2f}" in html and "," in f"{held.total:,.2f}"
