"""Clearing between regions (domain.md §3.5): monthly statements per pair of regions, locked once
issued, discrepancies as records, corrections that supersede; downloads and access.

Expected figures are computed here from the generated rows with Python Decimal sums, never
through the service.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import random
from collections import defaultdict
from decimal import Decimal

import pypdf
import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from hospitals.models import Hospital
from portal.models import AuditEvent, JobRun, Region
from portal.templatetags.portal_tags import yuan
from settlement import clearing, tasks
from settlement.clearing import ClearingError
from settlement.models import (
    ClearingDiscrepancy,
    ClearingLine,
    ClearingStatement,
    DiscrepancyStatus,
    Settlement,
)
from tests.portal.factories import InsuredPersonFactory, make_id_number
from tests.signin import staff_login

pytestmark = pytest.mark.django_db

PERIOD = datetime.date(2026, 10, 1)
NEXT = datetime.date(2026, 11, 1)
# (place of treatment, place of insurance): settled settlements discharged in PERIOD.
BIG = {
    ("230100", "232700"): 4000,  # Harbin treats Daxinganling
    ("460200", "232700"): 1500,  # Sanya treats Daxinganling
    ("210100", "210200"): 1500,  # Shenyang treats Dalian
    ("210200", "210100"): 1200,  # Dalian treats Shenyang
    ("230100", "210100"): 1000,  # Harbin treats Shenyang
    ("460200", "230100"): 800,  # Sanya treats Harbin: neither demo agency is a party
}
SMALL = {pair: 12 for pair in BIG}
_numbers = itertools.count(1)


def _step() -> Decimal:
    # SQLite keeps decimals as binary floats, where a CHECK like total = fund + person fails
    # for many cent amounts (0.1 + 0.2 != 0.3); quarter yuan add up exactly. PostgreSQL's
    # numeric is exact, so there the amounts are in cents.
    return Decimal("0.01") if connection.vendor == "postgresql" else Decimal("0.25")


def build(per_pair: dict, *, noise: int, seed: int = 35) -> list[Settlement]:
    """Settled settlements of PERIOD per pair, plus `noise` that no statement may list: held,
    rejected and returned ones, ones discharged the month before or after, local ones."""
    rng = random.Random(seed)
    step = _step()
    codes = sorted({code for pair in per_pair for code in pair})
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    hospitals = {code: list(Hospital.objects.filter(region__code=code)) for code in codes}
    # Born 1970-01-01 in Harbin: never one of the demo's ID numbers.
    persons = {
        code: InsuredPersonFactory(
            region=regions[code], id_number=make_id_number(area="230102", born="19700101")
        )
        for code in codes
    }

    def make(treatment: str, insured: str, discharged: datetime.date, status: str) -> Settlement:
        units = rng.randint(400, 400_000)
        total = units * step
        fund = rng.randint(0, units) * step
        return Settlement(
            number=f"JS{next(_numbers):012d}",
            hospital=rng.choice(hospitals[treatment]),
            person=persons[insured],
            insured_region=regions[insured],
            request_hash="test",
            category="referral",
            policy_year=discharged.year,
            care_type="inpatient",
            admitted_on=discharged - datetime.timedelta(days=rng.randint(0, 20)),
            discharged_on=discharged,
            total=total,
            fund_pay=fund,
            person_pay=total - fund,
            status=status,
        )

    def in_period() -> datetime.date:
        return PERIOD + datetime.timedelta(days=rng.randrange(31))

    rows = []
    for (treatment, insured), size in per_pair.items():
        rows += [make(treatment, insured, in_period(), "settled") for _ in range(size)]
        # The month's first and last day belong to it.
        rows[-1].discharged_on, rows[-2].discharged_on = PERIOD, NEXT - datetime.timedelta(1)
    pairs = sorted(per_pair)
    for k in range(noise):
        treatment, insured = pairs[(k // 6) % len(pairs)]
        kind = k % 6
        if kind == 0:
            rows.append(make(treatment, insured, in_period(), "held_for_review"))
        elif kind == 1:
            rows.append(make(treatment, insured, in_period(), "rejected"))
        elif kind == 2:
            rows.append(make(treatment, insured, in_period(), "returned"))
        elif kind == 3:
            day = PERIOD - datetime.timedelta(days=1 + rng.randrange(5))
            rows.append(make(treatment, insured, day, "settled"))
        elif kind == 4:
            rows.append(
                make(treatment, insured, NEXT + datetime.timedelta(rng.randrange(5)), "settled")
            )
        else:
            rows.append(make(insured, insured, in_period(), "settled"))  # local, not cleared
    Settlement.objects.bulk_create(rows, batch_size=2000)
    return rows


def expected() -> dict:
    """Per pair: ids, count, total, fund_pay, person_pay of every stored settlement that belongs
    on PERIOD's statements, summed with Decimal in Python."""
    out: dict = defaultdict(
        lambda: {
            "ids": set(),
            "count": 0,
            "total": Decimal(0),
            "fund": Decimal(0),
            "person": Decimal(0),
        }
    )
    for s in Settlement.objects.values(
        "id",
        "status",
        "discharged_on",
        "hospital__region__code",
        "insured_region__code",
        "total",
        "fund_pay",
        "person_pay",
    ):
        pair = (s["hospital__region__code"], s["insured_region__code"])
        if (
            s["status"] != "settled"
            or not (PERIOD <= s["discharged_on"] < NEXT)
            or pair[0] == pair[1]
        ):
            continue
        e = out[pair]
        e["ids"].add(s["id"])
        e["count"] += 1
        e["total"] += s["total"]
        e["fund"] += s["fund_pay"]
        e["person"] += s["person_pay"]
    return dict(out)


