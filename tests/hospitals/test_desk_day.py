"""The admission desk answers for the day of each check in China's day: a page left open past
midnight checks for the new day, a year without the insured region's benefit policy is said
beside the answer, and the access log names its entries in local time."""

from __future__ import annotations

import datetime
import re
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from filings.models import Filing
from hospitals.eligibility_selectors import clear_caches
from hospitals.models import AccessLog, Hospital
from hospitals.services import api_key_create
from settlement.models import BenefitPolicy

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
DAY = datetime.timedelta(days=1)
URL = "/hospitals/check/"
LIU = {"id_number": "210202199004150481", "name": "刘芳", "care_type": "inpatient"}
WANG = {"id_number": "232701195603120223", "name": "王秀兰", "care_type": "inpatient"}


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_caches()
    yield
    clear_caches()


def at(day: datetime.date, hour: int, minute: int = 0):
    moment = datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SHANGHAI)
    return time_machine.travel(moment, tick=False)


def visit_field(html: str) -> str:
    """The value the page's visit date field carries ("" when it has none)."""
    field = re.search(r'<input[^>]*name="visit_date"[^>]*>', html).group(0)
    value = re.search(r'value="([^"]*)"', field)
    return value.group(1) if value else ""


def verdict(html: str) -> tuple[str, str]:
    return (
        re.search(r'data-verdict="([^"]+)"', html).group(1),
        re.search(r"data-checked-for>([^<]+)<", html).group(1),
    )


def test_a_desk_page_left_open_past_midnight_checks_for_the_day_of_the_check(client, demo):
    """刘芳's filing ends on D. The page opened at 23:50 on D and used again after midnight
    answers for D+1 (expired), as the API's default visit date does, not green for D."""
    end = timezone.localdate() + 3 * DAY
    Filing.objects.filter(number="LS210200000001").update(valid_until=end)
    client.force_login(demo["hosp_h23010300001"])
    with at(end, 23, 50):
        page = client.get(URL).content.decode()
    assert visit_field(page) == ""
    with at(end, 23, 58):
        page = client.post(URL, {**LIU, "visit_date": visit_field(page)}).content.decode()
    assert verdict(page) == ("eligible", f"{end:%Y-%m-%d} · 住院")
    assert visit_field(page) == ""  # left empty, it stays empty for the next check
    with at(end + DAY, 0, 5):
        page = client.post(URL, {**LIU, "visit_date": visit_field(page)}).content.decode()
    assert verdict(page) == ("not-eligible", f"{end + DAY:%Y-%m-%d} · 住院")


def test_a_visit_date_the_clerk_typed_is_kept_and_the_field_says_empty_is_today(client, demo):
    day = timezone.localdate() - 2 * DAY
    client.force_login(demo["hosp_h46020000002"])
    page = client.post(URL, {**WANG, "visit_date": day.isoformat()}).content.decode()
    assert visit_field(page) == day.isoformat()
    assert verdict(page)[1].startswith(day.isoformat())
    english = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Leave empty for today" in english


def test_rule_3_2_a_visit_in_a_year_without_the_regions_benefit_policy_is_said_to_be_refused(
    client, demo
):
    """domain.md §3.2: the deductible, ratio and cap are the place of insurance's policy of the
    year; without one the settlement is refused (422). The desk (and the API's reasons, as a
    note) says so for such a year, without changing its answer."""
    next_year = timezone.localdate().year + 1
    visit = datetime.date(next_year, 1, 1)
    BenefitPolicy.objects.filter(region__code="232700", year=next_year).delete()
    clear_caches()
    client.force_login(demo["hosp_h46020000002"])
    checks = {
        day: client.post(
            URL, {**WANG, "visit_date": day.isoformat()}, HTTP_ACCEPT_LANGUAGE="en"
        ).content.decode()
        for day in (visit - DAY, visit)
    }
    assert all(verdict(html)[0] == "eligible" for html in checks.values())
    said = f"No benefit policy of the insured region for {next_year} yet"
    assert said not in checks[visit - DAY]
    assert said in checks[visit] and "will be refused" in checks[visit]
    key = api_key_create(hospital=Hospital.objects.get(code="H46020000002"))[1]
    answer = client.post(
        "/api/v1/eligibility",
        {**WANG, "visit_date": visit.isoformat()},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    ).json()
    assert answer["eligible"] is True and answer["category"] == "long_term"
    assert any(str(next_year) in reason for reason in answer["reasons"])


def test_an_access_log_entry_is_named_in_local_time(client, demo):
    """A check at 00:30 on 1 December in China is 16:30 on 30 November in UTC: its entry's
    name (the admin page's title, breadcrumbs and history) says 1 December, 00:30."""
    first = datetime.date(timezone.localdate().year, 12, 1)
    client.force_login(demo["hosp_h46020000002"])
    with at(first, 0, 30):
        client.post(URL, WANG)
    entry = AccessLog.objects.latest("id")
    assert str(entry).startswith(f"{first:%Y-%m-%d} 00:30 ")
