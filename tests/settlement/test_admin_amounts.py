"""Amounts in the admin read as on every other page: two decimals, thousands grouped
("150,345.58"), in the reviewer's queue and on a row's page; a policy's amounts are still edited
as typed."""

import re

import pytest
from django.urls import reverse

from settlement.models import BenefitPolicy
from tests.settling import settle_today
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


def test_the_held_queue_and_a_settlements_page_group_the_thousands(client, demo):
    held = settle_today("150345.58")  # above the review threshold: held
    staff_login(client, "agency_dxal")
    queue = client.get(
        reverse("admin:settlement_settlement_changelist"), {"status__exact": "held_for_review"}
    ).content.decode()
    assert "150,345.58" in queue
    assert "150345.58" not in queue
    page = client.get(reverse("admin:settlement_settlement_change", args=[held.pk]))
    text = page.content.decode()
    assert "150,345.58" in text and "150345.58" not in text
    # Read-only still: no field of the form carries the amount.
    assert not re.search(r'name="(total|fund_pay|person_pay)"', text)


def test_a_grouped_column_still_sorts_by_its_amount(client, demo):
    # A settlement's amount columns do not sort (SettlementAdmin.sortable_by: no index serves
    # them over a region's settlements); a grouped amount column that does sort, such as a
    # policy's deductible, sorts by the amount, not by its grouped text.
    settle_today("150345.58")
    staff_login(client, "agency_dxal")
    settlements = client.get(reverse("admin:settlement_settlement_changelist")).content.decode()
    assert "column-total_grouped" in settlements
    assert "sortable column-total_grouped" not in settlements
    url = reverse("admin:settlement_benefitpolicy_changelist")
    listing = client.get(url).content.decode()
    column = re.search(
        r'class="sortable column-deductible_grouped[^"]*">.*?href="\?o=([^"]+)"', listing, re.S
    )
    assert column, "the deductible column can be sorted"
    ascending = client.get(url, {"o": column.group(1)}).content.decode()
    assert ascending.index(">300.00<") < ascending.index(">1,200.00<")
    descending = client.get(url, {"o": "-" + column.group(1)}).content.decode()
    assert descending.index(">1,200.00<") < descending.index(">300.00<")


def test_a_policys_amounts_are_edited_as_typed_and_listed_grouped(client, demo):
    policy = BenefitPolicy.objects.filter(region__code="232700").order_by("pk").first()
    staff_login(client, "agency_dxal")
    form = client.get(reverse("admin:settlement_benefitpolicy_change", args=[policy.pk]))
    assert f'name="annual_cap" value="{policy.annual_cap}"' in form.content.decode()
    listing = client.get(reverse("admin:settlement_benefitpolicy_changelist")).content.decode()
    assert f"{policy.annual_cap:,.2f}" in listing
