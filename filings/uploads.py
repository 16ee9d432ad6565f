"""Proof materials: JPEG, PNG and PDF only, checked by content, sanitised before storage.

Images are decoded with Pillow (decompression bombs refused from the header, before any pixel
is allocated), then re-encoded: metadata and anything appended after the image is gone. PDFs are
opened with pikepdf and refused when encrypted, broken, or carrying JavaScript, launch actions,
embedded files or other active content (names are decoded by pikepdf, so `/J#61vaScript` is
`/JavaScript`, and objects inside compressed object streams are walked too), then re-saved.
Files are stored under random names outside any public URL.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

import filetype
import pikepdf
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageFile, ImageOps

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
MAX_PIXELS = 50_000_000  # a 300-dpi A3 scan is about 17 million
TYPES = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
# Active or dangerous PDF content, by (decoded) name.
PDF_FORBIDDEN = {
    "/JavaScript",
    "/JS",
    "/Launch",
    "/EmbeddedFile",
    "/EmbeddedFiles",
    "/FileAttachment",
    "/RichMedia",
    "/XFA",
    "/SubmitForm",
    "/ImportData",
    "/GoToR",
    "/GoToE",
    "/Sound",
    "/Movie",
}


def download_name(original_name: str, content_type: str) -> str:
    """The name a stored file is downloaded under: the uploader's name with the extension of
    the type it was checked to be. A PDF uploaded as `scan.html` downloads as `scan.pdf`, so a
    reviewer's computer never opens it as a web page."""
    extension = TYPES.get(content_type, ".bin")
    same = {extension, ".jpeg"} if extension == ".jpg" else {extension}
    stem, dot, given = original_name.rpartition(".")
    if not (dot and stem):  # "scan", or ".pdf": no extension of its own
        stem = original_name.lstrip(".") or "file"
    elif "." + given.lower() in same:
        return original_name
    return stem + extension


class UploadRefused(ValidationError):
    pass


@dataclass(frozen=True)
class CheckedFile:
    content: bytes
    content_type: str
    extension: str
    original_name: str


def _refuse(message, code: str):
    raise UploadRefused(message, code=code)


def naming_the_file(uploaded, refused: UploadRefused) -> UploadRefused:
    """The refusal of one of several files, with the file's name in front ("fake.pdf: only
    JPEG…"), so the person knows which to replace. A name that is itself refused (a path,
    control characters) is left out."""
    name = getattr(uploaded, "name", "") or ""
    try:
        shown = _safe_name(name)
    except UploadRefused:
        return refused
    if not shown:
        return refused
    reason = " ".join(refused.messages)
    return UploadRefused(_("%(name)s: %(reason)s") % {"name": shown, "reason": reason})


def _safe_name(name: str) -> str:
    name = name or ""
    if (
        any(c in name for c in "\x00/\\")
        or name.startswith(".")
        or ".." in name
        or any(ord(c) < 32 for c in name)
    ):
        _refuse(_("The file name is not acceptable (no paths or control characters)."), "name")
    return os.path.basename(name)[:150]


def _read(uploaded) -> bytes:
    size = getattr(uploaded, "size", None)
    if size is not None and size > MAX_BYTES:
        _refuse(_("The file is larger than 10 MB."), "too_large")
    if hasattr(uploaded, "seek"):
        uploaded.seek(0)
    data = uploaded.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        _refuse(_("The file is larger than 10 MB."), "too_large")
    if not data:
        _refuse(_("The file is empty."), "empty")
    return data


def _image(data: bytes, mime: str) -> bytes:
    fmt = "JPEG" if mime == "image/jpeg" else "PNG"
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format != fmt:
                    _refuse(_("The file content does not match an image."), "mismatch")
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    _refuse(_("The image is too large (too many pixels)."), "bomb")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image, _strict_decoding():
                image.load()
                trailing = _trailing_bytes(data, fmt)
                if trailing > 64:
                    _refuse(_("The image carries extra data after its end."), "polyglot")
                # A phone stores a portrait photo sideways with an EXIF orientation tag; the
                # tag goes with the rest of the metadata, so turn the pixels upright first.
                clean = ImageOps.exif_transpose(image)
                clean.info = {}  # drop EXIF, text chunks, ICC comments
                out = io.BytesIO()
                if fmt == "JPEG":
                    clean.convert("RGB").save(out, "JPEG", quality=90)
                else:
                    clean.save(out, "PNG")
                return out.getvalue()
        except UploadRefused:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            _refuse(_("The image is too large (too many pixels)."), "bomb")
        except (OSError, ValueError, SyntaxError):
            _refuse(_("The image is damaged and cannot be read."), "broken")
    raise AssertionError("unreachable")


