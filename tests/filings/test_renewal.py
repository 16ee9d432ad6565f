"""Renewal of a long-term filing (domain.md §2.1: Daxinganling, 12 months' validity, then
re-file; §2.6: at most one effective long-term filing at a time): from 60 days before the end
the person renews, the renewal is reviewed as any filing and takes effect the day after the
renewed filing ends, so there is no overlap and no gap at the admission desk."""

import datetime
import zoneinfo

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, connection, transaction

from filings import jobs, rules, services
from filings.models import Filing
from filings.rules import RuleError
from filings.selectors import parameters_for
from hospitals import eligibility_service
from hospitals.eligibility_selectors import clear_caches
from hospitals.models import Hospital
from portal.models import InsuredPerson, Notification

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
WANG = {"id_number": "232701195603120223", "name": "王秀兰"}
DAY = datetime.timedelta(days=1)


def at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(10, 0), tzinfo=SHANGHAI)


def wang_filing() -> Filing:
    """王秀兰's approved filing to Sanya (Daxinganling: valid 12 months)."""
    return Filing.objects.select_related("person__user").get(number="BA232700000001")


def refused(fn, **kwargs) -> RuleError:
    with pytest.raises(RuleError) as error:
        fn(**kwargs)
    return error.value


def renew_and_approve(demo, old: Filing, on: datetime.date, **changes) -> Filing:
    """Renew `old` on day `on`, complete it by commitment (and `changes`), submit it and
    approve it."""
    user = old.person.user
    with time_machine.travel(at(on), tick=False):
        renewal = services.filing_renew(filing=old, actor=user)
        services.filing_update(filing=renewal, actor=user, basis="commitment", **changes)
        services.filing_submit(filing=renewal, actor=user)
        return services.filing_approve(filing=renewal, actor=demo["agency_dxal"])


def test_rule_2_1_renewal_window_is_60_days_before_the_validity_ends():
    end = datetime.date(2027, 3, 31)
    assert rules.RENEWAL_WINDOW_DAYS == 60
    assert rules.renewal_opens_on(end) == end - datetime.timedelta(days=60)
    kwargs = {"filing_type": "long_term", "status": "approved", "valid_until": end}
    assert not rules.may_renew(**kwargs, today=end - datetime.timedelta(days=61))
    assert rules.may_renew(**kwargs, today=end - datetime.timedelta(days=60))
    assert rules.may_renew(**kwargs, today=end)
    assert not rules.may_renew(**kwargs, today=end + DAY)
    open_ended = {**kwargs, "valid_until": None}
    with pytest.raises(RuleError) as error:
        rules.check_renewal(**open_ended, today=end)
    assert error.value.code == "renewal_open_ended"
    assert rules.renewal_start(end) == datetime.date(2027, 4, 1)


def test_rule_2_1_renewal_offered_only_in_the_window(demo, client):
    old = wang_filing()
    opens = old.valid_until - datetime.timedelta(days=rules.RENEWAL_WINDOW_DAYS)
    with time_machine.travel(at(opens - DAY), tick=False):
        client.force_login(demo["wangxiulan"])
        error = refused(services.filing_renew, filing=old, actor=old.person.user)
        assert error.code == "renewal_too_early"
        page = client.get(f"/filings/{old.number}/").content.decode()
        assert 'id="renew"' not in page and 'id="renew-from"' in page
        assert (
            'class="border border-primary rounded p-3 mb-3 renewable"'
            not in client.get("/filings/").content.decode()
        )
        # Sent anyway: refused with the day it becomes possible, nothing created.
        response = client.post(f"/filings/{old.number}/", {"action": "renew"}, follow=True)
        body = response.content.decode()
        assert (
            f"本备案有效期至 {old.valid_until.isoformat()}，自 {opens.isoformat()} 起可以续期"
            in body
        )
        assert not Filing.objects.filter(renews=old).exists()
    with time_machine.travel(at(opens), tick=False):
        client.cookies.clear()  # a session of another day
        client.force_login(demo["wangxiulan"])
        page = client.get(f"/filings/{old.number}/").content.decode()
        assert 'id="renew"' in page and "续期本备案" in page and "直接结算不会中断" in page
        listing = client.get("/filings/").content.decode()
        assert f'data-number="{old.number}"' in listing
    with time_machine.travel(at(old.valid_until + DAY), tick=False):
        assert refused(services.filing_renew, filing=old, actor=None).code == "renewal_too_late"


