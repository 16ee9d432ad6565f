"""Proof materials: JPEG, PNG and PDF only, checked by content, sanitised before storage.

Images are decoded with Pillow (decompression bombs refused from the header, before any pixel
is allocated), then re-encoded: metadata and anything appended after the image is gone. PDFs are
opened with pikepdf and refused when encrypted, broken, carrying JavaScript, launch actions,
embedded files or other active content (names are decoded by pikepdf, so `/J#61vaScript` is
`/JavaScript`, and objects inside compressed object streams are walked too), links to anything
but a web address, or streams that decompress to more than MAX_PDF_DECODED; actions run on
opening (/OpenAction, /AA) are removed, and the rest is re-saved. All of that runs in a child
process with a memory and CPU limit (`python -m filings.uploads`): a compressed object stream is
decompressed by qpdf while the objects are read, before any check of ours could look at it, and
whatever goes wrong in there (a bomb, a recursion, a parser fault) is a refusal, not a 500.
Files are stored under random names outside any public URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import resource
import secrets
import subprocess
import sys
import threading
import traceback
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import filetype
import pikepdf
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageFile, ImageOps

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
MAX_PIXELS = 50_000_000  # a 300-dpi A3 scan is about 17 million
# A whole post: ten files at the limit and the form around them (RequestSizeLimit).
MAX_REQUEST_BYTES = MAX_FILES * MAX_BYTES + 2 * 1024 * 1024
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
# Run by a reader when the file is opened or a page shown: removed, whatever they do.
PDF_REMOVED = {"/OpenAction", "/AA"}
# A link (/URI action) may only lead to a web page: not file:, javascript:, a relative path...
PDF_LINK = re.compile(r"https?://", re.IGNORECASE)
# All streams together, decompressed: a scanned page is a few MB, a 10 MB PDF of them some
# hundreds; a Flate stream of zeros decompresses 1000 times over (1 MB → 1 GB).
MAX_PDF_DECODED = 256 * 1024 * 1024
# The child process that reads a PDF: address space and CPU seconds.
PDF_MEMORY = 1024 * 1024 * 1024
PDF_SECONDS = 20
_FLATE = {"/FlateDecode", "/Fl"}
# Image codecs qpdf leaves encoded when it re-saves: their data is copied, never decompressed.
_IMAGE_CODECS = {"/DCTDecode", "/DCT", "/JPXDecode", "/CCITTFaxDecode", "/CCF", "/JBIG2Decode"}
_PROJECT = Path(__file__).resolve().parent.parent

logger = logging.getLogger(__name__)


# The second half of a PDF's /ID is made anew each time pikepdf saves it: two checks of the
# same PDF differ there and nowhere else.
_PDF_ID = re.compile(rb"/ID\s*\[\s*<[0-9A-Fa-f]*>\s*<[0-9A-Fa-f]*>\s*\]")


def fingerprint(content: bytes, content_type: str) -> str:
    """The same file uploaded twice gives the same fingerprint: a checked file's content (images
    re-encoded the same way each time), a PDF's without its /ID."""
    if content_type == "application/pdf":
        content = _PDF_ID.sub(b"/ID[]", content)
    return hashlib.sha256(content).hexdigest()


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


