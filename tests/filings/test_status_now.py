"""Pages show a filing's state as of today (`Filing.status_now`), not only what the nightly run
(01:05) last recorded: an approved filing whose validity is over reads as expired; a referral's
effective end is its extension; an ended filing names what continues it."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from filings.models import Filing, Status

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def _unsaved(**fields) -> Filing:
    return Filing(status=Status.APPROVED, **fields)


def test_status_now_reads_an_approved_filing_past_its_end_as_expired():
    today = datetime.date(2026, 6, 10)
    ended = _unsaved(valid_from=today - 30 * DAY, valid_until=today - DAY)
    last_day = _unsaved(valid_from=today - 30 * DAY, valid_until=today)
    open_ended = _unsaved(valid_from=today - 30 * DAY, valid_until=None)
    assert ended.status_now(today) == Status.EXPIRED
    assert last_day.status_now(today) == Status.APPROVED
    assert open_ended.status_now(today) == Status.APPROVED
    assert Filing(status=Status.CANCELLED, valid_until=today - DAY).status_now(today) == (
        Status.CANCELLED
    )


def test_an_extended_referral_is_valid_through_its_extension():
    today = datetime.date(2026, 6, 10)
    extended = _unsaved(valid_until=today - 5 * DAY, extended_until=today + 10 * DAY)
    assert extended.valid_through == today + 10 * DAY
    assert extended.status_now(today) == Status.APPROVED
    assert _unsaved(valid_until=today, extended_until=today - DAY).valid_through == today
    assert _unsaved(valid_until=None, extended_until=today).valid_through is None


def test_the_day_after_its_end_the_list_and_the_page_say_expired(client, demo):
    """刘芳's temporary filing, its last day yesterday, the nightly run not yet run."""
    yesterday = timezone.localdate() - DAY
    Filing.objects.filter(number="LS210200000001").update(valid_until=yesterday)
    client.force_login(demo["liufang"])
    listing = client.get(reverse("filings:list")).content.decode()
    item = re.search(r'href="/filings/LS210200000001/".*?</a>', listing, re.S).group(0)
    assert "已过期" in item and "生效" not in item
    page = client.get(reverse("filings:detail", args=["LS210200000001"])).content.decode()
    status = re.search(r'id="status">(.*?)<', page).group(1)
    assert status == "已过期"
    assert "出示身份证" not in page  # not told to show the ID card: not in force


def test_a_temporary_filing_cut_short_by_a_long_term_filing_reads_expired(client, demo):
    """Cut short (valid_until the day before the long-term filing took effect, today)."""
    Filing.objects.filter(number="LS210200000001").update(valid_until=timezone.localdate() - DAY)
    client.force_login(demo["liufang"])
    page = client.get(reverse("filings:detail", args=["LS210200000001"])).content.decode()
    assert "出示身份证" not in page and "已结束" in page


def test_an_extended_referral_says_to_start_by_its_extended_end(client, demo):
    filing = Filing.objects.get(number="ZZ232700000001")
    extended = filing.valid_until + 20 * DAY
    Filing.objects.filter(pk=filing.pk).update(extended_until=extended)
    client.force_login(demo["zhangwei"])
    page = client.get(reverse("filings:detail", args=["ZZ232700000001"])).content.decode()
    step = re.search(r'id="referral-next">(.*?)</span>', page, re.S).group(1)
    assert f"{extended:%Y-%m-%d}" in step and f"{filing.valid_until:%Y-%m-%d}" not in step


def test_an_ended_filing_links_to_the_renewal_that_continues_it(client, demo):
    """王秀兰's long-term filing has ended; its approved renewal has taken over."""
    old = Filing.objects.get(number="BA232700000001")
    today = timezone.localdate()
    Filing.objects.filter(pk=old.pk).update(status=Status.EXPIRED, valid_until=today - DAY)
    old.refresh_from_db()
    old.pk, old.number, old.status = None, "BA232700000009", Status.APPROVED
    old.renews_id = Filing.objects.get(number="BA232700000001").pk
    old.valid_from, old.valid_until = today, today + 300 * DAY
    old.save()
    client.force_login(demo["wangxiulan"])
    page = client.get(reverse("filings:detail", args=["BA232700000001"])).content.decode()
    said = re.search(r'id="continued-by">(.*?)</span>', page, re.S).group(1)
    assert 'href="/filings/BA232700000009/"' in said and "接续" in said
    assert "重新备案" not in said
