"""English is the source language: fill every empty msgstr of the en catalogue with its msgid."""

from pathlib import Path

import polib

path = Path(__file__).resolve().parent.parent / "locale" / "en" / "LC_MESSAGES" / "django.po"
po = polib.pofile(str(path))
for entry in po:
    # Always the msgid itself: a fuzzy match from makemessages must never survive here.
    if entry.msgid_plural:
        entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
    else:
        entry.msgstr = entry.msgid
    if "fuzzy" in entry.flags:
        entry.flags.remove("fuzzy")
po.save()
print(f"{path}: {len(po)} entries")
