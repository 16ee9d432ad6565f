"""The estimator uses the engine and the person's own region's policy."""

from decimal import Decimal

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_estimate_compares_the_categories_with_the_difference(client, demo):
    client.force_login(demo["chenming"])  # Shenyang employee
    response = client.get(
        reverse("settlement:estimate"),
        {"level": 3, "class_a": "10000", "class_b": "0", "class_c": "0"},
    )
    rows = {r["code"]: r for r in response.context["rows"]}
    assert rows["long_term"]["split"].fund_pay == Decimal("7650.00")  # 9000 × 85%
    assert rows["referral"]["split"].fund_pay == Decimal("6750.00")  # 9000 × 75%
    assert rows["temporary"]["split"].fund_pay == Decimal("5525.00")  # 8500 × 65%
    assert rows["unapproved_transfer"]["split"].fund_pay == Decimal("3375.00")
    assert rows["long_term"]["extra"] == 0
    assert rows["temporary"]["extra"] == Decimal("2125.00")
    assert 'data-category="temporary"' in response.content.decode()


def test_estimator_is_for_insured_persons(client, demo):
    client.force_login(demo["hosp_h23010300001"])
    assert client.get(reverse("settlement:estimate")).status_code == 404
