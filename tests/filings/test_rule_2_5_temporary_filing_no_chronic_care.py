"""domain.md §2.5: outpatient chronic and special diseases are settled elsewhere for a disease
the place of insurance recognised (expert review), on top of a long-term or temporary filing.
A temporary filing is approved at once (§2.4), so it must not cover that care itself: the
person files the chronic disease on its own filing, which the agency reviews."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from filings import services
from filings.messages import message
from filings.models import Filing
from filings.rules import RuleError
from portal.models import InsuredPerson, Region

pytestmark = pytest.mark.django_db


def _harbin() -> Region:
    return Region.objects.select_related("province").get(code="230100")


def _temporary_to_harbin(who: str, **care) -> Filing:
    person = InsuredPerson.objects.get(name=who)
    harbin = _harbin()
    return services.filing_create(
        person=person,
        actor=person.user,
        filing_type="temporary",
        place_province=harbin.province,
        place_region=harbin,
        covers_inpatient=True,
        start_date=timezone.localdate(),
        **care,
    )


def test_rule_2_5_a_temporary_filing_covering_chronic_care_is_refused(demo):
    before = Filing.objects.count()
    with pytest.raises(RuleError) as refused:
        _temporary_to_harbin("陈明", covers_chronic_outpatient=True)
    assert refused.value.code == "chronic_needs_own_filing"
    assert Filing.objects.count() == before
    with translation.override("zh-hans"):
        assert "门诊慢特病备案" in message(refused.value)
    # Without it, the same filing is made (and approved at once when submitted).
    assert not _temporary_to_harbin("陈明").covers_chronic_outpatient


def test_rule_2_5_the_temporary_form_offers_no_chronic_care_and_a_posted_one_is_refused(
    client, demo
):
    client.force_login(demo["chenming"])
    url = reverse("filings:new", args=["temporary"])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'name="care" value="inpatient"' in page
    assert 'value="chronic_outpatient"' not in page
    assert "门诊慢特病" in page  # the help text says where that care is filed
    before = Filing.objects.count()
    response = client.post(
        url,
        {
            "place_region": _harbin().pk,
            "start_date": timezone.localdate().isoformat(),
            "care": ["inpatient", "chronic_outpatient"],
            "submit": "1",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["care"]
    assert Filing.objects.count() == before


def test_rule_2_5_the_chronic_filing_on_top_of_a_temporary_one_still_works(demo):
    """刘芳's temporary filing to Harbin is the base of a chronic disease filing there."""
    liu = Filing.objects.get(person__name="刘芳", type="temporary").person
    harbin = _harbin()
    chronic = services.filing_create(
        person=liu,
        actor=liu.user,
        filing_type="chronic_outpatient",
        place_province=harbin.province,
        place_region=harbin,
        covers_chronic_outpatient=True,
        disease="2型糖尿病",
        start_date=timezone.localdate(),
    )
    assert chronic.covers_chronic_outpatient and chronic.status == "draft"
