"""The upload pipeline against a hostile corpus of at least 50 files, and genuine scans."""

import io

import pytest
import weasyprint  # noqa: F401 - it turns Pillow's LOAD_TRUNCATED_IMAGES on; the checks must hold anyway
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from filings import uploads
from tests.filings import corpus

HOSTILE = corpus.hostile()


def _upload(name, content):
    """The file as the pipeline sees it, with the client's name untouched (Django's own
    parser strips path parts too; the pipeline must not rely on that)."""
    raw = io.BytesIO(content)
    raw.name = name
    raw.size = len(content)
    return raw


def test_django_uploaded_files_are_accepted_too():
    name, content, _ = corpus.genuine()[0]
    assert uploads.check_upload(SimpleUploadedFile(name, content)).content_type == "image/jpeg"


def test_hostile_corpus_has_at_least_50_files_and_none_is_accepted():
    items = HOSTILE
    assert len(items) >= 50
    accepted = []
    for name, content, what, _code in items:
        try:
            uploads.check_upload(_upload(name, content))
            accepted.append(what)
        except uploads.UploadRefused as refused:
            assert refused.messages and refused.messages[0], what
    assert accepted == []


@pytest.mark.parametrize(
    ("name", "content", "what", "code"),
    HOSTILE,
    ids=[item[0].encode("unicode_escape").decode() for item in HOSTILE],
)
def test_each_hostile_file_is_refused_for_its_own_reason(name, content, what, code):
    with pytest.raises(uploads.UploadRefused) as refused:
        uploads.check_upload(_upload(name, content))
    assert refused.value.code == code, what
    assert refused.value.messages[0]


def test_the_corpus_covers_every_reason_for_refusal():
    codes = {code for *_rest, code in HOSTILE}
    assert codes >= {
        "name",
        "too_large",
        "empty",
        "type",
        "bomb",
        "broken",
        "polyglot",
        "pdf_active",
        "pdf_encrypted",
    }


@pytest.mark.parametrize(("name", "content", "what"), corpus.genuine())
def test_genuine_scans_are_accepted_and_sanitised(name, content, what, tmp_path):
    checked = uploads.check_upload(_upload(name, content))
    assert checked.original_name == name
    assert b"SecretCameraMaker" not in checked.content
    assert b"SecretComment" not in checked.content
    stored = uploads.store(checked, str(tmp_path))
    assert stored.endswith(checked.extension)
    assert name.split(".")[0] not in stored
    assert (tmp_path / stored).read_bytes() == checked.content


def test_reencoded_jpeg_has_no_exif():
    name, content, _ = corpus.genuine()[0]
    checked = uploads.check_upload(_upload(name, content))
    assert not Image.open(io.BytesIO(checked.content)).getexif()


def test_every_refusal_says_why_in_chinese_and_english():
    from django.utils import translation

    with translation.override("zh-hans"):
        with pytest.raises(uploads.UploadRefused) as zh:
            uploads.check_upload(_upload("x.svg", b"<svg/>"))
        assert "只接受" in str(zh.value.messages[0])
    with translation.override("en"):
        with pytest.raises(uploads.UploadRefused) as en:
            uploads.check_upload(_upload("x.svg", b"<svg/>"))
        assert "Only JPEG, PNG and PDF" in str(en.value.messages[0])


def test_at_most_10_files_per_filing():
    uploads.check_count(8, 2)
    with pytest.raises(uploads.UploadRefused) as refused:
        uploads.check_count(9, 2)
    assert refused.value.code == "too_many"


def test_portrait_phone_photo_is_stored_upright_without_orientation_tag():
    """A phone stores a portrait photo as a landscape image with EXIF Orientation=6 (turn 90°
    clockwise to view): the stored copy is portrait and carries no tag to turn it again."""
    image = Image.new("RGB", (400, 300), "white")
    image.paste((200, 0, 0), (0, 0, 40, 30))  # a mark in the top-left corner as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise
    raw = io.BytesIO()
    image.save(raw, "JPEG", exif=exif.tobytes())
    checked = uploads.check_upload(_upload("portrait.jpg", raw.getvalue()))
    with Image.open(io.BytesIO(checked.content)) as stored:
        assert stored.height > stored.width
        assert stored.size == (300, 400)
        assert 0x0112 not in stored.getexif()
        # The stored top-left corner ends up at the top-right once turned.
        assert stored.getpixel((stored.width - 5, 5))[0] > 150
