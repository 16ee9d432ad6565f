"""A hostile-upload corpus, built in code at test time (no binary files in the repository)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pikepdf
from PIL import Image


def _png(size=(40, 30), **save) -> bytes:
    b = io.BytesIO()
    Image.new("RGB", size, "white").save(b, "PNG", **save)
    return b.getvalue()


def _jpeg(**save) -> bytes:
    b = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(b, "JPEG", **save)
    return b.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def huge_png(width=30000, height=30000) -> bytes:
    """A tiny file whose header claims 30000×30000 pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _pdf(mutate=None, **save) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    if mutate:
        mutate(pdf)
    out = io.BytesIO()
    pdf.save(out, **save)
    return out.getvalue()


def _js_action():
    return pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))


def _open_action(pdf):
    pdf.Root.OpenAction = _js_action()


def _names_js(pdf):
    pdf.Root.Names = pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(
            Names=pikepdf.Array([pikepdf.String("x"), pdf.make_indirect(_js_action())])
        )
    )


def _page_aa(pdf):
    pdf.pages[0].obj.AA = pikepdf.Dictionary(O=pdf.make_indirect(_js_action()))


def _annotation(pdf):
    annot = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 50, 50], A=_js_action()
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annot)])


def _launch(pdf):
    pdf.Root.OpenAction = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("cmd.exe"))


def _embedded(pdf):
    spec = pikepdf.AttachedFileSpec(pdf, b"MZ evil", filename="evil.exe")
    pdf.attachments["evil.exe"] = spec


def _file_attachment(pdf):
    annot = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FileAttachment, Rect=[0, 0, 10, 10]
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annot)])


def _xfa(pdf):
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=pikepdf.String("<xdp/>"))


def _submit(pdf):
    pdf.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.SubmitForm, F=pikepdf.String("http://x/")
    )


def _richmedia(pdf):
    annot = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.RichMedia, Rect=[0, 0, 10, 10]
    )
    pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annot)])


