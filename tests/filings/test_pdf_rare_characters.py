"""Rare characters of a name (生僻字) in the PDFs: printed from the fallback CJK font.

WenQuanYi Micro Hei has no CJK Ext A (but two) and nothing outside the BMP (Ext B-G). The
documents' stylesheet names Hanazono Mincho (fonts-hanazono: HanaMinA, HanaMinB) after it, so a
character it lacks is drawn with a Hanazono glyph embedded as a subset, never a blank box, and a
document without such a character embeds WenQuanYi alone. A name keeps such characters from the
form that takes it to the PDF that prints it.
"""

import datetime
import io
import re

import pypdf
import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from fontTools.ttLib import TTFont
from weasyprint import HTML

from filings import documents
from filings.forms import FilingForm
from filings.models import Filing
from portal.forms import InsuredSignupForm
from portal.lib import pdf, text
from portal.models import InsuredPerson, Province, Region

pytestmark = pytest.mark.django_db

PRIMARY = "WenQuanYi"
FALLBACK = "HanaMin"
# The first font in the list that has a character prints it; the generic family comes last.
FONT_FAMILY = ("WenQuanYi Micro Hei", "HanaMinA", "HanaMinB", "sans-serif")

EXT_B = "\U00020000"  # 𠀀, the first character of CJK Ext B (plane 2)
RARE_NAMES = {
    "Ext B": f"王{EXT_B}兰",
    "Ext B, not the first": "张\U00021484",  # 𡒄
    "Ext E": "陈\U0002c317",  # 𬌗, of the 通用规范汉字表
    "Ext A": "刘\u4dae",  # 䶮
}
ORDINARY_NAME = "王秀兰"
ID_NUMBER = "232701195603120223"


def _rare(name: str) -> list[str]:
    return [ch for ch in name if ord(ch) > 0xFFFF or 0x3400 <= ord(ch) <= 0x4DBF]


@pytest.fixture
def filing_of(db):
    """A long-term filing, approved, of a person with the given name (saved and read back)."""
    province, _ = Province.objects.get_or_create(code="460000", defaults={"name": "海南省"})
    region, _ = Region.objects.get_or_create(
        code="460200", defaults={"name": "三亚市", "province": province}
    )
    home, _ = Region.objects.get_or_create(
        code="232700", defaults={"name": "大兴安岭地区", "province": province}
    )

    def make(name: str, type: str = "long_term") -> Filing:
        person = InsuredPerson(name=name, region=home, scheme="employee")
        person.set_id_number(ID_NUMBER)
        person.save()
        today = timezone.localdate()
        filing = Filing.objects.create(
            number="BA2326110001",
            person=person,
            insured_region=home,
            type=type,
            subtype="resettled_retiree" if type == "long_term" else "",
            status="approved",
            place_province=province,
            place_region=region,
            valid_from=today,
            valid_until=today + datetime.timedelta(days=365),
            basis="commitment" if type == "long_term" else "",
        )
        return Filing.objects.select_related("person").get(pk=filing.pk)

    return make


def _text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _to_unicode(cmap: bytes) -> dict[str, int]:
    """A ToUnicode CMap read backwards: each character (UTF-16BE, so a surrogate pair outside
    the BMP) to the code (CID; with /Identity, the glyph id) that draws it."""
    found: dict[str, int] = {}
    source = cmap.decode("latin-1")
    for block in re.findall(r"beginbfchar(.*?)endbfchar", source, re.S):
        for code, chars in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            found[bytes.fromhex(chars).decode("utf-16-be")] = int(code, 16)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", source, re.S):
        for first, last, start in re.findall(
            r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block
        ):
            base = ord(bytes.fromhex(start).decode("utf-16-be"))
            for offset in range(int(last, 16) - int(first, 16) + 1):
                found[chr(base + offset)] = int(first, 16) + offset
    return found


