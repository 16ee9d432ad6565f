"""An empty file is refused once, by name ("empty.pdf：文件为空。"), not also by Django's own
unnamed "提交的是空文件。" (filings.forms.MultipleFileField)."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from filings.models import Filing, Material
from portal.models import Region

pytestmark = pytest.mark.django_db


def empty() -> SimpleUploadedFile:
    return SimpleUploadedFile("empty.pdf", b"", content_type="application/pdf")


def test_an_empty_file_on_a_new_filing_form_is_refused_once_by_name(client, demo):
    client.force_login(demo["sunguoqiang"])
    response = client.post(
        reverse("filings:new", args=["emergency"]),
        {
            "place_region": Region.objects.get(code="230100").pk,
            "transfer_date": (timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
            "draft": "1",
            "files": [empty()],
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["form"].errors["files"] == ["empty.pdf：文件为空。"]
    assert "提交的是空文件" not in html


def test_an_empty_file_on_a_filings_page_is_refused_once_by_name(client, demo):
    client.force_login(demo["lijianguo"])
    response = client.post(
        reverse("filings:detail", args=["BA210100000001"]),
        {"action": "upload", "kind": "household_register", "files": [empty()]},
    )
    assert response.status_code == 200
    assert response.context["upload_form"].errors["files"] == ["empty.pdf：文件为空。"]
    assert "提交的是空文件" not in response.content.decode()
    assert not Material.objects.filter(filing=Filing.objects.get(number="BA210100000001"))
