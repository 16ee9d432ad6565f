"""Every HTML page speaks the language it says it does, and can be used with a screen reader.

The permission matrix's world is crawled: every non-admin URL name it knows (with its kwargs,
one case per object owner) and every account page, requested with GET by each actor with a
browser session (anonymous, insured persons A and B, agency staff X and Y, hospital staff H1
and H2, the superuser), once in Simplified Chinese (the default) and once after switching to
English with the language form; a few URL names also in other states (each kind of filing
form, the estimator's answer, the directory's filters). A page that asks for a recent
re-authentication is requested again once the actor has confirmed their password. Every
text/html answer that is 200, 202 ("your document is being prepared") or an error page met on
the way (400, 403, 404: what an actor sees of what is not theirs) is checked:

* in Chinese, no English interface text: no message of the project's catalogue with a Chinese
  translation (at least two words or eight characters), no message of Django's or allauth's
  own catalogues, and no run of two English words that is not data of the database;
* in English, no Chinese interface text: no Chinese translation of those catalogues, and no
  Chinese at all once the data the page shows (people's names, in full or masked, regions,
  hospitals, reasons typed in Chinese...: every text of the database) is taken out;
* `<html lang>` names the language; every visible form field has a label (`<label for>`, a
  wrapping `<label>`, `aria-label` or `aria-labelledby`) and every `<img>` an `alt`.

The visible text is the body's and the title's text, the `placeholder`, `title`, `aria-label`
and `alt` attributes, the buttons' values and the strings of the charts' JSON data; text marked
up in another language (the switcher's `<button lang="en">English</button>`) is left out. Each
finding is reported as text, page and actor. The 400, 403 and 500 pages are checked on their
own, and the checks themselves on planted pages.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import polib
import pytest
from django.apps import apps
from django.db import models
from django.test import Client
from django.urls import NoReverseMatch, reverse

from filings.models import FilingType
from portal.lib.idnumbers import mask_name
from tests.portal import test_permission_matrix as matrix

world = matrix.world
FILING_TYPES = FilingType.values

# Who crawls: everyone with a browser session (the API keys have no pages).
CRAWLERS = [matrix.ANON, matrix.A, matrix.B, matrix.X, matrix.Y, matrix.H1, matrix.H2, matrix.SU]
LANGUAGES = ["zh-hans", "en"]
APPS = ["portal", "hospitals", "filings", "settlement"]  # whose tables hold the data
LOCALE = Path(__file__).resolve().parents[2] / "locale"
# Account pages that need a key in the URL: an unknown key shows the "bad link" page.
AUTH_KWARGS = {
    "account_confirm_email": {"key": "no-such-key"},
    "account_reset_password_from_key": {"uidb36": "0", "key": "no-such-key"},
}
# Pages, "your document is being prepared" (202), and the error pages met on the way (a page
# that is not yours answers 404 or 403).
HTML_STATUSES = (200, 202, 400, 403, 404)
# The same URL names in other states than the matrix's kwargs show: each kind of filing form,
# the estimator's answer, the directory's filters and its empty result.
VARIANTS = [
    *[("filings:new", {"filing_type": t}, {}) for t in FILING_TYPES if t != "temporary"],
    ("settlement:estimate", {}, {"region": "460200", "level": "3", "care_type": "inpatient"}),
    ("hospitals:directory", {}, {"province": "230000", "level": "3", "sort": "name"}),
    ("hospitals:directory", {}, {"q": "no such hospital"}),
]

HAN = "\u3400-\u9fff\uf900-\ufaff"
CJK = re.compile(f"[{HAN}]")
# Chinese characters with the Chinese punctuation between them.
CJK_RUN = re.compile(f"[{HAN}](?:[{HAN}\u3000-\u303f\uff00-\uffef]*[{HAN}])?")
# Two English words in a row ("Sign in", "Download CSV"): single words are mostly acronyms and
# units (PDF, JPEG, MB) that Chinese text uses as they are.
WORD = r"[A-Za-z][A-Za-z'’-]*[A-Za-z]"
ENGLISH_RUN = re.compile(rf"(?<![\w.@/-]){WORD}(?:[ ,]+{WORD})+(?![\w@/-])")
PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[sdfir]|%[sdfir]|\{[A-Za-z_][\w.]*\}")
TAG = re.compile(r"<[^>]+>")
# Intended Chinese in English text: the English name of the written-commitment procedure
# carries its official Chinese name, so that a reader recognises it on paper forms and at the
# agency's counter (Basis.COMMITMENT, filings/models.py; the PDF filing form says the
# same). Only the gloss right after its English name is allowed.
GLOSSES = re.compile(r"(?<=[Cc]ommitment )\(告知承诺\)")


# --- pages --------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr"}
# Text inside these runs on without a break; any other tag starts a new line of text.
INLINE = {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "i", "kbd"}
INLINE |= {"mark", "q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var"}
INVISIBLE = {"script", "style", "template", "noscript"}
FIELDS_WITHOUT_LABEL = {"hidden", "submit", "button", "reset", "image"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list = field(default_factory=list)  # Node or str

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def iter(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class _TreeBuilder(HTMLParser):
    """A forgiving DOM from the standard library's parser (BeautifulSoup is not installed)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: (v or "") for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        # An end tag closes its element and any left open inside it (<li>, <p>, <option>...).
        for node in [self.current, *self.current.ancestors()]:
            if node.tag == tag:
                self.current = node.parent or self.root
                return

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def html_lang(root: Node) -> str | None:
    return next((n.attrs.get("lang") for n in root.iter() if n.tag == "html"), None)