def statement_of(treatment: str, insured: str) -> ClearingStatement:
    return ClearingStatement.objects.get(
        period=PERIOD,
        treatment_region__code=treatment,
        insured_region__code=insured,
        status="issued",
    )


@pytest.fixture
def demo(db):
    """The demo's regions, agencies, staff (with TOTP), persons and hospitals: the parts of the
    seeded demo clearing needs, without its settlement history (so the test owns the month)."""
    from django.contrib.auth import get_user_model

    from hospitals import demo as hospitals_demo
    from portal import demo as portal_demo

    out = io.StringIO()
    portal_demo.seed(out)
    hospitals_demo.seed(out)
    return {u.username: u for u in get_user_model().objects.all()}


@pytest.fixture
def small(demo):
    rows = build(SMALL, noise=60)
    clearing.generate_statements(period=PERIOD)
    return rows


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def _csv(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith("\ufeff".encode())  # Excel reads UTF-8 with a BOM
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


# -- generation -----------------------------------------------------------------------------------


def test_rule_3_5_statement_totals_equal_the_sum_of_their_settlements_10000_across_6_pairs(demo):
    rows = build(BIG, noise=600)
    want = expected()
    assert sum(e["count"] for e in want.values()) >= 10_000 and len(want) >= 6

    created = clearing.generate_statements(period=PERIOD)

    assert {(s.treatment_region.code, s.insured_region.code) for s in created} == set(want)
    excluded = {s.pk for s in rows if s.status != "settled"}
    for statement in created:
        e = want[(statement.treatment_region.code, statement.insured_region.code)]
        statement.refresh_from_db()
        assert statement.status == "issued" and statement.issued_at is not None
        assert statement.version == 1 and statement.supersedes is None
        assert statement.number == (
            f"QS202610-{statement.treatment_region.code}-{statement.insured_region.code}-v1"
        )
        assert statement.settlement_count == e["count"]
        assert statement.total == e["total"]
        assert statement.fund_pay == e["fund"]
        assert statement.person_pay == e["person"]
        ids = set(
            ClearingLine.objects.filter(statement=statement).values_list("settlement_id", flat=True)
        )
        assert ids == e["ids"] and not ids & excluded
    assert ClearingLine.objects.count() == sum(e["count"] for e in want.values())

    # Rerunning the month (by hand or by the job) changes nothing.
    statements = list(ClearingStatement.objects.values_list("id", "number", "status", "total"))
    assert clearing.generate_statements(period=PERIOD + datetime.timedelta(days=9)) == []
    assert tasks.generate_clearing_statements("2026-10-01")["statements"] == 0
    assert (
        list(ClearingStatement.objects.values_list("id", "number", "status", "total")) == statements
    )
    assert ClearingLine.objects.count() == sum(e["count"] for e in want.values())


def test_rule_3_5_held_rejected_returned_local_and_other_months_are_not_cleared(small):
    cleared = set(ClearingLine.objects.values_list("settlement_id", flat=True))
    for s in small:
        listed = s.pk in cleared
        should = (
            s.status == "settled"
            and PERIOD <= s.discharged_on < NEXT
            and s.hospital.region_id != s.insured_region_id
        )
        assert listed == should, (s.number, s.status, s.discharged_on)
    assert not ClearingStatement.objects.filter(treatment_region=F("insured_region")).exists()


@time_machine.travel(datetime.datetime(2026, 11, 5, 2, 30, tzinfo=clearing.SHANGHAI), tick=False)
def test_rule_3_5_monthly_job_clears_last_month_and_records_a_job_run(demo):
    build(SMALL, noise=12)
    details = tasks.generate_clearing_statements()
    assert details["period"] == "2026-10-01" and details["statements"] == 6
    assert details["settlements"] == sum(SMALL.values())
    run = JobRun.objects.get(name="settlement.clearing")
    assert run.rows == 6 and run.finished_at is not None and not run.error
    assert tasks.generate_clearing_statements()["statements"] == 0


def test_rule_3_5_clearing_is_scheduled_monthly_and_the_other_schedules_stay(db):
    from django_celery_beat.models import PeriodicTask

    from portal.schedules import ensure

    ensure()  # idempotent
    job = PeriodicTask.objects.get(task="settlement.tasks.generate_clearing_statements")
    assert (job.crontab.minute, job.crontab.hour, job.crontab.day_of_month) == ("30", "2", "5")
    nightly = PeriodicTask.objects.get(task="filings.tasks.nightly")
    assert (nightly.crontab.minute, nightly.crontab.hour, nightly.crontab.day_of_month) == (
        "5",
        "1",
        "*",
    )
    assert (
        PeriodicTask.objects.filter(task="settlement.tasks.generate_clearing_statements").count()
        == 1
    )


# -- locked once issued --------------------------------------------------------------------------


def test_rule_3_5_issued_statement_cannot_change(small):
    statement = statement_of("230100", "232700")
    before = (statement.settlement_count, statement.total, statement.fund_pay, statement.person_pay)
    lines = list(ClearingLine.objects.filter(statement=statement).values_list("id", "total"))

    for service in (clearing.statement_fill, clearing.statement_issue):
        with pytest.raises(ClearingError) as refused:
            service(statement=statement)
        assert refused.value.code == "statement_locked"
        assert statement.number in refused.value.message

    if connection.vendor == "postgresql":
        # Whatever writes to the table: the trigger refuses it.
        line = ClearingLine.objects.filter(statement=statement).first()
        other = Settlement.objects.exclude(
            pk__in=ClearingLine.objects.values("settlement_id")
        ).first()
        for sql, params in [
            (
                "UPDATE settlement_clearingstatement SET total = total + 1, "
                "fund_pay = fund_pay + 1 WHERE id = %s",
                [statement.pk],
            ),
            (
                "UPDATE settlement_clearingstatement SET status = 'draft' WHERE id = %s",
                [statement.pk],
            ),
            ("DELETE FROM settlement_clearingstatement WHERE id = %s", [statement.pk]),
            (
                "UPDATE settlement_clearingline SET total = 0, fund_pay = 0, person_pay = 0 "
                "WHERE id = %s",
                [line.pk],
            ),
            ("DELETE FROM settlement_clearingline WHERE id = %s", [line.pk]),
            (
                "INSERT INTO settlement_clearingline (statement_id, settlement_id, total, "
                "fund_pay, person_pay) VALUES (%s, %s, 1, 1, 0)",
                [statement.pk, other.pk],
            ),
        ]:
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
                c.execute(sql, params)

    statement.refresh_from_db()
    assert (
        statement.settlement_count,
        statement.total,
        statement.fund_pay,
        statement.person_pay,
    ) == before
    assert (
        list(ClearingLine.objects.filter(statement=statement).values_list("id", "total")) == lines
    )


# -- corrections ---------------------------------------------------------------------------------


def test_rule_3_5_correction_supersedes_and_includes_a_settlement_approved_later(small, demo):
    old = statement_of("230100", "232700")
    held = next(
        s
        for s in small
        if s.status == "held_for_review"
        and (s.hospital.region.code, s.insured_region.code) == ("230100", "232700")
    )
    # Approved on review after the statement was issued (the review service's end state).
    Settlement.objects.filter(pk=held.pk).update(status="settled")
    missing = clearing.discrepancy_report(
        statement=old,
        kind="missing",
        settlement_number=held.number,
        amount=held.fund_pay,
        description="复核通过的结算未列入",
        actor=demo["agency_dxal"],
    )
    dismissed = clearing.discrepancy_report(
        statement=old, kind="other", description="重复报告", actor=demo["agency_dxal"]
    )
    clearing.discrepancy_set_status(
        discrepancy=dismissed, status="dismissed", actor=demo["agency_dxal"]
    )

    new = clearing.statement_correct(
        statement=old, actor=demo["agency_dxal"], reason="补列复核通过的结算"
    )

    old.refresh_from_db()
    assert old.status == "superseded" and old.superseded_by == new
    assert new.supersedes == old and new.status == "issued" and new.version == 2
    assert new.number == "QS202610-230100-232700-v2"
    assert new.settlement_count == old.settlement_count + 1
    assert new.total == old.total + held.total
    assert new.fund_pay == old.fund_pay + held.fund_pay
    assert ClearingLine.objects.filter(statement=new, settlement=held).exists()
    assert not ClearingLine.objects.filter(statement=old, settlement=held).exists()
    missing.refresh_from_db()
    dismissed.refresh_from_db()
    assert missing.status == "corrected" and dismissed.status == "dismissed"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"clearing.supersede", "clearing.issue", "clearing.discrepancy.corrected"} <= actions

    with pytest.raises(ClearingError) as refused:
        clearing.statement_correct(statement=old, actor=demo["agency_dxal"], reason="again")
    assert refused.value.code == "statement_not_current"
    with pytest.raises(ClearingError) as refused:
        clearing.statement_correct(statement=new, actor=demo["agency_shenyang"], reason="x")
    assert refused.value.code == "not_a_party"
    assert clearing.generate_statements(period=PERIOD) == []


