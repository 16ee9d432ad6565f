"""Taking a wrong file back from a draft or returned filing (the person's own), never from one
under review or decided."""

from __future__ import annotations

import pytest
from django.urls import reverse

from filings.models import Filing, Material
from portal.models import AuditEvent
from tests.filings.test_filing_pages import WANG, draft_of_chen
from tests.filings.test_views import png

pytestmark = pytest.mark.django_db


def test_a_material_is_taken_off_a_draft_from_its_edit_page(client, demo):
    filing = draft_of_chen(
        client, demo, material_kind="residence_certificate", files=[png("错的文件.png")]
    )
    material = filing.materials.get()
    edit = client.get(reverse("filings:edit", args=[filing.number])).content.decode()
    remove = reverse("filings:material-remove", args=[material.pk])
    assert f'action="{remove}"' in edit and f'form="remove-{material.pk}"' in edit
    response = client.post(remove, follow=True)
    assert response.redirect_chain[-1][0] == reverse("filings:edit", args=[filing.number])
    assert "已从备案中撤下 错的文件.png" in response.content.decode()
    assert not Material.objects.filter(pk=material.pk).exists()
    event = AuditEvent.objects.get(action="filing.material_remove")
    assert event.object_id == str(filing.pk) and "错的文件.png" in event.reason
    # A second tap finds nothing to take back, and nothing breaks.
    assert client.post(remove).status_code == 404


def test_a_filing_under_review_or_decided_keeps_its_materials(client, demo):
    filing = Filing.objects.get(number=WANG)
    material = Material.objects.create(
        filing=filing,
        kind="household_register",
        stored_name="x" * 32,
        original_name="a.png",
        content_type="image/png",
        size=1,
    )
    client.force_login(demo["wangxiulan"])
    response = client.post(reverse("filings:material-remove", args=[material.pk]), follow=True)
    assert Material.objects.filter(pk=material.pk).exists()
    assert response.redirect_chain[-1][0] == reverse("filings:detail", args=[WANG])
    assert not AuditEvent.objects.filter(action="filing.material_remove").exists()


def test_nobody_else_takes_a_persons_material_off(client, demo):
    filing = draft_of_chen(client, demo, material_kind="residence_certificate", files=[png()])
    material = filing.materials.get()
    client.force_login(demo["wangxiulan"])
    assert client.post(reverse("filings:material-remove", args=[material.pk])).status_code == 404
    assert client.get(reverse("filings:material-remove", args=[material.pk])).status_code in (
        404,
        405,
    )
    assert Material.objects.filter(pk=material.pk).exists()


def test_the_timeline_names_a_file_taken_off_in_the_readers_language(client, demo):
    """Taken off on the Chinese page, read in English (and the other way round): the kind is
    the reader's word, the file's name as it was."""
    filing = draft_of_chen(
        client, demo, material_kind="residence_certificate", files=[png("错的文件.png")]
    )
    client.post(reverse("filings:material-remove", args=[filing.materials.get().pk]))
    page = reverse("filings:detail", args=[filing.number])
    english = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Residence certificate: 错的文件.png" in english
    client.cookies.pop("django_language", None)
    chinese = client.get(page, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "居住证明：错的文件.png" in chinese
    # A line recorded before the kind was kept as a code is shown as it was written.
    AuditEvent.objects.filter(action="filing.material_remove").update(reason="居住证明: 旧.png")
    assert "居住证明: 旧.png" in client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
