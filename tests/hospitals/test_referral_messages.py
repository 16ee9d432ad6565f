"""The receiving hospital's referral messages: a day that does not exist is said to be no valid
date (not "enter the day"), and a referral's number is followed by the Chinese full-width
colon."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from filings.models import Filing

pytestmark = pytest.mark.django_db
NUMBER = "ZZ232700000001"


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_day_that_does_not_exist_is_told_as_such(client, demo):
    client.force_login(demo["hosp_h23010300001"])
    response = client.post(
        reverse("referral-start-treatment", args=[NUMBER]), {"started_on": "2027-02-29"}
    )
    said = _messages(response)
    assert said == [f"{NUMBER}：输入一个有效的日期。"]
    assert 'value="2027-02-29"' in response.content.decode()  # what was typed stays


def test_an_empty_day_asks_for_it(client, demo):
    client.force_login(demo["hosp_h23010300001"])
    response = client.post(reverse("referral-start-treatment", args=[NUMBER]), {"started_on": ""})
    assert _messages(response) == [f"{NUMBER}：请填写开始治疗的日期。"]


def test_a_refused_start_is_said_after_the_number_with_a_full_width_colon(client, demo):
    client.force_login(demo["hosp_h23010300001"])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(
        reverse("referral-start-treatment", args=[NUMBER]), {"started_on": tomorrow.isoformat()}
    )
    (said,) = _messages(response)
    assert said.startswith(f"{NUMBER}：") and f"{NUMBER}: " not in said
    assert Filing.objects.get(number=NUMBER).treatment_started_on is None