# -- discrepancies -------------------------------------------------------------------------------


def test_rule_3_5_discrepancy_is_reported_without_changing_any_settled_amount(small, demo):
    statement = statement_of("230100", "232700")
    line = ClearingLine.objects.filter(statement=statement).select_related("settlement").first()
    snapshot = (
        list(ClearingStatement.objects.values_list("id", "status", "total", "fund_pay")),
        list(ClearingLine.objects.values_list("id", "total", "fund_pay", "person_pay")),
        list(Settlement.objects.values_list("id", "status", "total", "fund_pay", "person_pay")),
    )

    discrepancy = clearing.discrepancy_report(
        statement=statement,
        kind="amount",
        settlement_number=line.settlement.number,
        amount="123.456",
        description="基金支付金额与本地结算不一致",
        actor=demo["agency_dxal"],
    )

    assert discrepancy.status == "open" and discrepancy.amount == Decimal("123.46")
    assert discrepancy.reported_by == demo["agency_dxal"]
    assert snapshot == (
        list(ClearingStatement.objects.values_list("id", "status", "total", "fund_pay")),
        list(ClearingLine.objects.values_list("id", "total", "fund_pay", "person_pay")),
        list(Settlement.objects.values_list("id", "status", "total", "fund_pay", "person_pay")),
    )
    assert (
        AuditEvent.objects.filter(
            action="clearing.discrepancy.report", object_id=str(discrepancy.pk)
        ).count()
        == 2
    )  # one for each region

    for kwargs, code in [
        (
            {"kind": "missing", "settlement_number": line.settlement.number},
            "settlement_on_statement",
        ),
        ({"kind": "duplicate", "settlement_number": "JS-NOT-THERE"}, "settlement_not_on_statement"),
        ({"kind": "nonsense"}, "bad_kind"),
        ({"kind": "other", "description": " "}, "description_required"),
    ]:
        with pytest.raises(ClearingError) as refused:
            clearing.discrepancy_report(
                statement=statement, actor=demo["agency_dxal"], **{"description": "x", **kwargs}
            )
        assert refused.value.code == code
    with pytest.raises(ClearingError) as refused:
        clearing.discrepancy_report(
            statement=statement, kind="other", description="x", actor=demo["agency_shenyang"]
        )
    assert refused.value.code == "not_a_party"

    harbin = _agency_staff("230100")  # the other party: the statement's place of treatment
    clearing.discrepancy_set_status(discrepancy=discrepancy, status="confirmed", actor=harbin)
    for target in ("open", "corrected"):
        with pytest.raises(ClearingError) as refused:
            clearing.discrepancy_set_status(discrepancy=discrepancy, status=target, actor=harbin)
        assert refused.value.code == "transition_not_allowed"
    discrepancy.refresh_from_db()
    assert discrepancy.status == "confirmed"


