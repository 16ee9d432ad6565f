"""Opening a proof material (a household register, a lease) is in the access log: who, whose,
for which agency; a preview and its download within minutes are one row counting both."""

import pytest
from django.urls import reverse

from filings.models import Material
from hospitals.models import AccessLog
from tests.filings.test_views import png

pytestmark = pytest.mark.django_db


def test_agency_and_owner_reads_of_a_material_are_in_the_access_log(client, demo):
    client.force_login(demo["lijianguo"])
    detail = reverse("filings:detail", args=["BA210100000001"])
    client.post(detail, {"action": "upload", "kind": "residence_certificate", "files": [png()]})
    material = Material.objects.get(filing__number="BA210100000001")
    person = material.filing.person
    client.get(reverse("filings:material", args=[material.pk]))
    own = AccessLog.objects.get(purpose="material:web", actor=demo["lijianguo"])
    assert own.subject_hash == person.id_hash and own.agency_region is None

    agency = demo["agency_shenyang"]
    client.force_login(agency)
    assert client.get(reverse("filings:material-preview", args=[material.pk])).status_code == 200
    assert client.get(reverse("filings:material", args=[material.pk])).status_code == 200
    read = AccessLog.objects.get(purpose="material:web", actor=agency)
    assert read.subject_hash == person.id_hash and read.calls == 2
    assert read.agency_region == agency.agency_staff.agency.region
    assert read.subject_region_id == person.region_id


def test_a_refused_read_of_a_material_writes_nothing(client, demo):
    client.force_login(demo["lijianguo"])
    detail = reverse("filings:detail", args=["BA210100000001"])
    client.post(detail, {"action": "upload", "kind": "residence_certificate", "files": [png()]})
    material = Material.objects.get(filing__number="BA210100000001")
    client.force_login(demo["agency_dxal"])
    assert client.get(reverse("filings:material", args=[material.pk])).status_code == 404
    assert not AccessLog.objects.filter(purpose="material:web").exists()
