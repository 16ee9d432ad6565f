"""PDFs: content, embedded CJK subset font, safe URL fetching, verification by token."""

import datetime
import io
import socket
import threading
from urllib.parse import quote, urlsplit

import pypdf
import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from filings import documents
from filings.models import Filing
from hospitals.models import Hospital
from portal.lib import pdf
from portal.models import InsuredPerson, Province, Region

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(db):
    province, _ = Province.objects.get_or_create(code="460000", defaults={"name": "海南省"})
    region, _ = Region.objects.get_or_create(
        code="460200", defaults={"name": "三亚市", "province": province}
    )
    return province, region


@pytest.fixture
def filing(place):
    province, region = place
    home_p, _ = Province.objects.get_or_create(code="230000", defaults={"name": "黑龙江省"})
    home, _ = Region.objects.get_or_create(
        code="232700", defaults={"name": "大兴安岭地区", "province": home_p}
    )
    person = InsuredPerson(name="王秀兰", region=home, scheme="employee")
    person.set_id_number("232701195603120223")
    person.save()
    hospitals = [
        Hospital.objects.create(
            code=f"H4602000000{i}",
            name=name,
            province=province,
            region=region,
            level=3,
            kind="general",
            ownership="public",
        )
        for i, name in enumerate(["三亚市人民医院", "海南省农垦三亚医院", "三亚市中医院"], 1)
    ]
    today = timezone.localdate()
    filing = Filing.objects.create(
        number="BA2326110001",
        person=person,
        insured_region=home,
        type="long_term",
        subtype="resettled_retiree",
        status="approved",
        place_province=province,
        place_region=region,
        valid_from=today - datetime.timedelta(days=99),
        valid_until=today + datetime.timedelta(days=266),
        basis="commitment",
        commitment_deadline=today + datetime.timedelta(days=80),
    )
    filing.hospitals.set(hospitals)
    return filing


def zh(day: datetime.date) -> str:
    """How a zh-hans document prints a date: 2026年11月23日."""
    return f"{day.year}年{day.month}月{day.day}日"


def _links(content: bytes) -> list[str]:
    """Every URI of a link annotation in the PDF."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    uris = []
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            action = annot.get_object().get("/A")
            if action is not None and "/URI" in action.get_object():
                uris.append(str(action.get_object()["/URI"]))
    return uris


def _attachments(content: bytes) -> dict[str, list[bytes]]:
    """Embedded files: the document's EmbeddedFiles and any file-attachment annotations."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    found = dict(reader.attachments)
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") == "/FileAttachment":
                spec = annot["/FS"].get_object()
                data = spec["/EF"]["/F"].get_object().get_data()
                found.setdefault(str(spec.get("/F", "annotation")), []).append(data)
    return found


def _token_printed_in(content: bytes) -> str:
    """The verification token as the PDF itself carries it (the link beside the QR code)."""
    (url,) = {u for u in _links(content) if "/verify/" in u}
    assert url.startswith("http://") or url.startswith("https://"), url
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[1]


def _text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _fonts(content: bytes) -> list[str]:
    reader = pypdf.PdfReader(io.BytesIO(content))
    names = []
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            names.append(f"{font['/BaseFont']}{' embedded' if embedded else ''}")
    return names


def test_filing_form_in_duplicate_carries_the_persons_data_in_chinese(filing):
    content = documents.render(filing, documents.FILING_FORM)
    text = _text(content)
    assert len(pypdf.PdfReader(io.BytesIO(content)).pages) == 2
    assert text.count("异地长期居住备案") >= 2 or text.count("备案表") >= 2
    assert "王秀兰" in text
    assert "2327**********0223" in text
    assert "232701195603120223" not in text
    assert "BA2326110001" in text
    assert "三亚市人民医院" in text and "三亚市中医院" in text
    assert text.count(zh(filing.commitment_deadline)) >= 2  # in the commitment, on both copies
    assert zh(filing.valid_from) in text and zh(filing.valid_until) in text
    assert str(filing.commitment_deadline) not in text  # not ISO in a Chinese document
    assert "本人留存" in text or "参保人" in text


@pytest.mark.parametrize("kind", documents.KINDS)
def test_every_form_embeds_a_subset_cjk_font(filing, kind):
    if kind == documents.REFERRAL_FORM:
        filing.type = "referral"
        filing.save()
    fonts = _fonts(documents.render(filing, kind))
    # Subset fonts are named with a six-letter tag: ABCDEF+WenQuanYi...
    assert fonts and all("+" in f and "embedded" in f for f in fonts), fonts
    assert any("WenQuanYi" in f for f in fonts), fonts


