"""domain.md §2.2: a referral is extended on request (Daxinganling: the start window of 1 month;
a course longer than 60 days needs an extension), not to any day: at most one more window,
course or validity after the current end, and a longer one is refused naming the limit."""

from __future__ import annotations

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.urls import reverse

from filings import rules, services
from filings.models import Filing
from filings.rules import RuleError
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
D = datetime.date
DAXINGANLING = rules.Parameters(referral_start_window_months=1, referral_course_days=60)
LIAONING = rules.Parameters(referral_validity_months=6)


def test_rule_2_2_an_extension_adds_at_most_one_window_course_or_validity():
    end = D(2027, 3, 10)
    assert rules.latest_extension(end, DAXINGANLING, started=False, course_days=60) == (
        D(2027, 4, 10),
        "window",
        1,
    )
    assert rules.latest_extension(end, DAXINGANLING, started=True, course_days=60) == (
        end + datetime.timedelta(days=60),
        "course",
        60,
    )
    assert rules.latest_extension(end, LIAONING, started=False, course_days=None) == (
        D(2027, 9, 10),
        "validity",
        6,
    )


def test_rule_2_2_an_extension_to_2099_is_refused_naming_the_limit(demo):
    referral = Filing.objects.get(number="ZZ232700000001")  # 张伟, start window of 1 month
    latest = referral.valid_until + relativedelta(months=1)
    with pytest.raises(RuleError) as refused:
        services.referral_extend(
            filing=referral, actor=demo["agency_dxal"], until=D(2099, 12, 31), reason="病重"
        )
    assert refused.value.code == "extension_too_long"
    assert latest.isoformat() in str(refused.value)
    extended = services.referral_extend(
        filing=referral, actor=demo["agency_dxal"], until=latest, reason="病重"
    )
    assert extended.extended_until == latest


def test_the_admin_form_says_the_limit(client, demo):
    staff_login(client, "agency_dxal")
    referral = Filing.objects.get(number="ZZ232700000001")
    page = client.post(
        reverse("admin:filings_filing_changelist"),
        {
            "action": "extend_referral",
            "_selected_action": [referral.pk],
            "apply": "1",
            "until": "2099-12-31",
            "reason": "病情需要继续治疗",
        },
    )
    html = page.content.decode()
    latest = referral.valid_until + relativedelta(months=1)
    assert f"最迟至 {latest.isoformat()}" in html and "病情需要继续治疗" in html
    referral.refresh_from_db()
    assert referral.extended_until is None
