"""A date input (`<input type="date">`) takes its value only as YYYY-MM-DD: a form's date is
rendered so in every language, else the Chinese page (whose first date format is 2026/11/25)
shows the field empty and loses its default, as the admin's "record the start of treatment"
did."""

import datetime
import importlib
import re

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone, translation

from filings.admin import ExtendForm
from filings.forms import StartTreatmentForm
from filings.models import Filing
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 11, 25)
# The modules whose forms take dates.
MODULES = [
    "filings.forms",
    "filings.admin",
    "settlement.forms",
    "settlement.admin",
    "hospitals.eligibility_views",
    "hospitals.referral_views",
    "portal.forms",
]


def _value(html: str, name: str) -> str | None:
    tag = re.search(rf'<input [^>]*name="{name}"[^>]*>', html)
    assert tag is not None, name
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_admins_start_of_treatment_shows_today_in_iso(client, demo, language):
    staff_login(client, "agency_dxal")
    client.cookies["django_language"] = language
    referral = Filing.objects.get(number="ZZ232700000001")
    page = client.post(
        reverse("admin:filings_filing_changelist"),
        {"action": "start_treatment", "_selected_action": [referral.pk]},
    )
    html = page.content.decode()
    assert page.status_code == 200 and f'<html lang="{language}"' in html
    assert _value(html, "started_on") == timezone.localdate().isoformat()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_extension_and_start_forms_render_their_dates_in_iso(language):
    with translation.override(language):
        start = str(StartTreatmentForm(initial={"started_on": DAY})["started_on"])
        extend = str(ExtendForm(initial={"until": DAY})["until"])
    assert _value(start, "started_on") == "2026-11-25"
    assert _value(extend, "until") == "2026-11-25"


def _date_inputs():
    """Each date input of the portal's form classes, by where it is declared."""
    for module in MODULES:
        importlib.import_module(module)
    apps = {module.split(".")[0] for module in MODULES}
    seen, todo = set(), [forms.BaseForm]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] not in apps:
            continue
        for name, field in getattr(cls, "base_fields", {}).items():
            widget = field.widget
            if isinstance(widget, forms.DateInput) and widget.input_type == "date":
                yield f"{cls.__module__}.{cls.__qualname__}.{name}", widget


def test_every_date_input_of_the_portals_forms_renders_iso_in_chinese():
    inputs = dict(_date_inputs())
    assert "filings.forms.StartTreatmentForm.started_on" in inputs
    with translation.override("zh-hans"):
        wrong = [
            where
            for where, widget in inputs.items()
            if f'value="{DAY:%Y-%m-%d}"' not in widget.render("d", DAY)
        ]
    assert wrong == []