def test_certificate_prints_the_filing_in_chinese(filing):
    text = _text(documents.render(filing, documents.CERTIFICATE))
    for expected in [
        "备案凭证",
        "备案编号",
        "BA2326110001",
        "王秀兰",
        "2327**********0223",
        "大兴安岭地区",
        "异地安置退休人员",
        "三亚市",
        "选定医疗机构",
        "三亚市人民医院",
        "海南省农垦三亚医院",
        "三亚市中医院",
        "有效期",
        zh(filing.valid_from),
        zh(filing.valid_until),
        zh(timezone.localdate()),  # issued
        "扫描二维码可查询本文书的当前状态。",
    ]:
        assert expected in text, expected
    assert "Filing certificate" not in text


@pytest.mark.parametrize(
    ("kind", "lang", "name"),
    [
        (documents.REFERRAL_FORM, "zh-hans", "转诊转院审批表"),
        (documents.FILING_FORM, "zh-hans", "备案表"),
        (documents.CERTIFICATE, "zh-hans", "备案凭证"),
        (documents.CERTIFICATE, "en", "Filing certificate"),
    ],
)
def test_a_pdf_is_titled_by_its_form_and_number_in_the_readers_language(filing, kind, lang, name):
    """A viewer's title bar and a downloads list name the form, not the file's name."""
    title = pypdf.PdfReader(io.BytesIO(documents.render(filing, kind, lang=lang))).metadata.title
    assert name in title and title.endswith(filing.number)


def test_english_labels_when_the_language_is_english(filing):
    text = _text(documents.render(filing, documents.CERTIFICATE, lang="en"))
    assert "Filing certificate" in text
    assert "王秀兰" in text
    with translation.override("en"):
        assert formats.date_format(filing.valid_until) in text.replace("\n", " ")
    assert zh(filing.valid_until) not in text


def test_referral_form_names_hospitals_doctor_and_dates(filing, place):
    province, region = place
    filing.type = "referral"
    filing.subtype = ""
    filing.receiving_hospital = filing.hospitals.first()
    filing.issuing_hospital = filing.hospitals.last()
    filing.attending_doctor = "刘医生"
    filing.diagnosis = "冠状动脉粥样硬化性心脏病"
    filing.referral_condition = "b"
    filing.director_signed_by = "赵主任"
    filing.director_signed_at = timezone.now()
    filing.save()
    text = _text(documents.render(filing, documents.REFERRAL_FORM))
    for expected in [
        "转诊转院审批表",
        "王秀兰",
        "BA2326110001",
        "刘医生",
        "冠状动脉",
        "赵主任",
        "三亚市人民医院",  # receiving
        "三亚市中医院",  # issuing
        zh(filing.valid_from),
        zh(filing.valid_until),
        zh(timezone.localdate()),  # the director's signature date
        "2327**********0223",
    ]:
        assert expected in text, expected
    assert "232701195603120223" not in text


def test_user_fields_are_printed_as_literal_text_not_markup(filing):
    filing.person.name = '<img src="file:///etc/passwd">'
    filing.person.save()
    content = documents.render(filing, documents.CERTIFICATE)
    assert '<img src="file:///etc/passwd">' in _text(content).replace("\n", "")
    assert b"root:x:0:0" not in content


