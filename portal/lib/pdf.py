"""PDF rendering with WeasyPrint, locked down.

The URL fetcher allows only `data:` URLs and `asset:` URLs naming files bundled under
`static/pdf/` (stylesheets, images): no `file://`, no network, no redirects. The CJK font comes
from fontconfig (`fonts-wqy-microhei`), so WeasyPrint embeds a subset of it.

The filing documents (`render_form`) use their own small stylesheet, `static/css/pdf-forms.css`,
parsed once per process. `warm_up_in_background(fn)` runs a warm-up (fontconfig, the font, the
templates) in a thread at worker start; a render that comes while it runs waits for it.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import threading
import time
from functools import cache
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from portal.lib import qr

ASSET_ROOT = (Path(settings.BASE_DIR) / "static" / "pdf").resolve()
FORMS_CSS = Path(settings.BASE_DIR) / "static" / "css" / "pdf-forms.css"

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


def render_html(html: str, stylesheets=()) -> bytes:
    _wait_for_warm_up()
    return HTML(string=html, base_url="asset:/", url_fetcher=SafeURLFetcher()).write_pdf(
        stylesheets=list(stylesheets)
    )


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
