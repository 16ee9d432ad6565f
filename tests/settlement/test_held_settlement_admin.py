"""A held direct settlement, as the reviewer sees it: whose bill it is (masked), the adjustment
in words, not the API's plumbing."""

import pytest
from django.urls import reverse

from tests.settling import settle_today
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


def test_the_held_queue_and_page_name_the_patient_and_word_the_adjustment(client, demo):
    held = settle_today("150000.00")  # above the review threshold: held
    assert held.status == "held_for_review"
    staff_login(client, "agency_dxal")  # 王秀兰 is insured in Daxinganling
    queue = client.get(
        reverse("admin:settlement_settlement_changelist"), {"status__exact": "held_for_review"}
    ).content.decode()
    assert str(held.person) in queue and "王*兰" in queue
    page = client.get(
        reverse("admin:settlement_settlement_change", args=[held.pk])
    ).content.decode()
    assert "王*兰" in page and "2327**********0223" in page
    assert "支付比例降低 5 个百分点" in page  # Daxinganling resettled: −5 points, in words
    assert '"points"' not in page and "&quot;points&quot;" not in page
    assert "幂等键" not in page and "Idempotency" not in page
