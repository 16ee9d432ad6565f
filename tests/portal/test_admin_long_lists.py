"""The admin's lists over tables that grow by the million (filings, audit events, notifications,
the access log, direct settlements, claims) read only what a page shows: no date hierarchy, no
filter choices read from the rows, no second count of the whole table. bench/bench_admin.py
measures them at volume; these tests hold the queries that made them slow out of each page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from filings.models import Filing
from hospitals.services import access_log_record
from portal import audit
from portal.admin import CappedCountPaginator
from portal.models import AuditEvent, Notification, Region
from portal.notifications import notify
from tests.signin import staff_login

pytestmark = pytest.mark.django_db

# Each list and a date it is filtered by.
DATES = {
    "admin:filings_filing_changelist": "submitted_at",
    "admin:portal_auditevent_changelist": "created_at",
    "admin:portal_notification_changelist": "created_at",
    "admin:hospitals_accesslog_changelist": "created_at",
    "admin:settlement_settlement_changelist": "created_at",
    "admin:settlement_claim_changelist": "submitted_at",
}
LONG_LISTS = list(DATES)


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return response, [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("name", LONG_LISTS)
@pytest.mark.parametrize("username", ["agency_shenyang", "admin"])
def test_a_long_list_reads_no_distinct_values_and_no_date_range(client, demo, name, username):
    staff_login(client, username)
    # Asked for facet counts too ("show counts"): a count per filter choice over every row.
    response, sql = _queries(client, reverse(name), {"_facets": "True"})
    # A date hierarchy reads the first and last date and every distinct year of the rows in
    # scope; a filter of all values reads every distinct value.
    assert not [s for s in sql if "DISTINCT" in s.upper()], sql
    assert not [s for s in sql if "MIN(" in s.upper() or "MAX(" in s.upper()], sql
    assert not [s for s in sql if "FILTER (WHERE" in s.upper()], sql  # no facet counts
    page = response.content.decode()
    assert "xfull" not in page  # no date hierarchy on the page
    assert "显示计数" not in page and "Show counts" not in page  # nor a link to them


@pytest.mark.parametrize("name", LONG_LISTS)
def test_a_filtered_long_list_counts_once(client, demo, name):
    staff_login(client, "agency_shenyang")

    def counts(params):
        return [s for s in _queries(client, reverse(name), params)[1] if "COUNT(" in s.upper()]

    plain = counts({})
    filtered = counts({f"{DATES[name]}__gte": "2000-01-01T00:00:00+08:00"})
    # The filtered rows are counted for the pagination, as the rows of an unfiltered page are;
    # the rows in scope are not counted a second time for a total beside them.
    assert len(filtered) == len(plain), filtered


def _listed_events(client, params):
    response = client.get(reverse("admin:portal_auditevent_changelist"), params)
    return {row.pk for row in response.context["cl"].result_list}


def test_audit_events_are_filtered_by_what_they_are_about_and_by_role(client, demo):
    region = Region.objects.get(code="210100")
    filing = Filing.objects.filter(insured_region=region).first()
    reviewer = demo["agency_shenyang"]
    approve = audit.record(action="filing.approve", actor=reviewer, obj=filing, region=region)
    sign = audit.record(action="referral.sign_director", obj=filing, region=region)
    suspend = audit.record(action="hospital.suspend", region=region)
    invite = audit.record(action="hospital_staff.invite", region=region)
    system = AuditEvent.objects.create(action="filing.expire", actor_role="system", region=region)
    staff_login(client, "agency_shenyang")
    about_filings = _listed_events(client, {"about": "filing"})
    assert {approve.pk, system.pk} <= about_filings
    assert not {sign.pk, suspend.pk, invite.pk} & about_filings
    # "hospital" is the hospital's own events, not its staff's.
    assert _listed_events(client, {"about": "hospital"}) == {suspend.pk}
    assert _listed_events(client, {"about": "hospital_staff"}) == {invite.pk}
    by_system = _listed_events(client, {"role": "system"})
    assert system.pk in by_system and approve.pk not in by_system
    assert approve.pk in _listed_events(client, {"role": "agency"})
    page = client.get(reverse("admin:portal_auditevent_changelist")).content.decode()
    assert "转诊签字" in page or "referral signatures" in page  # the choices are offered by name


def test_the_access_log_purpose_filter_takes_every_channel_of_a_purpose(client, demo):
    shenyang = Region.objects.get(code="210100")
    web = access_log_record(
        subject_hash="a" * 64,
        subject_region_id=shenyang.pk,
        purpose="eligibility:web",
        outcome="found",
    )
    api = access_log_record(
        subject_hash="b" * 64,
        subject_region_id=shenyang.pk,
        purpose="eligibility:api",
        outcome="found",
    )
    bill = access_log_record(
        subject_hash="c" * 64, subject_region_id=shenyang.pk, purpose="settlement", outcome="found"
    )
    staff_login(client, "agency_shenyang")
    url = reverse("admin:hospitals_accesslog_changelist")
    listed = {r.pk for r in client.get(url, {"purpose": "eligibility"}).context["cl"].result_list}
    assert {web.pk, api.pk} <= listed and bill.pk not in listed
    listed = {r.pk for r in client.get(url, {"purpose": "settlement"}).context["cl"].result_list}
    assert bill.pk in listed and not {web.pk, api.pk} & listed


def test_notifications_are_listed_newest_first(client, demo, django_user_model):
    user = django_user_model.objects.get(username="chenming")
    first = notify(user=user, notice="first")
    second = notify(user=user, notice="second")
    staff_login(client, "admin")
    response = client.get(reverse("admin:portal_notification_changelist"))
    rows = [n.pk for n in response.context["cl"].result_list]
    assert rows.index(second.pk) < rows.index(first.pk)
    assert rows == sorted(Notification.objects.values_list("pk", flat=True), reverse=True)[:100]


def test_settlements_are_filtered_by_policy_year_without_reading_the_years(client, demo):
    from hospitals.models import Hospital
    from portal.models import InsuredPerson
    from settlement.models import Settlement

    this_year = timezone.localdate().year
    person = InsuredPerson.objects.filter(region__code="210100").first()
    day = timezone.localdate()
    settled = [
        Settlement.objects.create(
            number=f"JSYEAR{year}",
            hospital=Hospital.objects.first(),
            person=person,
            insured_region=person.region,
            request_hash="x",
            category="long_term",
            policy_year=year,
            care_type="inpatient",
            admitted_on=day,
            discharged_on=day,
            total=100,
            fund_pay=70,
            person_pay=30,
            status=Settlement.Status.SETTLED,
        )
        for year in (this_year, this_year - 1)
    ]
    staff_login(client, "agency_shenyang")
    url = reverse("admin:settlement_settlement_changelist")
    response, sql = _queries(client, url, {"policy_year": str(this_year - 1)})
    listed = {s.pk for s in response.context["cl"].result_list}
    assert settled[1].pk in listed and settled[0].pk not in listed
    # This year and the four before it are offered, none read from the rows.
    page = response.content.decode()
    assert all(f"policy_year={y}" in page for y in range(this_year - 4, this_year + 1))
    assert not [q for q in sql if "DISTINCT" in q.upper()]


def test_a_whole_filing_number_is_found_exactly_and_a_part_by_search(client, demo):
    filing = Filing.objects.filter(insured_region__code="210100").order_by("pk").first()
    staff_login(client, "agency_shenyang")
    url = reverse("admin:filings_filing_changelist")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"q": f" {filing.number.lower()} "})
    assert [f.pk for f in response.context["cl"].result_list] == [filing.pk]
    # Found by equality on the number (its unique index), not by LIKE over every number.
    assert not [q for q in captured.captured_queries if "LIKE" in q["sql"].upper()]
    part = client.get(url, {"q": filing.number[:-2]})
    assert filing.pk in {f.pk for f in part.context["cl"].result_list}
    # Another region's whole number finds nothing.
    other = Filing.objects.filter(insured_region__code="232700").first()
    assert not client.get(url, {"q": other.number}).context["cl"].result_list


LOGS = [
    "admin:portal_auditevent_changelist",
    "admin:portal_notification_changelist",
    "admin:hospitals_accesslog_changelist",
]


def _in_scope(name, django_user_model):
    """The rows the superuser sees in a log's list, after three more are written to it."""
    from django.contrib import admin

    from hospitals.models import AccessLog

    region = Region.objects.get(code="210100")
    user = django_user_model.objects.get(username="chenming")
    for n in range(3):
        audit.record(action="filing.submit", actor=user, region=region)
        notify(user=user, notice=f"note {n}")
        access_log_record(
            subject_hash=f"{n}" * 64,
            subject_region_id=region.pk,
            purpose="settlement",
            outcome="found",
        )
    model = {
        "admin:portal_auditevent_changelist": AuditEvent,
        "admin:portal_notification_changelist": Notification,
        "admin:hospitals_accesslog_changelist": AccessLog,
    }[name]
    assert admin.site.get_model_admin(model).paginator is CappedCountPaginator
    return model.objects.count()


