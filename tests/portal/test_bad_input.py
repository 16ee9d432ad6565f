"""Bad input on every form that insured persons, hospital staff and visitors use.

In the permission matrix's world (tests/portal/test_permission_matrix.py), each form is opened
as a person would open it, once in Simplified Chinese and once in English (switched with the
language form, as tests/portal/test_page_language.py does), and sent with what the browser
would send: the form's own values, some fields typed in, and one kind of bad input: required
fields left empty, a malformed resident ID number, a date in the wrong format or one that does
not exist, a number that is not a number or is negative, a file of the wrong type.

The answer must be the form again, not a redirect and not a server error (200), and:

* it shows at least one error message (Bootstrap's `.invalid-feedback`, Django's `.errorlist`,
  `.alert-danger`, `.text-danger`), none hidden in a closed `<details>`, and a field that was
  typed in gets one message, not also a "fill this in";
* the error messages are in the page's language (with Chinese characters and no English words
  in zh-hans, without any Chinese character in English), and the page as a whole passes the
  page-language checks;
* every good value typed is still in the form: an input's `value`, a textarea's text, the
  selected options and the ticked boxes; a filing's files that passed the upload checks are
  listed as kept;
* nothing was saved or sent: the rows of filings, materials, claims, claim documents, audit
  events, notifications, users, e-mail addresses, insured persons, settlements and access logs
  are as many as before, and no filing or claim changed.

The cases of one language run in one test (the world is built once); every finding is reported
as case, language, actor and problem. The checks are tried on planted pages at the end.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from tests.filings.corpus import _pdf, _png
from tests.portal import test_page_language as language
from tests.portal import test_permission_matrix as matrix

world = matrix.world
A, B, H1, H2, ANON = matrix.A, matrix.B, matrix.H1, matrix.H2, matrix.ANON
# A person with no long-term filing (陈明): someone with an open one is shown it instead of the
# long-term form.
C = "person without a long-term filing"

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)

WANG = ("232701195603120223", "王秀兰")  # insured person A
FREE_ID = "210102199003070513"  # a genuine ID number no account is bound to
BAD_CHECK_DIGIT = "232701195603120224"
IMPOSSIBLE_BIRTH = "210102196202300352"  # born on 30 February
TOO_SHORT = "2327011956"
IMPOSSIBLE_DATE = "2025-02-30"
WRONG_FORMAT_DATE = "11.03.2025"  # neither ISO nor an input format of either language


def _day(days_ago: int = 0) -> str:
    return (TODAY - days_ago * DAY).isoformat()


TEXT_FILE = b"not a scan, just some text\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"


# --- the cases ----------------------------------------------------------------------------


@dataclass
class Case:
    label: str
    actor: str
    url: Callable[[dict], str]  # the page the person opens (the form is sent where it says)
    good: dict  # field → what the person typed (a list: several values), to be kept
    bad: dict  # field → the bad value ("" or []: left empty)
    extra: dict = field(default_factory=dict)  # also sent: the button pressed, passwords
    files: dict = field(default_factory=dict)  # field → [(name, bytes)], good or bad
    kept_files: tuple[str, ...] = ()  # good files the re-rendered form keeps
    not_said: tuple[str, ...] = ()  # messages (msgids) that must not be shown


def case(label, actor, url, typed: dict, bad: dict, **kwargs) -> Case:
    """A case from everything the person fills in (`typed`), with `bad` in place."""
    good = {k: v for k, v in typed.items() if k not in bad}
    return Case(label, actor, url, good, bad, **kwargs)


def _page(name: str, **kwargs) -> Callable[[dict], str]:
    return lambda w: reverse(name, kwargs=kwargs)


def _object(name: str, owner: str) -> Callable[[dict], str]:
    return lambda w: reverse(name, kwargs=w["objects"][name][owner])


def filing_cases(ids: dict) -> list[Case]:
    sanya, h2 = ids["region_460200"], ids["hospital_h2"]
    submit = {"extra": {"submit": ""}}
    long_term = {
        "place_region": sanya,
        "subtype": "resettled_retiree",
        "start_date": _day(),
        "care": ["inpatient", "general_outpatient"],
        "basis": "materials",
        "material_kind": "property_certificate",
        "agent_name": "王小明",
        "agent_id_number": FREE_ID,
        "agent_relationship": "儿子",
    }
    long_term_c = {**long_term, "subtype": "long_term_resident"}
    temporary = {"place_region": sanya, "start_date": _day(), "care": ["inpatient"]}
    emergency = {
        "place_region": sanya,
        "receiving_hospital": h2,
        "transfer_date": _day(2),
        "diagnosis": "急性心肌梗死",
        "discharge_settled": "on",
    }
    chronic = {
        "place_region": sanya,
        "disease": "高血压",
        "start_date": _day(),
        "material_kind": "diagnosis_certificate",
    }
    referral = {
        "place_region": sanya,
        "receiving_hospital": h2,
        "diagnosis": "肺部肿瘤",
        "referral_condition": "b",
        "attending_doctor": "刘医生",
        "director_signed_by": "赵主任",
        "medical_office_signed_by": "医务科",
    }
    id_copy = {"file_id_copy": [("id-copy.png", _png())]}
    new = {t: _page("filings:new", filing_type=t) for t in language.FILING_TYPES}
    detail = _object("filings:detail", "a")  # A's long-term filing, approved
    # B's long-term filing, approved and (see _prepare) past its lock period: the page offers
    # the cancellation and the change request (within the lock it offers neither, and says
    # from when: tests/filings/test_filing_pages.py).
    detail_b = _object("filings:detail", "b")
    return [
        case(
            "long-term filing, required fields empty",
            C,
            new["long_term"],
            long_term_c,
            {"place_region": "", "subtype": ""},
            **submit,
        ),
        case(
            "long-term filing, malformed agent's ID number",
            C,
            new["long_term"],
            long_term_c,
            {"agent_id_number": BAD_CHECK_DIGIT},
            files=id_copy,
            kept_files=("id-copy.png",),
            **submit,
        ),
        case(
            "long-term filing, impossible start date",
            C,
            new["long_term"],
            long_term_c,
            {"start_date": IMPOSSIBLE_DATE},
            files=id_copy,
            kept_files=("id-copy.png",),
            **submit,
        ),
        case(
            "long-term filing, proof of the wrong type",
            C,
            new["long_term"],
            long_term_c,
            {},
            files={"files": [("scan.exe", EXE)], **id_copy},
            kept_files=("id-copy.png",),
            **submit,
        ),
        case(
            "temporary filing, required fields empty",
            A,
            new["temporary"],
            temporary,
            {"place_region": "", "care": []},
            **submit,
        ),
        case(
            "temporary filing, start date in the wrong format",
            A,
            new["temporary"],
            temporary,
            {"start_date": WRONG_FORMAT_DATE},
            **submit,
        ),
        case(
            "emergency filing, required fields empty",
            A,
            new["emergency"],
            emergency,
            {"receiving_hospital": "", "diagnosis": ""},
            **submit,
        ),
        case(
            "emergency filing, impossible transfer date",
            A,
            new["emergency"],
            emergency,
            {"transfer_date": IMPOSSIBLE_DATE},
            files={"files": [("record.pdf", _pdf())]},
            kept_files=("record.pdf",),
            **submit,
        ),
        case(
            "emergency filing, material of the wrong type",
            A,
            new["emergency"],
            emergency,
            {},
            files={"files": [("record.pdf", TEXT_FILE)]},
            **submit,
        ),
        case(
            "chronic disease filing, required fields empty",
            A,
            new["chronic_outpatient"],
            chronic,
            {"disease": ""},
            **submit,
        ),
        case(
            "chronic disease filing, start date in the wrong format",
            A,
            new["chronic_outpatient"],
            chronic,
            {"start_date": WRONG_FORMAT_DATE},
            **submit,
        ),
        case(
            "chronic disease filing, material of the wrong type",
            A,
            new["chronic_outpatient"],
            chronic,
            {},
            files={"files": [("notes.txt", TEXT_FILE)]},
            **submit,
        ),
        case(
            "paper referral, required fields empty",
            A,
            new["referral"],
            referral,
            {"attending_doctor": "", "referral_condition": ""},
            **submit,
        ),
        case(
            "paper referral, scan of the wrong type",
            A,
            new["referral"],
            referral,
            {},
            files={"files": [("scan.exe", EXE)]},
            **submit,
        ),
        # The filing's own page: materials, cancellation, change request.
        case("material upload, no file", A, detail, {"kind": "household_register"}, {}),
        case(
            "material upload, file of the wrong type",
            A,
            detail,
            {"kind": "residence_certificate"},
            {},
            files={"files": [("certificate.png", TEXT_FILE)]},
        ),
        case("cancellation, no reason", B, detail_b, {"confirm": "on"}, {"reason": ""}),
        case("cancellation, not confirmed", B, detail_b, {"reason": "回原籍养老"}, {}),
        case("change request, nothing asked", B, detail_b, {}, {"what": "   "}),
    ]


def claim_cases(ids: dict) -> list[Case]:
    stay = {
        "hospital": ids["hospital_h2"],
        "care_type": "inpatient",
        "admitted_on": _day(9),
        "discharged_on": _day(3),
        "emergency": "on",
        "items-0-code": "X1",
        "items-0-name": "住院费",
        "items-0-cls": "A",
        "items-0-amount": "1000.00",
        "items-1-code": "M7",
        "items-1-name": "出院带药",
        "items-1-cls": "B",
        "items-1-amount": "86.50",
        "items-1-medication_days": "30",
        "items-1-medication_kind": "chronic",
    }
    submit = {"extra": {"submit": "1"}}
    documents = {
        "doc_discharge_summary": [("summary.pdf", _pdf())],
        "doc_invoice": [("invoice.png", _png())],
        "doc_itemised_list": [("list.pdf", _pdf())],
        "doc_medical_record": [("record.pdf", _pdf())],
    }
    new = _page("settlement:claim-new")
    returned = _object("settlement:claim-detail", "a")  # A's claim, returned for more
    estimate = _page("settlement:estimate")
    typed_bill = [k for k in stay if k.startswith("items-0-")]
    return [
        case(
            "claim, required fields empty",
            A,
            new,
            stay,
            {"hospital": "", "admitted_on": ""},
            files=documents,
            **submit,
        ),
        case(
            "claim, impossible admission date",
            A,
            new,
            stay,
            {"admitted_on": IMPOSSIBLE_DATE},
            files=documents,
            **submit,
        ),
        case(
            "claim, discharge date in the wrong format",
            A,
            new,
            stay,
            {"discharged_on": WRONG_FORMAT_DATE},
            files=documents,
            **submit,
        ),
        case(
            "claim, amount that is not a number",
            A,
            new,
            stay,
            {"items-0-amount": "一千"},
            files=documents,
            **submit,
        ),
        case(
            "claim, negative amount and days of medication",
            A,
            new,
            stay,
            {"items-1-amount": "-86.50", "items-1-medication_days": "-30"},
            files=documents,
            **submit,
        ),
        case(
            "claim, document of the wrong type",
            A,
            new,
            stay,
            {},
            files={**documents, "doc_invoice": [("invoice.pdf", TEXT_FILE)]},
            **submit,
        ),
        case(
            "claim, itemised list of the wrong type",
            A,
            new,
            {k: v for k, v in stay.items() if k not in typed_bill},
            {},
            files={**documents, "bill_file": [("bill.xlsx", b"PK\x03\x04 not a workbook")]},
            **submit,
        ),
        case(
            "claim estimate, negative amount",
            A,
            new,
            stay,
            {"items-0-amount": "-1000"},
            extra={"estimate": "1"},
        ),
        # A returned claim, answered.
        case("returned claim, nothing added", A, returned, {}, {"documents": []}),
        case(
            "returned claim, document of the wrong type",
            A,
            returned,
            {},
            {},
            files={"documents": [("scan.exe", EXE)]},
        ),
        case(
            "returned claim, itemised list of the wrong type",
            A,
            returned,
            {},
            {},
            files={"bill_file": [("bill.csv", _png())]},
        ),
        # The estimator, a GET form.
        case(
            "estimator, required fields empty",
            A,
            estimate,
            {"level": "2", "care_type": "general_outpatient", "estimated_total": "5000"},
            {"region": ""},
        ),
        case(
            "estimator, total that is not a number",
            A,
            estimate,
            {"province": "460000", "region": "460200", "level": "2", "care_type": "inpatient"},
            {"estimated_total": "一万"},
            # It was entered, just not as a number.
            not_said=("Enter an estimated total or the class A/B/C amounts of the bill.",),
        ),
        case(
            "estimator, negative amount",
            A,
            estimate,
            {"region": "460200", "level": "3", "care_type": "inpatient", "class_b": "2000"},
            {"estimated_total": "", "class_a": "-100"},
        ),
    ]


def hospital_cases(ids: dict) -> list[Case]:
    check = {
        "id_number": WANG[0],
        "name": WANG[1],
        "care_type": "general_outpatient",
        "visit_date": _day(),
    }
    referral = {
        "id_number": WANG[0],
        "name": WANG[1],
        "receiving_hospital": ids["hospital_h2"],
        "diagnosis": "肺部肿瘤",
        "condition": "a",
        "attending_doctor": "刘医生",
    }
    eligibility, referrals = _page("eligibility-check"), _page("referrals")
    start = _object("referral-start-treatment", "h1")  # the form is in the list's row
    return [
        case("eligibility check, required fields empty", H1, eligibility, check, {"id_number": ""}),
        case(
            "eligibility check, malformed ID number",
            H1,
            eligibility,
            check,
            {"id_number": BAD_CHECK_DIGIT},
        ),
        case(
            "eligibility check, impossible visit date",
            H1,
            eligibility,
            check,
            {"visit_date": IMPOSSIBLE_DATE},
        ),
        case(
            "e-referral, required fields empty",
            H1,
            referrals,
            referral,
            {"diagnosis": "", "condition": ""},
        ),
        case("e-referral, malformed ID number", H1, referrals, referral, {"id_number": TOO_SHORT}),
        case("start of treatment, impossible date", H1, start, {}, {"started_on": IMPOSSIBLE_DATE}),
        case("start of treatment, no date", H1, start, {}, {"started_on": ""}),
        case(
            "e-referral signature, no name",
            H2,
            lambda w: reverse("referral-detail", kwargs={"number": w["draft_referral"]}),
            {},
            {"signer": " "},
        ),
    ]


def account_cases(ids: dict) -> list[Case]:
    signup = {
        "email": "wang.xiaoming@example.cn",
        "username": "wangxm",
        "name": "王小明",
        "id_number": FREE_ID,
        "region": ids["region_232700"],
        "scheme": "resident",
    }
    # Passwords are typed, but never sent back to the browser (Django's PasswordInput): they
    # are left out of what must be kept.
    passwords = {"extra": {"password1": "a-Long-pass-2026", "password2": "a-Long-pass-2026"}}
    signup_page = _page("account_signup")
    reset = _page("account_reset_password")
    return [
        case(
            "sign-up, required fields empty",
            ANON,
            signup_page,
            signup,
            {"email": "", "username": ""},
            **passwords,
        ),
        case(
            "sign-up, malformed ID number",
            ANON,
            signup_page,
            signup,
            {"id_number": IMPOSSIBLE_BIRTH},
            **passwords,
        ),
        case(
            "sign-in, no password",
            ANON,
            _page("account_login"),
            {"login": "wangxiulan"},
            {"password": ""},
        ),
        case(
            "sign-in, nothing typed",
            ANON,
            _page("account_login"),
            {},
            {"login": "", "password": ""},
        ),
        case("password reset, no address", ANON, reset, {}, {"email": ""}),
        case("password reset, malformed address", ANON, reset, {}, {"email": "wang-at-example.cn"}),
        case(
            "new password from the e-mailed link, empty and too short",
            ANON,
            _reset_link,
            {},
            {"password1": "", "password2": "abc"},
        ),
    ]


def all_cases(ids: dict) -> list[Case]:
    return [*filing_cases(ids), *claim_cases(ids), *hospital_cases(ids), *account_cases(ids)]


# --- the world's extras ---------------------------------------------------------------------


def _ids() -> dict:
    from hospitals.models import Hospital
    from portal.models import Region

    return {
        "region_460200": str(Region.objects.get(code="460200").pk),
        "region_232700": str(Region.objects.get(code="232700").pk),
        "hospital_h2": str(Hospital.objects.get(code="H46020000002").pk),
    }


def _prepare(w) -> None:
    """H2's e-referral (the matrix's) back to waiting for the director's signature; B's
    filing past its lock period; the person without a long-term filing signed in as C."""
    from filings.models import Filing

    number = w["objects"]["referral-detail"]["h2"]["number"]
    Filing.objects.filter(number=number).update(
        status="draft", director_signed_at=None, director_signed_by=""
    )
    w["draft_referral"] = number
    # B's filing took effect 200 days ago: past Liaoning's 6-month lock.
    b = w["objects"]["filings:detail"]["b"]["number"]
    Filing.objects.filter(number=b).update(valid_from=TODAY - 200 * DAY)
    from django.contrib.auth import get_user_model

    w["users"][C] = get_user_model().objects.get(username="chenming")


def _reset_link(w) -> str:
    """The link of a password-reset e-mail to person A, made when used (each sign-in of A
    makes an older one invalid)."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    user = w["users"][A]
    user.refresh_from_db()
    key = default_token_generator.make_token(user)
    uidb36 = user_pk_to_url_str(user)
    return reverse("account_reset_password_from_key", kwargs={"uidb36": uidb36, "key": key})