def _json_strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _json_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _json_strings(v)]
    return []


def visible_lines(root: Node, page_lang: str) -> list[str]:
    """The page's visible text in its own language, one line per block."""
    parts: list[str] = []

    def walk(node: Node, lang: str):
        if node.tag != "html":  # <html lang> is checked on its own: it may be wrong
            lang = node.attrs.get("lang", lang).lower()
        mine = lang == page_lang
        if node.tag == "script" and node.attrs.get("type") == "application/json":
            # The charts' labels, drawn on the page by static/js/dashboard.js.
            if mine:
                parts.extend(f"\n{s}\n" for s in _json_strings(json.loads(node.text() or "null")))
            return
        if node.tag in INVISIBLE:
            return
        block = node.tag not in INLINE
        if block:
            parts.append("\n")
        if mine:
            for attr in ("placeholder", "title", "aria-label", "alt"):
                if node.attrs.get(attr):
                    parts.append(f"\n{node.attrs[attr]}\n")
            if node.tag == "input" and node.attrs.get("type") in ("submit", "button", "reset"):
                parts.append(f"\n{node.attrs.get('value', '')}\n")
        for child in node.children:
            if isinstance(child, Node):
                walk(child, lang)
            elif mine:
                parts.append(child)
        if block:
            parts.append("\n")

    walk(root, page_lang)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return [line for line in lines if line]


def unlabelled_fields(root: Node) -> list[str]:
    nodes = list(root.iter())
    ids = {n.attrs["id"] for n in nodes if n.attrs.get("id")}
    label_for = {n.attrs["for"] for n in nodes if n.tag == "label" and n.attrs.get("for")}
    missing = []
    for node in nodes:
        if node.tag not in ("input", "select", "textarea"):
            continue
        if node.tag == "input" and node.attrs.get("type", "text") in FIELDS_WITHOUT_LABEL:
            continue
        if node.attrs.get("aria-label", "").strip():
            continue
        labelledby = node.attrs.get("aria-labelledby", "").split()
        if labelledby and all(i in ids for i in labelledby):
            continue
        if node.attrs.get("id") and node.attrs["id"] in label_for:
            continue
        if any(a.tag == "label" for a in node.ancestors()):
            continue
        name, id_ = node.attrs.get("name", ""), node.attrs.get("id", "")
        missing.append(f"<{node.tag} name={name!r} id={id_!r}>")
    return missing


def images_without_alt(root: Node) -> list[str]:
    return [
        f"<img src={n.attrs.get('src', '')!r}>"
        for n in root.iter()
        if n.tag == "img" and "alt" not in n.attrs
    ]


# --- catalogues ---------------------------------------------------------------------------


def _catalogues() -> tuple[Path, list[Path]]:
    """The project's Chinese catalogue, and Django's and allauth's."""
    import allauth
    import django

    django_root = Path(django.__file__).parent
    tail = Path("locale") / "zh_Hans" / "LC_MESSAGES" / "django.po"
    return LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po", [
        django_root / "conf" / tail,
        django_root / "contrib" / "auth" / tail,
        Path(allauth.__file__).parent / tail,
    ]


def _flat(text: str) -> str:
    return " ".join(TAG.sub("", text).split())


