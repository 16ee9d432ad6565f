"""PDF rendering with WeasyPrint, locked down.

The URL fetcher allows only `data:` URLs and `asset:` URLs naming files bundled under
`static/pdf/` (stylesheets, images): no `file://`, no network, no redirects. The CJK font comes
from fontconfig (`fonts-wqy-microhei`), so WeasyPrint embeds a subset of it.
"""

from __future__ import annotations

import base64
import io
import mimetypes
from pathlib import Path

import segno
from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSET_ROOT = (Path(settings.BASE_DIR) / "static" / "pdf").resolve()


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
    """A QR code as an inline SVG data URI (nothing fetched)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=3, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def render_html(html: str) -> bytes:
    return HTML(string=html, base_url="asset:/", url_fetcher=SafeURLFetcher()).write_pdf()


def render_template(template: str, context: dict) -> bytes:
    return render_html(render_to_string(template, context))