class _Canary:
    """A listening socket that records every connection made to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


def test_hostile_template_makes_no_connection_and_embeds_no_file(tmp_path):
    canary = _Canary()
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CANARY")
    try:
        html = f"""<html><head>
        <link rel="stylesheet" href="http://127.0.0.1:{canary.port}/x.css">
        <link rel="stylesheet" href="file://{secret}">
        <style>@import url("http://127.0.0.1:{canary.port}/i.css");
        @font-face {{ font-family: X; src: url("http://127.0.0.1:{canary.port}/f.ttf"); }}
        body {{ background: url("file://{secret}"); }}</style></head><body>
        <img src="http://127.0.0.1:{canary.port}/a.png"><img src="file:///etc/passwd">
        <img src="asset:../../../etc/passwd"><object data="file://{secret}"></object>
        <a href="http://127.0.0.1:{canary.port}/link">x</a>hello</body></html>"""
        content = pdf.render_html(html)
    finally:
        canary.close()
    assert canary.connections == 0
    assert b"TOP-SECRET-CANARY" not in content
    assert b"root:x:0:0" not in content
    assert "hello" in _text(content)


def test_hostile_attachment_links_embed_no_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CANARY")
    html = f"""<html><head>
    <link rel="attachment" href="file:///etc/passwd" title="passwd">
    <link rel="attachment" href="file://{secret}" title="secret">
    <link rel="attachment" href="data:text/plain,harmless" title="inline">
    </head><body><a rel="attachment" href="file:///etc/passwd">passwd</a>
    <a rel="attachment" href="file://{secret}">secret</a>hello</body></html>"""
    content = pdf.render_html(html)
    attachments = _attachments(content)
    # The data: attachment shows the reading works; nothing from the file system is embedded.
    assert [b"harmless"] in attachments.values(), attachments
    everything = b"".join(b"".join(v) for v in attachments.values())
    assert b"root:x:0:0" not in everything and b"TOP-SECRET-CANARY" not in everything
    assert len(attachments) == 1, list(attachments)
    assert b"root:x:0:0" not in content and b"TOP-SECRET-CANARY" not in content


def test_safe_fetcher_refuses_file_and_network_and_serves_bundled_assets():
    fetcher = pdf.SafeURLFetcher()
    for url in [
        "file:///etc/passwd",
        "http://127.0.0.1/",
        "https://example.com/",
        "asset:../../etc/passwd",
        "ftp://x/",
    ]:
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert b"@page" in fetcher.fetch("asset:pdf.css").read()


def test_verify_answers_for_a_valid_token_and_404s_forged_or_altered(client, filing):
    token = documents.make_token(documents.CERTIFICATE, filing.number)
    response = client.get(f"/api/v1/verify/{token}")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "valid" and body["number"] == filing.number
    assert body["insured"] == {"name": "王*兰", "id_number": "2327**********0223"}
    # What is in clear is the kind's letter and the filing number, no database id.
    assert token.split(".")[0] == "C" + filing.number
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert client.get(f"/api/v1/verify/{altered}").status_code == 404
    forged = documents.signing.dumps(["certificate", filing.number], salt="other")
    assert client.get(f"/api/v1/verify/{forged}").status_code == 404
    page = client.get(reverse("verify-page", args=[token]))
    assert page.status_code == 200
    # The page says which document was scanned.
    assert '<dd class="col-sm-9" id="verified-kind">备案凭证</dd>' in page.content.decode()
    assert client.get(reverse("verify-page", args=[altered])).status_code == 404


def test_a_verification_is_recorded_in_the_access_log(client, filing):
    """api.md: every call that reads personal data is in the access log. The answer shows a
    masked name and ID number and the filing's state: whose record, by which channel; a forged
    token reads nothing and writes nothing."""
    from hospitals.models import AccessLog

    token = documents.make_token(documents.CERTIFICATE, filing.number)
    assert client.get(f"/api/v1/verify/{token}").status_code == 200
    assert client.get(reverse("verify-page", args=[token])).status_code == 200
    assert client.get(f"/api/v1/verify/{token[:-2]}ZZ").status_code == 404
    rows = AccessLog.objects.order_by("id")
    assert [(r.purpose, r.outcome) for r in rows] == [
        ("verify:api", "found"),
        ("verify:web", "found"),
    ]
    assert {r.subject_hash for r in rows} == {filing.person.id_hash}
    assert {r.subject_region_id for r in rows} == {filing.person.region_id}
    assert rows[0].purpose_label() in ("Document verification (API)", "文书核验（接口）")


def test_compact_token_cannot_be_moved_to_another_filing_or_kind(client, filing):
    token = documents.make_token(documents.CERTIFICATE, filing.number)
    _clear, mac = token.split(".")
    other = filing.number[:-1] + ("0" if filing.number[-1] != "0" else "1")
    for moved in (f"C{other}.{mac}", f"R{filing.number}.{mac}", f"F{filing.number}.{mac}"):
        assert documents.read_token(moved) is None, moved
        assert client.get(f"/api/v1/verify/{moved}").status_code == 404
    genuine = documents.make_token(documents.CERTIFICATE, other)
    assert documents.read_token(genuine) == ("certificate", other)


def test_tokens_printed_before_the_compact_form_still_verify(client, filing):
    """Printouts carry Django-signed tokens from before: they keep verifying, and their status
    is the filing's now."""
    old = documents.signing.dumps(
        ["certificate", filing.number], salt=documents.SALT, compress=True
    )
    assert documents.read_token(old) == ("certificate", filing.number)
    Filing.objects.filter(pk=filing.pk).update(status="cancelled")
    assert client.get(f"/api/v1/verify/{old}").json()["status"] == "cancelled"