def _agency_staff(region_code: str):
    """A reviewer of the agency of `region_code` (the demo has staff for two regions only)."""
    from django.contrib.auth import get_user_model

    from portal.models import Agency, AgencyStaff

    user = get_user_model().objects.create_user(f"agency_{region_code}", password="pw-12345678")
    AgencyStaff.objects.create(user=user, agency=Agency.objects.get(region__code=region_code))
    return user


def test_rule_3_5_a_discrepancy_is_confirmed_by_the_other_party_not_by_its_reporter(small, demo):
    statement = statement_of("230100", "232700")  # Harbin treated, Daxinganling insured
    harbin = _agency_staff("230100")
    colleague = _agency_staff("232700")  # another reviewer of the reporting region
    reported = clearing.discrepancy_report(
        statement=statement, kind="other", description="漏列一笔", actor=demo["agency_dxal"]
    )

    for actor in (demo["agency_dxal"], colleague):
        with pytest.raises(ClearingError) as refused:
            clearing.discrepancy_set_status(discrepancy=reported, status="confirmed", actor=actor)
        assert refused.value.code == "own_report"
    reported.refresh_from_db()
    assert reported.status == "open"
    assert not AuditEvent.objects.filter(action="clearing.discrepancy.confirmed").exists()

    clearing.discrepancy_set_status(discrepancy=reported, status="confirmed", actor=harbin)
    reported.refresh_from_db()
    assert reported.status == "confirmed"
    # The reporter may still withdraw a report of its own; so may a superuser confirm one.
    withdrawn = clearing.discrepancy_report(
        statement=statement, kind="other", description="报错了", actor=demo["agency_dxal"]
    )
    clearing.discrepancy_set_status(
        discrepancy=withdrawn, status="dismissed", actor=demo["agency_dxal"]
    )
    by_admin = clearing.discrepancy_report(
        statement=statement, kind="other", description="再核", actor=demo["agency_dxal"]
    )
    clearing.discrepancy_set_status(discrepancy=by_admin, status="confirmed", actor=demo["admin"])
    # A superuser's own report is confirmed by the other side too.
    own = clearing.discrepancy_report(
        statement=statement, kind="other", description="自报", actor=demo["admin"]
    )
    with pytest.raises(ClearingError) as refused:
        clearing.discrepancy_set_status(discrepancy=own, status="confirmed", actor=demo["admin"])
    assert refused.value.code == "own_report"
    withdrawn.refresh_from_db()
    by_admin.refresh_from_db()
    assert (withdrawn.status, by_admin.status) == ("dismissed", "confirmed")


