"""domain.md §2.1, the long-term filing's proof: the proof materials or the written commitment.

Nothing is chosen for the person; a commitment is promised in writing, in the words the filing
form prints; and a proof of residence attached to a filing by commitment makes it a filing with
proof materials, so it is neither one-way nor revoked at a deadline with the proof on file."""

import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image
from pypdf import PdfReader

from filings import documents, jobs, services
from filings import forms as filing_forms
from filings.forms import FilingForm
from filings.models import Filing
from filings.rules import RuleError
from portal.models import AuditEvent, InsuredPerson, Region

pytestmark = pytest.mark.django_db

SOON = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def png(name="scan.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def long_term(**fields) -> dict:
    """陈明's long-term filing form (insured in Shenyang, to Harbin: no hospitals to choose)."""
    return {
        "place_region": Region.objects.get(code="230100").pk,
        "subtype": "long_term_resident",
        "start_date": SOON,
        "care": ["inpatient", "general_outpatient"],
        **fields,
    }


def chens_filing() -> Filing:
    return Filing.objects.get(person__name="陈明", type="long_term")


def test_long_term_form_chooses_no_proof_for_the_person(client, demo):
    client.force_login(demo["chenming"])
    page = client.get(reverse("filings:new", args=["long_term"])).content.decode()
    radios = re.findall(r'<input type="radio"[^>]* name="basis"[^>]*>', page)
    assert len(radios) == 2 and not any("checked" in r for r in radios)
    response = client.post(reverse("filings:new", args=["long_term"]), long_term(), **EN)
    assert response.status_code == 200
    assert response.context["form"].errors["basis"] == [
        "Choose how you prove your residence: the proof materials or the commitment."
    ]
    assert not Filing.objects.filter(person__name="陈明").exists()


def test_rule_2_1_proof_attached_to_a_commitment_filing_submits_it_with_proof_materials(
    client, demo
):
    client.force_login(demo["chenming"])
    response = client.post(
        reverse("filings:new", args=["long_term"]),
        long_term(
            basis="commitment",
            promise="on",
            material_kind="household_register",
            files=[png("IMG_2041.png")],
            file_id_copy=[png("id.png")],
            file_social_security_copy=[png("card.png")],
            submit="1",
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    filing = chens_filing()
    assert (filing.status, filing.basis) == ("submitted", "materials")
    assert AuditEvent.objects.filter(
        object_id=str(filing.pk), action="filing.update", reason="proof_attached"
    ).exists()
    services.filing_approve(filing=filing, actor=demo["agency_shenyang"])
    filing.refresh_from_db()
    assert (filing.commitment_deadline, filing.two_way) == (None, True)
    page = client.get(reverse("filings:detail", args=[filing.number])).content.decode()
    assert 'id="basis-from-commitment"' in page and "证明材料" in page
    assert 'id="countdown"' not in page and 'id="still-owed"' not in page
    # Six months and more later nothing is due: the proof was given with the filing.
    later = timezone.localdate() + datetime.timedelta(days=200)
    assert jobs.apply_changes(later, ids=[filing.pk]).get("revoke_commitment", 0) == 0
    filing.refresh_from_db()
    assert filing.status == "approved"


def test_rule_2_1_commitment_with_a_proof_but_no_copies_names_the_copies_still_missing(
    client, demo
):
    client.force_login(demo["chenming"])
    response = client.post(
        reverse("filings:new", args=["long_term"]),
        long_term(
            basis="commitment",
            promise="on",
            material_kind="household_register",
            files=[png("IMG_2041.png")],
        ),
        **EN,
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "ID card copy" in str(errors["file_id_copy"])
    assert "Social security card copy" in str(errors["file_social_security_copy"])
    assert not Filing.objects.filter(person__name="陈明").exists()  # nothing filed


def test_rule_2_1_commitment_is_submitted_as_such_without_a_proof(demo):
    person = InsuredPerson.objects.get(name="陈明")
    filing = services.filing_create(
        person=person,
        actor=demo["chenming"],
        filing_type="long_term",
        place_region=Region.objects.get(code="230100"),
        subtype="long_term_resident",
        basis="commitment",
        start_date=timezone.localdate(),
    )
    with pytest.raises(RuleError) as refused:
        services.filing_submit(filing=filing, actor=demo["chenming"], promised=False)
    assert (refused.value.code, refused.value.params["fields"]) == ("incomplete", ["promise"])
    submitted = services.filing_submit(filing=filing, actor=demo["chenming"], promised=True)
    assert (submitted.status, submitted.basis) == ("submitted", "commitment")


def test_rule_2_1_commitment_is_promised_in_the_words_the_filing_form_prints(client, demo):
    client.force_login(demo["chenming"])
    url = reverse("filings:new", args=["long_term"])
    with translation.override("zh-hans"):
        promise = str(filing_forms.PROMISE % {"n": 6})
    assert promise in client.get(url).content.decode()  # the label of the box to tick
    response = client.post(url, long_term(basis="commitment"), **EN)
    assert response.status_code == 200
    assert response.context["form"].errors["promise"] == [
        "Tick the box to make the commitment, or choose the proof materials."
    ]
    assert not Filing.objects.filter(person__name="陈明").exists()
    response = client.post(url, long_term(basis="commitment", promise="on"))
    assert response.status_code == 302, response.context["form"].errors
    filing = chens_filing()
    assert (filing.status, filing.basis) == ("submitted", "commitment")
    # The filing form printed before approval carries the same promise.
    printed = "".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(documents.render(filing, "filing_form"))).pages
    )
    assert re.sub(r"\s", "", promise) in re.sub(r"\s", "", printed)


def test_a_draft_by_commitment_is_submitted_from_its_page_with_the_promise_to_tick(client, demo):
    client.force_login(demo["chenming"])
    client.post(
        reverse("filings:new", args=["long_term"]),
        long_term(basis="commitment", draft="1"),
    )
    filing = chens_filing()
    assert filing.status == "draft"
    page = client.get(reverse("filings:detail", args=[filing.number])).content.decode()
    box = re.search(r'<input [^>]*name="promise"[^>]*>', page)
    assert box is not None and "required" in box.group(0)
    with translation.override("zh-hans"):
        assert str(filing_forms.PROMISE % {"n": 6}) in page


def test_rule_2_1_a_promise_ticked_in_a_saved_draft_is_still_ticked_when_it_comes_back(
    client, demo
):
    client.force_login(demo["chenming"])
    client.post(
        reverse("filings:new", args=["long_term"]),
        long_term(basis="commitment", promise="on", draft="1"),
    )
    filing = chens_filing()
    assert (filing.status, filing.promised) == ("draft", True)
    page = client.get(reverse("filings:detail", args=[filing.number])).content.decode()
    box = re.search(r'<input [^>]*name="promise"[^>]*>', page)
    assert box is not None and "checked" in box.group(0)
    edit = client.get(reverse("filings:edit", args=[filing.number]))
    assert edit.context["form"]["promise"].value() is True
    # Unticked and saved again: no longer promised, and the page asks for the tick.
    client.post(
        reverse("filings:edit", args=[filing.number]), long_term(basis="commitment", draft="1")
    )
    filing.refresh_from_db()
    assert filing.promised is False
    page = client.get(reverse("filings:detail", args=[filing.number])).content.decode()
    assert "checked" not in re.search(r'<input [^>]*name="promise"[^>]*>', page).group(0)
    # Submitted from its page with the box ticked: the filing records the promise.
    client.post(
        reverse("filings:detail", args=[filing.number]), {"action": "submit", "promise": "1"}
    )
    filing.refresh_from_db()
    assert (filing.status, filing.basis, filing.promised) == ("submitted", "commitment", True)


def test_the_form_shows_each_upload_after_the_field_it_belongs_to(demo):
    person = InsuredPerson.objects.get(name="陈明")
    emergency = list(FilingForm(filing_type="emergency", person=person).fields)
    assert emergency == FilingForm.FIELDS["emergency"]
    assert emergency.index("files") > emergency.index("receiving_hospital")
    chronic = list(FilingForm(filing_type="chronic_outpatient", person=person).fields)
    assert chronic.index("disease") < chronic.index("material_kind") < chronic.index("files")


def test_a_chronic_disease_filing_is_given_a_diagnosis_certificate_first(client, demo):
    person = InsuredPerson.objects.get(name="陈明")
    form = FilingForm(filing_type="chronic_outpatient", person=person)
    kinds = [k for k, _label in form.fields["material_kind"].choices]
    assert kinds[0] == "diagnosis_certificate" and "household_register" not in kinds
