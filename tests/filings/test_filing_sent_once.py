"""A new filing's form sent twice (Back then Submit, two taps at once, "Save as draft" twice)
makes one filing; the second post shows the first (filings.views._SentOnce)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from filings.models import Filing
from hospitals.models import Hospital
from portal.models import Region

pytestmark = pytest.mark.django_db


def _form_token(client, filing_type: str) -> str:
    html = client.get(reverse("filings:new", args=[filing_type])).content.decode()
    return re.search(r'name="kept_files" value="([^"]+)"', html).group(1)


def _emergency(token: str, **extra) -> dict:
    harbin = Region.objects.get(code="230100")
    hospital = Hospital.objects.filter(region=harbin, suspended_on__isnull=True).first()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    return {
        "kept_files": token,
        "place_region": harbin.pk,
        "receiving_hospital": hospital.pk,
        "transfer_date": yesterday.isoformat(),
        "diagnosis": "急性心肌梗死",
        **extra,
    }


def _mine(demo, username: str):
    return Filing.objects.filter(person__user=demo[username])


def test_an_emergency_form_sent_again_after_back_shows_the_first_filing(client, demo):
    client.force_login(demo["sunguoqiang"])
    before = _mine(demo, "sunguoqiang").count()
    url = reverse("filings:new", args=["emergency"])
    token = _form_token(client, "emergency")
    first = client.post(url, _emergency(token, submit="1"))
    assert first.status_code == 302
    filing = _mine(demo, "sunguoqiang").order_by("-id").first()
    assert first["Location"] == reverse("filings:detail", args=[filing.number])
    # Back, the form still filled in, Submit again: the same form, the same token.
    again = client.post(url, _emergency(token, submit="1"), follow=True)
    assert _mine(demo, "sunguoqiang").count() == before + 1
    assert again.redirect_chain[-1][0] == reverse("filings:detail", args=[filing.number])
    html = again.content.decode()
    assert "已提交过" in html and f'href="/filings/{filing.number}/"' in html


def test_save_as_draft_twice_makes_one_draft(client, demo):
    client.force_login(demo["sunguoqiang"])
    before = _mine(demo, "sunguoqiang").count()
    url = reverse("filings:new", args=["emergency"])
    token = _form_token(client, "emergency")
    data = {
        "kept_files": token,
        "place_region": Region.objects.get(code="230100").pk,
        "draft": "1",
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302
    assert _mine(demo, "sunguoqiang").count() == before + 1


def test_a_second_post_while_the_first_is_being_handled_files_nothing(client, demo):
    """Two posts at once: the one that claims the form files; the other (here, the claim is
    already taken) is told so and files nothing."""
    from filings.views import _SentOnce

    client.force_login(demo["sunguoqiang"])
    before = _mine(demo, "sunguoqiang").count()
    url = reverse("filings:new", args=["emergency"])
    token = _form_token(client, "emergency")

    class Request:
        user = demo["sunguoqiang"]

    assert _SentOnce(Request, "emergency", token).claim()  # the first post, not finished yet
    response = client.post(url, _emergency(token, submit="1"), follow=True)
    assert _mine(demo, "sunguoqiang").count() == before
    assert response.redirect_chain[-1][0] == reverse("filings:list")
    assert "正在提交" in response.content.decode()


def test_a_form_refused_by_a_rule_can_be_corrected_and_sent(client, demo):
    """The token is claimed only by a post that files: one the rules refused is sent again."""
    client.force_login(demo["sunguoqiang"])
    before = _mine(demo, "sunguoqiang").count()
    url = reverse("filings:new", args=["emergency"])
    token = _form_token(client, "emergency")
    bad = client.post(url, _emergency(token, submit="1", diagnosis=""))
    assert bad.status_code == 200
    assert client.post(url, _emergency(token, submit="1")).status_code == 302
    assert _mine(demo, "sunguoqiang").count() == before + 1


def test_two_renderings_of_the_form_make_two_filings(client, demo):
    """Opening the form afresh is a new form: the person may file twice on purpose."""
    client.force_login(demo["sunguoqiang"])
    before = _mine(demo, "sunguoqiang").count()
    url = reverse("filings:new", args=["emergency"])
    harbin = Region.objects.get(code="230100").pk
    for _ in range(2):
        token = _form_token(client, "emergency")
        data = {"kept_files": token, "place_region": harbin, "draft": "1"}
        assert client.post(url, data).status_code == 302
    assert _mine(demo, "sunguoqiang").count() == before + 2
