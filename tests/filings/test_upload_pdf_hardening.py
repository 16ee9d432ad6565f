"""PDF uploads that attack the checker itself: decompression bombs, deep object chains, actions
run on opening and links to local files (filings/uploads.py)."""

import io
import struct
import sys
import zlib

import pikepdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from filings import uploads


def _upload(content, name="scan.pdf"):
    return SimpleUploadedFile(name, content)


def _zeros(megabytes: int) -> bytes:
    """`megabytes` MiB of zeros, Flate-compressed (about 1 KB per MB)."""
    packer = zlib.compressobj(1)
    chunk = b"\0" * (1 << 20)
    return b"".join(packer.compress(chunk) for _ in range(megabytes)) + packer.flush()


def _saved(pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out, compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return out.getvalue()


def _content_bomb(megabytes: int, layers: int = 1) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    data = _zeros(megabytes)
    for _ in range(layers - 1):
        data = zlib.compress(data)
    stream = pikepdf.Stream(pdf, data)
    stream.Filter = pikepdf.Array([pikepdf.Name.FlateDecode] * layers)
    pdf.pages[0].obj.Contents = pdf.make_indirect(stream)
    return _saved(pdf)


def _object_stream_bomb(megabytes: int) -> bytes:
    """The catalog, page tree and page inside a compressed object stream padded with zeros:
    qpdf decompresses all of it to read the catalog, before any check can look."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    offsets, body = [], b""
    for item in objects:
        offsets.append(len(body))
        body += item + b" "
    header = b" ".join(b"%d %d" % (i + 1, at) for i, at in enumerate(offsets)) + b" "
    packer = zlib.compressobj(1)
    chunk = b"\0" * (1 << 20)
    data = packer.compress(header + body)
    data += b"".join(packer.compress(chunk) for _ in range(megabytes)) + packer.flush()
    out = bytearray(b"%PDF-1.5\n")
    at_stream = len(out)
    out += b"4 0 obj\n<< /Type /ObjStm /N 3 /First %d /Filter /FlateDecode /Length %d >>\n" % (
        len(header),
        len(data),
    )
    out += b"stream\n" + data + b"\nendstream\nendobj\n"
    at_xref = len(out)
    rows = [(0, 0, 65535), (2, 4, 0), (2, 4, 1), (2, 4, 2), (1, at_stream, 0), (1, at_xref, 0)]
    table = b"".join(struct.pack(">BIH", *row) for row in rows)
    out += b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Length %d >>\n" % len(table)
    out += b"stream\n" + table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % at_xref
    return bytes(out)


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setattr(uploads, "MAX_PDF_DECODED", 8 * 1024 * 1024)
    monkeypatch.setattr(uploads, "PDF_MEMORY", 320 * 1024 * 1024)


def test_pdf_whose_content_decompresses_beyond_the_cap_is_refused_as_a_bomb(small_limits):
    with translation.override("en"):
        with pytest.raises(uploads.UploadRefused) as refused:
            uploads.check_upload(_upload(_content_bomb(16)))
        assert "too large or too complex" in refused.value.messages[0]
    assert refused.value.code == "bomb"


def test_pdf_bomb_compressed_twice_over_is_refused_too(small_limits):
    with pytest.raises(uploads.UploadRefused) as refused:
        uploads.check_upload(_upload(_content_bomb(16, layers=2)))
    assert refused.value.code == "bomb"


def test_pdf_within_the_decompression_cap_is_accepted(small_limits):
    assert uploads.check_upload(_upload(_content_bomb(4))).content_type == "application/pdf"


def test_default_cap_refuses_a_gigabyte_of_zeros_without_decompressing_it_all():
    assert uploads.MAX_PDF_DECODED < 1024 * 1024 * 1024
    with pytest.raises(uploads.UploadRefused) as refused:
        uploads.check_upload(_upload(_content_bomb(uploads.MAX_PDF_DECODED // (1 << 20) + 8)))
    assert refused.value.code == "bomb"


def test_object_stream_bomb_stops_at_the_child_memory_limit_and_is_refused(small_limits):
    with pytest.raises(uploads.UploadRefused) as refused:
        uploads.check_upload(_upload(_object_stream_bomb(512)))
    assert refused.value.code in {"bomb", "broken"}
    assert refused.value.messages[0]


def test_bomb_refusal_is_in_chinese(small_limits):
    with translation.override("zh-hans"):
        with pytest.raises(uploads.UploadRefused) as refused:
            uploads.check_upload(_upload(_content_bomb(16)))
        assert "PDF" in str(refused.value.messages[0])
        assert "too large" not in str(refused.value.messages[0])


def _chain(length: int) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    head = pdf.make_indirect(pikepdf.Dictionary())
    item = head
    for _ in range(length):
        following = pdf.make_indirect(pikepdf.Dictionary())
        item.Next = following
        item = following
    pdf.Root.Chain = head
    return _saved(pdf)


def test_walk_follows_a_chain_of_5000_dictionaries_without_recursion():
    with pikepdf.open(io.BytesIO(_chain(5000))) as pdf:
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(200)
        try:
            uploads._walk(pdf.Root, set(), [])
        finally:
            sys.setrecursionlimit(limit)


def test_pdf_with_a_chain_of_5000_dictionaries_is_answered_not_a_crash():
    checked = uploads.check_upload(_upload(_chain(5000)))
    assert checked.content_type == "application/pdf"


def test_a_checker_that_runs_out_of_memory_is_a_refusal(monkeypatch):
    monkeypatch.setattr(uploads, "PDF_MEMORY", 16 * 1024 * 1024)  # too little to read anything
    with pytest.raises(uploads.UploadRefused) as refused:
        uploads.check_upload(_upload(_content_bomb(1)))
    assert refused.value.code in {"bomb", "broken"}


def _with(mutate) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    mutate(pdf)
    return _saved(pdf)


def _uri(target: str) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String(target))


def _link(pdf, target: str) -> None:
    annot = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 50, 50], A=_uri(target)
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annot)])


def test_open_action_to_a_web_page_is_removed():
    def mutate(pdf):
        pdf.Root.OpenAction = _uri("http://evil.example/phish")

    checked = uploads.check_upload(_upload(_with(mutate)))
    with pikepdf.open(io.BytesIO(checked.content)) as pdf:
        assert "/OpenAction" not in pdf.Root
    assert b"evil.example" not in checked.content


def test_page_and_annotation_additional_actions_are_removed():
    def mutate(pdf):
        pdf.pages[0].obj.AA = pikepdf.Dictionary(O=_uri("https://example.org/track"))
        annot = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Widget,
            Rect=[0, 0, 5, 5],
            AA=pikepdf.Dictionary(E=_uri("https://example.org/hover")),
        )
        pdf.pages[0].obj.Annots = pikepdf.Array([annot])

    checked = uploads.check_upload(_upload(_with(mutate)))
    with pikepdf.open(io.BytesIO(checked.content)) as pdf:
        assert "/AA" not in pdf.pages[0].obj
        assert "/AA" not in pdf.pages[0].obj.Annots[0]
    assert b"example.org" not in checked.content


@pytest.mark.parametrize(
    "target",
    [
        "file:///etc/passwd",
        "javascript:app.alert(1)",
        "  FILE:///C:/Windows/System32/cmd.exe",
        "\\\\server\\share\\evil.exe",
        "../../etc/passwd",
        "smb://evil.example/share",
    ],
)
def test_links_to_anything_but_a_web_page_are_refused(target):
    with pytest.raises(uploads.UploadRefused) as refused:
        uploads.check_upload(_upload(_with(lambda pdf: _link(pdf, target))))
    assert refused.value.code == "pdf_link"


def test_page_action_to_a_local_file_is_refused():
    def mutate(pdf):
        pdf.pages[0].obj.AA = pikepdf.Dictionary(O=_uri("file:///etc/passwd"))

    with pytest.raises(uploads.UploadRefused) as refused:
        uploads.check_upload(_upload(_with(mutate)))
    assert refused.value.code == "pdf_link"


def test_link_to_a_web_page_is_kept():
    checked = uploads.check_upload(
        _upload(_with(lambda pdf: _link(pdf, "https://www.nhsa.gov.cn/")))
    )
    assert b"nhsa.gov.cn" in checked.content
