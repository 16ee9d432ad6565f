"""Clearing (domain.md §3.5): bills approved after their month was cleared go on the next
statement, an unfinished month is not cleared, a settlement is on one current statement only,
and a correction corrects what changed, not what was merely reported."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Count

from portal.models import AuditEvent
from settlement import clearing
from settlement.clearing import ClearingError
from settlement.clearing_views import render_pdf
from settlement.models import ClearingLine, ClearingStatement, Settlement
from tests.settlement.test_clearing import (  # noqa: F401  (demo is a fixture)
    NEXT,
    PERIOD,
    SMALL,
    _agency_staff,
    _pdf_text,
    build,
    demo,
    statement_of,
)

pytestmark = pytest.mark.django_db

DECEMBER = datetime.datetime(2026, 12, 5, 2, 30, tzinfo=clearing.SHANGHAI)
PAIR = ("230100", "232700")  # Harbin treats Daxinganling


def _pair(s: Settlement) -> tuple[str, str]:
    return (s.hospital.region.code, s.insured_region.code)


def _on_current(settlement_id: int) -> list[str]:
    return list(
        ClearingLine.objects.filter(settlement_id=settlement_id)
        .exclude(statement__status="superseded")
        .values_list("statement__number", flat=True)
    )


def _never_twice() -> None:
    twice = (
        ClearingLine.objects.exclude(statement__status="superseded")
        .values("settlement_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not twice.exists()


@pytest.fixture
def october(demo):  # noqa: F811
    """October cleared while some of its bills were still held on review."""
    rows = build(SMALL, noise=60)
    with time_machine.travel(DECEMBER, tick=False):
        clearing.generate_statements(period=PERIOD)
    return rows


@time_machine.travel(DECEMBER, tick=False)
def test_rule_3_5_bills_approved_after_their_month_was_cleared_go_on_the_next_statement(october):
    held = [s for s in october if s.status == "held_for_review"]
    assert held and all(PERIOD <= s.discharged_on < NEXT for s in held)
    # Approved on review after October's statements were issued.
    Settlement.objects.filter(pk__in=[s.pk for s in held]).update(status="settled")
    assert clearing.generate_statements(period=PERIOD) == []  # the pairs have a statement

    november = clearing.generate_statements(period=NEXT)

    late_pairs = {_pair(s) for s in held}
    assert {(st.treatment_region.code, st.insured_region.code) for st in november} >= late_pairs
    for s in held:
        numbers = _on_current(s.pk)
        assert len(numbers) == 1 and numbers[0].startswith("QS202611-"), (s.number, numbers)
    # Settled bills of September, a month never cleared (before clearing began), stay off.
    september = [s for s in october if s.status == "settled" and s.discharged_on < PERIOD]
    assert (
        september
        and not ClearingLine.objects.filter(settlement__in=[s.pk for s in september]).exists()
    )
    for statement in november:
        pair = (statement.treatment_region.code, statement.insured_region.code)
        want = [
            s
            for s in october
            if _pair(s) == pair
            and (s in held or (s.status == "settled" and NEXT <= s.discharged_on))
        ]
        assert statement.settlement_count == len(want)
        assert statement.fund_pay == sum((s.fund_pay for s in want), Decimal(0))
        late = sum(row["late"] for row in clearing.hospital_subtotals(statement))
        assert late == sum(1 for s in want if s in held)
    assert clearing.generate_statements(period=NEXT) == []
    _never_twice()

    # The PDF says how many lines are late approvals of earlier months.
    statement = next(
        st for st in november if (st.treatment_region.code, st.insured_region.code) == PAIR
    )
    text = "".join(_pdf_text(render_pdf(statement, lang="zh-hans")).split())
    assert "其中往月补列" in text


def test_rule_3_5_a_month_that_has_not_ended_is_not_cleared(demo):  # noqa: F811
    build(SMALL, noise=12)
    with time_machine.travel(datetime.datetime(2026, 10, 31, 23, 0, tzinfo=clearing.SHANGHAI)):
        with pytest.raises(ClearingError) as refused:
            clearing.generate_statements(period=PERIOD)
        assert refused.value.code == "month_not_ended"
        assert "2026-10" in refused.value.message
    assert not ClearingStatement.objects.exists()
    # From the first of the next month, Shanghai time.
    with time_machine.travel(datetime.datetime(2026, 11, 1, 0, 5, tzinfo=clearing.SHANGHAI)):
        assert len(clearing.generate_statements(period=PERIOD)) == len(SMALL)


@time_machine.travel(DECEMBER, tick=False)
def test_rule_3_5_a_settlement_is_on_one_current_statement_through_corrections(october, demo):  # noqa: F811
    held = next(s for s in october if s.status == "held_for_review" and _pair(s) == PAIR)
    Settlement.objects.filter(pk=held.pk).update(status="settled")
    [nov] = [
        st
        for st in clearing.generate_statements(period=NEXT)
        if (st.treatment_region.code, st.insured_region.code) == PAIR
    ]
    assert _on_current(held.pk) == [nov.number]

    # Correcting October (for a confirmed remark) does not take it back from November.
    remark = clearing.discrepancy_report(
        statement=statement_of(*PAIR),
        kind="other",
        description="医院名称有误",
        actor=demo["agency_dxal"],
    )
    clearing.discrepancy_set_status(
        discrepancy=remark, status="confirmed", actor=_agency_staff("230100")
    )
    oct_v2 = clearing.statement_correct(
        statement=statement_of(*PAIR), actor=demo["agency_dxal"], reason="更正医院名称"
    )
    assert not ClearingLine.objects.filter(statement=oct_v2, settlement=held).exists()
    remark.refresh_from_db()
    assert remark.status == "corrected"
    assert _on_current(held.pk) == [nov.number]
    _never_twice()


def _report(statement, *, kind, settlement, actor):
    return clearing.discrepancy_report(
        statement=statement,
        kind=kind,
        settlement_number=settlement.number,
        amount=settlement.fund_pay,
        description="金额或漏列",
        actor=actor,
    )


@time_machine.travel(DECEMBER, tick=False)
def test_rule_3_5_a_correction_that_changes_nothing_is_refused(october, demo):  # noqa: F811
    statement = statement_of(*PAIR)
    harbin = _agency_staff("230100")
    with pytest.raises(ClearingError) as refused:
        clearing.statement_correct(statement=statement, actor=harbin, reason="无差异")
    assert refused.value.code == "nothing_to_correct"

    line = ClearingLine.objects.filter(statement=statement).select_related("settlement").first()
    amount = _report(
        statement, kind="amount", settlement=line.settlement, actor=demo["agency_dxal"]
    )
    clearing.discrepancy_set_status(discrepancy=amount, status="confirmed", actor=harbin)
    with pytest.raises(ClearingError) as refused:
        clearing.statement_correct(statement=statement, actor=demo["agency_dxal"], reason="更正")
    assert refused.value.code == "nothing_to_correct"
    assert statement.number in refused.value.message
    statement.refresh_from_db()
    amount.refresh_from_db()
    assert statement.status == "issued" and amount.status == "confirmed"
    assert ClearingStatement.objects.filter(period=PERIOD, version=2).count() == 0
    assert not AuditEvent.objects.filter(action="clearing.supersede").exists()


@time_machine.travel(DECEMBER, tick=False)
def test_rule_3_5_a_correction_closes_only_the_discrepancies_whose_lines_changed(october, demo):  # noqa: F811
    statement = statement_of(*PAIR)
    harbin = _agency_staff("230100")
    line = ClearingLine.objects.filter(statement=statement).select_related("settlement").first()
    amount = _report(
        statement, kind="amount", settlement=line.settlement, actor=demo["agency_dxal"]
    )
    clearing.discrepancy_set_status(discrepancy=amount, status="confirmed", actor=harbin)
    held = next(s for s in october if s.status == "held_for_review" and _pair(s) == PAIR)
    missing = _report(statement, kind="missing", settlement=held, actor=demo["agency_dxal"])
    Settlement.objects.filter(pk=held.pk).update(status="settled")  # approved since

    v2 = clearing.statement_correct(statement=statement, actor=harbin, reason="补列")

    amount.refresh_from_db()
    missing.refresh_from_db()
    assert missing.status == "corrected"  # its line is on v2 now
    assert amount.status == "confirmed"  # its line did not change: still to be corrected
    assert AuditEvent.objects.filter(
        action="clearing.discrepancy.not_corrected", object_id=str(amount.pk), reason=v2.number
    ).exists()
    assert list(clearing.pending_discrepancies(v2)) == [amount]

    # The centre corrects the amount at its source: the next version closes it.
    settlement = line.settlement
    Settlement.objects.filter(pk=settlement.pk).update(
        fund_pay=settlement.fund_pay - Decimal("1.00"),
        person_pay=settlement.person_pay + Decimal("1.00"),
    )
    v3 = clearing.statement_correct(statement=v2, actor=demo["agency_dxal"], reason="金额已更正")
    amount.refresh_from_db()
    assert amount.status == "corrected" and v3.version == 3
    assert v3.fund_pay == v2.fund_pay - Decimal("1.00")


@time_machine.travel(DECEMBER, tick=False)
def test_rule_3_5_the_reporter_cannot_dismiss_a_discrepancy_the_other_side_confirmed(
    october,
    demo,  # noqa: F811
):
    statement = statement_of(*PAIR)
    harbin = _agency_staff("230100")
    colleague = _agency_staff("232700")
    reported = clearing.discrepancy_report(
        statement=statement, kind="other", description="漏列一笔", actor=demo["agency_dxal"]
    )
    clearing.discrepancy_set_status(discrepancy=reported, status="confirmed", actor=harbin)
    for actor in (demo["agency_dxal"], colleague):
        with pytest.raises(ClearingError) as refused:
            clearing.discrepancy_set_status(discrepancy=reported, status="dismissed", actor=actor)
        assert refused.value.code == "confirmed_by_other"
    reported.refresh_from_db()
    assert reported.status == "confirmed"
    # The side that confirmed it may take that back.
    clearing.discrepancy_set_status(discrepancy=reported, status="dismissed", actor=harbin)
    reported.refresh_from_db()
    assert reported.status == "dismissed"


@time_machine.travel(DECEMBER, tick=False)
def test_rule_3_5_pdf_prints_amounts_with_thousands_separators(october):
    from portal.templatetags.portal_tags import yuan

    statement = statement_of(*PAIR)
    assert statement.total >= 1000
    text = "".join(_pdf_text(render_pdf(statement, lang="zh-hans")).split())
    for amount in (statement.total, statement.fund_pay, statement.person_pay):
        assert yuan(amount) in text and "," in yuan(amount)
    assert str(statement.total) not in text
    for row in clearing.hospital_subtotals(statement):
        assert yuan(row["fund_pay"]) in text


@pytest.mark.django_db(transaction=True)
def test_rule_3_5_two_months_cleared_at_once_never_list_a_late_approval_twice(demo):  # noqa: F811
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("races need PostgreSQL: runs with CI=true")
    rows = build(SMALL, noise=60)
    held = [s.pk for s in rows if s.status == "held_for_review"]
    with time_machine.travel(datetime.datetime(2027, 1, 5, 2, 30, tzinfo=clearing.SHANGHAI)):
        clearing.generate_statements(period=PERIOD)
        Settlement.objects.filter(pk__in=held).update(status="settled")
        barrier = threading.Barrier(2)
        errors = []

        def run(period):
            try:
                barrier.wait()
                clearing.generate_statements(period=period)
            except Exception as error:  # noqa: BLE001 - a server error is the failure
                errors.append(repr(error))
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=run, args=(month,))
            for month in (NEXT, datetime.date(2026, 12, 1))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    for pk in held:
        assert len(_on_current(pk)) == 1
    _never_twice()
