"""Documents issued for filings as PDFs, and their verification by signed token.

Three kinds: the patient referral form (referral filings), the long-term filing declaration and
approval form printed in duplicate, and the filing certificate of any approved filing. Each PDF
carries a QR code with a signed token (no database id in clear) that resolves to the document's
status *now*, so a printout made before a cancellation verifies as cancelled.

The token is compact, `C` + filing number + `.` + MAC (e.g. `CBA23270026112A1B2C3.` and 24
letters and digits): a letter for the kind, the number printed on the form anyway, and the first
120 bits of an HMAC-SHA256 of both under SECRET_KEY (Django's salted_hmac, this module's salt;
SECRET_KEY_FALLBACKS still verify), in base32. The verify URL stays under about 80 characters,
so the QR code is version 5 (37 modules a side) instead of version 8 (49) for the Django
`signing.dumps` tokens printed before, which are still honoured: a smaller, coarser code that a
phone reads from a photocopy, and a URL that fits on one printed line.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import json
import re
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from filings.models import Basis, Filing, FilingType, ReferralCondition, Status
from filings.selectors import parameters_for
from portal.jobruns import record_run
from portal.lib import idnumbers
from portal.lib.text import enumeration
from portal.models import AuditEvent, JobRun, Scheme

SALT = "filings.documents.verify"
REFERRAL_FORM = "referral_form"
FILING_FORM = "filing_form"
CERTIFICATE = "certificate"
KINDS = [REFERRAL_FORM, FILING_FORM, CERTIFICATE]
TEMPLATES = {
    REFERRAL_FORM: "pdf/referral.html",
    FILING_FORM: "pdf/filing_form.html",
    CERTIFICATE: "pdf/certificate.html",
}


def kinds_for(filing: Filing) -> list[str]:
    """Which documents a filing has."""
    kinds = []
    if filing.type == FilingType.REFERRAL:
        kinds.append(REFERRAL_FORM)
    if filing.type == FilingType.LONG_TERM and filing.status != Status.DRAFT:
        kinds.append(FILING_FORM)
    # A certificate of a filing that was approved: one cancelled before that (a draft, a
    # pending filing) never took effect and has nothing to certify.
    was_approved = filing.valid_from is not None
    if was_approved and filing.status in (
        Status.APPROVED,
        Status.EXPIRED,
        Status.CANCELLED,
        Status.REVOKED,
    ):
        kinds.append(CERTIFICATE)
    return kinds


KIND_CODES = {REFERRAL_FORM: "R", FILING_FORM: "F", CERTIFICATE: "C"}
_CODE_KINDS = {code: kind for kind, code in KIND_CODES.items()}
_NUMBER = re.compile(r"[0-9A-Z]{1,24}")
_COMPACT = re.compile(r"([A-Z])([0-9A-Z]{1,24})\.([A-Z2-7]{24})")
MAC_BYTES = 15  # 120 bits, 24 base32 characters


def _mac(kind: str, number: str, key: str) -> str:
    digest = salted_hmac(SALT, f"{kind}:{number}", secret=key, algorithm="sha256").digest()
    return base64.b32encode(digest[:MAC_BYTES]).decode()


def make_token(kind: str, number: str) -> str:
    """The token printed on a document: compact (see the module's docstring) for the portal's
    numbers, which are capital letters and digits; Django signing for any other."""
    if kind in KIND_CODES and _NUMBER.fullmatch(number):
        return f"{KIND_CODES[kind]}{number}.{_mac(kind, number, settings.SECRET_KEY)}"
    return signing.dumps([kind, number], salt=SALT, compress=True)


def read_token(token: str) -> tuple[str, str] | None:
    """(kind, number) of a genuine token, compact or Django-signed; None for any other."""
    compact = _COMPACT.fullmatch(token)
    if compact:
        code, number, mac = compact.groups()
        kind = _CODE_KINDS.get(code)
        keys = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
        if kind and any(constant_time_compare(mac, _mac(kind, number, key)) for key in keys):
            return kind, number
        return None
    try:
        kind, number = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if kind not in KINDS or not isinstance(number, str):
        return None
    return kind, number


def status_now(filing: Filing, today: datetime.date | None = None) -> str:
    """valid | expired | cancelled | revoked | rejected | pending. An approved filing is valid
    up to its last valid day (`Filing.valid_through`: a referral's extension included), and
    valid too before it takes effect (a renewal, a trip next month): api.md fixes these values,
    so `in_force_from` says from when (the verification's field)."""
    today = today or timezone.localdate()
    if filing.status == Status.APPROVED:
        end = filing.valid_through
        if end and today > end:
            return "expired"
        return "valid"
    return {
        Status.EXPIRED: "expired",
        Status.CANCELLED: "cancelled",
        Status.REVOKED: "revoked",
        Status.REJECTED: "rejected",
    }.get(filing.status, "pending")


@dataclass
class Doc:
    number: str
    name: str
    masked_id: str
    insured_region: str
    scheme: str
    type: str
    subtype: str
    status: str
    place: str
    care: list[str]
    hospitals: list[str] = field(default_factory=list)
    valid_from: datetime.date | None = None
    valid_until: datetime.date | None = None
    basis: str = ""
    commitment_deadline: datetime.date | None = None
    agent_name: str = ""
    agent_relationship: str = ""
    agency: str = ""
    issuing_hospital: str = ""
    receiving_hospital: str = ""
    attending_doctor: str = ""
    diagnosis: str = ""
    condition: str = ""
    course_days: int | None = None
    treatment_started_on: datetime.date | None = None
    director_signed_by: str = ""
    director_signed_at: datetime.datetime | None = None
    medical_office_signed_by: str = ""
    medical_office_signed_at: datetime.datetime | None = None
    filing_status: str = ""  # the state's code (`status` is its label): how to word the validity
    care_text: str = ""  # `care` as the language lists it ("住院、普通门诊", "Inpatient, ...")
    approved_on: datetime.date | None = None  # the agency's decision, for its stamp box
    one_way: bool = False  # a long-term filing by commitment whose materials are outstanding
    ended_on: datetime.date | None = None  # the day it stopped being in force (ended_on())
    commitment_months: int = 6  # the person's region's commitment period (a promise's words)


# The states of a filing that ended after it took effect: the day it did is printed and
# verified (domain.md §2.1: settlements made before a revocation stand).
ENDED = (Status.EXPIRED, Status.CANCELLED, Status.REVOKED)


def ended_on(filing: Filing, today: datetime.date | None = None) -> datetime.date | None:
    """The day a filing that was in force stopped being so: the day after its last valid day,
    or the day of the event that cancelled or revoked it (or expired an open-ended one) if
    that came first. None for a filing in force, or one that never took effect."""
    today = today or timezone.localdate()
    if filing.status_now(today) not in ENDED or filing.valid_from is None:
        return None
    over = filing.valid_through + datetime.timedelta(days=1) if filing.valid_through else None
    if filing.status == Status.APPROVED:  # over, not recorded yet (status_now)
        return over
    when = (
        AuditEvent.objects.filter(
            object_type=Filing._meta.label_lower, object_id=str(filing.pk), to_state=filing.status
        )
        .exclude(from_state=filing.status)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )
    ended = timezone.localdate(when) if when else None
    return min(day for day in (ended, over) if day) if ended or over else None


def _doc(filing: Filing) -> Doc:
    person = filing.person
    care = filing.care_labels()
    agency = getattr(filing.insured_region, "agency", None)
    outstanding = filing.basis == "commitment" and filing.materials_accepted_at is None
    # As of today: a filing whose validity is over prints as expired before the nightly job
    # records it (the page and the verification say so too).
    today = timezone.localdate()
    status = filing.status_now(today)
    return Doc(
        number=filing.number,
        name=person.name,
        masked_id=person.masked_id,
        insured_region=str(filing.insured_region),
        scheme=person.get_scheme_display(),
        type=filing.get_type_display(),
        subtype=filing.get_subtype_display() if filing.subtype else "",
        status=filing.get_current_status_display(),
        place=filing.place,
        care=care,
        hospitals=[str(h) for h in filing.hospitals.all()],
        valid_from=filing.valid_from,
        valid_until=filing.valid_through,  # an extension (of a referral's window or course) too
        basis=filing.get_basis_display() if filing.basis else "",
        commitment_deadline=filing.commitment_deadline if outstanding else None,
        agent_name=filing.agent_name,
        agent_relationship=filing.agent_relationship,
        agency=str(agency) if agency else "",
        issuing_hospital=str(filing.issuing_hospital or ""),
        receiving_hospital=str(filing.receiving_hospital or ""),
        attending_doctor=filing.attending_doctor,
        diagnosis=filing.diagnosis,
        condition=filing.get_referral_condition_display() if filing.referral_condition else "",
        course_days=filing.course_days,
        treatment_started_on=filing.treatment_started_on,
        director_signed_by=filing.director_signed_by,
        director_signed_at=filing.director_signed_at,
        medical_office_signed_by=filing.medical_office_signed_by,
        medical_office_signed_at=filing.medical_office_signed_at,
        filing_status=status,
        care_text=enumeration(care),
        approved_on=timezone.localdate(filing.decided_at)
        if filing.decided_at and filing.valid_from
        else None,
        # Only while in force: an ended filing settles nowhere, one way or two.
        one_way=outstanding and filing.type == FilingType.LONG_TERM and status == Status.APPROVED,
        ended_on=ended_on(filing, today),
        commitment_months=parameters_for(filing.insured_region, today).commitment_months
        if filing.basis == "commitment"
        else 6,
    )


def verify_url(token: str) -> str:
    """Absolute: a QR code is scanned by a phone that knows nothing of the portal's host."""
    return settings.SITE_URL + reverse("verify-page", args=[token])


def _localized_doc(filing: Filing, lang: str) -> Doc:
    with translation.override(lang):
        return _doc(filing)


def _render_doc(doc: Doc, kind: str, lang: str) -> bytes:
    from portal.lib import pdf

    token = make_token(kind, doc.number)
    url = verify_url(token)
    with translation.override(lang):
        context = {
            "doc": doc,
            "lang": lang,
            "qr": pdf.qr_data_uri(url),
            "verify_url": url,
            "issued": timezone.localdate(),
            "copies": [_("Copy for the insured person"), _("Copy for the agency")],
        }
        if kind == FILING_FORM:  # in duplicate: one copy for the person, one for the agency
            return pdf.render_form_copies(TEMPLATES[kind], context, len(context["copies"]))
        return pdf.render_form(TEMPLATES[kind], context)


def render(filing: Filing, kind: str, lang: str = "zh-hans") -> bytes:
    """Render one document to PDF bytes (in `lang`)."""
    return _render_doc(_localized_doc(filing, lang), kind, lang)


def _sample_doc() -> Doc:
    """A made-up filing (no database) that prints on every form, for the warm-up: labels and
    choices as real documents print them, personal data of its own."""
    today = timezone.localdate()
    return Doc(
        number="BA0000000000",
        name="李建国",
        masked_id="1101**********0011",
        insured_region="北京市",
        scheme=str(Scheme.EMPLOYEE.label),
        type=str(FilingType.LONG_TERM.label),
        subtype="",
        status=str(Status.APPROVED.label),
        place="广东省深圳市",
        care=[_("Inpatient"), _("General outpatient")],
        hospitals=["深圳市第二人民医院"],
        valid_from=today,
        valid_until=today + datetime.timedelta(days=365),
        basis=str(Basis.COMMITMENT.label),
        commitment_deadline=today + datetime.timedelta(days=180),
        agency="北京市医疗保障事务中心",
        issuing_hospital="北京大学第一医院",
        receiving_hospital="深圳市第二人民医院",
        attending_doctor="张医生",
        diagnosis="脑梗死",
        condition=str(ReferralCondition.A.label),
        course_days=30,
    )


def warm_up(lang: str = "zh-hans") -> None:
    """Render every form once with a made-up filing: compiles the templates, loads the
    translations, fontconfig, the CJK font and WeasyPrint's code paths. A Celery worker process
    runs it at start (filings.document_tasks), so its first real document is not a cold one."""
    with translation.override(lang):
        doc = _sample_doc()
    for kind in KINDS:
        _render_doc(doc, kind, lang)


def _render_files() -> list[Path]:
    """What a document is made of besides its data: the PDF templates (and the validity
    include they share), the PDF stylesheets and the compiled translations."""
    base = Path(settings.BASE_DIR)
    files = [
        *(base / "templates" / "pdf").rglob("*.html"),
        base / "templates" / "includes" / "validity.html",
        *(base / "static" / "css").glob("pdf*.css"),
    ]
    for locale in settings.LOCALE_PATHS:
        files.extend(Path(locale).glob("*/LC_MESSAGES/django.mo"))
    return sorted(path for path in files if path.is_file())


@functools.cache
def render_version() -> str:
    """A digest of the files every document is rendered from, once per process (a deploy
    restarts the processes): a corrected wording, layout or translation gives every document
    a new cache name, so it is rendered again instead of served as before."""
    base = Path(settings.BASE_DIR)
    digest = hashlib.sha256()
    for path in _render_files():
        name = path.relative_to(base) if path.is_relative_to(base) else path
        digest.update(f"{name}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


def fingerprint(doc: Doc) -> str:
    """A digest of everything the document prints (and of where its QR code points), and of
    the templates, stylesheets and translations it is printed with."""
    payload = json.dumps(
        [asdict(doc), settings.SITE_URL, render_version()],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _root() -> Path:
    return Path(settings.PRIVATE_MEDIA_ROOT) / "pdf"


def _path(doc: Doc, kind: str, lang: str) -> Path:
    return _root() / f"{kind}-{doc.number}-{lang}-{fingerprint(doc)}.pdf"


def cache_path(filing: Filing, kind: str, lang: str) -> Path:
    """Cached until what the document prints changes: the name carries a digest of its
    content (the person's name, the chosen hospitals, the status and dates ...), not just
    the filing's `updated_at`, which a renamed person or re-chosen hospitals do not touch."""
    return _path(_localized_doc(filing, lang), kind, lang)


def cached_or_render(filing: Filing, kind: str, lang: str) -> bytes:
    doc = _localized_doc(filing, lang)
    path = _path(doc, kind, lang)
    if path.exists():
        return path.read_bytes()
    content = _render_doc(doc, kind, lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(content)
    tmp.replace(path)
    return content


# A rendered document that is not its filing's current version is deleted this many days
# after it was written (a download under way, a page opened a little earlier, still finds it).
KEEP_OLD_DAYS = 7
_CACHED_NAME = re.compile(r"(?P<kind>[a-z_]+)-(?P<number>[0-9A-Za-z]+)-(?P<lang>[a-z-]+)-[0-9a-f]+")
_CLEANUP_BATCH = 500


def old_documents(now: float | None = None, days: int = KEEP_OLD_DAYS) -> list[Path]:
    """The rendered documents written more than `days` ago that are no longer their filing's
    current version (it changed, or the templates or translations did, or the filing is gone
    or no longer has that kind), and unfinished renders as old. They hold personal data."""
    root = _root()
    if not root.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - days * 86400
    old: list[Path] = []
    candidates: dict[str, list[tuple[Path, str, str]]] = {}
    for path in root.iterdir():
        if not path.is_file() or path.stat().st_mtime >= cutoff:
            continue
        parsed = _CACHED_NAME.fullmatch(path.stem) if path.suffix == ".pdf" else None
        if parsed is None or parsed["kind"] not in KINDS:
            old.append(path)  # a .tmp left by a killed render, or not ours to keep
            continue
        candidates.setdefault(parsed["number"], []).append((path, parsed["kind"], parsed["lang"]))
    numbers = list(candidates)
    for start in range(0, len(numbers), _CLEANUP_BATCH):
        old.extend(_not_current(numbers[start : start + _CLEANUP_BATCH], candidates))
    return sorted(old)


def remove_old_documents(now: float | None = None, days: int = KEEP_OLD_DAYS) -> JobRun:
    """Delete `old_documents()`, recorded as one JobRun ("filings.old_documents"). Safe to
    rerun: a document deleted by mistake is rendered again when next asked for."""

    def work(details: dict) -> int:
        files = old_documents(now, days)
        for path in files:
            path.unlink(missing_ok=True)
        details["removed"] = len(files)
        return len(files)

    return record_run("filings.old_documents", work)


def printed_filings():
    """Filings with what their documents print beside them (person, regions, agency, hospitals),
    read in one query."""
    return Filing.objects.select_related(
        "person",
        "insured_region__agency",
        "place_region",
        "place_province",
        "issuing_hospital",
        "receiving_hospital",
    )


def _not_current(
    numbers: list[str], candidates: dict[str, list[tuple[Path, str, str]]]
) -> Iterable[Path]:
    filings = {
        f.number: f
        for f in printed_filings().prefetch_related("hospitals").filter(number__in=numbers)
    }
    for number in numbers:
        filing = filings.get(number)
        for path, kind, lang in candidates[number]:
            if filing is None or kind not in kinds_for(filing) or lang not in ("zh-hans", "en"):
                yield path
            elif cache_path(filing, kind, lang) != path:
                yield path


def verification(token: str) -> dict | None:
    """What GET /api/v1/verify/{token} answers (with `_person`, whose record it is, for the
    access log), or None for a forged or altered token."""
    parsed = read_token(token)
    if parsed is None:
        return None
    kind, number = parsed
    filing = (
        Filing.objects.select_related("person", "place_region", "receiving_hospital")
        .prefetch_related("hospitals")
        .filter(number=number)
        .first()
    )
    if filing is None:
        return None
    today = timezone.localdate()
    ended = ended_on(filing, today)
    status = status_now(filing, today)
    until = filing.valid_through
    starts = filing.valid_from
    later = starts if status == "valid" and starts is not None and starts > today else None
    return {
        "kind": kind,
        "number": filing.number,
        "status": status,
        "valid_from": filing.valid_from.isoformat() if filing.valid_from else None,
        "valid_until": until.isoformat() if until else None,
        # A valid filing that takes effect later (api.md keeps `status` to valid, expired,
        # cancelled, revoked): the day it does, else null.
        "in_force_from": later.isoformat() if later else None,
        # Where it lets the person settle: a long-term filing by commitment whose materials are
        # outstanding is one-way (at the place of residence only, domain.md §2.1).
        "type": filing.type,
        "place_of_treatment": {
            "code": filing.place_region.code,
            "name": filing.place_region.display_name,  # in the request's language
        }
        if filing.place_region
        else None,
        "two_way": filing.two_way if filing.type == FilingType.LONG_TERM else None,
        # What a printout names, as it stands now: a desk holding an older printout (a
        # referral since moved to another hospital, other chosen hospitals) sees the change.
        "receiving_hospital": _hospital(filing.receiving_hospital),
        "hospitals": [_hospital(h) for h in filing.hospitals.all()],
        # The day a filing that was in force stopped being so (cancelled, revoked, expired):
        # settlements before it stand (domain.md §2.1). Null while in force.
        "ended_on": ended.isoformat() if ended else None,
        "insured": {
            "name": idnumbers.mask_name(filing.person.name),
            "id_number": filing.person.masked_id,
        },
        # For the access log, taken off before the answer is sent.
        "_person": filing.person,
    }


def _hospital(hospital) -> dict | None:
    """A hospital as the verification names it: its national code, and its name in the
    request's language."""
    if hospital is None:
        return None
    return {"code": hospital.code, "name": hospital.display_name}