# --- what is looked at ----------------------------------------------------------------------


def _snapshot() -> dict:
    """Row counts of what a form could create, and the state of every filing and claim."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from filings.models import Filing, Material
    from portal.models import AuditEvent, InsuredPerson, Notification
    from settlement.models import Claim, ClaimDocument, Settlement

    counted = [Filing, Material, Claim, ClaimDocument, AuditEvent, Notification]
    # Not the access log: a lookup or a page that reads a person's record is logged even when
    # the form it came with is refused (README: every read of personal data is recorded).
    counted += [get_user_model(), EmailAddress, InsuredPerson, Settlement]
    state: dict = {m.__name__: m.objects.count() for m in counted}
    for key, model in [("filings", Filing), ("claims", Claim)]:
        state[key] = set(model.objects.values_list("pk", "status", "updated_at"))
    return state


def _changes(before: dict, after: dict) -> list[str]:
    changes = []
    for key, value in before.items():
        if after[key] == value:
            continue
        if isinstance(value, int):
            changes.append(f"{key} rows {value} → {after[key]}")
        else:
            changes.append(f"{key} changed: {sorted(after[key] - value)[:3]}")
    return changes


Node = language.Node
ERROR_CLASSES = {"invalid-feedback", "errorlist", "alert-danger", "text-danger"}
FIELD_TAGS = ("input", "select", "textarea")
BUTTONS = ("submit", "button", "image", "reset")


def _classes(node: Node) -> set[str]:
    return set(node.attrs.get("class", "").split())


def _flat(text: str) -> str:
    return " ".join(text.split())


def _is_error(node: Node) -> bool:
    # The commitment's countdown is a reminder in red, not an error of the form.
    return bool(_classes(node) & ERROR_CLASSES) and node.attrs.get("id") != "countdown"


def error_messages(root: Node) -> list[Node]:
    """The page's error elements (the outermost of nested ones)."""
    return [n for n in root.iter() if _is_error(n) and not any(_is_error(a) for a in n.ancestors())]


