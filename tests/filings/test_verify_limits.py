"""The public verification of a printed QR code (filings.document_views): limited per client
address, and a token looked up again and again from one address is one access-log row."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from filings import document_views, documents
from hospitals.models import AccessLog
from tests.filings.test_documents import filing, place  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(document_views.VerifyThrottle, "rate", "3/min", raising=False)


def test_repeated_lookups_of_one_token_from_one_address_make_one_log_row(client, filing):  # noqa: F811
    token = documents.make_token(documents.CERTIFICATE, filing.number)
    for _ in range(20):
        assert client.get(f"/api/v1/verify/{token}").status_code == 200
    rows = AccessLog.objects.filter(purpose="verify:api")
    assert rows.count() == 1


def test_lookups_are_logged_again_after_the_fold_window_and_per_address(client, filing):  # noqa: F811
    token = documents.make_token(documents.CERTIFICATE, filing.number)
    with time_machine.travel(datetime.datetime.now(datetime.UTC), tick=False) as clock:
        client.get(reverse("verify-page", args=[token]))
        client.get(reverse("verify-page", args=[token]))
        client.get(reverse("verify-page", args=[token]), REMOTE_ADDR="203.0.113.9")
        assert AccessLog.objects.filter(purpose="verify:web").count() == 2
        clock.shift(document_views.VERIFY_LOG_FOLD_SECONDS + 1)
        client.get(reverse("verify-page", args=[token]))
    assert AccessLog.objects.filter(purpose="verify:web").count() == 3


def test_the_verify_api_answers_429_beyond_its_rate(client, filing, three_a_minute):  # noqa: F811
    token = documents.make_token(documents.CERTIFICATE, filing.number)
    for _ in range(3):
        assert client.get(f"/api/v1/verify/{token}").status_code == 200
    over = client.get(f"/api/v1/verify/{token}")
    assert over.status_code == 429
    assert over.json()["error"]["code"]
    # Forged tokens count too: the limit is on the address, not on what it asks.
    assert client.get(f"/api/v1/verify/{token}x").status_code == 429
    # Another address is not held back.
    assert client.get(f"/api/v1/verify/{token}", REMOTE_ADDR="203.0.113.9").status_code == 200


def test_the_verify_page_answers_429_beyond_its_rate(client, filing, three_a_minute):  # noqa: F811
    token = documents.make_token(documents.CERTIFICATE, filing.number)
    url = reverse("verify-page", args=[token])
    for _ in range(3):
        assert client.get(url).status_code == 200
    over = client.get(url)
    assert over.status_code == 429
    assert "尝试次数过多" in over.content.decode()
    assert int(over["Retry-After"]) > 0
