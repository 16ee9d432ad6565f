"""What notifications say, as their reader sees them."""

from __future__ import annotations


def said(notes, language: str = "zh-hans") -> list[str]:
    """Each notification's subject and body (in `language`), as one line."""
    return [" ".join(note.text(language)) for note in notes]


def says(notes, *parts: str, language: str = "zh-hans") -> int:
    """How many of `notes` say every one of `parts`."""
    return sum(all(part in text for part in parts) for text in said(notes, language))