def hidden(node: Node) -> bool:
    """Inside a closed <details> (outside its <summary>) a message is not seen."""
    chain = [node, *node.ancestors()]
    return any(
        outer.tag == "details" and "open" not in outer.attrs and inner.tag != "summary"
        for inner, outer in zip(chain, chain[1:], strict=False)
    )


def field_errors(root: Node, name: str) -> list[str]:
    """The messages shown for one field: crispy's `error_N_id_<name>`, Django's
    `id_<name>_error` list, the claim's table cell of the field."""
    crispy = re.compile(rf"error_\d+_id_{re.escape(name)}")
    found = []
    for node in root.iter():
        node_id = node.attrs.get("id", "")
        if crispy.fullmatch(node_id):
            found.append(_flat(node.text()))
        elif node_id == f"id_{name}_error":
            found += [_flat(li.text()) for li in node.iter() if li.tag == "li"]
        elif node.tag in FIELD_TAGS and node.attrs.get("name") == name:
            cell = next((a for a in node.ancestors() if a.tag == "td"), None)
            if cell is not None:
                found += [_flat(n.text()) for n in cell.iter() if "text-danger" in _classes(n)]
    return found


def form_values(root: Node, name: str) -> list[str] | None:
    """What the page's form shows for the field `name` (None: no such field)."""
    nodes = [n for n in root.iter() if n.tag in FIELD_TAGS and n.attrs.get("name") == name]
    if not nodes:
        return None
    values: list[str] = []
    for node in nodes:
        kind = node.attrs.get("type", "text")
        if node.tag == "textarea":
            values.append(node.text().removeprefix("\r\n").removeprefix("\n"))
        elif node.tag == "select":
            options = [o for o in node.iter() if o.tag == "option"]
            chosen = [o for o in options if "selected" in o.attrs]
            if not chosen and options and "multiple" not in node.attrs:
                chosen = options[:1]  # what a browser shows, and sends
            values += [o.attrs.get("value", o.text()) for o in chosen]
        elif kind in ("checkbox", "radio"):
            if "checked" in node.attrs:
                values.append(node.attrs.get("value", "on"))
        elif kind not in ("file", *BUTTONS):
            values.append(node.attrs.get("value", ""))
    return values


