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


# Directories makemessages reads, as `make messages` runs it (static, tests and bench ignored).
SOURCES = ["manage.py", "portal", "hospitals", "filings", "settlement", "templates"]


def _key(entry) -> tuple[str, str]:
    return entry.msgctxt or "", entry.msgid


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory) -> dict[tuple[str, str], polib.POEntry]:
    """Every message in the source today: makemessages run on a copy of the project, so the
    real catalogues are never touched."""
    import os
    import shutil
    import subprocess
    import sys

    root = LOCALE.parent
    copy = tmp_path_factory.mktemp("makemessages")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "migrations")
    for name in SOURCES:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=ignore)
        else:
            shutil.copy2(source, copy / name)
    (copy / "locale").mkdir()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings.test"}
    env.pop("CI", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-location", "-v", "0"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    po = polib.pofile(str(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    messages = {_key(e): e for e in po if not e.obsolete}
    assert len(messages) > 50
    return messages


@pytest.mark.parametrize("lang", ["zh_Hans", "en"])
def test_catalogue_has_every_message_of_the_source(lang, source_messages):
    """A stale catalogue (a new gettext string without `make messages`) fails here, naming the
    strings to add."""
    po = polib.pofile(str(LOCALE / lang / "LC_MESSAGES" / "django.po"))
    catalogue = {_key(e): e for e in po if not e.obsolete}
    missing = sorted(key for key in source_messages if key not in catalogue)
    assert not missing, f"{len(missing)} messages missing from {lang}: run `make messages`: " + (
        "; ".join(f"{ctx + '|' if ctx else ''}{msgid!r}" for ctx, msgid in missing[:20])
    )
    plurals = [
        key
        for key, entry in source_messages.items()
        if entry.msgid_plural and catalogue[key].msgid_plural != entry.msgid_plural
    ]
    assert not plurals, f"plural forms changed in the source: {plurals[:20]}"


@pytest.mark.django_db
def test_the_admin_names_the_portals_sections_in_chinese(client, demo):
    from django.urls import reverse

    from portal.management.commands.demo_totp import current_code

    client.post(reverse("account_login"), {"login": "agency_dxal", "password": "Demo#2026"})
    client.post(reverse("mfa_authenticate"), {"code": current_code("agency_dxal")})
    html = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for section in ("异地就医备案", "定点医疗机构", "结算与清算"):
        assert section in html
    for english in (">Filings<", ">Hospitals<", ">Settlement<"):
        assert english not in html


@pytest.mark.django_db
def test_the_language_switcher_names_each_language_in_itself(client):
    from django.urls import reverse

    chinese_page = client.get(reverse("hospitals:directory"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert 'lang="en">English</button>' in chinese_page.content.decode()
    client.cookies.load({"django_language": "en"})
    english_page = client.get(reverse("hospitals:directory"))
    assert 'lang="zh-hans">简体中文</button>' in english_page.content.decode()


def test_english_rewordings_survive_make_messages(tmp_path):
    """scripts/fill_en_po.py fills the English catalogue's empty msgstrs with their msgids and
    keeps a msgstr set on purpose (allauth's "Login" field says "Username or email"; a label's
    Chinese gloss is left out of the English)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import polib

    root = Path(__file__).resolve().parents[2]
    copy = tmp_path / "locale" / "en" / "LC_MESSAGES"
    copy.mkdir(parents=True)
    shutil.copy(root / "locale/en/LC_MESSAGES/django.po", copy / "django.po")
    po = polib.pofile(str(copy / "django.po"))
    po.find("Commitment (告知承诺)").msgstr = ""  # as makemessages leaves a new entry
    po.save()
    script = (root / "scripts/fill_en_po.py").read_text()
    script = script.replace("Path(__file__).resolve().parent.parent", f"Path({str(tmp_path)!r})")
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True)
    filled = polib.pofile(str(copy / "django.po"))
    assert filled.find("Login", msgctxt="field label").msgstr == "Username or email"
    assert filled.find("Written commitment (告知承诺)").msgstr == "Written commitment"
    assert filled.find("Commitment (告知承诺)").msgstr == "Commitment (告知承诺)"


def test_the_commitment_reads_without_a_chinese_gloss_in_english():
    from django.utils import translation

    from filings.models import Basis

    with translation.override("en"):
        assert str(Basis.COMMITMENT.label) == "Written commitment"
    with translation.override("zh-hans"):
        assert str(Basis.COMMITMENT.label) == "告知承诺"


@pytest.mark.django_db
def test_counted_admin_messages_agree_in_number_in_english(client, demo):
    """ "1 hospitals resumed" read as a slip: the counted messages are plural forms."""
    import datetime

    from django.urls import reverse

    from hospitals.models import Hospital
    from hospitals.services import hospital_suspend
    from tests.signin import staff_login

    hospital = Hospital.objects.get(code="H23010300001")
    hospital_suspend(
        hospital=hospital,
        actor=demo["agency_dxal"],
        suspended_on=datetime.date.today(),
        reason="违规结算",
    )
    staff_login(client, "admin")
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("admin:hospitals_hospital_changelist"),
        {"action": "resume", "_selected_action": [hospital.pk]},
        follow=True,
    )
    assert "1 hospital resumed." in response.content.decode()
