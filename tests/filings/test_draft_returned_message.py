""" "Save as draft" sends nothing, from whichever state the edit form saves: a returned filing
saved so stays returned, and the message says it was saved and not sent (not "Submitted")."""

import pytest
from django.urls import reverse

from filings import services
from filings.models import Filing
from portal.models import Region
from tests.filings.test_views import SOON

pytestmark = pytest.mark.django_db
FORM = {
    "subtype": "long_term_resident",
    "start_date": SOON,
    "care": ["inpatient", "general_outpatient"],
    "basis": "commitment",
    "promise": "on",
}


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _saved(client, filing: Filing, form: dict) -> list[str]:
    client.get(reverse("filings:detail", args=[filing.number]))  # earlier messages shown
    response = client.post(
        reverse("filings:edit", args=[filing.number]), {**form, "draft": "1"}, follow=True
    )
    return _messages(response)


def _filed(client, demo, **extra) -> tuple[Filing, dict]:
    client.force_login(demo["chenming"])
    form = {**FORM, "place_region": Region.objects.get(code="230100").pk}
    client.post(reverse("filings:new", args=["long_term"]), {**form, **extra})
    return Filing.objects.get(person__name="陈明"), form


def test_rule_2_6_a_returned_filing_saved_as_draft_is_said_saved_not_submitted(client, demo):
    filing, form = _filed(client, demo)
    services.filing_return(filing=filing, actor=demo["agency_shenyang"], reason="请核对居住地")
    said = _saved(client, filing, form)
    filing.refresh_from_db()
    assert filing.status == "returned"
    assert said == ["已保存，尚未提交：您提交备案后，经办机构才能看到这些修改。"]
    assert not any("已提交" in m for m in said)


def test_a_draft_saved_again_is_said_saved_as_a_draft(client, demo):
    filing, form = _filed(client, demo, draft="1")
    assert filing.status == "draft"
    said = _saved(client, filing, form)
    filing.refresh_from_db()
    assert filing.status == "draft"
    assert said == ["已保存为草稿。"]
