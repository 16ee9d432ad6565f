"""Proof files as the upload check passes them, checked once a process.

`filings.uploads.check_upload` rewrites a PDF through a subprocess (about 0.15 s); fixtures that
attach the same few files to claims and filings in every test (the permission matrix's world, a
claim's documents) take its answer from here. A `CheckedFile` is frozen, so one is safely shared.
Tests of the check itself call `check_upload`.
"""

from __future__ import annotations

from functools import cache

from django.core.files.uploadedfile import SimpleUploadedFile

from filings import uploads


@cache
def checked(name: str, data: bytes) -> uploads.CheckedFile:
    return uploads.check_upload(SimpleUploadedFile(name, data))