@pytest.mark.parametrize("name", LOGS)
def test_a_log_counts_up_to_its_cap_and_says_more(
    client, demo, name, monkeypatch, django_user_model
):
    staff_login(client, "admin")
    rows = _in_scope(name, django_user_model)
    monkeypatch.setattr(CappedCountPaginator, "cap", rows - 1)
    response, sql = _queries(client, reverse(name))
    cl = response.context["cl"]
    assert cl.result_count == rows - 1 and cl.paginator.capped
    # One count, and it stops: it reads at most cap + 1 rows, not every row that matches.
    table = cl.model._meta.db_table
    counts = [s for s in sql if "COUNT(" in s.upper() and f'FROM "{table}"' in s]
    # (the header's badge counts the signed-in user's own unread notifications)
    unbounded = [s for s in counts if "LIMIT" not in s and '"read_at" IS NULL' not in s]
    assert not unbounded and [s for s in counts if f"LIMIT {rows}" in s], counts
    page = response.content.decode()
    assert f"{rows - 1:,} 条，仅列出前 {rows - 1:,} 条" in page, page[-3000:]
    # The last page lists the last counted rows: the cap is a window, not an error.
    last = client.get(reverse(name), {"p": cl.paginator.num_pages})
    assert last.status_code == 200 and last.context["cl"].page_num == cl.paginator.num_pages

    client.cookies["django_language"] = "en"
    page = client.get(reverse(name), {"q": ""}).content.decode()
    assert f"More than {rows - 1:,} " in page


