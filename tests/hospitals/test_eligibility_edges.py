"""The hospital's answer at the edges of a filing's life: a filing the nightly job marked expired
still covers the days of its validity, and seeding the demo again gives the demo back."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict
from django.utils import timezone

from filings.models import Filing
from hospitals.eligibility_selectors import clear_caches
from settlement import services
from tests.hospitals.test_eligibility_api import ask, keys  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


def test_rule_2_6_an_expired_filing_covers_a_visit_within_its_validity(
    client,
    keys,  # noqa: F811 - the fixture
):
    """api.md: `none` when no filing covers the hospital, care type and date. 赵丽's referral
    expired (never used within its window): a stay admitted within the window, asked about
    after the job marked it, is covered; a day after the window is not."""
    referral = Filing.objects.get(person__name="赵丽", type="referral")
    assert referral.status == "expired" and referral.valid_until < timezone.localdate()
    inside = referral.valid_until - datetime.timedelta(days=3)
    body = ask(client, keys["H23010300016"], "赵丽", visit_date=inside.isoformat()).json()
    assert (body["eligible"], body["category"]) == (True, "referral"), body
    after = referral.valid_until + datetime.timedelta(days=1)
    body = ask(client, keys["H23010300016"], "赵丽", visit_date=after.isoformat()).json()
    assert (body["eligible"], body["category"]) == (False, "none")
    assert f"有效期至 {referral.valid_until:%Y-%m-%d}，已过期" in " ".join(body["reasons"])


FILING_FIELDS = ["status", "valid_from", "valid_until", "treatment_started_on", "extended_until"]


def test_seeding_the_demo_again_after_a_settlement_gives_the_demo_back(demo):
    """demo.md: running the seed twice changes nothing. 张伟's referral starts its course when
    a stay is settled under it (valid until the course's end); seeded again, the referral is
    the demo's again, its course not started, rather than a mix of the two."""
    referral = Filing.objects.get(person__name="张伟", type="referral")
    seeded = model_to_dict(referral, fields=FILING_FIELDS)
    today = timezone.localdate()
    services.settle(
        hospital_id=referral.receiving_hospital_id,
        api_key_id=None,
        payload={
            "id_number": "232721197811200177",
            "name": "张伟",
            "visit": {"care_type": "inpatient", "admitted_on": today, "discharged_on": today},
            "items": [{"code": "X1", "name": "住院费", "class": "A", "amount": "3000.00"}],
        },
    )
    referral.refresh_from_db()
    assert referral.treatment_started_on == today
    assert model_to_dict(referral, fields=FILING_FIELDS) != seeded
    call_command("seed_demo", "--no-history", stdout=StringIO())
    clear_caches()
    referral.refresh_from_db()
    assert model_to_dict(referral, fields=FILING_FIELDS) == seeded