def lost_values(root: Node, good: dict) -> list[str]:
    lost = []
    for name, typed in good.items():
        shown = form_values(root, name)
        wanted = typed if isinstance(typed, list) else [typed]
        if shown is None:
            lost.append(f"{name}: not in the form any more")
        elif missing := [v for v in wanted if v not in shown]:
            lost.append(f"{name}: typed {missing}, shown {shown}")
    return lost


def the_form(root: Node, names: list[str], action: str) -> Node:
    """The <form> holding the case's fields (of several, the one sent to `action`)."""
    forms = [
        f
        for f in root.iter()
        if f.tag == "form"
        and any(n.attrs.get("name") in names for n in f.iter() if n.tag in FIELD_TAGS)
    ]
    assert forms, f"no form with {names}"
    return next((f for f in forms if f.attrs.get("action") == action), forms[0])


def browser_data(form: Node) -> dict[str, list[str]]:
    """What a browser sends of the form untouched (without its buttons and files)."""
    names = []
    for node in form.iter():
        name = node.attrs.get("name")
        if node.tag in FIELD_TAGS and name and name not in names:
            names.append(name)
    sent = {name: form_values(form, name) or [] for name in names}
    return {name: values for name, values in sent.items() if values}


def language_problems(errors: list[Node], lang: str, data: list[str]) -> list[str]:
    problems = []
    for text in language.without_data([_flat(e.text()) for e in errors], data):
        if lang == "zh-hans":
            if not language.CJK.search(text) or language.english_runs([text]):
                problems.append(f"English error message: {text!r}")
        elif language.CJK.search(text):
            problems.append(f"Chinese in an English error message: {text!r}")
    return problems


