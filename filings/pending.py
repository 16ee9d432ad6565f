"""Files that passed the upload checks while the rest of their form did not.

A person who picked their scans and then mistyped a date, or asked for an estimate first, must
not have to pick them again: each file that passes `uploads.check_upload` is stored at once
(under a random name, like any material) and remembered in the session under the form's key;
the re-rendered form lists them (`templates/includes/pending_uploads.html`, each with a box to
remove it), and they become the filing's materials or the claim's documents when it is saved.
Files a form leaves behind are deleted by `filings.jobs.remove_abandoned_uploads` a day later.

Until then they take disk space, so what one account holds in kept files, over all its forms and
sessions, is bounded (HELD_FILES, HELD_BYTES, counted in the cache for a day); and a form's list
is named by a token the server issued for that account, not one the client makes up.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from filings import uploads


@dataclass(frozen=True)
class StoredFile:
    """A checked file already written by `uploads.store`."""

    kind: str
    stored_name: str
    original_name: str
    content_type: str
    size: int

    @classmethod
    def write(cls, checked: uploads.CheckedFile, kind: str) -> StoredFile:
        """Store a checked file (under a random name) and describe it."""
        stored = uploads.store(checked, settings.PRIVATE_MEDIA_ROOT)
        return cls(kind, stored, checked.original_name, checked.content_type, len(checked.content))

    def fields(self) -> dict:
        """The fields of a StoredUpload row (filing material, claim document) for this file."""
        return asdict(self)


# The hidden field that names one rendered form's kept files (includes/pending_uploads.html): the
# same form opened in a second tab has its own, so opening it there leaves the first tab's files.
FORM_FIELD = "kept_files"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{12}[0-9a-f]{16}")  # random part, then its signature
KEPT_FORMS = 5  # a form's kept files are remembered for its last few renderings only
# What one account may hold in kept files not yet saved, all its forms together: three forms'
# worth of scans. Counted until the nightly clean-up has removed what was left behind.
HELD_FILES = 30
HELD_BYTES = 60 * 1024 * 1024
HELD_SECONDS = uploads.ABANDONED_AFTER_SECONDS + 3600


def _signature(owner: str, nonce: str) -> str:
    return salted_hmac("filings.pending.token", f"{owner}:{nonce}").hexdigest()[:16]


def _issue(owner: str) -> str:
    nonce = secrets.token_urlsafe(9)
    return nonce + _signature(owner, nonce)


def _issued(owner: str, token: str) -> bool:
    """Whether `token` is one `_issue` gave this owner."""
    if not _TOKEN.fullmatch(token):
        return False
    return constant_time_compare(token[12:], _signature(owner, token[:12]))


def _count(key: str, change: int) -> int:
    """Atomically add `change` to the counter `key` (kept HELD_SECONDS from its first use)."""
    cache.add(key, 0, HELD_SECONDS)
    try:
        return cache.incr(key, change)
    except ValueError:  # expired between the two calls
        cache.set(key, max(change, 0), HELD_SECONDS)
        return max(change, 0)


class PendingUploads:
    def __init__(self, request, key: str):
        """The kept files of one rendering of the form `key`: a form sent back names its own
        (FORM_FIELD); a form opened afresh starts a new, empty list, and the session forgets
        all but the KEPT_FORMS latest lists of that form (their files, never saved, are removed
        by `filings.jobs.remove_abandoned_uploads`). A post without the field (a client of its
        own) shares one list for the form, as before."""
        self.session = request.session
        user = getattr(request, "user", None)
        self.owner = (
            f"user:{user.pk}" if user is not None and user.is_authenticated else "anonymous"
        )
        prefix = f"filings:pending:{key}"
        if request.method == "POST":
            token = request.POST.get(FORM_FIELD, "")
            self.token = token if _issued(self.owner, token) else ""
        else:
            self.token = _issue(self.owner)
            self._forget_older(prefix)
        self.key = f"{prefix}:{self.token}" if self.token else prefix

    def _forget_older(self, prefix: str) -> None:
        mine = [k for k in self.session.keys() if k.startswith(f"{prefix}:")]
        for key in mine[: max(len(mine) - KEPT_FORMS + 1, 0)]:
            del self.session[key]

    @property
    def items(self) -> list[dict]:
        return list(self.session.get(self.key, []))

    def files(self) -> list[StoredFile]:
        return [
            StoredFile(item["kind"], item["stored"], item["name"], item["type"], item["size"])
            for item in self.items
        ]

    def kinds(self) -> set[str]:
        return {item["kind"] for item in self.items}

    def _save(self, items: list[dict]) -> None:
        self.session[self.key] = items

    def _held(self, files: int, size: int) -> tuple[int, int]:
        """Add to (or, negative, take from) what this account holds: the new totals."""
        return (
            _count(f"filings:pending:held-files:{self.owner}", files),
            _count(f"filings:pending:held-bytes:{self.owner}", size),
        )

    def _release(self, items: list[dict]) -> None:
        if items:
            self._held(-len(items), -sum(item["size"] for item in items))

    def add(self, checked: uploads.CheckedFile, kind: str) -> None:
        size = len(checked.content)
        files, held = self._held(1, size)
        if files > HELD_FILES or held > HELD_BYTES:
            self._held(-1, -size)
            raise uploads.UploadRefused(
                _(
                    "You already have too many uploaded files kept in forms not yet sent (at "
                    "most %(files)d files, %(megabytes)d MB in all). Send those forms or remove "
                    "some of their files first, or try again tomorrow."
                )
                % {"files": HELD_FILES, "megabytes": HELD_BYTES // (1024 * 1024)},
                code="held",
            )
        f = StoredFile.write(checked, kind)
        item = {
            "stored": f.stored_name,
            "name": f.original_name,
            "type": f.content_type,
            "size": f.size,
            "kind": f.kind,
        }
        self._save([*self.items, item])

    def stage(self, files, kind: str, existing: int = 0) -> list[uploads.UploadRefused]:
        """Check `files` now and keep each that passes; the refusals, to show on the field.
        `existing`: files the object already has, counted against uploads.MAX_FILES."""
        files = [f for f in files if f]
        if not files:
            return []
        try:
            uploads.check_count(existing + len(self.items), len(files))
        except uploads.UploadRefused as refused:
            return [refused]
        refusals = []
        for f in files:
            try:
                self.add(uploads.check_upload(f), kind)
            except uploads.UploadRefused as refused:
                refusals.append(uploads.naming_the_file(f, refused))
        return refusals

    def discard(self, stored_names) -> None:
        drop = set(stored_names)
        if not drop or self.key not in self.session:
            return  # nothing to change: the session is not written
        keep, dropped = [], []
        for item in self.items:
            if item["stored"] in drop:
                (Path(settings.PRIVATE_MEDIA_ROOT) / item["stored"]).unlink(missing_ok=True)
                dropped.append(item)
            else:
                keep.append(item)
        self._save(keep)
        self._release(dropped)

    def clear(self) -> None:
        """The files now belong to what was saved: forget them, keep them on disk."""
        self._release(self.session.pop(self.key, None) or [])

    def shown(self, label) -> list[dict]:
        """For the template: each kept file with its kind's label (`label(kind)`)."""
        return [{**item, "label": label(item["kind"])} for item in self.items]
