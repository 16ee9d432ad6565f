"""The version of a row a reviewer's page showed, which the decision posts back: a decision
stands only on that version (a filing or claim returned, changed and resubmitted while the page
was open is back in its state, but is not what the reviewer saw)."""

from __future__ import annotations

import datetime

CHANGED_SINCE_OPENED = "changed_since_opened"


def last_change(row) -> str:
    """A row's version: its last change (`updated_at`), to the microsecond; "" unsaved."""
    if row.updated_at is None:
        return ""
    return row.updated_at.astimezone(datetime.UTC).strftime("%Y%m%d%H%M%S%f")


def check_seen(version: str, seen_version: str | None, error: type[Exception]) -> None:
    """`error("changed_since_opened")` when the page showed another version than `version`
    (None: the decision did not say which, as from a script)."""
    if seen_version is not None and seen_version != version:
        raise error(CHANGED_SINCE_OPENED)
