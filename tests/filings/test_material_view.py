"""A person sees their own photo of a material in the browser from the filing's page (a retiree
on a phone checks the household register they sent is readable), not only as a download; a PDF
is downloaded as before (filings.views.material_preview)."""

import pytest
from django.urls import reverse

from filings.models import Filing, Material
from filings.pending import StoredFile
from tests.checked_files import checked
from tests.filings.corpus import _pdf, _png

pytestmark = pytest.mark.django_db


def _material(filing, name, data):
    return Material.objects.create(
        filing=filing, **StoredFile.write(checked(name, data), "household_register").fields()
    )


def test_the_owner_views_a_photo_inline_and_downloads_a_pdf(client, demo):
    filing = Filing.objects.get(person__name="王秀兰", type="long_term")
    photo = _material(filing, "户口簿.png", _png())
    scan = _material(filing, "户口簿.pdf", _pdf())
    client.force_login(demo["wangxiulan"])
    page = client.get(reverse("filings:detail", args=[filing.number])).content.decode()
    view = reverse("filings:material-preview", args=[photo.pk])
    assert f'href="{view}"' in page
    assert reverse("filings:material-preview", args=[scan.pk]) not in page
    shown = client.get(view)
    assert shown.status_code == 200 and shown["Content-Disposition"] == "inline"
    assert shown["Content-Type"] == "image/png"
    client.force_login(demo["lijianguo"])  # someone else's photo: not theirs to see
    assert client.get(view).status_code == 404
