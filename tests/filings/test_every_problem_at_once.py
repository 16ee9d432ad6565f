"""A filing that breaks several rules is refused with all of them at once, each beside its own
field, so a person on a phone fixes everything in one go instead of learning of one problem
per submission (filings.services.check_filing, filings.rules.RuleError.also)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from filings import services
from filings.models import Filing
from filings.rules import RuleError
from portal.models import InsuredPerson, Region
from tests.filings.test_commitment_choice import EN, long_term

pytestmark = pytest.mark.django_db


def _chens_draft(filing_type: str, place: str, **fields) -> Filing:
    """陈明's filing as a form would save it, not saved."""
    chen = InsuredPerson.objects.select_related("region__province", "user").get(name="陈明")
    region = Region.objects.select_related("province").get(code=place)
    return Filing(
        person=chen,
        insured_region=chen.region,
        type=filing_type,
        status="draft",
        place_province=region.province,
        place_region=region,
        **fields,
    )


def test_rule_2_1_a_non_retired_resettlement_without_materials_is_told_both_at_once(demo):
    draft = _chens_draft(
        "long_term",
        "230100",
        subtype="resettled_retiree",
        basis="materials",
        start_date=timezone.localdate() + datetime.timedelta(days=7),
    )
    with pytest.raises(RuleError) as refused:
        services.check_filing(draft, complete=True)
    codes = [e.code for e in refused.value.every()]
    assert refused.value.code == "not_retired"  # the first, as before
    assert codes == ["not_retired", "materials_incomplete"]


def test_the_place_refused_leaves_out_what_depends_on_it(demo):
    draft = _chens_draft("temporary", "210100", subtype="no_such_purpose")  # his own region
    with pytest.raises(RuleError) as refused:
        services.check_filing(draft)
    assert [e.code for e in refused.value.every()] == ["same_region", "subtype_not_for_type"]


def test_the_form_says_every_problem_beside_its_field_in_one_answer(client, demo):
    client.force_login(demo["chenming"])
    response = client.post(
        reverse("filings:new", args=["long_term"]),
        long_term(subtype="resettled_retiree", basis="materials"),
        **EN,
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "subtype" in errors  # not retired
    assert any("household register" in e.lower() or "proof" in e.lower() for e in errors["files"])
    assert not Filing.objects.filter(person__name="陈明").exists()


def test_a_submission_from_the_filings_page_names_every_problem(client, demo):
    client.force_login(demo["chenming"])
    client.post(
        reverse("filings:new", args=["long_term"]),
        long_term(subtype="long_term_resident", basis="materials", draft="1"),
    )
    filing = Filing.objects.get(person__name="陈明")
    InsuredPerson.objects.filter(name="陈明").update(retired=False)
    Filing.objects.filter(pk=filing.pk).update(subtype="resettled_retiree")
    page = client.post(
        reverse("filings:detail", args=[filing.number]), {"action": "submit"}, follow=True, **EN
    )
    said = " ".join(str(m) for m in page.context["messages"])
    assert "retire" in said.lower()
    assert "Edit the filing to add them" in said  # the materials too, with the link
    filing.refresh_from_db()
    assert filing.status == "draft"


def test_rule_2_1_the_form_says_before_the_choice_that_resettlement_needs_a_retired_record(
    client, demo
):
    url = reverse("filings:new", args=["long_term"])
    client.force_login(demo["chenming"])  # not retired in the agency's record
    assert "ask your agency to update your record" in client.get(url, **EN).content.decode()
    InsuredPerson.objects.filter(name="陈明").update(retired=True)  # the agency records it
    page = client.get(url, **EN)
    assert page.status_code == 200 and 'name="subtype"' in page.content.decode()
    assert "ask your agency to update your record" not in page.content.decode()
