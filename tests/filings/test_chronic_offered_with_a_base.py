"""Rule 2.5: an outpatient chronic-disease filing sits on an effective long-term or temporary
filing for the place. A person with none (陈明: no filing; 张伟: a referral only) is not offered
one to fill in and be refused at the end: the list says what it needs, and its form's address
says so instead of the form. A person with one (王秀兰) is offered it."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
NEW_CHRONIC = reverse("filings:new", args=["chronic_outpatient"])


@pytest.mark.parametrize("username", ["chenming", "zhangwei"])
def test_rule_2_5_no_base_no_chronic_filing_offered(client, demo, username):
    client.force_login(demo[username])
    listing = client.get(reverse("filings:list")).content.decode()
    assert NEW_CHRONIC not in listing and 'id="chronic-needs-base"' in listing
    page = client.get(NEW_CHRONIC).content.decode()
    assert 'id="chronic-needs-base"' in page and 'id="filing-form"' not in page


def test_rule_2_5_with_a_base_the_chronic_filing_is_offered(client, demo):
    client.force_login(demo["wangxiulan"])
    listing = client.get(reverse("filings:list")).content.decode()
    assert NEW_CHRONIC in listing and 'id="chronic-needs-base"' not in listing
    page = client.get(NEW_CHRONIC).content.decode()
    assert 'id="filing-form"' in page
