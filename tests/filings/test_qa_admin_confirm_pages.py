"""The intermediate pages of the filings' list actions: the files a decision on supplemented
materials is about open from the confirmation page, and each page has a way back to the list
(with its filters) that does nothing."""

import re

import pytest
from django.urls import reverse

from filings.models import Filing, Material
from tests.filings.test_supplement_review import NUMBER, changelist, supply
from tests.signin import staff_login

pytestmark = pytest.mark.django_db


def test_the_accept_materials_confirmation_links_each_file_to_its_preview(client, demo):
    filing = Filing.objects.get(number=NUMBER)
    supply(client, demo)
    staff_login(client, "agency_shenyang")
    page = client.post(
        changelist(), {"action": "accept_materials", "_selected_action": filing.pk}
    ).content.decode()
    for material in Material.objects.filter(filing=filing):
        url = reverse("filings:material", args=[material.pk])
        assert re.search(rf'<a href="{re.escape(url)}"[^>]*>[^<]*{material.original_name}', page)
    filing.refresh_from_db()
    assert filing.materials_accepted_at is None


@pytest.mark.parametrize(
    ("number", "action"),
    [(NUMBER, "accept_materials"), (NUMBER, "refuse_materials"), ("BA210100000002", "reject")],
)
def test_the_confirmation_and_reason_pages_have_a_cancel_link_back_to_the_filtered_list(
    client, demo, number, action
):
    filing = Filing.objects.get(number=number)
    supply(client, demo)
    staff_login(client, "agency_shenyang")
    listed = f"{changelist()}?status__exact={filing.status}"
    page = client.post(listed, {"action": action, "_selected_action": filing.pk}).content.decode()
    assert 'name="apply"' in page
    link = re.search(r'<a href="([^"]+)" class="button cancel-link">([^<]+)</a>', page)
    assert link and link[2] == "取消，返回列表"
    assert link[1].replace("&amp;", "&") == listed