# --- the run --------------------------------------------------------------------------------


def _typed(case: Case) -> list[str]:
    values = [*case.good.values(), *case.bad.values()]
    flat = [v for value in values for v in (value if isinstance(value, list) else [value])]
    return [v for v in flat if v.strip()]


def send(client, case: Case, w):
    """Open the page, fill in the form, press the button: the response and the URL sent to."""
    page_url = case.url(w)
    opened = client.get(page_url, follow=True)
    assert opened.status_code == 200, f"{case.label}: the page answers {opened.status_code}"
    names = [*case.bad, *case.good, *case.files]
    form = the_form(language.parse(opened.content.decode()), names, page_url)
    url = form.attrs.get("action") or opened.request["PATH_INFO"]
    data: dict = {**browser_data(form), **case.good, **case.bad, **case.extra}
    if form.attrs.get("method", "get").lower() == "get":
        return client.get(url, data), url
    for name, files in case.files.items():
        data[name] = [SimpleUploadedFile(n, content) for n, content in files]
    return client.post(url, data), url


def run_case(w, case: Case, lang: str, data: list[str]) -> list[str]:
    client = language._in_language(matrix._client(w, case.actor), lang)
    client.raise_request_exception = False
    before = _snapshot()
    response, url = send(client, case, w)
    problems = _changes(before, _snapshot())
    if response.status_code != 200:
        where = response.get("Location", "")
        return [*problems, f"{url} answered {response.status_code} {where}".strip()]
    html = response.content.decode()
    root = language.parse(html)
    errors = error_messages(root)
    if not errors:
        problems.append("no error message on the page")
    problems += [f"error in a closed <details>: {_flat(e.text())!r}" for e in errors if hidden(e)]
    for name, value in case.bad.items():
        shown = field_errors(root, name)
        if value and len(shown) > 1:
            problems.append(f"{name} was typed in, yet has {len(shown)} messages: {shown}")
    with translation.override(lang):
        unwanted = [str(translation.gettext(m)) for m in case.not_said]
    texts = [_flat(e.text()) for e in errors]
    problems += [f"says {m!r}" for m in unwanted if any(m in t for t in texts)]
    page_data = sorted({*data, *_typed(case)}, key=len, reverse=True)
    problems += language_problems(errors, lang, page_data)
    page = language.Page(case.label, case.actor, html)
    for kind, found in language.check(page, lang, page_data).items():
        problems += [f"{kind}: {text}" for text in found]
    problems += [f"lost {lost}" for lost in lost_values(root, case.good)]
    pending = next((n for n in root.iter() if n.attrs.get("id") == "pending-uploads"), None)
    for name in case.kept_files:
        if pending is None or name not in pending.text():
            problems.append(f"lost the uploaded file {name}")
    return problems