def test_rule_2_1_open_ended_filing_is_not_renewable(demo, client):
    li = Filing.objects.select_related("person__user").get(number="BA210100000001")
    assert li.valid_until is None
    assert refused(services.filing_renew, filing=li, actor=li.person.user).code == (
        "renewal_open_ended"
    )
    client.force_login(li.person.user)
    page = client.get(f"/filings/{li.number}/").content.decode()
    assert 'id="renew"' not in page and 'id="renew-from"' not in page


def test_rule_2_1_renewal_draft_copies_the_renewed_filing(demo, client):
    old = wang_filing()
    day = old.valid_until - datetime.timedelta(days=30)
    with time_machine.travel(at(day), tick=False):
        client.force_login(demo["wangxiulan"])
        response = client.post(f"/filings/{old.number}/", {"action": "renew"})
    renewal = Filing.objects.get(renews=old)
    assert response.status_code == 302
    assert response["Location"] == f"/filings/{renewal.number}/edit/"
    assert (renewal.type, renewal.status, renewal.person_id) == (
        "long_term",
        "draft",
        old.person_id,
    )
    same = [
        "subtype",
        "place_province_id",
        "place_region_id",
        "covers_inpatient",
        "covers_general_outpatient",
        "covers_chronic_outpatient",
    ]
    assert [getattr(renewal, n) for n in same] == [getattr(old, n) for n in same]
    assert set(renewal.hospitals.values_list("code", flat=True)) == set(
        old.hospitals.values_list("code", flat=True)
    )
    assert renewal.start_date == old.valid_until + DAY
    # The person completes it: no basis, no materials, no validity yet.
    assert (renewal.basis, renewal.valid_from, renewal.materials.count()) == ("", None, 0)
    with time_machine.travel(at(day), tick=False):
        # The usual edit page, with what to do next.
        edit = client.get(f"/filings/{renewal.number}/edit/")
        assert edit.status_code == 200 and "已保存为草稿" in edit.content.decode()
        assert old.number in client.get(f"/filings/{renewal.number}/").content.decode()
        # The old filing's page links the renewal instead of offering another.
        page = client.get(f"/filings/{old.number}/").content.decode()
        assert 'id="renewal"' in page and renewal.number in page and 'id="renew"' not in page
        assert "续期备案：" in page
        # Its start is shown, not asked for: a date typed there cannot move it.
        form = edit.context["form"]
        assert form.fields["start_date"].disabled
        assert f"{renewal.start_date:%Y-%m-%d}" in form.fields["start_date"].help_text
        client.post(
            f"/filings/{renewal.number}/edit/",
            {
                "place_region": renewal.place_region_id,
                "start_date": f"{day:%Y-%m-%d}",
                "draft": "1",
            },
        )
        renewal.refresh_from_db()
        assert renewal.start_date == old.valid_until + DAY


def test_rule_2_6_approved_renewal_takes_effect_the_day_after_the_renewed_filing_ends(demo):
    old = wang_filing()
    on = old.valid_until - datetime.timedelta(days=20)
    # Even when the person asked for an earlier start on the edit page.
    renewal = renew_and_approve(demo, old, on, start_date=on)
    assert renewal.status == "approved"
    assert renewal.valid_from == old.valid_until + DAY
    assert renewal.valid_until == renewal.valid_from + relativedelta(months=12) - DAY
    # Both are approved now, one after the other: no overlap.
    old.refresh_from_db()
    assert old.status == "approved" and old.valid_until < renewal.valid_from


def test_rule_2_6_an_approved_renewal_says_from_when_it_is_in_force(demo, client):
    """Until it takes effect, the renewal is not labelled "in force" like the filing it
    renews: My filings, its page and its certificate say the day it starts."""
    old = wang_filing()
    on = old.valid_until - datetime.timedelta(days=20)
    renewal = renew_and_approve(demo, old, on)
    with time_machine.travel(at(on), tick=False):
        client.force_login(demo["wangxiulan"])
        listing = client.get("/filings/").content.decode()
        page = client.get(f"/filings/{renewal.number}/").content.decode()
        later = renewal.valid_from.isoformat()
        assert f"已批准（{later}起生效）" in page
        assert f"已批准（{later}起生效）" in listing
        assert listing.count("已批准（生效）") == 1  # the renewed filing, still in force
        # What to do next: the renewed filing applies until the renewal starts.
        assert f"本续期备案自 {later} 起生效（备案 {old.number} 期满的次日）" in page
        assert "在定点医疗机构出示身份证即可直接结算" not in page
        # Nor does its timeline's approval, or the message that told her of it.
        assert "已批准（生效）" not in page
    note = Notification.objects.filter(user=demo["wangxiulan"]).latest("id")
    assert note.notice == "filing_approved_from"
    subject, body = note.text("zh-hans")
    d = renewal.valid_from
    assert subject == f"您的备案{renewal.number}已批准，自{d:%Y-%m-%d}起生效"
    with time_machine.travel(at(renewal.valid_from), tick=False):
        assert Filing.objects.get(pk=renewal.pk).get_status_display() == "已批准（生效）"


