"""A month of discharge typed on a hospital's settlement list whose end is past the last date
there is (9999-12, which a browser's month box takes) is a bad month like any other: the list
says so and the CSV holds the current month, never a server error."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.settlement.test_hospital_csv_bounded import _csv
from tests.settlement.test_hospital_settlements import H1, _clerk, _numbers, _settle

pytestmark = pytest.mark.django_db


def test_the_list_says_the_last_month_there_is_is_no_month_to_filter_by(client, demo):
    made = _settle(H1)
    clerk = _clerk(client, demo)

    page = clerk.get(reverse("hospital-settlements"), {"month": "9999-12"})

    assert page.status_code == 200
    assert page.context["month_error"] and page.context["month"] == ""
    assert _numbers(page) == [made.number]  # ignored, and said so
    assert "请按 YYYY-MM 输入月份" in page.content.decode()
    # The month before it still ends within the calendar: a month like any other.
    page = clerk.get(reverse("hospital-settlements"), {"month": "9999-11"})
    assert page.status_code == 200 and not page.context["month_error"]
    assert _numbers(page) == []


def test_the_csv_of_the_last_month_there_is_holds_the_current_month(client, demo):
    made = _settle(H1)

    response, numbers = _csv(client, demo, month="9999-12")

    month = f"{timezone.localdate():%Y-%m}"
    assert response["Content-Disposition"] == f'attachment; filename="{H1}-settlements-{month}.csv"'
    assert numbers == {made.number}