@pytest.mark.django_db
@pytest.mark.parametrize("lang", language.LANGUAGES)
def test_bad_input_is_refused_in_the_language_and_keeps_what_was_typed(world, lang):
    _prepare(world)
    cases = all_cases(_ids())
    assert len(cases) >= 45
    data = language.database_texts()
    findings = []
    for one in cases:
        findings += [
            f"{one.label} [{lang}, {one.actor}]: {p}" for p in run_case(world, one, lang, data)
        ]
    assert not findings, f"{len(findings)} findings in {len(cases)} cases\n" + "\n".join(findings)


# --- the checks find what they look for ---------------------------------------------------


PLANTED = """<html lang="zh-hans"><body>
<form method="post" action="/x/"><div id="div_id_a"><input name="a" value="甲">
<span id="error_1_id_a" class="invalid-feedback"><strong>该字段是必填项。</strong></span>
<span id="error_2_id_a" class="invalid-feedback"><strong>Enter a number.</strong></span></div>
<select name="b"><option value="1">一</option><option value="2" selected>二</option></select>
<input type="checkbox" name="c" value="x" checked><input type="checkbox" name="c" value="y">
<textarea name="d">
原因</textarea><input type="submit" name="go" value="提交"></form>
<details><summary>取消</summary><ul class="errorlist" id="id_e_error"><li>请填写</li></ul></details>
<details open><div class="alert alert-danger">已打开</div></details>
</body></html>"""


