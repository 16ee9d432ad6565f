"""A refusal about a chosen hospital stands beside its field, after the field's label: it starts
with the hospital's name, not with "Hospital" again ("Hospital: Hospital First Hospital … is not
at the place of treatment.")."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from filings.models import Filing
from hospitals.models import Hospital
from portal.models import Region

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("lang", "said"),
    [("en", "{h} is not at the place of treatment."), ("zh-hans", "{h}不在就医地。")],
)
def test_a_receiving_hospital_elsewhere_is_refused_by_its_name(client, demo, lang, said):
    sanya = Hospital.objects.get(code="H46020000002")
    client.force_login(demo["chenming"])
    client.cookies["django_language"] = lang
    response = client.post(
        reverse("filings:new", args=["emergency"]),
        {
            "place_region": Region.objects.get(code="230100").pk,
            "receiving_hospital": sanya.pk,
            "transfer_date": (timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
            "diagnosis": "急性心肌梗死",
            "draft": "1",
        },
    )
    assert response.status_code == 200
    with translation.override(lang):
        expected = said.format(h=str(sanya))
    assert response.context["form"].errors["receiving_hospital"] == [expected]
    html = response.content.decode()
    assert "Hospital Hospital" not in html and "医疗机构 医疗机构" not in html
    assert not Filing.objects.filter(person__name="陈明", type="emergency").exists()


@pytest.mark.parametrize(
    "code", ["hospital_elsewhere", "hospital_not_eligible", "hospital_suspended"]
)
def test_every_refusal_about_a_hospital_starts_with_its_name(demo, code):
    from filings.messages import message
    from filings.rules import RuleError

    sanya = Hospital.objects.get(code="H46020000002")
    for lang in ("en", "zh-hans"):
        with translation.override(lang):
            text = message(RuleError(code, hospital=sanya.code))
            assert text.startswith(str(sanya)), text
