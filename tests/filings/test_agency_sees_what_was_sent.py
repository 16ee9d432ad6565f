"""The person is told, when they upload, that the agency sees a draft's files "only once you
submit the filing", and a returned filing's new files "once you submit the filing again". The
agency's admin (its lists, a filing's page, the material views) keeps to that; a superuser sees
everything. A receiving hospital does not see a person's unsent paper referral either."""

from __future__ import annotations

import pytest
from django.urls import reverse

from filings import services
from filings.models import Filing, Material
from tests.filings.test_filing_pages import draft_of_chen
from tests.filings.test_views import png
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:filings_filing_changelist"
MATERIALS = "admin:filings_material_changelist"


def _sees_in_lists(client, filing: Filing, name: str) -> tuple[bool, bool]:
    """Whether the filing is a row of the filings list (searched by its number), and a file
    of that name a row of the materials list."""
    filings = client.get(reverse(CHANGELIST), {"q": filing.number}).content.decode()
    row = reverse("admin:filings_filing_change", args=[filing.pk])
    materials = client.get(reverse(MATERIALS)).content.decode()
    return row in filings, name in materials


def test_the_agency_does_not_see_a_persons_draft_nor_its_files(client, demo):
    draft = draft_of_chen(
        client, demo, material_kind="residence_certificate", files=[png("草稿.png")]
    )
    material = draft.materials.get()
    staff_login(client, "agency_shenyang")  # 陈明's agency (Shenyang)
    assert _sees_in_lists(client, draft, "草稿.png") == (False, False)
    change = client.get(reverse("admin:filings_filing_change", args=[draft.pk]))
    assert change.status_code == 404  # as another region's rows (RegionScopedAdmin)
    assert client.get(reverse("filings:material", args=[material.pk])).status_code == 404
    assert client.get(reverse("filings:material-preview", args=[material.pk])).status_code == 404
    staff_login(client, "admin")  # a superuser sees drafts too
    assert _sees_in_lists(client, draft, "草稿.png") == (True, True)


def test_files_added_to_a_returned_filing_are_seen_once_it_is_sent_again(client, demo):
    """孙国强's long-term filing, submitted; returned by the agency for more materials."""
    filing = Filing.objects.get(person__name="孙国强", type="long_term")
    agency = demo["agency_shenyang"]
    services.filing_return(filing=filing, actor=agency, reason="请补充身份证和社保卡复印件")
    added, _card = (
        Material.objects.create(
            filing=filing,
            kind=kind,
            stored_name=kind[:1] * 32,
            original_name=name,
            content_type="image/png",
            size=1,
        )
        for kind, name in [("id_copy", "补充的身份证.png"), ("social_security_copy", "社保卡.png")]
    )
    staff_login(client, "agency_shenyang")
    assert _sees_in_lists(client, filing, "补充的身份证.png") == (True, False)
    page = client.get(reverse("admin:filings_filing_change", args=[filing.pk])).content.decode()
    assert "补充的身份证.png" not in page
    assert client.get(reverse("filings:material", args=[added.pk])).status_code == 404
    filing.refresh_from_db()
    services.filing_submit(filing=filing, actor=filing.person.user)
    assert _sees_in_lists(client, filing, "补充的身份证.png") == (True, True)
    page = client.get(reverse("admin:filings_filing_change", args=[filing.pk])).content.decode()
    assert "补充的身份证.png" in page


def test_a_receiving_hospital_does_not_see_a_persons_unsent_paper_referral(client, demo):
    """陈明 saves a paper referral to a Harbin hospital as a draft: its form is not that
    hospital's to print until it is sent."""
    from hospitals.models import Hospital
    from portal.models import InsuredPerson, Region

    person = InsuredPerson.objects.get(name="陈明")
    harbin = Region.objects.select_related("province").get(code="230100")
    referral = services.filing_create(
        person=person,
        actor=person.user,
        filing_type="referral",
        place_province=harbin.province,
        place_region=harbin,
        receiving_hospital=Hospital.objects.get(code="H23010300001"),
        diagnosis="冠心病",
    )
    url = reverse("document-download", args=[referral.number, "referral_form"])
    staff_login(client, "hosp_h23010300001")
    assert client.get(url).status_code == 404
    client.force_login(demo["chenming"])
    assert client.get(url).status_code != 404  # the person's own