def _pattern(text: str) -> tuple[str, re.Pattern] | None:
    """A message as it shows on a page: tags out, whitespace collapsed, placeholders matching
    anything on the line; with its longest fixed part, to look for first."""
    parts = PLACEHOLDER.split(_flat(text))
    literal = max(parts, key=len).strip()
    if not literal:
        return None
    return literal, re.compile(r".{1,80}?".join(re.escape(p) for p in parts))


Messages = list[tuple[str, str, re.Pattern]]


@cache
def english_messages() -> Messages:
    """(message, longest fixed part, pattern) of English interface text: the project's messages
    with a Chinese translation (other than themselves) and all of Django's and allauth's, at
    least two words or eight characters long."""
    found: dict[str, tuple[str, re.Pattern]] = {}

    def add(msgid: str):
        text = _flat(msgid)
        if len(text.split()) < 2 and len(text) < 8:
            return
        made = _pattern(msgid)
        if made and len(made[0]) >= 4 and re.search(r"[A-Za-z]{2}", made[0]):
            found[text] = made

    project, third_party = _catalogues()
    for entry in polib.pofile(str(project)):
        translations = [entry.msgstr, *entry.msgstr_plural.values()]
        if entry.obsolete or not any(t.strip() for t in translations):
            continue
        for msgid in filter(None, (entry.msgid, entry.msgid_plural)):
            if msgid not in translations:
                add(msgid)
    for path in third_party:
        for entry in polib.pofile(str(path)):
            if not entry.obsolete:
                for msgid in filter(None, (entry.msgid, entry.msgid_plural)):
                    add(msgid)
    return [(text, literal, pattern) for text, (literal, pattern) in found.items()]


@cache
def chinese_messages() -> Messages:
    """(translation, longest fixed part, pattern) of every Chinese translation of the
    project's, Django's and allauth's catalogues with at least two Chinese characters."""
    found: dict[str, tuple[str, re.Pattern]] = {}
    project, third_party = _catalogues()
    for path in [project, *third_party]:
        for entry in polib.pofile(str(path)):
            if entry.obsolete:
                continue
            for msgstr in [entry.msgstr, *entry.msgstr_plural.values()]:
                made = _pattern(msgstr)
                if made and len(CJK.findall(made[0])) >= 2:
                    found[_flat(msgstr)] = made
    return [(text, literal, pattern) for text, (literal, pattern) in found.items()]


def _alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def find_messages(lines: list[str], messages: Messages) -> list[str]:
    """The messages found in the lines; an English one only as whole words."""
    text = "\n".join(lines)
    found = set()
    for message, literal, pattern in messages:
        if literal not in text:
            continue
        for match in pattern.finditer(text):
            start, end = match.span()
            if (start > 0 and _alnum(text[start - 1]) and _alnum(text[start])) or (
                end < len(text) and _alnum(text[end]) and _alnum(text[end - 1])
            ):
                continue
            found.add(message)
            break
    # A message inside a longer one found on the same page says nothing more.
    return sorted(m for m in found if not any(m != o and m in o for o in found))


def english_runs(lines: list[str]) -> list[str]:
    return sorted({m for line in lines for m in ENGLISH_RUN.findall(line)})


def chinese_runs(lines: list[str]) -> list[str]:
    return sorted({m for line in lines for m in CJK_RUN.findall(line)})


# --- the data a page may show whatever the language --------------------------------------


# Lower-case codes (choice values, outcomes, file names, user names): pages show them through
# their labels or as single words, and taking them out would cut words out of real sentences.
CODE = re.compile(r"[a-z0-9_.@/:-]*")


