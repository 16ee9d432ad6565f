"""The commitment countdown on its last day and after it (before the nightly run revokes the
filing): never a negative number of days, and no upload offered once an upload cannot count
(filings/jobs.py `supplied_in_time`)."""

import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from filings.models import Filing, Material

pytestmark = pytest.mark.django_db
NUMBER = "BA210100000001"  # 李建国's commitment filing (shared/demo.md)


def _page(client, demo, deadline: datetime.date) -> str:
    Filing.objects.filter(number=NUMBER).update(commitment_deadline=deadline)
    client.force_login(demo["lijianguo"])
    return client.get(reverse("filings:detail", args=[NUMBER])).content.decode()


def _countdown(html: str) -> str:
    return re.search(r'<div[^>]*id="countdown"[^>]*>(.*?)</div>\s*(?=<h2)', html, re.S).group(1)


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PNG")
    return SimpleUploadedFile("home.png", buffer.getvalue(), content_type="image/png")


def test_rule_2_1_on_the_last_day_the_page_says_today_is_the_last_day(client, demo):
    today = timezone.localdate()
    text = _countdown(_page(client, demo, today))
    assert "今天" in text and "最后一天" in text and "剩余" not in text
    assert 'id="upload"' in _page(client, demo, today)


def test_rule_2_1_after_the_deadline_the_page_says_it_has_passed_and_offers_no_upload(client, demo):
    html = _page(client, demo, timezone.localdate() - datetime.timedelta(days=1))
    text = _countdown(html)
    assert "期限" in text and "已过" in text and "将被撤销" in text
    assert "剩余" not in text and "天）" not in text
    assert 'id="upload"' not in html


def test_rule_2_1_materials_refused_after_the_deadline_leave_no_upload_offer(client, demo):
    filing = Filing.objects.get(number=NUMBER)
    material = Material.objects.create(
        filing=filing,
        kind="household_register",
        stored_name="0" * 32 + ".png",
        original_name="home.png",
        content_type="image/png",
        size=1,
    )
    Material.objects.filter(pk=material.pk).update(refused_at=timezone.now())
    html = _page(client, demo, timezone.localdate() - datetime.timedelta(days=8))
    assert "剩余" not in _countdown(html) and 'id="upload"' not in html


def test_an_upload_sent_from_a_page_older_than_the_deadline_is_refused_saying_why(client, demo):
    _page(client, demo, timezone.localdate() - datetime.timedelta(days=1))
    url = reverse("filings:detail", args=[NUMBER])
    response = client.post(
        url, {"action": "upload", "kind": "household_register", "files": [png()]}, follow=True
    )
    assert not Material.objects.filter(filing__number=NUMBER).exists()
    assert "已过" in response.content.decode()
