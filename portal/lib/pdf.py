"""PDF rendering with WeasyPrint, locked down.

The URL fetcher allows only `data:` URLs and `asset:` URLs naming files bundled under
`static/pdf/` (stylesheets, images): no `file://`, no network, no redirects. The CJK font comes
from fontconfig (`fonts-wqy-microhei`, with `fonts-hanazono` for the rare characters of names it
lacks), so WeasyPrint embeds a subset of it.

The filing documents (`render_form`) use their own small stylesheet, `static/css/pdf-forms.css`,
parsed once per process; a form printed in copies (`render_form_copies`) is laid out once and
its page drawn under each copy's label. `warm_up_in_background(fn)` runs a warm-up (fontconfig,
the font, the templates) in a thread at worker start; a render that comes while it runs waits
for it.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import threading
import time
from functools import cache
from pathlib import Path

import pydyf
from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from portal.lib import qr

ASSET_ROOT = (Path(settings.BASE_DIR) / "static" / "pdf").resolve()
FORMS_CSS = Path(settings.BASE_DIR) / "static" / "css" / "pdf-forms.css"
COPIES_CSS = Path(settings.BASE_DIR) / "static" / "css" / "pdf-copies.css"

logger = logging.getLogger(__name__)
_warm_up: threading.Thread | None = None


class BlockedURL(ValueError):
    pass


class SafeURLFetcher(URLFetcher):
    def __init__(self):
        super().__init__(allowed_protocols={"data", "asset"}, allow_redirects=False, timeout=1)

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "asset":
            path = (ASSET_ROOT / url.split(":", 1)[1].lstrip("/")).resolve()
            if not path.is_relative_to(ASSET_ROOT) or not path.is_file():
                raise BlockedURL(f"unknown asset {url!r}")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})
        raise BlockedURL(f"blocked URL scheme in {url[:40]!r}")


def qr_data_uri(text: str) -> str:
    """A QR code as a PNG data URI, one pixel a module (printed with `image-rendering:
    pixelated`, so the modules stay sharp at any size); nothing fetched. The symbol is segno's
    (error level M), its mask chosen by portal.lib.qr (segno's choice, about 4x faster)."""
    return "data:image/png;base64," + base64.b64encode(qr.png(text)).decode()


# Pango's font map (in the shared font configuration) is not thread-safe: one render at a time
# in a process (rendering holds the GIL anyway).
_render_lock = threading.RLock()


@cache
def font_config() -> FontConfiguration:
    """One font configuration per process: fontconfig's font set and the faces loaded are
    kept from one document to the next (about 7 ms less a document). The glyphs a document uses
    are still its own (WeasyPrint keeps them on the document), so each PDF embeds the subset of
    its own text."""
    return FontConfiguration()


def _html(html: str) -> HTML:
    return HTML(string=html, base_url="asset:/", url_fetcher=SafeURLFetcher())


def render_html(html: str, stylesheets=()) -> bytes:
    _wait_for_warm_up()
    with _render_lock:
        return _html(html).write_pdf(stylesheets=list(stylesheets), font_config=font_config())


def render_template(template: str, context: dict) -> bytes:
    return render_html(render_to_string(template, context))


@cache
def forms_stylesheet() -> CSS:
    """The documents' stylesheet, parsed once per process (WeasyPrint only reads it)."""
    return CSS(string=FORMS_CSS.read_text(), url_fetcher=SafeURLFetcher(), base_url="asset:/")


def render_form_html(html: str) -> bytes:
    """A filing document's HTML to PDF, with the documents' stylesheet."""
    return render_html(html, [forms_stylesheet()])


def render_form(template: str, context: dict) -> bytes:
    return render_form_html(render_to_string(template, context))


@cache
def copies_stylesheet() -> CSS:
    """What a form printed in copies adds to the documents' stylesheet (parsed once)."""
    return CSS(string=COPIES_CSS.read_text(), url_fetcher=SafeURLFetcher(), base_url="asset:/")


def render_form_copies(template: str, context: dict, copies: int) -> bytes:
    """A form printed in `copies` identical copies that differ only in their label and page
    number, laid out once.

    The template, given `sheet_once=True`, writes the form once (the sheet, on its own page,
    without page number) and then one page a copy with only the copy's label and page number
    (`static/css/pdf-copies.css`). In the PDF each copy's page draws the sheet's content stream
    and then its own, and the sheet's page is left out: a form of two copies costs one layout
    of the form instead of two. A sheet that does not fit on one page (an unusually long list
    of hospitals) is printed as the template writes it with `sheet_once=False`: each copy laid
    out in full."""
    _wait_for_warm_up()
    html = render_to_string(template, {**context, "sheet_once": True})
    with _render_lock:
        document = _html(html).render(
            stylesheets=[forms_stylesheet(), copies_stylesheet()], font_config=font_config()
        )
        if len(document.pages) == 1 + copies:
            return document.write_pdf(finisher=_sheet_under_each_copy)
    return render_form_html(render_to_string(template, {**context, "sheet_once": False}))


def _streams(page: pydyf.Dictionary) -> list:
    """A page's content streams (PDF allows one stream or an array of them)."""
    contents = page["Contents"]
    return list(contents) if isinstance(contents, list) else [contents]


def _sheet_under_each_copy(document, pdf: pydyf.PDF) -> None:
    """write_pdf finisher: the first page's content (the sheet) is drawn first on each of the
    other pages, with its links, and the first page leaves the page tree."""
    numbers = pdf.pages["Kids"][::3]  # pydyf keeps "n 0 R" as three items
    sheet, pages = pdf.objects[numbers[0]], [pdf.objects[n] for n in numbers[1:]]
    if "Outlines" in pdf.catalog or "Names" in pdf.catalog or "StructParents" in sheet:
        raise ValueError("a sheet printed under its copies cannot have bookmarks, ids or tags")
    if any(page["Resources"] != sheet["Resources"] for page in pages):
        raise ValueError("the copies do not share the sheet's resources")
    # The sheet's stream changes the graphics state (its page transformation first): q/Q
    # keep it from the copy's own stream, which starts with the same transformation.
    save, restore = pydyf.Stream([b"q"]), pydyf.Stream([b"Q"])
    pdf.add_object(save)
    pdf.add_object(restore)
    links = [pdf.objects[int(ref.split()[0])] for ref in sheet.get("Annots") or ()]
    for index, page in enumerate(pages):
        contents = [save.reference, *_streams(sheet), restore.reference, *_streams(page)]
        page["Contents"] = pydyf.Array(contents)
        annots = page.get("Annots") or pydyf.Array()
        for link in links:
            if index:  # an annotation belongs to one page: the first copy takes the sheet's
                link = pydyf.Dictionary(link)
                pdf.add_object(link)
            if "P" in link:
                link["P"] = page.reference
            annots.append(link.reference)
        if annots:
            page["Annots"] = annots
    # pydyf cannot drop an object from a compressed PDF: the sheet's page stays an empty,
    # unreferenced dictionary.
    sheet.clear()
    pdf.pages["Kids"] = pydyf.Array(pdf.pages["Kids"][3:])
    pdf.pages["Count"] = len(pages)


def _wait_for_warm_up() -> None:
    thread = _warm_up
    if thread is not None and thread is not threading.current_thread() and thread.is_alive():
        thread.join()


def warm_up_in_background(fn) -> threading.Thread:
    """Run fn (renders that load fontconfig, the font, templates) in a daemon thread; renders
    wait for it, so it never runs beside one. A failure is logged, never raised."""
    global _warm_up

    def run():
        started = time.perf_counter()
        try:
            fn()
        except Exception:  # a warm-up must not take a worker down
            logger.exception("PDF warm-up failed")
        else:
            logger.info("PDF warm-up done in %.2f s", time.perf_counter() - started)

    _warm_up = threading.Thread(target=run, name="pdf-warm-up", daemon=True)
    _warm_up.start()
    return _warm_up