def database_texts(extra_apps: tuple[str, ...] = ()) -> list[str]:
    """Every text stored in the project's tables (and in those of `extra_apps`) and the
    accounts' names and addresses (with people's names also masked, as pages show them),
    longest first."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    labels = [*APPS, *extra_apps]
    tables = [m for label in labels for m in apps.get_app_config(label).get_models()]
    texts: set[str] = set()
    for model in [*tables, get_user_model(), EmailAddress]:
        names = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField))
        ]
        for row in model.objects.all():
            for name in names:
                texts.update(v.strip() for v in _json_strings(getattr(row, name)))
    texts = {t for t in texts if CJK.search(t) or (len(t) >= 3 and not CODE.fullmatch(t))}
    texts |= {mask_name(t) for t in texts if CJK.search(t) and len(t) <= 4}
    return sorted(texts, key=len, reverse=True)


def without_data(lines: list[str], data: list[str]) -> list[str]:
    """The lines with each database text in them taken out (an English one as whole words:
    the class "A" of an item is not the "A" of "API")."""
    out = []
    for line in lines:
        for value in data:
            if value in line:
                line = _data_pattern(value).sub("\x00", line)
        out.append(line)
    return out


@cache
def _data_pattern(value: str) -> re.Pattern:
    before = r"(?<![A-Za-z0-9])" if _alnum(value[0]) else ""
    after = r"(?![A-Za-z0-9])" if _alnum(value[-1]) else ""
    return re.compile(before + re.escape(value) + after)


# --- the crawl ----------------------------------------------------------------------------


@dataclass
class Page:
    label: str
    actor: str
    html: str
    status: int = 200


def targets(w) -> list[tuple[str, str]]:
    """(label, url) of every GET URL of the matrix's table and every account page."""
    found = []
    for name, rule in matrix.TABLE.items():
        if rule.method != "get":
            continue
        if rule.owners:
            for owner in rule.owners:
                found.append((f"{name}[{owner}]", reverse(name, kwargs=w["objects"][name][owner])))
        else:
            found.append((name, reverse(name, kwargs=w["kwargs"].get(name, {}))))
    for name, kwargs, query in VARIANTS:
        label = f"{name}[{','.join(kwargs.values())}]" if kwargs else name
        query = f"?{urlencode(query)}" if query else ""
        found.append((label + query, reverse(name, kwargs=kwargs) + query))
    for name in matrix.project_urls():
        if name.startswith(matrix.AUTH_PREFIXES):
            try:
                found.append((name, reverse(name, kwargs=AUTH_KWARGS.get(name, {}))))
            except NoReverseMatch:
                raise AssertionError(f"{name} needs kwargs: add them to AUTH_KWARGS") from None
    return found


def _reauthenticate(client: Client) -> None:
    """Confirm the password on allauth's re-authentication page, as the actor would."""
    from portal.demo import PASSWORD

    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]


def _in_language(client: Client, lang: str) -> Client:
    if lang != "zh-hans":
        response = client.post(reverse("set_language"), {"language": lang, "next": "/"})
        assert response.status_code == 302
    return client


def _is_page(response) -> bool:
    return (
        response.status_code in HTML_STATUSES
        and response.get("Content-Type", "").startswith("text/html")
        and not getattr(response, "streaming", False)
    )


def _page_of(label: str, actor: str, response) -> Page:
    status = response.status_code
    if status >= 400:
        label = f"{label} ({status})"
    return Page(label, actor, response.content.decode(), status)


def _asks_to_reauthenticate(location: str) -> bool:
    path = urlsplit(location).path
    return path in (reverse("account_reauthenticate"), reverse("mfa_reauthenticate"))


def crawl(w, lang: str) -> list[Page]:
    pages = []
    urls = targets(w)
    for actor in CRAWLERS:
        client = _in_language(matrix._client(w, actor), lang)
        later = []
        for label, url in urls:
            response = client.get(url)
            if response.status_code == 302 and _asks_to_reauthenticate(response["Location"]):
                later.append((label, url))
            elif _is_page(response):
                pages.append(_page_of(label, actor, response))
        if later:
            _reauthenticate(client)
            for label, url in later:
                response = client.get(url)
                if _is_page(response):
                    pages.append(_page_of(label, actor, response))
    return pages


def _report(title: str, findings: dict[str, list[str]]) -> str:
    lines = [f"{title}: {len(findings)}"]
    for text, where in sorted(findings.items()):
        lines.append(f"  {text!r} on {', '.join(sorted(set(where)))}")
    return "\n".join(lines)