def test_the_checks_find_lost_values_hidden_and_english_errors():
    root = language.parse(PLANTED)
    assert form_values(root, "a") == ["甲"] and form_values(root, "b") == ["2"]
    assert form_values(root, "c") == ["x"] and form_values(root, "d") == ["原因"]
    assert form_values(root, "go") == [] and form_values(root, "z") is None
    form = the_form(root, ["b"], "/x/")
    assert browser_data(form) == {"a": ["甲"], "b": ["2"], "c": ["x"], "d": ["原因"]}
    assert lost_values(root, {"a": "甲", "b": "2", "c": ["x"], "d": "原因"}) == []
    assert lost_values(root, {"a": "乙", "c": ["x", "y"], "z": "1"}) == [
        "a: typed ['乙'], shown ['甲']",
        "c: typed ['y'], shown ['x']",
        "z: not in the form any more",
    ]
    errors = error_messages(root)
    assert [_flat(e.text()) for e in errors] == [
        "该字段是必填项。",
        "Enter a number.",
        "请填写",
        "已打开",
    ]
    assert [hidden(e) for e in errors] == [False, False, True, False]
    assert field_errors(root, "a") == ["该字段是必填项。", "Enter a number."]
    assert field_errors(root, "e") == ["请填写"]
    assert language_problems(errors, "zh-hans", []) == ["English error message: 'Enter a number.'"]
    assert language_problems(errors, "en", ["已打开"]) == [
        "Chinese in an English error message: '该字段是必填项。'",
        "Chinese in an English error message: '请填写'",
    ]


def test_opening_a_buttons_address_answers_with_a_page_and_changes_nothing(client, demo):
    """GET on a POST-only address (a material's removal, typed or from the history) was an
    empty 405; now a page in the user's language says nothing was changed. The API's 405 keeps
    its JSON body."""
    from filings.models import Material

    material = Material.objects.filter(filing__number="BA232700000001").first()
    client.force_login(demo["wangxiulan"])
    response = client.get(f"/filings/materials/{material.pk}/remove/")
    html = response.content.decode()
    assert response.status_code == 405 and "POST" in response["Allow"]
    assert "此地址不是页面" in html and "未做任何更改" in html
    assert Material.objects.filter(pk=material.pk).exists()
    api = client.get("/api/v1/settlements")
    assert api.status_code in (401, 403, 405) and "此地址不是页面" not in api.content.decode()