def _embedded_fonts(content: bytes) -> dict[str, dict]:
    """Every font of the PDF by its BaseFont: the characters its ToUnicode map names (with their
    glyph ids) and the glyph ids its embedded program draws (a glyph with contours)."""
    fonts: dict[str, dict] = {}
    for page in pypdf.PdfReader(io.BytesIO(content)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            name = str(font["/BaseFont"]).lstrip("/")
            if name in fonts:
                continue
            (descendant,) = font["/DescendantFonts"]
            descendant = descendant.get_object()
            assert descendant.get("/CIDToGIDMap") == "/Identity", name
            descriptor = descendant["/FontDescriptor"].get_object()
            program = descriptor.get("/FontFile2")  # TrueType: both fonts are
            drawn: set[int] = set()
            if program is not None:
                ttf = TTFont(io.BytesIO(program.get_object().get_data()))
                order = ttf.getGlyphOrder()
                glyf = ttf["glyf"]
                drawn = {gid for gid, g in enumerate(order) if glyf[g].numberOfContours != 0}
            fonts[name] = {
                "chars": _to_unicode(font["/ToUnicode"].get_object().get_data()),
                "drawn": drawn,
                "embedded": program is not None,
            }
    return fonts


def _font_drawing(fonts: dict[str, dict], char: str) -> str:
    """The (subset) font that draws `char` with a glyph of its own (not .notdef), by name."""
    for name, font in fonts.items():
        gid = font["chars"].get(char)
        if gid and gid in font["drawn"]:
            return name
    raise AssertionError(f"U+{ord(char):04X} is drawn by no embedded glyph: {sorted(fonts)}")


def _subset_name(name: str) -> bool:
    tag, _, _ = name.partition("+")
    return len(tag) == 6 and tag.isupper() and "+" in name


@pytest.mark.parametrize("case", RARE_NAMES)
@pytest.mark.parametrize("kind", documents.KINDS)
def test_a_rare_character_of_a_name_prints_from_the_fallback_font(filing_of, kind, case):
    name = RARE_NAMES[case]
    filing = filing_of(name, "referral" if kind == documents.REFERRAL_FORM else "long_term")
    content = documents.render(filing, kind)

    assert name in _text(content)  # the ToUnicode map gives the character back, not a box
    fonts = _embedded_fonts(content)
    assert all(f["embedded"] and _subset_name(n) for n, f in fonts.items()), sorted(fonts)
    for char in _rare(name):
        drawn_by = _font_drawing(fonts, char)
        assert FALLBACK in drawn_by, (char, drawn_by)
    # Everything else, the name's ordinary characters too, stays in WenQuanYi Micro Hei.
    for char in name:
        if char not in _rare(name):
            assert PRIMARY in _font_drawing(fonts, char), char
    assert len(content) <= 100_000  # the documents' size goal, fallback subset included


@pytest.mark.parametrize("kind", documents.KINDS)
def test_an_ordinary_name_embeds_only_wenquanyi(filing_of, kind):
    filing = filing_of(
        ORDINARY_NAME, "referral" if kind == documents.REFERRAL_FORM else "long_term"
    )
    content = documents.render(filing, kind)

    assert ORDINARY_NAME in _text(content)
    fonts = _embedded_fonts(content)
    assert fonts and all(PRIMARY in name and _subset_name(name) for name in fonts), sorted(fonts)


def test_a_rare_character_has_a_real_glyph_in_the_fallback_font(filing_of):
    """Not the fallback font's own blank: its glyph has contours, and no other font of the
    document (WenQuanYi's .notdef box) claims the character."""
    content = documents.render(filing_of(RARE_NAMES["Ext B"]), documents.CERTIFICATE)
    fonts = _embedded_fonts(content)
    claiming = [name for name, font in fonts.items() if EXT_B in font["chars"]]
    assert len(claiming) == 1 and FALLBACK in claiming[0], claiming
    assert fonts[claiming[0]]["chars"][EXT_B] in fonts[claiming[0]]["drawn"]


def _root_font_family(html: str, stylesheets=()) -> tuple[str, ...]:
    """The font-family of the root element as WeasyPrint computes it."""
    document = HTML(string=html, base_url="asset:/", url_fetcher=pdf.SafeURLFetcher()).render(
        stylesheets=list(stylesheets), font_config=pdf.font_config()
    )
    root = document.pages[0]._page_box.children[0]
    return tuple(root.style["font_family"])


def test_the_forms_stylesheet_names_the_fallback_right_after_wenquanyi():
    """Without it, a character WenQuanYi lacks is drawn by whichever font fontconfig sorts first
    that has it: Hanazono where it is the only one (so the tests above pass without the list),
    but Noto CJK, Unifont's bitmap face or WenQuanYi Zen Hei on a machine that has them, and the
    same name prints differently from one machine to the next."""
    html = '<!DOCTYPE html><html lang="zh-hans"><body><p class="f">王</p></body></html>'
    assert _root_font_family(html, [pdf.forms_stylesheet()]) == FONT_FAMILY


def test_the_clearing_statement_names_the_same_fonts():
    html = render_to_string("pdf/clearing_statement.html", {"lang": "zh-hans"})
    assert _root_font_family(html) == FONT_FAMILY


EXTRA_NAMES = ["王\U0002b740", "李\U0003134a", "赵\U00031350"]  # Ext D, Ext G, Ext H's first


@pytest.mark.parametrize("name", [*RARE_NAMES.values(), *EXTRA_NAMES])
def test_name_fields_keep_rare_characters(name):
    # No field refuses or strips a code point for being outside the BMP, nor for being newer
    # than this Python's Unicode tables (Ext H is Unicode 15; Python 3.11 knows 14: category Cn).
    assert text.plain(f" {name}\u200b ") == name
    assert InsuredSignupForm.base_fields["name"].clean(name) == name
    for field in ("agent_name", "attending_doctor", "director_signed_by"):
        assert FilingForm.base_fields[field].clean(name) == name, field


def test_sign_up_keeps_a_rare_character_of_the_name():
    province = Province.objects.create(code="230000", name="黑龙江省")
    region = Region.objects.create(code="232700", name="大兴安岭地区", province=province)
    name = RARE_NAMES["Ext B"]
    data = {"name": name, "id_number": ID_NUMBER, "region": region.pk, "scheme": "employee"}
    form = InsuredSignupForm(data=data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["name"] == name
