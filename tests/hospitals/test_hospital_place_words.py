"""A hospital's place as its language writes it (README: no space inside a Chinese place, the
city first in English), on the public directory and on the clerk's desk: "黑龙江省哈尔滨市",
"Harbin, Heilongjiang", not "黑龙江省 哈尔滨市" or "Heilongjiang Harbin"."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _pages(client, demo, lang: str) -> dict[str, str]:
    client.cookies["django_language"] = lang
    directory = client.get(reverse("hospitals:directory"), {"region": "230100"}).content.decode()
    client.force_login(demo["hosp_h23010300001"])
    desk = client.get(reverse("hospitals:home")).content.decode()
    return {"directory": directory, "desk": desk}


def test_a_hospitals_place_reads_city_first_in_english(client, demo):
    for name, html in _pages(client, demo, "en").items():
        assert "Harbin, Heilongjiang" in html, name
        assert "Heilongjiang Harbin" not in html, name


def test_a_hospitals_place_has_no_space_in_chinese(client, demo):
    for name, html in _pages(client, demo, "zh-hans").items():
        assert "黑龙江省哈尔滨市" in html, name
        assert "黑龙江省 哈尔滨市" not in html, name
