"""Text put together from translated pieces."""

from __future__ import annotations

# A sentence that ends in one of these (Chinese punctuation) is followed at once, without a space.
_FULL_WIDTH_ENDS = ("。", "！", "？", "；", "：", "）", "」", "”")


def sentences(*parts: str) -> str:
    """Sentences in a row as their language writes them: `"补齐。" + "补交期限…"` with no space
    between, `"outstanding." + " Deadline…"` with one. Empty parts are left out."""
    text = ""
    for part in parts:
        if not part:
            continue
        if text and not text.endswith(_FULL_WIDTH_ENDS):
            text += " "
        text += part
    return text