_decoding = threading.Lock()


@contextlib.contextmanager
def _strict_decoding():
    """A truncated image must fail to load, whatever another library set globally (WeasyPrint
    turns Pillow's LOAD_TRUNCATED_IMAGES on)."""
    with _decoding:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _trailing_bytes(data: bytes, fmt: str) -> int:
    if fmt == "PNG":
        end = data.rfind(b"IEND")
        return len(data) - (end + 8) if end >= 0 else len(data)
    end = data.rfind(b"\xff\xd9")
    return len(data) - (end + 2) if end >= 0 else len(data)


def _walk(obj, seen: set) -> None:
    if isinstance(obj, pikepdf.Name):
        if str(obj) in PDF_FORBIDDEN:
            _refuse(_("The PDF contains scripts, actions or embedded files."), "pdf_active")
        return
    if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        key = obj.objgen
        if key != (0, 0):
            if key in seen:
                return
            seen.add(key)
        for name, value in obj.items():
            if name in PDF_FORBIDDEN:
                _refuse(_("The PDF contains scripts, actions or embedded files."), "pdf_active")
            _walk(value, seen)
    elif isinstance(obj, pikepdf.Array):
        for value in obj:
            _walk(value, seen)


def _pdf(data: bytes) -> bytes:
    if not data.lstrip()[:5] == b"%PDF-":
        _refuse(_("The file is not a PDF."), "mismatch")
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:
                _refuse(_("Encrypted PDFs are not accepted."), "pdf_encrypted")
            seen: set = set()
            for obj in pdf.objects:
                _walk(obj, seen)
            _walk(pdf.Root, seen)
            _walk(pdf.trailer, seen)
            out = io.BytesIO()
            pdf.remove_unreferenced_resources()
            pdf.save(out)
            return out.getvalue()
    except pikepdf.PasswordError:
        _refuse(_("Encrypted PDFs are not accepted."), "pdf_encrypted")
    except pikepdf.PdfError:
        _refuse(_("The PDF is damaged and cannot be read."), "broken")
    raise AssertionError("unreachable")


def check_upload(uploaded) -> CheckedFile:
    """Accept a JPEG, PNG or PDF proof material, sanitised; refuse anything else with a reason."""
    name = _safe_name(getattr(uploaded, "name", "") or "")
    data = _read(uploaded)
    kind = filetype.guess(data)
    mime = kind.mime if kind else None
    if mime not in TYPES:
        _refuse(_("Only JPEG, PNG and PDF files are accepted."), "type")
    content = _pdf(data) if mime == "application/pdf" else _image(data, mime)
    return CheckedFile(content, mime, TYPES[mime], name)


def check_count(existing: int, adding: int) -> None:
    if existing + adding > MAX_FILES:
        _refuse(_("At most 10 files per filing."), "too_many")


def store(checked: CheckedFile, root: str) -> str:
    """Write under a random name; the user's file name is never used on disk."""
    stored = f"{secrets.token_hex(16)}{checked.extension}"
    path = Path(root) / stored
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as f:
        f.write(checked.content)
    return stored


# Files `store` wrote that nothing refers to: a form left after its files passed the checks
# (PendingUploads keeps them in the session only), or a write rolled back after the file was
# written. Sessions end long before a day has passed.
ABANDONED_AFTER_SECONDS = 24 * 3600
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.[a-z0-9]{1,5}$")


def abandoned_files(root: str, now: float, is_referenced) -> list[Path]:
    """The files `store` wrote directly under `root`, older than ABANDONED_AFTER_SECONDS, that
    `is_referenced(names)` (a set of names → those still in use) does not claim. Sub-folders
    (the rendered PDFs) and other names are never touched."""
    folder = Path(root)
    if not folder.is_dir():
        return []
    old = {
        entry.name: Path(entry.path)
        for entry in os.scandir(folder)
        if entry.is_file(follow_symlinks=False)
        and _STORED_NAME.match(entry.name)
        and now - entry.stat(follow_symlinks=False).st_mtime > ABANDONED_AFTER_SECONDS
    }
    names = sorted(old)
    referenced: set[str] = set()
    for start in range(0, len(names), 1000):
        referenced |= set(is_referenced(names[start : start + 1000]))
    return [old[name] for name in names if name not in referenced]
