"""The access log's list in the admin counts its rows with a plural noun: "3 access log
entries", not "3 access log"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hospitals.models import AccessLog
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


def test_the_access_log_list_counts_its_entries_in_the_plural(client, demo):
    AccessLog.objects.all().delete()
    for _i in range(3):
        AccessLog.objects.create(subject_hash="0" * 64, purpose="eligibility", outcome="found")
    staff_login(client, "admin")
    client.cookies["django_language"] = "en"
    page = client.get(reverse("admin:hospitals_accesslog_changelist")).content.decode()
    assert "3 access log entries" in page
    assert "Access log entries" in client.get(reverse("admin:index")).content.decode()
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("admin:hospitals_accesslog_changelist")).content.decode()
    assert "3 访问记录" in page
