"""Self-service pages: file, follow the timeline, upload, cancel; and who may see what."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from filings.models import Filing, Material

pytestmark = pytest.mark.django_db


def png(name="scan.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def login(client, demo, username):
    client.force_login(demo[username])


def test_long_term_filing_by_commitment_is_submitted(client, demo):
    login(client, demo, "chenming")
    from portal.models import Region

    harbin = Region.objects.get(code="230100")
    response = client.post(
        reverse("filings:new", args=["long_term"]),
        {
            "place_region": harbin.pk,
            "subtype": "long_term_resident",
            "start_date": "2026-12-01",
            "care": ["inpatient", "general_outpatient"],
            "basis": "commitment",
            "submit": "1",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    filing = Filing.objects.get(person__name="陈明")
    assert (filing.type, filing.status, filing.basis) == ("long_term", "submitted", "commitment")
    detail = client.get(response["Location"]).content.decode()
    assert "已提交" in detail and 'data-state="submitted"' in detail


def test_bad_input_re_renders_with_messages_and_keeps_what_was_typed(client, demo):
    login(client, demo, "chenming")
    response = client.post(
        reverse("filings:new", args=["long_term"]),
        {
            "subtype": "long_term_resident",
            "start_date": "2026-12-01",
            "basis": "materials",
            "agent_name": "陈小明",
            "agent_id_number": "210103198512010132",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="陈小明"' in html
    assert "校验码" in html
    assert not Filing.objects.filter(person__name="陈明").exists()


def test_hostile_upload_is_refused_and_nothing_is_created(client, demo):
    login(client, demo, "chenming")
    from portal.models import Region

    evil = SimpleUploadedFile("x.pdf", b"PK\x03\x04" + b"\x00" * 100)
    response = client.post(
        reverse("filings:new", args=["long_term"]),
        {
            "place_region": Region.objects.get(code="230100").pk,
            "subtype": "long_term_resident",
            "start_date": "2026-12-01",
            "care": ["inpatient"],
            "basis": "materials",
            "material_kind": "residence_certificate",
            "files": [evil],
        },
    )
    assert response.status_code == 200
    assert "JPEG、PNG" in response.content.decode()
    assert not Filing.objects.filter(person__name="陈明").exists()


def test_rule_2_4_temporary_filing_is_approved_with_advice_about_long_term(client, demo):
    login(client, demo, "chenming")
    from portal.models import Region

    response = client.post(
        reverse("filings:new", args=["temporary"]),
        {
            "place_region": Region.objects.get(code="460200").pk,
            "start_date": "2026-12-01",
            "care": ["inpatient"],
        },
        follow=True,
    )
    assert Filing.objects.get(person__name="陈明").status == "approved"
    assert "长期居住备案" in response.content.decode()


def test_commitment_countdown_and_upload_of_materials_later(client, demo):
    login(client, demo, "lijianguo")
    url = reverse("filings:detail", args=["BA210100000001"])
    html = client.get(url).content.decode()
    assert 'id="countdown"' in html
    assert "仅可在居住地" in html or "只" in html
    response = client.post(
        url, {"action": "upload", "kind": "residence_certificate", "files": [png()]}
    )
    assert response.status_code == 302
    assert Material.objects.filter(filing__number="BA210100000001").count() == 1


def test_cancel_inside_the_lock_period_is_refused_with_the_date(client, demo):
    login(client, demo, "wangxiulan")
    url = reverse("filings:detail", args=["BA232700000001"])
    response = client.post(url, {"action": "cancel", "reason": "回原籍"}, follow=True)
    html = response.content.decode()
    assert "锁定期" in html
    assert Filing.objects.get(number="BA232700000001").status == "approved"


def test_a_person_gets_404_for_someone_elses_filing_and_file(client, demo):
    filing = Filing.objects.get(number="BA210100000001")
    material = Material.objects.create(
        filing=filing,
        kind="other",
        stored_name="nope.png",
        original_name="a.png",
        content_type="image/png",
        size=1,
    )
    login(client, demo, "wangxiulan")
    assert client.get(reverse("filings:detail", args=[filing.number])).status_code == 404
    assert client.get(reverse("filings:material", args=[material.pk])).status_code == 404


def test_material_download_for_owner_and_own_region_agency_only(client, demo, settings):
    login(client, demo, "lijianguo")
    url = reverse("filings:detail", args=["BA210100000001"])
    client.post(url, {"action": "upload", "kind": "residence_certificate", "files": [png()]})
    material = Material.objects.get(filing__number="BA210100000001")
    download = reverse("filings:material", args=[material.pk])
    response = client.get(download)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert material.stored_name != "scan.png" and "scan" not in material.stored_name
    client.force_login(demo["agency_shenyang"])
    assert client.get(download).status_code == 200
    client.force_login(demo["agency_dxal"])
    assert client.get(download).status_code == 404


def test_list_shows_the_persons_filings_and_an_empty_state(client, demo):
    login(client, demo, "wangxiulan")
    assert "BA232700000001" in client.get(reverse("filings:list")).content.decode()
    login(client, demo, "chenming")
    assert "还没有备案" in client.get(reverse("filings:list")).content.decode()
