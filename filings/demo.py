"""Filing parameters of the demo regions and the filings of shared/demo.md (idempotent).

All dates are relative to the day the demo is seeded.
"""

from __future__ import annotations

import datetime
import functools
import io
from pathlib import Path

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from filings import rules, uploads
from filings.models import Filing, FilingParameters, Material
from hospitals.models import Hospital
from portal.lib import idnumbers
from portal.models import AuditEvent, InsuredPerson, Region

LIAONING = {
    "benefits_start": "on_approval",
    "lock_months": 6,
    "long_term_validity_months": None,
    "max_hospitals": 0,
    "commitment_months": 6,
    "referral_validity_months": 6,
    "referral_start_window_months": None,
    "referral_course_days": None,
    "temporary_validity_months": 6,
}
DAXINGANLING = {
    "benefits_start": "day_after",
    "lock_months": 12,
    "long_term_validity_months": 12,
    "max_hospitals": 3,
    "commitment_months": 6,
    "referral_validity_months": None,
    "referral_start_window_months": 1,
    "referral_course_days": 60,
    "temporary_validity_months": 6,
}
PARAMETERS = {
    "210100": LIAONING,
    "210200": LIAONING,
    "460200": LIAONING,
    "230100": DAXINGANLING,
    "232700": DAXINGANLING,
}
EFFECTIVE_FROM = datetime.date(2022, 1, 1)
SANYA = ["H46020000001", "H46020000002", "H46020000003"]


def _filings(today: datetime.date) -> list[dict]:
    def ago(days: int) -> datetime.date:
        return today - datetime.timedelta(days=days)

    return [
        # 王秀兰: resettled retiree to Sanya, approved 100 days ago, household register accepted
        # (two-way); Daxinganling: benefits from the day after approval, 12 months' validity.
        {
            "id": "232701195603120223",
            "number": "BA232700000001",
            "type": "long_term",
            "subtype": "resettled_retiree",
            "status": "approved",
            "place": "460200",
            "basis": "materials",
            "approved": ago(100),
            "valid_from": ago(99),
            "valid_until": rules.last_day_of_months(ago(99), 12),
            "hospitals": SANYA,
            "chronic": True,
        },
        # 李建国: long-term resident to Harbin by commitment, approved 150 days ago (Liaoning:
        # effective on approval, open-ended); materials outstanding, deadline in about 30 days.
        {
            "id": "210102196208050352",
            "number": "BA210100000001",
            "type": "long_term",
            "subtype": "long_term_resident",
            "status": "approved",
            "place": "230100",
            "basis": "commitment",
            "approved": ago(150),
            "valid_from": ago(150),
            "valid_until": None,
            "commitment_deadline": ago(150) + relativedelta(months=6),
        },
        # 张伟: referral to H23010300001 for inpatient care, approved 5 days ago; Daxinganling:
        # treatment must start within one month.
        {
            "id": "232721197811200177",
            "number": "ZZ232700000001",
            "type": "referral",
            "status": "approved",
            "place": "230100",
            "approved": ago(5),
            "valid_from": ago(5),
            "valid_until": ago(5) + relativedelta(months=1),
            "receiving": "H23010300001",
            "issuing": "H23270000001",
            "inpatient_only": True,
            "course_days": 60,
        },
        # 刘芳: other temporary filing to Harbin, approved automatically 20 days ago.
        {
            "id": "210202199004150481",
            "number": "LS210200000001",
            "type": "temporary",
            "status": "approved",
            "place": "230100",
            "approved": ago(20),
            "valid_from": ago(20),
            "valid_until": ago(20) + relativedelta(months=6),
        },
        # 赵丽: referral to H23010300016 approved 45 days ago, never used: expired.
        {
            "id": "23272219700630026X",
            "number": "ZZ232700000002",
            "type": "referral",
            "status": "expired",
            "place": "230100",
            "approved": ago(45),
            "valid_from": ago(45),
            "valid_until": ago(45) + relativedelta(months=1),
            "receiving": "H23010300016",
            "issuing": "H23270000001",
            "inpatient_only": True,
            "course_days": 60,
        },
        # 孙国强: resettled retiree to Sanya with a property certificate, awaiting review.
        {
            "id": "21010219580101055X",
            "number": "BA210100000002",
            "type": "long_term",
            "subtype": "resettled_retiree",
            "status": "submitted",
            "place": "460200",
            "basis": "materials",
            "submitted": ago(3),
        },
    ]