# -- downloads and access ------------------------------------------------------------------------


def test_rule_3_5_csv_carries_the_statement_totals_and_lines_that_add_up_to_them(
    client, small, demo
):
    statement = statement_of("230100", "232700")
    staff_login(client, "agency_dxal")
    rows = _csv(client.get(reverse("settlement:statement-csv", args=[statement.number])))

    header = {row[0]: row[1] for row in rows[:12] if len(row) == 2}
    assert statement.number in rows[0]
    assert Decimal(header[rows[9][0]]) == statement.total
    assert Decimal(header[rows[10][0]]) == statement.fund_pay
    assert Decimal(header[rows[11][0]]) == statement.person_pay
    assert int(header[rows[8][0]]) == statement.settlement_count
    lines = rows[14:]
    assert len(lines) == statement.settlement_count
    assert sum(Decimal(r[3]) for r in lines) == statement.total
    assert sum(Decimal(r[4]) for r in lines) == statement.fund_pay
    assert sum(Decimal(r[5]) for r in lines) == statement.person_pay
    numbers = set(
        ClearingLine.objects.filter(statement=statement).values_list(
            "settlement__number", flat=True
        )
    )
    assert {r[0] for r in lines} == numbers
    codes = set(Hospital.objects.filter(region__code="230100").values_list("code", flat=True))
    assert {r[1] for r in lines} <= codes


