"""The 10-file cap counts only materials that still count (not those the agency refused), the
same file is not attached twice, and an upload answers with a redirect (a reload sends
nothing again)."""

import io

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from filings.models import Material

pytestmark = pytest.mark.django_db
NUMBER = "BA210100000001"  # 李建国's commitment filing (shared/demo.md)


def photo(n: int, name: str | None = None) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (n * 20 % 256, n * 7 % 256, 90)).save(buffer, "PNG")
    return SimpleUploadedFile(name or f"photo{n}.png", buffer.getvalue(), content_type="image/png")


def a_pdf(name: str = "scan.pdf") -> SimpleUploadedFile:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    buffer = io.BytesIO()
    pdf.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def upload(client, files, kind="household_register", **extra):
    url = reverse("filings:detail", args=[NUMBER])
    return client.post(url, {"action": "upload", "kind": kind, "files": files}, **extra)


def materials():
    return Material.objects.filter(filing__number=NUMBER)


def test_materials_the_agency_refused_do_not_count_against_the_ten_file_cap(client, demo):
    client.force_login(demo["lijianguo"])
    assert upload(client, [photo(n) for n in range(10)]).status_code == 302
    refused = upload(client, [photo(10)])
    assert "每件备案最多10个文件" in refused.content.decode()
    materials().update(refused_at=timezone.now())  # the agency refused them all
    assert upload(client, [photo(11)]).status_code == 302
    assert materials().filter(refused_at__isnull=True).count() == 1


def test_the_same_file_is_not_attached_twice(client, demo):
    client.force_login(demo["lijianguo"])
    assert upload(client, [photo(1, "front.png")]).status_code == 302
    again = upload(client, [photo(1, "front-again.png")])
    assert again.status_code == 200
    errors = again.context["upload_form"].errors["files"]
    assert errors == ["front-again.png：同一文件已附在备案中（front.png）。"]
    assert materials().count() == 1


def test_the_same_pdf_is_not_attached_twice(client, demo):
    """A PDF is saved anew on each check (its /ID differs): still the same file."""
    client.force_login(demo["lijianguo"])
    assert upload(client, [a_pdf()]).status_code == 302
    assert upload(client, [a_pdf("again.pdf")]).status_code == 200
    assert materials().count() == 1


def test_a_file_the_agency_refused_is_refused_again_saying_so(client, demo):
    client.force_login(demo["lijianguo"])
    upload(client, [photo(2, "old.png")])
    materials().update(refused_at=timezone.now())
    again = upload(client, [photo(2, "old2.png")])
    [error] = again.context["upload_form"].errors["files"]
    assert error.startswith("old2.png：") and "机构已于" in error and "old.png" in error


def test_an_upload_with_a_refused_file_redirects_and_names_it(client, demo):
    """Post/Redirect/Get: the stored files are not sent again by a reload; the refusal of the
    other file, named, is shown on the page fetched after."""
    client.force_login(demo["lijianguo"])
    fake = SimpleUploadedFile("fake.pdf", b"not a pdf at all", content_type="application/pdf")
    response = upload(client, [photo(3), fake], follow=True)
    assert response.redirect_chain[-1][0] == reverse("filings:detail", args=[NUMBER])
    html = response.content.decode()
    assert "fake.pdf：" in html
    assert [m.original_name for m in materials()] == ["photo3.png"]