@transaction.atomic
def seed(out) -> list[tuple[str, str]]:
    for code, values in PARAMETERS.items():
        FilingParameters.objects.update_or_create(
            region=Region.objects.get(code=code), effective_from=EFFECTIVE_FROM, defaults=values
        )
    today = timezone.localdate()
    hospitals = {h.code: h for h in Hospital.objects.all()}
    for spec in _filings(today):
        person = InsuredPerson.objects.get(id_hash=idnumbers.id_hash(spec["id"]))
        place = Region.objects.select_related("province").get(code=spec["place"])
        approved = spec.get("approved")
        submitted = spec.get("submitted") or approved
        at = timezone.make_aware(datetime.datetime.combine(submitted, datetime.time(9, 30)))
        decided = (
            timezone.make_aware(datetime.datetime.combine(approved, datetime.time(15, 0)))
            if approved
            else None
        )
        inpatient_only = spec.get("inpatient_only", False)
        wanted = {
            "person": person,
            "insured_region": person.region,
            "type": spec["type"],
            "subtype": spec.get("subtype", ""),
            "status": spec["status"],
            "place_province": place.province,
            "place_region": place,
            "covers_inpatient": True,
            "covers_general_outpatient": not inpatient_only,
            "covers_chronic_outpatient": spec.get("chronic", False),
            "start_date": spec.get("valid_from") or submitted,
            "valid_from": spec.get("valid_from"),
            "valid_until": spec.get("valid_until"),
            "basis": spec.get("basis", ""),
            "commitment_deadline": spec.get("commitment_deadline"),
            "materials_accepted_at": decided if spec.get("basis") == "materials" else None,
            "receiving_hospital": hospitals.get(spec.get("receiving")),
            "issuing_hospital": hospitals.get(spec.get("issuing")),
            "referral_source": "e_referral" if spec["type"] == "referral" else "",
            "diagnosis": "冠状动脉粥样硬化性心脏病" if spec["type"] == "referral" else "",
            "referral_condition": "b" if spec["type"] == "referral" else "",
            "attending_doctor": "刘洋" if spec["type"] == "referral" else "",
            "director_signed_by": "赵志刚" if spec["type"] == "referral" else "",
            "director_signed_at": at if spec["type"] == "referral" else None,
            "medical_office_signed_by": "医务科" if spec["type"] == "referral" else "",
            "medical_office_signed_at": at if spec["type"] == "referral" else None,
            "course_days": spec.get("course_days"),
            # Seeded again, a filing is as demo.md has it: a course started or a window
            # extended since (by a settlement, by the agency) starts over too.
            "treatment_started_on": None,
            "extended_until": None,
            "submitted_at": at,
            "decided_at": decided,
        }
        filing = _as_specified(spec["number"], wanted)
        filing.hospitals.set([hospitals[c] for c in spec.get("hospitals", [])])
        _timeline(filing, spec, at, decided)
    for number, kind, name, make in MATERIALS:
        _material(Filing.objects.get(number=number), kind, name, make)
    return []


def _as_specified(number: str, wanted: dict) -> Filing:
    """The demo filing `number` with the values `wanted`: created, or the fields that differ
    saved, and nothing written when none does (demo.md: seeding twice changes nothing, not even
    a filing's `updated_at`, the version a reviewer's page decides on)."""
    filing = Filing.objects.filter(number=number).first()
    if filing is None:
        return Filing.objects.create(number=number, **wanted)
    changed = [name for name, value in wanted.items() if _differs(filing, name, value)]
    if changed:
        for name in changed:
            setattr(filing, name, wanted[name])
        filing.save(update_fields=[*changed, "updated_at"])
    return filing


def _differs(filing: Filing, name: str, value) -> bool:
    """Whether `filing.name` is not `value`; a related row is compared by its id (no query)."""
    field = Filing._meta.get_field(name)
    if field.is_relation:
        return getattr(filing, field.attname) != (value.pk if value is not None else None)
    return getattr(filing, name) != value


def _scan(width: int = 420, height: int = 300) -> Image.Image:
    """A plain drawing of a scanned page: a frame, a photo box and lines of "text"."""
    image = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle([8, 8, width - 9, height - 9], outline=(150, 40, 40), width=3)
    draw.rectangle([24, 40, 110, 150], outline=(120, 120, 120), width=2)
    for row in range(6):
        y = 50 + row * 34
        draw.line([130, y, width - 30, y], fill=(90, 90, 90), width=2)
    return image


def _png() -> bytes:
    out = io.BytesIO()
    _scan().save(out, "PNG")
    return out.getvalue()


def _pdf() -> bytes:
    out = io.BytesIO()
    _scan(595, 842).save(out, "PDF", resolution=72)
    return out.getvalue()


# shared/demo.md: 王秀兰's household register (accepted), 孙国强's property certificate.
MATERIALS = [
    ("BA232700000001", "household_register", "户口簿.png", _png),
    ("BA210100000002", "property_certificate", "房产证.pdf", _pdf),
]


@functools.cache
def _checked(name: str, make) -> uploads.CheckedFile:
    """A demo file through the upload checks, once a process: the drawings are the same every
    time, and a PDF's check runs in a child process (about 0.3 s), which every reseed of the
    demo (tests, `make run`) would otherwise pay again."""
    return uploads.check_upload(SimpleUploadedFile(name, make()))


def _material(filing: Filing, kind: str, name: str, make) -> None:
    """One demo material through the upload pipeline; a rerun keeps the row and only rewrites
    its file if it is missing (a fresh media directory)."""
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    existing = Material.objects.filter(filing=filing, kind=kind).order_by("id").first()
    if existing is not None and (root / existing.stored_name).is_file():
        return
    checked = _checked(name, make)
    if existing is not None:
        root.mkdir(parents=True, exist_ok=True)
        (root / existing.stored_name).write_bytes(checked.content)
        Material.objects.filter(pk=existing.pk).update(
            content_type=checked.content_type, size=len(checked.content)
        )
        return
    Material.objects.create(
        filing=filing,
        kind=kind,
        stored_name=uploads.store(checked, str(root)),
        original_name=checked.original_name,
        content_type=checked.content_type,
        size=len(checked.content),
    )


def _timeline(filing: Filing, spec: dict, submitted_at, decided_at) -> None:
    """The audit events a person sees on the filing's timeline (written once)."""
    events = [("filing.submit", "draft", "submitted", submitted_at)]
    if decided_at is not None:
        events.append(("filing.approve", "submitted", "approved", decided_at))
    if spec["status"] == "expired":
        events.append(("filing.expire", "approved", "expired", None))
    for action, from_state, to_state, when in events:
        event, created = AuditEvent.objects.get_or_create(
            action=action,
            object_type="filings.filing",
            object_id=str(filing.pk),
            defaults={
                "object_repr": str(filing),
                "region": filing.insured_region,
                "from_state": from_state,
                "to_state": to_state,
                "actor_role": "system" if action != "filing.submit" else "insured",
            },
        )
        if created and when is not None:
            AuditEvent.objects.filter(pk=event.pk).update(created_at=when)