def escaped_js_pdf() -> bytes:
    """Hand-written PDF whose action names are hex-escaped: /J#61vaScript and /J#53."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def encrypted_pdf() -> bytes:
    return _pdf(encryption=pikepdf.Encryption(user="u", owner="o", R=6))


def _zip(names) -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        for n in names:
            z.writestr(n, "<w:document/>")
    return b.getvalue()


def hostile() -> list[tuple[str, bytes, str, str]]:
    """(file name, content, what it is, the code it is refused with): every one is refused,
    each for its own reason."""
    gen = pikepdf.ObjectStreamMode.generate
    html = b"<html><script>alert(document.cookie)</script></html>"
    items = [
        ("polyglot.png", _png() + html * 3, "PNG with HTML appended", "polyglot"),
        ("polyglot2.png", _png() + _zip(["a.txt"]), "PNG with a ZIP appended", "polyglot"),
        ("polyglot.jpg", _jpeg() + html * 3, "JPEG with a script appended", "polyglot"),
        ("gifar.jpg", _jpeg() + _zip(["x.class"]), "JPEG + JAR", "polyglot"),
        ("js-open.pdf", _pdf(_open_action), "OpenAction JavaScript", "pdf_active"),
        (
            "js-open-objstm.pdf",
            _pdf(_open_action, object_stream_mode=gen),
            "JavaScript in compressed object streams",
            "pdf_active",
        ),
        ("js-names.pdf", _pdf(_names_js), "JavaScript in the names tree", "pdf_active"),
        (
            "js-names-objstm.pdf",
            _pdf(_names_js, object_stream_mode=gen),
            "names tree, objstm",
            "pdf_active",
        ),
        ("js-page-aa.pdf", _pdf(_page_aa), "page additional action", "pdf_active"),
        (
            "js-page-aa-objstm.pdf",
            _pdf(_page_aa, object_stream_mode=gen),
            "page AA, objstm",
            "pdf_active",
        ),
        ("js-annot.pdf", _pdf(_annotation), "JavaScript in a link annotation", "pdf_active"),
        (
            "js-annot-objstm.pdf",
            _pdf(_annotation, object_stream_mode=gen),
            "annotation, objstm",
            "pdf_active",
        ),
        ("js-escaped.pdf", escaped_js_pdf(), "/J#61vaScript escaped name", "pdf_active"),
        ("launch.pdf", _pdf(_launch), "launch action", "pdf_active"),
        (
            "launch-objstm.pdf",
            _pdf(_launch, object_stream_mode=gen),
            "launch, objstm",
            "pdf_active",
        ),
        ("embedded.pdf", _pdf(_embedded), "embedded file", "pdf_active"),
        (
            "embedded-objstm.pdf",
            _pdf(_embedded, object_stream_mode=gen),
            "embedded, objstm",
            "pdf_active",
        ),
        ("attachment.pdf", _pdf(_file_attachment), "file attachment annotation", "pdf_active"),
        ("xfa.pdf", _pdf(_xfa), "XFA form", "pdf_active"),
        ("submit.pdf", _pdf(_submit), "submit-form action", "pdf_active"),
        ("richmedia.pdf", _pdf(_richmedia), "rich media", "pdf_active"),
        ("encrypted.pdf", encrypted_pdf(), "encrypted PDF", "pdf_encrypted"),
        ("truncated.pdf", _pdf()[:120], "truncated PDF", "broken"),
        ("garbage.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50, "broken PDF", "broken"),
        ("zip.pdf", _zip(["word/document.xml"]), "ZIP renamed .pdf", "type"),
        ("doc.docx", _zip(["word/document.xml", "[Content_Types].xml"]), "docx", "type"),
        (
            "image.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="5"/></svg>',
            "SVG",
            "type",
        ),
        (
            "script.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
            "SVG with script",
            "type",
        ),
        ("svg.png", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG renamed .png", "type"),
        ("page.html", html, "HTML", "type"),
        ("page.pdf", html, "HTML renamed .pdf", "type"),
        ("app.exe", b"MZ" + b"\x90" * 200, "Windows executable", "type"),
        ("app.jpg", b"MZ" + b"\x90" * 200, "executable renamed .jpg", "type"),
        ("elf.png", b"\x7fELF" + b"\x00" * 200, "ELF renamed .png", "type"),
        ("text.jpg", "这不是图片".encode() * 20, "text renamed .jpg", "type"),
        ("image.gif", b"GIF89a" + b"\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 30, "GIF", "type"),
        ("image.bmp", b"BM" + b"\x00" * 60, "BMP", "type"),
        ("image.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40, "WEBP", "type"),
        ("image.tiff", b"II*\x00" + b"\x00" * 60, "TIFF", "type"),
        ("bomb.png", huge_png(), "30000×30000 PNG", "bomb"),
        ("bomb2.png", huge_png(100000, 1000), "100000×1000 PNG (wide)", "bomb"),
        ("big.pdf", b"%PDF-1.7\n" + b"0" * (11 * 1024 * 1024), "11 MB file", "too_large"),
        ("empty.pdf", b"", "empty file", "empty"),
        ("empty.png", b"", "empty PNG", "empty"),
        ("../../etc/passwd.png", _png(), "../ path in the name", "name"),
        ("..\\..\\boot.ini.png", _png(), "Windows path in the name", "name"),
        ("/etc/cron.d/x.png", _png(), "absolute name", "name"),
        ("nul\x00.png", _png(), "NUL in the name", "name"),
        (".htaccess", _png(), "hidden dot file", "name"),
        ("bad-png.png", _png()[:40], "truncated PNG", "broken"),
        ("bad-jpeg.jpg", _jpeg()[:60], "truncated JPEG", "broken"),
        ("rar.pdf", b"Rar!\x1a\x07\x00" + b"\x00" * 50, "RAR renamed .pdf", "type"),
        ("gzip.png", b"\x1f\x8b\x08" + b"\x00" * 50, "gzip renamed .png", "type"),
        ("pdf-in-png.png", _pdf(_open_action), "PDF with JS renamed .png", "pdf_active"),
    ]
    return items


def genuine() -> list[tuple[str, bytes, str]]:
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"
    b = io.BytesIO()
    Image.new("RGB", (800, 600), "white").save(b, "JPEG", exif=exif.tobytes())
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "SecretComment")
    scan_pdf = io.BytesIO()
    Image.new("RGB", (850, 1100), "white").save(scan_pdf, "PDF", resolution=100)
    return [
        ("户口簿首页.jpg", b.getvalue(), "JPEG with EXIF"),
        ("房产证.png", _png((600, 800), pnginfo=info), "PNG with a text chunk"),
        ("居住证明.pdf", scan_pdf.getvalue(), "scanned PDF"),
        ("blank.pdf", _pdf(), "plain PDF"),
    ]