def test_tokens_made_under_a_rotated_secret_key_still_verify(filing, settings):
    token = documents.make_token(documents.REFERRAL_FORM, filing.number)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert documents.read_token(token) == ("referral_form", filing.number)
    assert documents.make_token(documents.REFERRAL_FORM, filing.number) != token
    settings.SECRET_KEY_FALLBACKS = []
    assert documents.read_token(token) is None


def test_verify_url_makes_a_coarse_qr_code_and_fits_one_printed_line(settings):
    """A 24 mm QR code of a verify URL is version 5 at most (37 modules, 0.65 mm each: readable
    from a photocopy); Django-signed tokens made version 8 (49 modules)."""
    import segno

    settings.SITE_URL = "https://ydjy.example.cn"
    from filings.services import _number

    number = _number("long_term", "232700")  # as long as the portal's numbers get
    for kind in documents.KINDS:
        url = documents.verify_url(documents.make_token(kind, number))
        assert segno.make(url, error=pdf.qr.ERROR, micro=False).version <= 5, url
        assert len(url) <= 80, url


def test_printout_made_before_a_cancellation_verifies_as_cancelled(client, filing):
    content = documents.render(filing, documents.CERTIFICATE)
    token = _token_printed_in(content)  # read back from the PDF, not made again
    assert token in _text(content).replace("\n", "")  # printed beside the QR code as well
    assert client.get(f"/api/v1/verify/{token}").json()["status"] == "valid"
    Filing.objects.filter(pk=filing.pk).update(status="cancelled")
    assert client.get(f"/api/v1/verify/{token}").json()["status"] == "cancelled"
    page = client.get(reverse("verify-page", args=[token]))
    assert 'data-status="cancelled"' in page.content.decode()


def test_qr_code_holds_the_absolute_verify_url_under_site_url(filing, settings, monkeypatch):
    settings.SITE_URL = "https://ydjy.example.cn"
    encoded = []
    real = pdf.qr_data_uri
    monkeypatch.setattr(pdf, "qr_data_uri", lambda text: encoded.append(text) or real(text))
    content = documents.render(filing, documents.CERTIFICATE)
    (url,) = encoded
    assert url.startswith("https://ydjy.example.cn/verify/")
    assert url in _links(content)
    token = _token_printed_in(content)
    assert url == "https://ydjy.example.cn" + reverse("verify-page", args=[token])
    assert documents.read_token(token) == (documents.CERTIFICATE, filing.number)


def test_cache_key_changes_when_the_persons_name_or_chosen_hospitals_change(filing):
    kind, lang = documents.CERTIFICATE, "zh-hans"
    first = documents.cache_path(filing, kind, lang)
    assert documents.cache_path(Filing.objects.get(pk=filing.pk), kind, lang) == first
    content = documents.cached_or_render(filing, kind, lang)
    assert first.exists() and "王秀兰" in _text(content)

    # Neither change touches the filing's updated_at.
    filing.person.name = "王秀英"
    filing.person.save()
    renamed = documents.cache_path(Filing.objects.get(pk=filing.pk), kind, lang)
    assert renamed != first
    content = documents.cached_or_render(Filing.objects.get(pk=filing.pk), kind, lang)
    assert "王秀英" in _text(content) and "王秀兰" not in _text(content)

    filing.hospitals.set(filing.hospitals.all()[:1])
    rechosen = documents.cache_path(Filing.objects.get(pk=filing.pk), kind, lang)
    assert rechosen not in (first, renamed)
    assert documents.cache_path(filing, kind, "en") != rechosen


def test_expired_validity_verifies_as_expired(client, filing):
    Filing.objects.filter(pk=filing.pk).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    token = documents.make_token(documents.CERTIFICATE, filing.number)
    assert client.get(f"/api/v1/verify/{token}").json()["status"] == "expired"


