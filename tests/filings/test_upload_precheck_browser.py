"""A proof file the upload check would refuse for its size or type is set aside as soon as it is
chosen on a phone, with the reason under the field in the reader's language; the good files
chosen with it stay chosen (static/js/portal.js, filings.forms.upload_attrs). Playwright +
Debian's Chromium."""

import io
from io import StringIO

import pytest
from django.core.management import call_command
from PIL import Image

from filings.uploads import MAX_BYTES
from tests.browser import browser_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _png() -> bytes:
    raw = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(raw, "PNG")
    return raw.getvalue()


# What the person chooses at once: a scan, a phone's photo over the limit, a HEIC photo. Made in
# the page and given to the field as one choice, as the file picker does (ten megabytes sent
# through Playwright's pipe for each locale took most of the test's time).
FILES = [
    ("户口簿.png", "image/png", list(_png())),
    ("IMG_2041.jpg", "image/jpeg", MAX_BYTES + 1),
    ("IMG_2042.HEIC", "image/heic", list(b"\0\0\0\x18ftypheic" * 10)),
]
CHOOSE = """(el, files) => {
    const chosen = new DataTransfer();
    for (const [name, type, content] of files) {
        const bytes =
            typeof content === "number" ? new Uint8Array(content) : Uint8Array.from(content);
        chosen.items.add(new File([bytes], name, {type}));
    }
    el.files = chosen.files;
    el.dispatchEvent(new Event("input", {bubbles: true}));
    el.dispatchEvent(new Event("change", {bubbles: true}));
}"""


# (locale, what the two reasons say in it)
LOCALES = [
    ("zh-CN", "大于 10 MB", "不是 JPEG、PNG 或 PDF"),
    ("en-US", "larger than 10 MB", "not a JPEG"),
]


def test_a_file_too_big_or_of_another_type_is_set_aside_when_chosen(live_server):
    call_command("seed_demo", "--no-history", stdout=StringIO())
    for locale, too_big, wrong_type in LOCALES:
        with browser_page(390, locale=locale) as page:
            sign_in(page, live_server.url, "chenming")
            page.goto(f"{live_server.url}/filings/new/long_term/")
            field = page.locator("input[type=file][name=files]")
            field.evaluate(CHOOSE, FILES)
            left = field.evaluate("el => Array.from(el.files).map(f => f.name)")
            assert left == ["户口簿.png"]
            note = page.locator("#id_files-set-aside")
            said = note.inner_text()
            assert "IMG_2041.jpg" in said and too_big in said, said
            assert "IMG_2042.HEIC" in said and wrong_type in said, said
            assert note.get_attribute("role") == "alert"
            assert "id_files-set-aside" in (field.get_attribute("aria-describedby") or "")
            # Chosen again with only good files: the note goes.
            field.evaluate(CHOOSE, FILES[:1])
            assert note.is_hidden()
