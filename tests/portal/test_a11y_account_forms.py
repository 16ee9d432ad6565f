"""Sign-up and sign-in are checked by the server, not by the browser (`novalidate`): the
browser's bubbles speak its own language, one field at a time; the server's errors stand beside
each field in the page's language. The name says its purpose (WCAG 1.3.5)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _form(html: str, action: str) -> str:
    return re.search(rf'<form [^>]*action="{re.escape(action)}"[^>]*>', html).group(0)


@pytest.mark.parametrize("page", ["account_signup", "account_login"])
def test_the_account_forms_are_checked_by_the_server(client, page):
    url = reverse(page)
    assert "novalidate" in _form(client.get(url).content.decode(), url)


def test_the_signup_name_is_marked_as_a_persons_name():
    from portal.forms import InsuredSignupForm

    html = str(InsuredSignupForm()["name"])
    assert 'autocomplete="name"' in html


def test_the_signup_page_offers_the_name_for_autofill(client):
    html = client.get(reverse("account_signup")).content.decode()
    field = re.search(r'<input [^>]*name="name"[^>]*>', html).group(0)
    assert 'autocomplete="name"' in field


def test_a_signup_the_browser_would_have_stopped_is_refused_beside_each_field(client):
    response = client.post(
        reverse("account_signup"), {"email": "not-an-email", "username": "", "name": ""}
    )
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("email", "username", "name", "id_number", "password1"):
        field = re.search(rf'<(?:input|select) [^>]*name="{name}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in field, name
    assert "请输入合法的邮件地址。" in html
    assert 'value="not-an-email"' in html


def test_an_empty_sign_in_is_refused_beside_each_field(client):
    response = client.post(reverse("account_login"), {"login": "", "password": ""})
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("login", "password"):
        field = re.search(rf'<input [^>]*name="{name}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in field, name
    assert "该字段是必填项。" in html
