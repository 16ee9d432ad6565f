"""Choosing hospitals on a phone: once the place is known only its hospitals are listed (and,
with JavaScript, at once when it is chosen), and the form says whether the person's own region
asks for a choice at all (domain.md §2.1)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from filings.models import Filing
from hospitals.models import Hospital
from portal.models import Region
from tests.browser import browser_page, sign_in

pytestmark = pytest.mark.django_db
WANG = "BA232700000001"


def _listed(html: str, name: str) -> set[str]:
    """The hospital codes a form lists for field `name`."""
    if name == "hospitals":
        pattern = r'name="hospitals" value="(\d+)"'
    else:
        pattern = r'<option value="(\d+)" data-region'
    ids = {int(pk) for pk in re.findall(pattern, html)}
    return set(Hospital.objects.filter(pk__in=ids).values_list("region__code", flat=True))


def test_a_form_sent_back_lists_only_the_hospitals_of_the_place_chosen(client, demo):
    Filing.objects.filter(number=WANG).update(status="cancelled")
    client.force_login(demo["wangxiulan"])
    url = reverse("filings:new", args=["long_term"])
    # A fresh form lists none: the place is chosen first.
    assert _listed(client.get(url).content.decode(), "hospitals") == set()
    sanya = Region.objects.get(code="460200")
    response = client.post(url, {"place_region": sanya.pk, "submit": "1"})  # errors: re-rendered
    assert response.status_code == 200
    assert _listed(response.content.decode(), "hospitals") == {"460200"}


def test_editing_a_draft_lists_the_hospitals_of_its_place(client, demo):
    client.force_login(demo["zhaoli"])
    harbin = Region.objects.get(code="230100")
    response = client.post(
        reverse("filings:new", args=["emergency"]), {"place_region": harbin.pk, "draft": "1"}
    )
    assert response.status_code == 302
    draft = Filing.objects.get(person__name="赵丽", type="emergency")
    html = client.get(reverse("filings:edit", args=[draft.number])).content.decode()
    assert _listed(html, "receiving_hospital") == {"230100"}


@pytest.mark.parametrize(
    ("username", "said"),
    [
        ("wangxiulan", "要求在居住地选择不超过 3 家二级及以上公立综合医院"),
        ("chenming", "不要求选择定点医疗机构"),
    ],
)
def test_rule_2_1_the_form_says_whether_the_persons_region_asks_for_hospitals(
    client, demo, username, said
):
    Filing.objects.filter(number=WANG).update(status="cancelled")
    client.force_login(demo[username])
    html = client.get(reverse("filings:new", args=["long_term"])).content.decode()
    assert said in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_on_a_phone_choosing_the_place_shows_only_its_hospitals(live_server):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    Filing.objects.filter(number=WANG).update(status="cancelled")
    sanya = Region.objects.get(code="460200")
    with browser_page(375, 740) as page:
        sign_in(page, live_server.url, "wangxiulan")
        page.goto(f"{live_server.url}/filings/new/long_term/")
        visible = (
            "[...document.querySelectorAll('input[name=hospitals]')]"
            ".filter(e => e.offsetParent).map(e => e.dataset.region)"
        )
        assert page.evaluate(visible) == []  # none before the place is chosen
        page.select_option("select[name=place_region]", value=str(sanya.pk))
        page.wait_for_selector("input[name=hospitals]")
        assert set(page.evaluate(visible)) == {str(sanya.pk)}


@pytest.mark.django_db
def test_rule_2_1_a_region_without_a_choice_offers_no_hospitals_to_choose(client, demo):
    """Liaoning's measures ask for no hospital choice (max_hospitals 0): the long-term form of
    a person insured there offers no boxes the rules would refuse; Daxinganling's does."""
    from filings.forms import FilingForm
    from portal.models import InsuredPerson

    shenyang = InsuredPerson.objects.get(name="陈明")  # insured in Shenyang (Liaoning)
    daxinganling = InsuredPerson.objects.get(name="张伟")  # insured in Daxinganling
    assert "hospitals" not in FilingForm(filing_type="long_term", person=shenyang).fields
    assert "hospitals" in FilingForm(filing_type="long_term", person=daxinganling).fields
    client.force_login(shenyang.user)
    page = client.get("/filings/new/long_term/").content.decode()
    assert 'name="hospitals"' not in page
