"""One notion of a filing's last valid day everywhere (`Filing.valid_through`): a referral the
agency extended (domain.md §2.2: extension on request) verifies, lists and prints as valid to
its extension; and a filing approved to take effect later verifies as valid from that day,
not as in force today."""

from __future__ import annotations

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from filings import documents
from filings.models import Filing
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def _at(day: datetime.date):
    tz = ZoneInfo(settings.TIME_ZONE)
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(10), tzinfo=tz))


def _extended(client) -> tuple[Filing, datetime.date]:
    """张伟's referral extended by the agency (admin action) 20 days past its window."""
    referral = Filing.objects.get(number="ZZ232700000001")
    until = referral.valid_until + 20 * DAY
    staff_login(client, "agency_dxal")
    client.post(
        reverse("admin:filings_filing_changelist"),
        {
            "action": "extend_referral",
            "_selected_action": [referral.pk],
            "apply": "1",
            "until": until.isoformat(),
            "reason": "患者病情需要，申请延期开始治疗",
        },
    )
    referral.refresh_from_db()
    assert referral.extended_until == until
    return referral, until


def test_rule_2_2_an_extended_referral_verifies_as_valid_to_its_extension(client, demo):
    referral, until = _extended(client)
    token = documents.make_token(documents.REFERRAL_FORM, referral.number)
    with _at(referral.valid_until + 5 * DAY):
        answer = client.get(f"/api/v1/verify/{token}").json()
        page = client.get(reverse("verify-page", args=[token])).content.decode()
        doc = documents._doc(referral)
    assert answer["status"] == "valid"
    assert answer["valid_until"] == until.isoformat()
    assert 'data-status="valid"' in page and until.isoformat() in page
    assert doc.valid_until == until  # what the PDFs print


def test_rule_2_2_the_receiving_hospital_lists_the_extended_validity(client, demo):
    referral, until = _extended(client)
    with _at(referral.valid_until + 5 * DAY):
        client.force_login(demo["hosp_h23010300001"])
        html = client.get(reverse("referrals")).content.decode()
    row = re.search(
        rf'data-number="{referral.number}".*?</div>\s*<div class="small">(.*?)</div>', html, re.S
    )
    assert row is not None
    assert until.isoformat() in row.group(1)
    assert referral.valid_until.isoformat() not in row.group(1)


def test_a_filing_taking_effect_later_verifies_as_not_yet_in_force(client, demo):
    later = timezone.localdate() + 10 * DAY
    filing = Filing.objects.get(number="LS210200000001")  # 刘芳's temporary filing
    Filing.objects.filter(pk=filing.pk).update(valid_from=later, valid_until=later + 180 * DAY)
    token = documents.make_token(documents.CERTIFICATE, filing.number)
    answer = client.get(f"/api/v1/verify/{token}").json()
    # api.md fixes the status values (valid, expired, cancelled, revoked): the start is told
    # in its own field.
    assert answer["status"] == "valid"
    assert answer["in_force_from"] == later.isoformat()
    page = client.get(reverse("verify-page", args=[token])).content.decode()
    assert f'data-in-force-from="{later.isoformat()}"' in page
    assert "尚未生效" in page and "bg-success" not in page
    with _at(later):
        assert client.get(f"/api/v1/verify/{token}").json()["in_force_from"] is None


def test_rule_2_2_the_admin_list_shows_the_extended_validity(client, demo):
    referral, until = _extended(client)
    html = client.get(reverse("admin:filings_filing_changelist")).content.decode()
    row = re.search(rf"<tr[^>]*>(?:(?!</tr>).)*{referral.number}.*?</tr>", html, re.S)
    assert row is not None and until.isoformat() in row.group(0)