@pytest.mark.parametrize("name", LOGS)
def test_a_log_under_its_cap_is_counted_exactly(client, demo, name, monkeypatch, django_user_model):
    staff_login(client, "admin")
    rows = _in_scope(name, django_user_model)
    monkeypatch.setattr(CappedCountPaginator, "cap", rows)
    cl = client.get(reverse(name)).context["cl"]
    assert cl.result_count == rows and not cl.paginator.capped
    assert "超过" not in client.get(reverse(name)).content.decode()


def test_a_search_of_a_long_log_says_more_than_the_cap(client, demo, monkeypatch):
    staff_login(client, "admin")
    monkeypatch.setattr(CappedCountPaginator, "cap", 2)
    matching = AuditEvent.objects.filter(action__icontains="filing").count()
    assert matching > 2
    page = client.get(reverse("admin:portal_auditevent_changelist"), {"q": "filing"}, follow=True)
    assert "超过 2 条结果" in page.content.decode()


def test_a_list_with_actions_is_counted_exactly(client, demo, monkeypatch):
    """ "Select all N filings" applies an action to every filing that matches: N is exact."""
    staff_login(client, "admin")
    monkeypatch.setattr(CappedCountPaginator, "cap", 1)
    cl = client.get(reverse("admin:filings_filing_changelist")).context["cl"]
    assert cl.result_count == Filing.objects.count() > 1


def test_the_audit_log_words_its_actions_and_roles(client, demo):
    """Not "filing.approve" and "agency": what was done and by whom, in the reader's language."""
    region = Region.objects.get(code="210100")
    filing = Filing.objects.filter(insured_region=region).first()
    audit.record(action="filing.approve", actor=demo["agency_shenyang"], obj=filing, region=region)
    audit.record(action="clearing.discrepancy.reported", obj=filing, region=region)
    staff_login(client, "agency_shenyang")
    url = reverse("admin:portal_auditevent_changelist")
    page = client.get(url).content.decode()
    assert "备案：批准" in page and "清算单：报告差异" in page
    assert "经办机构工作人员" in page
    assert ">filing.approve<" not in page
    client.cookies["django_language"] = "en"
    page = client.get(url).content.decode()
    assert "filings: approved" in page and "agency staff" in page


def test_a_notifications_page_shows_the_message_in_words_not_its_parameters(
    client, demo, django_user_model
):
    user = django_user_model.objects.get(username="chenming")
    note = notify(
        user=user,
        notice="claim_status",
        params={"n": "BX0001", "claim_status": "returned", "text": "补充发票"},
        url="/settlement/claims/BX0001/",
    )
    staff_login(client, "admin")
    page = client.get(reverse("admin:portal_notification_change", args=[note.pk])).content
    page = page.decode()
    subject, body = note.shown
    assert subject in page and "BX0001" in page and "补充发票" in page
    assert "claim_status" not in page and "&quot;returned&quot;" not in page


def test_an_audit_events_page_is_titled_with_the_worded_action(client, demo):
    """Its title and breadcrumbs said "filing.approve"; its fields showed the recorded codes."""
    from django.urls import reverse
    from django.utils import translation

    from portal.models import AuditEvent
    from tests.signin import staff_login

    event = AuditEvent.objects.filter(action="filing.approve").first()
    with translation.override("zh-hans"):
        assert "备案：批准" in str(event) and "filing.approve" not in str(event)
    staff_login(client, "admin")
    page = client.get(reverse("admin:portal_auditevent_change", args=[event.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "备案：批准" in html
    assert "filing.approve" not in html and "filings.filing" not in html
