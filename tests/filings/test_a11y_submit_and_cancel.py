"""The person's filing page: a draft submitted with fields still missing says so in a message
that is focused on load (static/js/portal.js) and links to the form where they are filled in;
the page's forms are checked by the server (`novalidate`), whose errors stand beside the fields
in the page's language."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from filings.models import Filing
from tests.filings.test_filing_pages import draft_of_chen

pytestmark = pytest.mark.django_db


def _alerts(html: str) -> list[str]:
    alert = r'<div class="alert alert-danger"[^>]*role="alert"[^>]*>.*?</div>'
    return re.findall(alert, html, re.S)


def test_submitting_an_incomplete_draft_focuses_what_is_missing_with_a_link_to_the_form(
    client, demo
):
    filing = draft_of_chen(client, demo)
    detail = reverse("filings:detail", args=[filing.number])
    html = client.post(detail, {"action": "submit"}, follow=True).content.decode()
    (alert,) = _alerts(html)
    assert "data-focus-on-load" in alert
    assert "提交前请填写" in alert
    edit = reverse("filings:edit", args=[filing.number])
    assert f'<a class="alert-link" href="{edit}">修改备案，补充以上内容</a>' in alert
    assert Filing.objects.get(pk=filing.pk).status == "draft"


def test_an_ordinary_page_focuses_no_message(client, demo):
    filing = draft_of_chen(client, demo)
    html = client.get(reverse("filings:detail", args=[filing.number])).content.decode()
    assert "data-focus-on-load" not in html


def test_the_cancel_form_is_checked_by_the_server_beside_its_fields(client, demo):
    filing = draft_of_chen(client, demo)
    detail = reverse("filings:detail", args=[filing.number])
    html = client.get(detail).content.decode()
    cancel = html[html.index('id="cancel"') :]
    assert re.search(r"<form [^>]*novalidate", cancel)
    response = client.post(detail, {"action": "cancel", "reason": " "})
    assert response.status_code == 200
    html = response.content.decode()
    # Each field refused beside itself, in Chinese, and the form's summary focused.
    for name in ("reason", "confirm"):
        field = re.search(rf'<(?:textarea|input) [^>]*id="id_{name}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in field and f'aria-describedby="id_{name}_error' in field
    assert "请勾选确认：备案取消后不能恢复。" in html
    assert "form-errors-summary" in html
    assert Filing.objects.get(pk=filing.pk).status == "draft"
