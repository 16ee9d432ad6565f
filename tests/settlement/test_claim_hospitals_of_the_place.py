"""The claim form asks for the place first and lists only its hospitals (static/js/portal.js
fetches them when the place is chosen; without JavaScript the form sent back lists them): a
phone is not handed the whole country's hospitals (the directory has about 32,000). The place
only narrows the list: a claim names its hospital, as before."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from hospitals.models import Hospital
from portal.models import Region

pytestmark = pytest.mark.django_db
NEW = reverse("settlement:claim-new")


def listed(html: str) -> set[str]:
    """The pooling regions (ids) of the hospitals the hospital list offers."""
    select = re.search(r'<select name="hospital".*?</select>', html, re.S).group(0)
    assert select.count("<option") == len(re.findall(r"data-region=", select)) + 1  # + the blank
    return set(re.findall(r'data-region="(\d+)"', select))


def test_no_hospital_is_listed_before_the_place(client, demo):
    client.force_login(demo["chenming"])
    page = client.get(NEW)
    assert listed(page.content.decode()) == set()
    assert "先选择就医地" in str(page.context["form"].fields["hospital"].help_text)


def test_the_places_hospitals_are_listed_and_only_they(client, demo):
    client.force_login(demo["chenming"])
    harbin = Region.objects.get(code="230100")
    assert Hospital.objects.exclude(region=harbin).exists()
    html = client.get(NEW, {"place": harbin.pk}).content.decode()
    assert listed(html) == {str(harbin.pk)}


def test_a_form_sent_back_lists_the_hospitals_of_the_place_or_hospital_sent(client, demo):
    client.force_login(demo["chenming"])
    hospital = Hospital.objects.get(code="H21010000001")
    # No place sent (an older page, a script): the hospital's own place is listed.
    html = client.post(NEW, {"hospital": hospital.pk, "estimate": "1"}).content.decode()
    assert listed(html) == {str(hospital.region_id)}
    assert re.search(rf'<option value="{hospital.pk}"[^>]*selected', html)
    sanya = Region.objects.get(code="460200")
    html = client.post(NEW, {"place_region": sanya.pk, "estimate": "1"}).content.decode()
    assert listed(html) == {str(sanya.pk)}
