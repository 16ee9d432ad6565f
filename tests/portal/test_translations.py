"""Both catalogues are complete: every message has a Chinese and an English text."""

from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[2] / "locale"


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
def test_po_catalogue_is_complete(lang):
    po = polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))
    assert len(po) > 50
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []


def test_chinese_catalogue_is_really_chinese():
    po = polib.pofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    han = [e for e in po if any("\u4e00" <= ch <= "\u9fff" for ch in e.msgstr)]
    assert len(han) / len(po) > 0.9
