"""Opening a page changes nothing: a link from another site (or in an uploaded PDF) that a
reviewer or a person follows neither reveals an ID number in the reviewer's name nor marks
messages read. The reveal and "Mark all as read" are buttons, sent with the CSRF token."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from hospitals.models import AccessLog
from portal.models import AuditEvent, InsuredPerson, Notification
from tests.signin import staff_login

pytestmark = pytest.mark.django_db

CROSS_SITE = {"HTTP_REFERER": "https://evil.example/page", "HTTP_SEC_FETCH_SITE": "cross-site"}


def _token(page) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]


def _reviewer() -> Client:
    """agency_dxal, signed in (password and TOTP); from then on the client sends no CSRF token
    by itself, as a browser sends none from another site."""
    client = Client()
    staff_login(client, "agency_dxal")
    client.handler.enforce_csrf_checks = True
    return client


def _reveals() -> tuple[int, int]:
    return (
        AuditEvent.objects.filter(action="insured.reveal_id").count(),
        AccessLog.objects.filter(purpose="reveal:admin").count(),
    )


def test_opening_the_reveal_page_shows_the_button_and_reveals_and_records_nothing(demo):
    person = InsuredPerson.objects.get(name="王秀兰")
    client = _reviewer()
    url = reverse("admin:portal_insuredperson_reveal", args=[person.pk])
    page = client.get(url, **CROSS_SITE)
    assert page.status_code == 200
    html = page.content.decode()
    assert person.id_number not in html
    assert '<form method="post">' in html and 'type="submit"' in html
    assert _reveals() == (0, 0)


def test_the_reveal_button_reveals_and_records_the_reveal(demo):
    person = InsuredPerson.objects.get(name="王秀兰")
    client = _reviewer()
    url = reverse("admin:portal_insuredperson_reveal", args=[person.pk])
    token = _token(client.get(url))
    response = client.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert person.id_number in response.content.decode()
    assert _reveals() == (1, 1)


def test_a_reveal_posted_without_the_csrf_token_is_refused_and_records_nothing(demo):
    person = InsuredPerson.objects.get(name="王秀兰")
    client = _reviewer()
    url = reverse("admin:portal_insuredperson_reveal", args=[person.pk])
    response = client.post(url, **CROSS_SITE)
    assert response.status_code == 403
    assert person.id_number not in response.content.decode()
    assert _reveals() == (0, 0)


def _notes(user, n: int) -> list[Notification]:
    return [Notification.objects.create(user=user, subject=f"通知{i}", body="-") for i in range(n)]


def _unread(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def test_opening_the_messages_marks_none_read_and_shows_which_are_unread(demo):
    person = demo["wangxiulan"]
    Notification.objects.filter(user=person).update(read_at=None)
    _notes(person, 3)
    before = _unread(person)
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    page = client.get(reverse("notifications") + "?lang=en", **CROSS_SITE).content.decode()
    assert _unread(person) == before
    assert page.count(">Unread</span>") == min(before, 20)
    assert 'id="mark-read"' in page and "Mark all as read" in page


def test_mark_all_as_read_marks_the_persons_own_messages_and_comes_back(demo):
    person, other = demo["wangxiulan"], demo["lijianguo"]
    _notes(person, 25)
    _notes(other, 2)
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    page = client.get(reverse("notifications"), {"page": 2})
    response = client.post(
        reverse("notifications"), {"csrfmiddlewaretoken": _token(page), "page": "2"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications") + "?page=2"
    assert _unread(person) == 0 and _unread(other) >= 2
    page = client.get(response["Location"]).content.decode()
    assert 'id="mark-read"' not in page and "border-primary" not in page


def test_mark_all_as_read_without_the_csrf_token_is_refused(demo):
    person = demo["wangxiulan"]
    _notes(person, 2)
    before = _unread(person)
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    assert client.post(reverse("notifications"), **CROSS_SITE).status_code == 403
    assert _unread(person) == before
