"""Kept files (filings.pending) cannot fill the disk: the form's token is the server's, what one
account holds over all its forms is bounded, and a post larger than ten files is refused before
it is spooled."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from filings import pending, uploads
from portal.models import Region
from tests.filings.corpus import _pdf, _png

pytestmark = pytest.mark.django_db

URL = "/filings/new/long_term/"


def _token(client, filing_type: str = "long_term") -> str:
    html = client.get(reverse("filings:new", args=[filing_type])).content.decode()
    found = re.search(r'name="kept_files" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _invalid_form(token: str, count: int) -> dict:
    """A long-term form without its subtype (so it is shown again) and `count` scans."""
    return {
        "kept_files": token,
        "place_region": Region.objects.get(code="230100").pk,
        "material_kind": "residence_certificate",
        "files": [SimpleUploadedFile(f"scan{i}.pdf", _pdf()) for i in range(count)],
        "submit": "1",
    }


def _stored() -> set[str]:
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    return {p.name for p in root.iterdir() if p.is_file()} if root.exists() else set()


def test_a_kept_files_token_the_client_made_up_names_no_list_of_its_own(client, demo):
    client.force_login(demo["chenming"])
    made_up = "attacker-chosen-0001"
    page = client.post(URL, _invalid_form(made_up, 1))
    assert page.status_code == 200
    assert made_up not in page.content.decode()
    assert not any(made_up in key for key in client.session.keys())


def test_a_token_issued_to_another_account_is_not_honoured(client, demo):
    client.force_login(demo["sunguoqiang"])
    theirs = _token(client, "emergency")
    client.force_login(demo["chenming"])
    page = client.post(URL, _invalid_form(theirs, 1))
    assert theirs not in page.content.decode()


def test_the_issued_token_keeps_the_files(client, demo):
    client.force_login(demo["chenming"])
    token = _token(client)
    page = client.post(URL, _invalid_form(token, 2))
    assert len(page.context["pending"]) == 2
    assert f'name="kept_files" value="{token}"' in page.content.decode()


def test_kept_files_of_one_account_are_bounded_over_all_its_forms(client, demo, monkeypatch):
    monkeypatch.setattr(pending, "HELD_FILES", 3)
    client.force_login(demo["chenming"])
    first = client.post(URL, _invalid_form(_token(client), 2))
    assert len(first.context["pending"]) == 2
    before = _stored()
    second = client.post(URL, _invalid_form(_token(client), 2))  # a fresh form, a new list
    assert "最多3个文件" in " ".join(second.context["form"].errors["files"])
    assert len(second.context["pending"]) == 1
    assert len(_stored() - before) == 1


def test_kept_bytes_of_one_account_are_bounded(client, demo, monkeypatch):
    size = len(uploads.check_upload(SimpleUploadedFile("a.pdf", _pdf())).content)
    monkeypatch.setattr(pending, "HELD_BYTES", size * 2 + size // 2)
    client.force_login(demo["chenming"])
    page = client.post(URL, _invalid_form(_token(client), 4))
    assert len(page.context["pending"]) == 2
    assert "尚未提交的表单中已保留" in " ".join(page.context["form"].errors["files"])


def test_removed_and_filed_files_no_longer_count(client, demo, monkeypatch):
    monkeypatch.setattr(pending, "HELD_FILES", 2)
    client.force_login(demo["chenming"])
    token = _token(client)
    page = client.post(URL, _invalid_form(token, 2))
    stored = [item["stored"] for item in page.context["pending"]]
    data = _invalid_form(token, 2)
    data["discard"] = stored  # both ticked to remove, two new ones chosen
    again = client.post(URL, data)
    assert len(again.context["pending"]) == 2
    assert "files" not in again.context["form"].errors


def test_a_post_larger_than_ten_files_is_refused_before_it_is_read(client, demo, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_REQUEST_BYTES", 64 * 1024)
    client.force_login(demo["chenming"])
    big = SimpleUploadedFile("big.png", _png() + b"\0" * 100_000)
    token = _token(client)
    before = _stored()
    response = client.post(URL, {**_invalid_form(token, 0), "files": [big]})
    assert response.status_code == 400
    assert _stored() == before