def test_rule_3_5_pdf_shows_number_totals_discrepancies_and_the_supersession(client, small, demo):
    old = statement_of("210100", "210200")
    reported = clearing.discrepancy_report(
        statement=old, kind="other", description="核对医院名称", actor=demo["agency_shenyang"]
    )
    # Confirmed by the other party (Dalian): a correction needs one, or a changed line.
    clearing.discrepancy_set_status(
        discrepancy=reported, status="confirmed", actor=_agency_staff("210200")
    )
    new = clearing.statement_correct(statement=old, actor=demo["agency_shenyang"], reason="更正")
    old.refresh_from_db()
    staff_login(client, "agency_shenyang")

    response = client.get(reverse("settlement:statement-pdf", args=[old.number]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(_pdf_text(response.content).split())  # table cells wrap their text
    title = pypdf.PdfReader(io.BytesIO(response.content)).metadata.title
    assert title == f"异地就医直接结算清算单 {old.number}"
    for value in (old.number, yuan(old.total), yuan(old.fund_pay), yuan(old.person_pay)):
        assert value in text
    assert new.number in text  # superseded by
    assert "核对医院名称" in text
    with translation.override("zh-hans"):
        assert "".join(str(DiscrepancyStatus.CORRECTED.label).split()) in text
    # The new version names the one it supersedes, with a link to its PDF.
    html = render_to_string(
        "pdf/clearing_statement.html",
        {"statement": new, "supersedes": old, "supersedes_url": "https://portal/x.pdf"},
    )
    assert old.number in html and 'href="https://portal/x.pdf"' in html


def test_rule_3_5_other_regions_agency_and_others_get_404(client, small, demo):
    sanya_harbin = statement_of("460200", "230100")
    urls = [
        reverse("settlement:statement-csv", args=[sanya_harbin.number]),
        reverse("settlement:statement-pdf", args=[sanya_harbin.number]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404  # anonymous
    # Each user signs in once (a TOTP code is accepted once).
    for username in ("agency_dxal", "agency_shenyang", "wangxiulan"):
        staff_login(client, username)
        for url in urls:
            assert client.get(url).status_code == 404, (username, url)
        if username == "agency_shenyang":
            # A party sees it: Shenyang as place of treatment and as place of insurance.
            for pair in [("210100", "210200"), ("210200", "210100"), ("230100", "210100")]:
                url = reverse("settlement:statement-csv", args=[statement_of(*pair).number])
                assert client.get(url).status_code == 200, pair
    staff_login(client, "admin")
    assert client.get(urls[0]).status_code == 200


def test_rule_3_5_admin_shows_own_statements_and_acts_through_the_services(client, small):
    staff_login(client, "agency_shenyang")
    own = statement_of("210200", "210100")
    other = statement_of("460200", "230100")
    listing = client.get(reverse("admin:settlement_clearingstatement_changelist")).content.decode()
    assert own.number in listing and statement_of("210100", "210200").number in listing
    assert other.number not in listing and statement_of("230100", "232700").number not in listing
    change = client.get(reverse("admin:settlement_clearingstatement_change", args=[own.pk]))
    assert change.status_code == 200
    assert reverse("settlement:statement-pdf", args=[own.number]) in change.content.decode()
    for name in ("change", "report", "correct"):
        url = reverse(f"admin:settlement_clearingstatement_{name}", args=[other.pk])
        assert client.get(url).status_code == 404, name
    filtered = client.get(
        reverse("admin:settlement_clearingstatement_changelist"), {"period": "2026-10-01"}
    )
    assert own.number in filtered.content.decode()

    report = reverse("admin:settlement_clearingstatement_report", args=[own.pk])
    client.post(
        report,
        {
            "apply": "1",
            "kind": "amount",
            "settlement_number": "",
            "amount": "10.00",
            "description": "金额有误",
        },
    )
    discrepancy = ClearingDiscrepancy.objects.get(statement=own)
    assert discrepancy.status == "open" and discrepancy.amount == Decimal("10.00")
    confirm = {"action": "confirm", "_selected_action": [discrepancy.pk]}
    refused = client.post(
        reverse("admin:settlement_clearingdiscrepancy_changelist"), confirm, follow=True
    )
    assert "other region's agency" in refused.content.decode() or "对方地区" in (
        refused.content.decode()
    )
    discrepancy.refresh_from_db()
    assert discrepancy.status == "open"  # Shenyang reported it: Dalian confirms it
    theirs = clearing.discrepancy_report(
        statement=own, kind="other", description="多列一笔", actor=_agency_staff("210200")
    )
    client.post(
        reverse("admin:settlement_clearingdiscrepancy_changelist"),
        {"action": "confirm", "_selected_action": [theirs.pk]},
    )
    theirs.refresh_from_db()
    assert theirs.status == "confirmed"

    correct = reverse("admin:settlement_clearingstatement_correct", args=[own.pk])
    assert client.post(correct, {"apply": "1", "reason": ""}).status_code == 200  # reason needed
    done = client.post(correct, {"apply": "1", "reason": "按差异更正"}, follow=True)
    # The reviewer is told what the correction left pending (Shenyang's own open report).
    assert "有 1 项差异未因本次更正而改变，仍待处理。" in done.content.decode()
    own.refresh_from_db()
    assert own.status == "superseded" and own.superseded_by.version == 2
    discrepancy.refresh_from_db()
    theirs.refresh_from_db()
    # Dalian's confirmed remark is closed by the correction; Shenyang's own amount report,
    # never confirmed and with no line changed, stays open.
    assert (discrepancy.status, theirs.status) == ("open", "corrected")
    # Read-only: no add, no delete, no edit of an issued statement.
    assert client.get(reverse("admin:settlement_clearingstatement_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:settlement_clearingstatement_delete", args=[own.superseded_by.pk])
        ).status_code
        == 403
    )


def test_a_database_migrated_before_the_clearing_schedule_gets_it_and_edits_stay(db):
    from importlib import import_module

    from django.apps import apps
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder
    from django_celery_beat.models import PeriodicTask

    name = "0006_clearing_schedule"
    assert MigrationRecorder(connection).migration_qs.filter(app="settlement", name=name).exists()
    # A database whose schedules were written before the clearing job existed, with the
    # nightly job moved by an administrator.
    PeriodicTask.objects.filter(task="settlement.tasks.generate_clearing_statements").delete()
    PeriodicTask.objects.filter(task="filings.tasks.nightly").update(enabled=False)
    import_module(f"settlement.migrations.{name}").forwards(apps, None)
    assert PeriodicTask.objects.filter(
        task="settlement.tasks.generate_clearing_statements", enabled=True
    ).exists()
    assert not PeriodicTask.objects.get(task="filings.tasks.nightly").enabled
