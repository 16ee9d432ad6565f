"""A hospital's settlement page (/hospitals/settlements/<number>/) as a clerk reads it: every
amount grouped as the totals are ("6,910.85", not "6910.85"), the person's share broken down
too, in both languages."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from hospitals.models import Hospital
from portal.templatetags.portal_tags import yuan
from settlement import services

pytestmark = pytest.mark.django_db
H1 = "H23010300001"
ZHANG = ("232721197811200177", "张伟")  # referred to H1: settled there
ITEMS = [
    {"code": "X1", "name": "住院费", "class": "A", "amount": "6910.85"},
    {"code": "X2", "name": "自费药品", "class": "C", "amount": "1358.45"},
]


def _settle():
    today = datetime.date.today()
    return services.settle(
        hospital_id=Hospital.objects.get(code=H1).pk,
        api_key_id=None,
        payload={
            "id_number": ZHANG[0],
            "name": ZHANG[1],
            "visit": {
                "care_type": "inpatient",
                "admitted_on": today - datetime.timedelta(days=3),
                "discharged_on": today,
            },
            "items": ITEMS,
        },
    ).settlement


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_every_amount_on_a_hospitals_settlement_page_is_grouped(client, demo, lang):
    settlement = _settle()
    client.force_login(demo[f"hosp_{H1.lower()}"])
    client.cookies["django_language"] = lang
    page = client.get(reverse("hospital-settlement", args=[settlement.number])).content.decode()
    assert "6,910.85" in page and "1,358.45" in page
    assert "6910.85" not in page and "1358.45" not in page
    parts = list(settlement.breakdown.values())
    assert parts
    for amount in parts:
        assert f">{yuan(amount)}</dd>" in page