def test_rule_2_1_an_approved_renewal_can_be_cancelled_before_it_takes_effect(demo, client):
    """The lock runs after a filing takes effect: the person who renewed and changed their
    mind cancels the renewal before its first day; from that day it is locked."""
    old = wang_filing()
    on = old.valid_until - datetime.timedelta(days=20)
    renewal = renew_and_approve(demo, old, on)
    with time_machine.travel(at(renewal.valid_from), tick=False):
        error = refused(services.filing_cancel, filing=renewal, actor=demo["wangxiulan"])
        assert error.code == "locked_while_valid"
    with time_machine.travel(at(on + DAY), tick=False):
        client.force_login(demo["wangxiulan"])
        page = client.get(f"/filings/{renewal.number}/").content.decode()
        assert "不能变更或取消" not in page
        assert 'name="action" value="cancel"' in page
        services.filing_cancel(filing=renewal, actor=demo["agency_dxal"], reason="本人申请取消续期")
    assert Filing.objects.get(pk=renewal.pk).status == "cancelled"
    assert Filing.objects.get(pk=old.pk).status == "approved"


def test_rule_2_6_renewal_approved_after_the_renewed_filing_ended_takes_effect_as_usual(demo):
    old = wang_filing()
    user = old.person.user
    with time_machine.travel(at(old.valid_until - datetime.timedelta(days=5)), tick=False):
        renewal = services.filing_renew(filing=old, actor=user)
        services.filing_update(filing=renewal, actor=user, basis="commitment")
        services.filing_submit(filing=renewal, actor=user)
    late = old.valid_until + datetime.timedelta(days=3)
    jobs.run_nightly(late)
    with time_machine.travel(at(late), tick=False):
        approved = services.filing_approve(filing=renewal, actor=demo["agency_dxal"])
    # Daxinganling: benefits from the day after approval.
    assert approved.valid_from == late + DAY


def test_rule_2_6_nightly_expiry_expires_the_renewed_filing_and_leaves_the_renewal(demo):
    old = wang_filing()
    renewal = renew_and_approve(demo, old, old.valid_until - datetime.timedelta(days=10))
    jobs.run_nightly(old.valid_until)
    assert Filing.objects.get(pk=old.pk).status == "approved"  # its last day
    jobs.run_nightly(old.valid_until + DAY)
    assert Filing.objects.get(pk=old.pk).status == "expired"
    assert Filing.objects.get(pk=renewal.pk).status == "approved"


def _decide(day: datetime.date):
    clear_caches()
    hospital = Hospital.objects.get(code="H46020000002")
    decision, _found = eligibility_service.check(
        hospital_id=hospital.pk, care_type="inpatient", visit_date=day, **WANG
    )
    return decision


def test_rule_2_6_no_overlap_and_no_gap_at_the_eligibility_decision(demo):
    old = wang_filing()
    renewal = renew_and_approve(demo, old, old.valid_until - datetime.timedelta(days=10))
    last_day = _decide(old.valid_until)
    assert (last_day.eligible, last_day.category) == (True, "long_term")
    assert last_day.filing.number == old.number
    first_day = _decide(renewal.valid_from)
    assert (first_day.eligible, first_day.category) == (True, "long_term")
    assert first_day.filing.number == renewal.number
    # Once the nightly job has expired the old one, the renewal still settles.
    jobs.run_nightly(renewal.valid_from)
    assert _decide(renewal.valid_from).filing.number == renewal.number