def check(page: Page, lang: str, data: list[str]) -> dict[str, list[str]]:
    """{kind of problem: [text]} of one page."""
    root = parse(page.html)
    problems: dict[str, list[str]] = defaultdict(list)
    if html_lang(root) != lang:
        problems["accessibility"].append(f"<html lang={html_lang(root)!r}>, expected {lang!r}")
    problems["accessibility"] += [f"no label: {f}" for f in unlabelled_fields(root)]
    problems["accessibility"] += [f"no alt: {i}" for i in images_without_alt(root)]
    lines = without_data(visible_lines(root, lang), data)
    if lang == "zh-hans":
        problems["English message"] = find_messages(lines, english_messages())
        problems["English words"] = english_runs(lines)
    else:
        lines = [GLOSSES.sub("", line) for line in lines]
        problems["Chinese message"] = find_messages(lines, chinese_messages())
        problems["Chinese text"] = chinese_runs(lines)
    return problems


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_page_speaks_its_language_and_labels_its_fields(world, lang):
    pages = crawl(world, lang)
    reached = {p.label for p in pages if p.status < 400}
    assert len(reached) >= 40, f"the crawl reached too few pages: {sorted(reached)}"
    data = database_texts()
    findings: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for page in pages:
        for kind, texts in check(page, lang, data).items():
            for text in texts:
                findings[kind][text].append(f"{page.label} as {page.actor}")
    report = [_report(f"{lang}: {kind}", found) for kind, found in sorted(findings.items())]
    assert not findings, f"{len(pages)} pages, {len(reached)} URLs\n" + "\n".join(report)


@pytest.mark.django_db
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_error_pages_speak_the_language(rf, lang):
    """400, 403 and 500 (404 is met by the crawl): the portal's own pages, not Django's English
    fallbacks; 500 and 400 without the database or a user."""
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied, SuspiciousOperation
    from django.utils import translation
    from django.views import defaults

    request = rf.get("/somewhere/")
    request.user = AnonymousUser()
    with translation.override(lang):
        responses = {
            400: defaults.bad_request(request, SuspiciousOperation()),
            403: defaults.permission_denied(request, PermissionDenied()),
            500: defaults.server_error(request),
        }
    problems = {}
    for status, response in responses.items():
        assert response.status_code == status
        page = Page(str(status), "anonymous", response.content.decode())
        assert '<main class="container' in page.html, f"{status}: not the portal's page"
        found = {kind: texts for kind, texts in check(page, lang, []).items() if texts}
        if found:
            problems[status] = found
    assert not problems


# --- the checks find what they look for ---------------------------------------------------


def _page(body: str, lang: str = "zh-hans", head: str = "") -> Page:
    html = f'<!DOCTYPE html><html lang="{lang}"><head>{head}</head><body>{body}</body></html>'
    return Page("planted", "nobody", html)


def test_the_checks_find_english_in_a_chinese_page():
    message = "National cross-region direct settlement of basic medical insurance"
    assert any(m == message for m, _l, _p in english_messages())
    found = check(_page(f"<footer>{message}</footer><p>Please sign in</p>"), "zh-hans", [])
    assert found["English message"] == [message]
    assert found["English words"] == [message, "Please sign in"]
    # Django's own messages too, and in a title or a button.
    page = _page('<input type="submit" value="This field is required.">', head="<title>x</title>")
    assert check(page, "zh-hans", [])["English message"] == ["This field is required."]
    # Not: Chinese text, acronyms, file names, data, or English marked up as English.
    clean = _page(
        '<p>上传 PDF 或 JPEG（scan.png）</p><p>Sanya Hospital</p><button lang="en">English</button>'
    )
    assert not any(check(clean, "zh-hans", ["Sanya Hospital"]).values())


def test_the_checks_find_chinese_in_an_english_page():
    page = _page("<h1>异地就医</h1><p>王*兰 · 大兴安岭地区</p><td>未翻译的说明</td>", "en")
    found = check(page, "en", ["大兴安岭地区", "王*兰"])
    assert "异地就医" in found["Chinese message"]
    assert found["Chinese text"] == ["异地就医", "未翻译的说明"]
    clean = _page('<p>王*兰 · 大兴安岭地区</p><button lang="zh-hans">简体中文</button>', "en")
    assert not any(check(clean, "en", ["大兴安岭地区", "王*兰"]).values())


def test_the_checks_find_missing_labels_alts_and_languages():
    page = _page(
        '<label for="a">A</label><input id="a" name="a">'
        '<label>B <input name="b"></label><input name="c" aria-label="C">'
        '<span id="d-label">D</span><select name="d" aria-labelledby="d-label"></select>'
        '<input type="hidden" name="csrf"><input type="submit" value="OK">'
        '<input name="e" id="e"><textarea name="f"></textarea>'
        '<img src="logo.png" alt=""><img src="x.png">',
        lang="en",
    )
    found = check(page, "zh-hans", [])
    assert found["accessibility"] == [
        "<html lang='en'>, expected 'zh-hans'",
        "no label: <input name='e' id='e'>",
        "no label: <textarea name='f' id=''>",
        "no alt: <img src='x.png'>",
    ]
