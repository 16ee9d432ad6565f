"""The verify page lists the chosen hospitals as the rest of the portal writes a hospital:
"名称（代码）" in Chinese, "Name (CODE)" in English, one per line."""

import pytest
from django.urls import reverse

from filings import documents
from tests.filings.test_documents import filing, place  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _hospitals(client, filing, **headers) -> str:  # noqa: F811
    token = documents.make_token(documents.CERTIFICATE, filing.number)
    page = client.get(reverse("verify-page", args=[token]), **headers).content.decode()
    return page.split('id="verified-hospitals">', 1)[1].split("</dd>", 1)[0]


def test_chosen_hospitals_read_with_full_width_brackets_one_per_line_in_chinese(client, filing):  # noqa: F811
    shown = _hospitals(client, filing)
    lines = shown.split("<br>")
    assert len(lines) == 3
    assert "三亚市人民医院（H46020000001）" in lines
    assert "(" not in shown and ";" not in shown


def test_chosen_hospitals_keep_ascii_brackets_in_english(client, filing):  # noqa: F811
    shown = _hospitals(client, filing, HTTP_ACCEPT_LANGUAGE="en")
    assert "三亚市人民医院 (H46020000001)" in shown.split("<br>")
    assert "（" not in shown