class RequestSizeLimit(FileUploadHandler):
    """The first of FILE_UPLOAD_HANDLERS: a post larger than MAX_REQUEST_BYTES is answered 400
    before any of it is spooled to a temporary file (DATA_UPLOAD_MAX_MEMORY_SIZE leaves files
    out). The proxy in front should refuse it earlier still (client_max_body_size)."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > MAX_REQUEST_BYTES:
            raise RequestDataTooBig("Upload larger than MAX_REQUEST_BYTES.")

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None


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


_PDF_REFUSALS = {
    "mismatch": _("The file is not a PDF."),
    "pdf_encrypted": _("Encrypted PDFs are not accepted."),
    "pdf_active": _("The PDF contains scripts, actions or embedded files."),
    "pdf_link": _("The PDF contains a link to a file or program on the computer."),
    "bomb": _(
        "The PDF is too large or too complex to check. Please save or scan it again, "
        "or upload photos of the pages instead."
    ),
    "broken": _("The PDF is damaged and cannot be read."),
}


def _refuse_pdf(code: str):
    _refuse(_PDF_REFUSALS[code], code)


def _walk(root, seen: set, removals: list) -> None:
    """Refuse active content anywhere under `root`; note in `removals` each (dictionary, key)
    of PDF_REMOVED. Iterative: a chain of thousands of nested dictionaries is no recursion."""
    stack = [root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Name):
            if str(obj) in PDF_FORBIDDEN:
                _refuse_pdf("pdf_active")
        elif isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            key = obj.objgen
            if key != (0, 0):
                if key in seen:
                    continue
                seen.add(key)
            for name, value in obj.items():
                if name in PDF_FORBIDDEN:
                    _refuse_pdf("pdf_active")
                if name in PDF_REMOVED:
                    removals.append((obj, name))
                if name == "/URI" and isinstance(value, pikepdf.String):
                    _check_link(value)
                elif name == "/Base" and isinstance(value, pikepdf.String):
                    _check_link(value)  # the catalog's base for relative links
                stack.append(value)
        elif isinstance(obj, pikepdf.Array):
            stack.extend(obj)


def _check_link(value: pikepdf.String) -> None:
    target = bytes(value).decode("latin-1")
    # Readers ignore leading blanks and control characters: so must we.
    if not PDF_LINK.match(target.lstrip("".join(map(chr, range(33))))):
        _refuse_pdf("pdf_link")


def _filters(stream: pikepdf.Stream) -> list[str]:
    value = stream.get("/Filter")
    if value is None:
        return []
    items = list(value) if isinstance(value, pikepdf.Array) else [value]
    return [str(item) for item in items]


def _inflate(chunks, pieces: int = 1 << 20):
    """Decompress Flate data chunk by chunk, never more than `pieces` bytes at a time."""
    inflater = zlib.decompressobj()
    for chunk in chunks:
        while chunk and not inflater.eof:
            yield inflater.decompress(chunk, pieces)
            chunk = inflater.unconsumed_tail


def _decoded_size(stream: pikepdf.Stream, budget: int) -> int:
    """How much qpdf would decompress of `stream` when it re-saves it, counted without holding
    it: at most `budget` + 1 MB is decompressed (then more than `budget` is returned)."""
    filters = _filters(stream)
    while filters and filters[-1] in _IMAGE_CODECS:
        filters.pop()
    raw = stream.read_raw_bytes()
    if not filters:
        return len(raw)
    if len(filters) > 4:
        _refuse_pdf("bomb")  # nobody compresses a stream five times over
    if any(name not in _FLATE for name in filters):
        # LZW, ASCII85, run-length...: rare; qpdf decodes them within the child's memory limit.
        if len(filters) != len(_filters(stream)):
            return len(raw)  # ... followed by an image codec: copied as it is
        return len(stream.read_bytes())
    chunks = iter([raw])
    for _layer in filters:
        chunks = _inflate(chunks)
    total = 0
    try:
        for piece in chunks:
            total += len(piece)
            if total > budget:
                break
    except zlib.error:
        pass  # qpdf reads what it can of a damaged stream: so much is counted
    return total


def _sanitise_pdf(data: bytes, budget: int) -> bytes:
    """Check and re-save a PDF (in the child process: see _pdf), refused when its streams
    decompress to more than `budget` bytes."""
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:
                _refuse_pdf("pdf_encrypted")
            seen: set = set()
            removals: list = []
            for obj in pdf.objects:
                if isinstance(obj, pikepdf.Stream):
                    budget -= _decoded_size(obj, budget)
                    if budget < 0:
                        _refuse_pdf("bomb")
                _walk(obj, seen, removals)
            _walk(pdf.Root, seen, removals)
            _walk(pdf.trailer, seen, removals)
            for owner, name in removals:
                del owner[name]
            out = io.BytesIO()
            pdf.remove_unreferenced_resources()
            pdf.save(out)
            return out.getvalue()
    except pikepdf.PasswordError:
        _refuse_pdf("pdf_encrypted")
    except pikepdf.PdfError:
        _refuse_pdf("broken")
    raise AssertionError("unreachable")


def _pdf(data: bytes) -> bytes:
    if not data.lstrip()[:5] == b"%PDF-":
        _refuse_pdf("mismatch")
    limits = (PDF_MEMORY, PDF_SECONDS, MAX_PDF_DECODED)
    command = [sys.executable, "-m", "filings.uploads", *map(str, limits)]
    try:
        child = subprocess.run(
            command, input=data, capture_output=True, cwd=_PROJECT, timeout=PDF_SECONDS + 10
        )
    except subprocess.TimeoutExpired:
        logger.warning("PDF check timed out after %s s", PDF_SECONDS + 10)
        _refuse_pdf("bomb")
    if child.returncode == 0:
        return child.stdout
    said = child.stderr.decode("utf-8", "replace")
    code = said.rpartition("refused:")[2].strip()
    if child.returncode != _REFUSED or code not in _PDF_REFUSALS:
        # Killed at its memory or CPU limit, or a fault in the parser.
        logger.warning("PDF check failed (exit %s): %s", child.returncode, said[-2000:])
        code = "bomb"
    elif code in {"bomb", "broken"}:
        logger.info("PDF refused (%s): %s", code, said[-2000:])
    _refuse_pdf(code)
    raise AssertionError("unreachable")


_REFUSED = 3  # the child's exit status for a refusal, whose code it writes last on stderr


def _pdf_child() -> None:
    """`python -m filings.uploads MEMORY SECONDS DECODED`: the PDF on stdin, the re-saved PDF on
    stdout or a refusal's code on stderr. Anything that goes wrong reading it is a refusal."""
    memory, seconds, decoded = (int(arg) for arg in sys.argv[1:4])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
    data = sys.stdin.buffer.read()
    try:
        clean = _sanitise_pdf(data, decoded)
    except UploadRefused as refused:
        code = refused.code or "broken"
    except MemoryError:
        code = "bomb"
    except Exception:  # noqa: BLE001 - whatever breaks in a hostile file is a refusal
        traceback.print_exc()
        code = "broken"
    else:
        sys.stdout.buffer.write(clean)
        return
    sys.stderr.write(f"\nrefused:{code}\n")
    sys.exit(_REFUSED)


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


if __name__ == "__main__":
    _pdf_child()
