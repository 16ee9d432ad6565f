"""English is the source language: fill every empty (or fuzzy) msgstr of the en catalogue with
its msgid. A msgstr set on purpose (a library's label reworded, a Chinese gloss left out of the
English) is kept."""

from pathlib import Path

import polib

path = Path(__file__).resolve().parent.parent / "locale" / "en" / "LC_MESSAGES" / "django.po"
po = polib.pofile(str(path))
for entry in po:
    # The msgid itself where nothing was set: a fuzzy match from makemessages never survives.
    fuzzy = "fuzzy" in entry.flags
    if entry.msgid_plural:
        if fuzzy or not all(entry.msgstr_plural.values()):
            entry.msgstr_plural = {0: entry.msgid, 1: entry.msgid_plural}
    elif fuzzy or not entry.msgstr:
        entry.msgstr = entry.msgid
    if fuzzy:
        entry.flags.remove("fuzzy")
po.save()
print(f"{path}: {len(po)} entries")
