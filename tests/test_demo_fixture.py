"""The shared demo (tests/conftest.py): every test that asks for it starts from the demo as
seeded, whatever the test before it changed, and no other test sees it."""

from __future__ import annotations

import pytest

from hospitals.models import Hospital
from portal.models import InsuredPerson

pytestmark = pytest.mark.django_db
CODE = "H23010300001"


def test_a_test_changes_the_demo(demo):
    assert Hospital.objects.filter(code=CODE).exists()
    Hospital.objects.filter(code=CODE).update(name="改名")
    InsuredPerson.objects.filter(name="陈明").delete()


def test_the_next_test_starts_from_the_demo_as_seeded(demo):
    assert Hospital.objects.get(code=CODE).name == "哈尔滨医科大学附属第一医院"
    assert InsuredPerson.objects.filter(name="陈明").exists()


def test_a_test_without_the_demo_sees_none_of_it(db):
    assert not Hospital.objects.exists()
    assert not InsuredPerson.objects.exists()


def test_the_demo_is_back_for_the_test_after(demo, settings):
    assert Hospital.objects.filter(code=CODE).exists()
    # Its accounts are this test's own objects, read again.
    assert demo["chenming"].username == "chenming"