def test_download_is_for_the_person_and_404_for_others(client, filing, django_user_model):
    from portal.celery import app

    owner = django_user_model.objects.create_user("wang", "w@example.cn", "pw-12345678")
    filing.person.user = owner
    filing.person.save()
    other = django_user_model.objects.create_user("other", "o@example.cn", "pw-12345678")
    url = reverse("document-download", args=[filing.number, documents.CERTIFICATE])
    app.conf.task_always_eager = True
    try:
        client.force_login(other)
        assert client.get(url).status_code == 404
        client.force_login(owner)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]
        content = b"".join(response.streaming_content)
        assert content.startswith(b"%PDF")
        # Cached until the filing changes.
        assert documents.cache_path(filing, documents.CERTIFICATE, "zh-hans").exists()
    finally:
        app.conf.task_always_eager = False


def test_a_signed_out_download_goes_to_sign_in_and_back(client, filing):
    """The portal signs a quiet session out: a form's link tapped on a page opened before is
    sent to sign in, then back to the form, not told the page does not exist. (Anyone signed
    out gets the same answer for any number: nothing is told of the filing.)"""
    url = reverse("document-download", args=[filing.number, documents.CERTIFICATE])
    for asked in (url, reverse("document-download", args=["BA000000000000", "certificate"])):
        response = client.get(asked)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('account_login')}?next={quote(asked)}"


def test_qr_code_is_a_small_png_one_pixel_a_module():
    import base64

    from PIL import Image

    uri = pdf.qr_data_uri("https://ydjy.example.cn/verify/token/")
    assert uri.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    side = image.size[0]
    assert image.size == (side, side) and (side - 8 - 17) % 4 == 0  # 4-module quiet zone
    assert len(uri) < 2000


def test_forms_use_their_own_stylesheet_parsed_once():
    assert pdf.forms_stylesheet() is pdf.forms_stylesheet()
    content = pdf.render_form_html("<html><body><p>备案</p></body></html>")
    assert "备案" in _text(content) and _text(content).strip().endswith("1 / 1")


def test_warm_up_renders_every_form_without_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        documents.warm_up()


def test_a_render_waits_for_the_warm_up_and_a_failed_warm_up_is_only_logged(caplog):
    release, order = threading.Event(), []

    def slow_warm_up():
        release.wait(5)
        order.append("warm-up")

    thread = pdf.warm_up_in_background(slow_warm_up)
    threading.Timer(0.3, release.set).start()
    pdf.render_html("<p>x</p>")
    order.append("render")
    assert order == ["warm-up", "render"] and not thread.is_alive()

    def broken():
        raise RuntimeError("no fonts")

    pdf.warm_up_in_background(broken).join(5)
    assert "PDF warm-up failed" in caplog.text
    assert pdf.render_html("<p>x</p>").startswith(b"%PDF")


def test_each_worker_process_warms_up_at_start(monkeypatch):
    from celery.signals import worker_process_init

    from filings import document_tasks

    ran = threading.Event()
    monkeypatch.setattr(documents, "warm_up", ran.set)
    worker_process_init.send(sender="test")
    assert ran.wait(5)
    assert document_tasks.warm_up_pdf_rendering in [
        ref() for _, ref in worker_process_init.receivers if ref() is not None
    ]


def test_filing_form_copies_share_one_layout_and_differ_in_label_and_page_number(filing):
    content = documents.render(filing, documents.FILING_FORM)
    reader = pypdf.PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 2
    labels = ["参保人留存", "经办机构留存"]
    for number, (page, label) in enumerate(zip(reader.pages, labels, strict=True), 1):
        text = page.extract_text()
        assert label in text and labels[2 - number] not in text
        assert f"{number} / 2" in text
        assert "王秀兰" in text and "三亚市中医院" in text
        assert zh(filing.commitment_deadline) in text
        uris = [a.get_object()["/A"]["/URI"] for a in page.get("/Annots") or []]
        assert uris and all("/verify/" in u for u in uris)
    # Each page its own annotations (an annotation belongs to one page).
    first, second = ({a.idnum for a in page["/Annots"]} for page in reader.pages)
    assert not first & second
    # The form's content is one stream, drawn on both pages; each page adds its own.
    first, second = ([c.idnum for c in page["/Contents"]] for page in reader.pages)
    assert len(set(first) & set(second)) == 3 and first[-1] != second[-1]  # q, the form, Q


