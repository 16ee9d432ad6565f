"""domain.md §2.1, a draft by commitment submitted from its own page: the server checks the
form (errors in the page's language, not the browser's), and a draft that already holds a
proof of residence is submitted with the proof materials, so it asks for no promise."""

import re

import pytest
from django.urls import reverse

from filings import services
from filings.models import Filing
from portal.models import AuditEvent
from tests.filings.test_commitment_choice import chens_filing, long_term, png

pytestmark = pytest.mark.django_db


def _draft(client) -> Filing:
    client.post(
        reverse("filings:new", args=["long_term"]), long_term(basis="commitment", draft="1")
    )
    filing = chens_filing()
    assert (filing.status, filing.basis) == ("draft", "commitment")
    return filing


def _attach(client, filing: Filing, *kinds: str) -> None:
    url = reverse("filings:detail", args=[filing.number])
    for kind in kinds:
        client.post(url, {"action": "upload", "kind": kind, "files": [png(f"{kind}.png")]})
    assert filing.materials.count() == len(kinds)


def _submit_form(page: str) -> str:
    form = re.search(
        r'<form [^>]*>(?:(?!</form>).)*name="action" value="submit".*?</form>', page, re.S
    )
    assert form is not None
    return form.group(0)


def test_the_submit_form_is_checked_by_the_server_in_the_pages_language(client, demo):
    client.force_login(demo["chenming"])
    filing = _draft(client)
    url = reverse("filings:detail", args=[filing.number])
    form = _submit_form(client.get(url).content.decode())
    assert "novalidate" in form.split(">", 1)[0]
    assert re.search(r'<input [^>]*name="promise"[^>]*required', form)  # still said to be needed
    page = client.post(url, {"action": "submit"}, follow=True).content.decode()
    assert "承诺" in page and 'class="alert alert-danger' in page  # refused, in Chinese
    assert Filing.objects.get(pk=filing.pk).status == "draft"


def test_rule_2_1_a_draft_by_commitment_with_a_proof_attached_asks_for_no_promise(client, demo):
    client.force_login(demo["chenming"])
    filing = _draft(client)
    _attach(client, filing, "household_register", "id_copy", "social_security_copy")
    url = reverse("filings:detail", args=[filing.number])
    form = _submit_form(client.get(url).content.decode())
    assert "novalidate" in form.split(">", 1)[0]
    assert 'name="promise"' not in form
    assert 'id="promise-not-needed"' in form and "证明材料" in form
    # Sent without a promise: submitted with the proof materials.
    client.post(url, {"action": "submit"})
    filing.refresh_from_db()
    assert (filing.status, filing.basis) == ("submitted", "materials")
    assert AuditEvent.objects.filter(
        object_id=str(filing.pk), action="filing.update", reason="proof_attached"
    ).exists()


def test_an_id_copy_alone_keeps_the_promise_asked_for(client, demo):
    client.force_login(demo["chenming"])
    filing = _draft(client)
    _attach(client, filing, "id_copy")
    page = client.get(reverse("filings:detail", args=[filing.number])).content.decode()
    assert 'name="promise"' in _submit_form(page)
    assert 'id="promise-not-needed"' not in page


def test_rule_2_1_a_proof_attached_is_submitted_without_the_promise_it_makes_moot(client, demo):
    client.force_login(demo["chenming"])
    filing = _draft(client)
    _attach(client, filing, "residence_certificate", "id_copy", "social_security_copy")
    submitted = services.filing_submit(filing=filing, actor=demo["chenming"], promised=False)
    assert (submitted.status, submitted.basis) == ("submitted", "materials")