def test_rule_2_6_an_unrelated_second_long_term_filing_is_still_refused(demo, client):
    old = wang_filing()
    person = InsuredPerson.objects.select_related("region", "user").get(pk=old.person_id)
    with time_machine.travel(at(old.valid_until - datetime.timedelta(days=30)), tick=False):
        renewal = services.filing_renew(filing=old, actor=person.user)
        error = refused(
            services.filing_create,
            person=person,
            actor=person.user,
            filing_type="long_term",
            place_region=old.place_region,
            subtype="resettled_retiree",
        )
        assert error.code == "open_long_term_exists"
        client.force_login(person.user)
        page = client.get("/filings/new/long_term/").content.decode()
        assert 'id="open-long-term"' in page
    # The database too: a second filing in progress, or a second approved filing that
    # renews nothing.
    fields = {
        "person": person,
        "insured_region_id": person.region_id,
        "type": "long_term",
        "place_province_id": old.place_province_id,
        "place_region_id": old.place_region_id,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        Filing.objects.create(number="BA232700999991", status="submitted", **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        Filing.objects.create(number="BA232700999992", status="approved", **fields)
    assert Filing.objects.filter(person=person, type="long_term").count() == 2
    assert renewal.renews_id == old.pk


def test_rule_2_6_a_second_renewal_of_the_same_filing_is_refused(demo):
    old = wang_filing()
    on = old.valid_until - datetime.timedelta(days=15)
    first = renew_and_approve(demo, old, on)
    with time_machine.travel(at(on), tick=False):
        error = refused(services.filing_renew, filing=old, actor=old.person.user)
    assert error.code == "already_renewed"
    # The constraint, even past the service: the first renewal is approved, so only
    # one_renewal_per_filing stands in the way of a draft renewing the same filing.
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        Filing.objects.create(
            number="BA232700999993",
            person_id=old.person_id,
            insured_region_id=old.insured_region_id,
            type="long_term",
            status="draft",
            place_province_id=old.place_province_id,
            place_region_id=old.place_region_id,
            renews=old,
        )
    assert "one_renewal_per_filing" in str(exc.value) or "renews_id" in str(exc.value)
    assert list(Filing.objects.filter(renews=old).values_list("pk", flat=True)) == [first.pk]


def test_migration_adds_renews_and_the_three_constraints(db):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "filings_filing")
        columns = {
            c.name for c in connection.introspection.get_table_description(cursor, "filings_filing")
        }
    assert "renews_id" in columns
    assert {
        "one_pending_long_term_filing_per_person",
        "one_approved_long_term_filing_per_person",
        "one_renewal_per_filing",
    } <= set(constraints)
    assert "one_open_long_term_filing_per_person" not in constraints


def _form_as_shown(form) -> dict:
    """What the browser sends back for `form` as the page shows it: disabled fields are not
    sent, and a box is sent only if the page shows it."""
    data = {}
    for field in form:
        value = field.value()
        if value is None or field.field.disabled:
            continue
        if isinstance(value, list):
            shown = {str(choice.data["value"]) for choice in field.subwidgets}
            value = [str(v) for v in value if str(v) in shown]
        data[field.html_name] = value
    return data


def test_rule_2_1_a_renewal_finished_after_the_renewed_filing_ended_is_sent_and_takes_effect(
    demo, client
):
    """Renewed in the window, finished (or sent back and corrected) only after the renewed
    filing ended: its fixed start day has passed. It is still sent, from its own page, and on
    approval takes effect as a new filing approved that day does, not refused as "before
    today"."""
    old = wang_filing()
    with time_machine.travel(at(old.valid_until - datetime.timedelta(days=5)), tick=False):
        renewal = services.filing_renew(filing=old, actor=old.person.user)
    late = old.valid_until + datetime.timedelta(days=3)
    with time_machine.travel(at(late), tick=False):
        client.force_login(demo["wangxiulan"])
        edit = client.get(f"/filings/{renewal.number}/edit/")
        help_text = edit.context["form"].fields["start_date"].help_text
        assert "已过" in help_text  # the page says the fixed day has passed
        data = {**_form_as_shown(edit.context["form"]), "basis": "commitment", "promise": "on"}
        response = client.post(f"/filings/{renewal.number}/edit/", data)
        assert response.status_code == 302, response.context["form"].errors
        renewal.refresh_from_db()
        assert renewal.status == "submitted"
        approved = services.filing_approve(filing=renewal, actor=demo["agency_dxal"])
    params = parameters_for(renewal.insured_region, late)
    assert approved.valid_from == rules.validity("long_term", params, late)[0] > old.valid_until