def test_filing_form_too_long_for_one_page_prints_each_copy_in_full(filing, place):
    province, region = place
    filing.hospitals.set(
        Hospital.objects.create(
            code=f"H46020009{i:03}",
            name=f"三亚市第{i}人民医院",
            province=province,
            region=region,
            level=2,
            kind="general",
            ownership="public",
        )
        for i in range(60)
    )
    reader = pypdf.PdfReader(io.BytesIO(documents.render(filing, documents.FILING_FORM)))
    pages = [page.extract_text() for page in reader.pages]
    total = len(pages)
    assert total >= 4 and total % 2 == 0
    assert "参保人留存" in pages[0] and "经办机构留存" in pages[total // 2]
    assert f"1 / {total}" in pages[0] and f"{total} / {total}" in pages[-1]
    for half in (pages[: total // 2], pages[total // 2 :]):
        text = "\n".join(half)
        assert "三亚市第0人民医院" in text and "三亚市第59人民医院" in text


def _font_programs(content: bytes) -> list[bytes]:
    reader = pypdf.PdfReader(io.BytesIO(content))
    programs = []
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            descendant = font.get_object()["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            programs.append(descriptor["/FontFile2"].get_object().get_data())
    return programs


def test_one_font_configuration_per_process_and_each_pdf_embeds_its_own_glyphs():
    assert pdf.font_config() is pdf.font_config()
    small = "<p>甲</p>"
    alone = _font_programs(pdf.render_form_html(small))
    # A document with many other characters rendered first leaves nothing in the next one.
    pdf.render_form_html("<p>" + "".join(chr(c) for c in range(0x4E00, 0x4E00 + 400)) + "</p>")
    after = _font_programs(pdf.render_form_html(small))
    assert after == alone


def test_renders_from_two_threads_at_once_are_both_whole():
    results: dict[int, bytes] = {}

    def render(n: int) -> None:
        results[n] = pdf.render_form_html(f"<p>第{n}号备案</p>")

    threads = [threading.Thread(target=render, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == [0, 1, 2, 3]
    for n, content in results.items():
        assert f"第{n}号备案" in _text(content)


def test_the_date_of_issue_is_labelled_as_a_date(filing):
    text = _text(documents.render(filing, documents.CERTIFICATE))
    assert "出具日期" in text and "已出具" not in text


def test_a_filing_never_approved_has_no_certificate_and_its_form_does_not_print_a_validity(
    filing,
):
    """A pending filing's dates are set when it is approved: its form says so, not "open-ended";
    cancelled before approval (a draft, a pending filing), it never took effect and has no
    certificate to print."""
    Filing.objects.filter(pk=filing.pk).update(
        status="submitted", valid_from=None, valid_until=None
    )
    filing.refresh_from_db()
    assert documents.kinds_for(filing) == [documents.FILING_FORM]
    text = _text(documents.render(filing, documents.FILING_FORM))
    assert "审核通过后确定" in text and "长期有效" not in text
    Filing.objects.filter(pk=filing.pk).update(status="cancelled")
    filing.refresh_from_db()
    assert documents.CERTIFICATE not in documents.kinds_for(filing)
    # Cancelled after it took effect, it keeps its certificate, whose validity says it ended.
    Filing.objects.filter(pk=filing.pk).update(
        valid_from=timezone.localdate() - datetime.timedelta(days=9), valid_until=None
    )
    filing.refresh_from_db()
    assert documents.CERTIFICATE in documents.kinds_for(filing)
    text = _text(documents.render(filing, documents.CERTIFICATE))
    assert "已终止" in text and "长期有效" not in text


def test_verify_says_where_a_long_term_filing_settles_one_way_or_two(client, filing):
    """Checked at the person's home, a one-way filing (commitment materials outstanding) must
    not read as valid there: the answer gives the place and whether it is two-way."""
    token = _token_printed_in(documents.render(filing, documents.CERTIFICATE))
    answer = client.get(f"/api/v1/verify/{token}").json()
    assert answer["type"] == "long_term" and answer["two_way"] is False
    assert answer["place_of_treatment"] == {"code": "460200", "name": "三亚市"}
    Region.objects.filter(code="460200").update(name_en="Sanya")
    english = client.get(f"/api/v1/verify/{token}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert english["place_of_treatment"] == {"code": "460200", "name": "Sanya"}
    page = client.get(reverse("verify-page", args=[token])).content.decode()
    assert "单向备案：仅可在居住地直接结算" in page
    Filing.objects.filter(pk=filing.pk).update(materials_accepted_at=timezone.now())
    assert client.get(f"/api/v1/verify/{token}").json()["two_way"] is True
