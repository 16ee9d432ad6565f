"""Every write of a filing: one function per transition (domain.md §2.6).

Each is atomic, re-reads the row with select_for_update(), checks the transition table, saves
with update_fields, writes an audit event and notifies the person after commit. Concurrent
decisions on one filing: the first wins, the others get RuleError("already_decided").

The rules of what a filing may contain (place, hospitals, materials, coexistence with other
filings) are checked here, not in the forms, so every entry point (self-service, hospital
e-referral, admin) is held to them.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from filings import rules
from filings.models import (
    OPEN_STATUSES,
    Basis,
    Filing,
    FilingType,
    LongTermSubtype,
    Material,
    MaterialKind,
    ReferralSource,
    Status,
    TemporaryPurpose,
    commitment_proof_kinds,
)
from filings.rules import RuleError
from filings.selectors import is_working_day_function, parameters_for
from hospitals.selectors import active_clerks
from portal import audit
from portal.lib import text, versions
from portal.models import AgencyStaff, AuditEvent, InsuredPerson, Region
from portal.notices import params_of
from portal.notifications import notify
from portal.roles import agency_region, check_agency_region

PREFIX = {
    "long_term": "BA",
    "referral": "ZZ",
    "emergency": "JZ",
    "temporary": "LS",
    "chronic_outpatient": "MT",
}
# domain.md §2.6: referral, emergency and other temporary treatment are the temporary filings
# (临时外出就医); they may coexist with an effective long-term filing only for other places.
TEMPORARY_TYPES = {FilingType.TEMPORARY, FilingType.REFERRAL, FilingType.EMERGENCY}
# domain.md §2.5: an outpatient chronic/special disease filing sits on top of a long-term or
# an other temporary filing; not on a referral (one receiving hospital, Daxinganling: one course)
# nor an emergency.
CHRONIC_BASE_TYPES = {FilingType.LONG_TERM, FilingType.TEMPORARY}

# Material kinds (domain.md §2.1). The last two back a referral extension (§2.2); they are
# plain strings until the model's choices list them.
PROOF = "proof"  # one of the proofs of residence
PROOF_KINDS = {
    MaterialKind.HOUSEHOLD_REGISTER,
    MaterialKind.PROPERTY_CERTIFICATE,
    MaterialKind.RESIDENCE_CERTIFICATE,
}
EXTENSION_KINDS = (MaterialKind.HOSPITALISATION_SUMMARY, MaterialKind.DIAGNOSIS_CERTIFICATE)

# What the person may change in a draft or returned filing.
EDITABLE_FIELDS = {
    "place_province",
    "place_region",
    "subtype",
    "start_date",
    "covers_inpatient",
    "covers_general_outpatient",
    "covers_chronic_outpatient",
    "basis",
    "promised",
    "receiving_hospital",
    "diagnosis",
    "referral_condition",
    "attending_doctor",
    "director_signed_by",
    "medical_office_signed_by",
    "transfer_date",
    "discharge_settled_on",
    "disease",
    "agent_name",
    "agent_id_number",
    "agent_relationship",
}
# What a follow-up notice is for (domain.md §2.2), as the agency reads it in the audit trail.
FOLLOW_UP_KINDS = {
    "continued": "continued treatment",
    "readmission": "readmission",
}
# The sub-types each type may have: who the person is (long-term), why they go (temporary).
SUBTYPES: dict[str, tuple[str, ...]] = {
    FilingType.LONG_TERM: tuple(LongTermSubtype.values),
    FilingType.TEMPORARY: tuple(TemporaryPurpose.values),
}
# Fields a filing of each type needs before it is submitted (drafts may leave them empty).
REQUIRED_FIELDS: dict[str, list[str]] = {
    FilingType.LONG_TERM: ["subtype", "basis", "start_date"],
    FilingType.TEMPORARY: [],
    FilingType.EMERGENCY: ["receiving_hospital", "transfer_date", "diagnosis"],
    FilingType.CHRONIC: ["disease"],
    FilingType.REFERRAL: [
        "receiving_hospital",
        "diagnosis",
        "referral_condition",
        "attending_doctor",
        "director_signed_by",
        "medical_office_signed_by",
    ],
}


def _number(filing_type: str, region_code: str) -> str:
    day = timezone.localdate()
    return f"{PREFIX[filing_type]}{region_code}{day:%y%m%d}{secrets.token_hex(3).upper()}"


def _record_in_place(filing: Filing, action: str, *, actor, ip, reason: str = "") -> None:
    """An audit event for something done to a filing that leaves its state as it is."""
    audit.record(
        action=action,
        actor=actor,
        obj=filing,
        region=filing.insured_region,
        from_state=filing.status,
        to_state=filing.status,
        reason=reason,
        ip=ip,
    )


def _notify(filing: Filing, notice: str, **params) -> None:
    """Tell the person `notice` (portal/notices.py) about the filing, named by its number, its
    type and its place of treatment (the notices that word them)."""
    user = filing.person.user
    if user is not None:
        place = (
            Region.objects.filter(pk=filing.place_region_id)
            .values_list("code", "province__code")
            .first()
        )
        region, province = place or (None, None)
        notify(
            user=user,
            notice=notice,
            params=params_of(
                n=filing.number, type=filing.type, region=region, province=province, **params
            ),
            url=f"/filings/{filing.number}/",
        )


# The referral decisions the hospitals a referral names are told of (domain.md §2.2).
HOSPITALS_TOLD = {Status.APPROVED, Status.REJECTED, Status.RETURNED, Status.CANCELLED}


def _notify_hospitals(filing: Filing, notice: str, *, also: Iterable[int] = (), **params) -> None:
    """Tell the active clerks of the hospitals a referral names `notice`: the issuing hospital
    (the link opens the referral's page there), the receiving one and any hospital in `also`
    (their referrals page)."""
    links = {pk: reverse("referrals") for pk in also}
    if filing.receiving_hospital_id:
        links[filing.receiving_hospital_id] = reverse("referrals")
    if filing.issuing_hospital_id:
        links[filing.issuing_hospital_id] = reverse("referral-detail", args=[filing.number])
    if not links:
        return
    receiving = filing.receiving_hospital.code if filing.receiving_hospital else ""
    for clerk in active_clerks(links):
        notify(
            user=clerk.user,
            notice=notice,
            params=params_of(n=filing.number, hospital=receiving, **params),
            url=links[clerk.hospital_id],
        )


def _notify_agency(filing: Filing, notice: str, **params) -> None:
    """Tell the staff of the person's agency `notice` about the filing."""
    staff = AgencyStaff.objects.filter(agency__region_id=filing.insured_region_id).select_related(
        "user"
    )
    for member in staff:
        notify(
            user=member.user,
            notice=notice,
            params=params_of(n=filing.number, **params),
            url=f"/admin/filings/filing/{filing.pk}/change/",
        )


# Pure checks (no ORM): what is still missing before a filing may be submitted.


def missing_materials(
    *,
    kinds: Iterable[str],
    subtype: str,
    scheme: str,
    basis: str,
    agent: bool,
    relatives_home: bool = False,
) -> list[str]:
    """The material kinds a long-term filing still lacks (domain.md §2.1); `PROOF` stands for
    "one proof of residence". With proof materials: a household register, property certificate
    (plus proof of the relationship for a relative's home), residence certificate, or, for
    workers stationed elsewhere, the employer's posting certificate; and copies of the ID card
    and social security card; residents' scheme members add their payment record. Whoever the
    basis, an agent's filing needs the agent's ID copy."""
    have = {str(k) for k in kinds}
    missing: list[str] = []
    if basis == Basis.MATERIALS:
        proofs = set(PROOF_KINDS)
        if subtype == LongTermSubtype.STATIONED_WORKER:
            proofs.add(MaterialKind.POSTING_CERTIFICATE)
        if not have & proofs:
            missing.append(PROOF)
        elif (
            relatives_home
            and MaterialKind.PROPERTY_CERTIFICATE in have
            and MaterialKind.RELATIONSHIP_PROOF not in have
        ):
            missing.append(MaterialKind.RELATIONSHIP_PROOF)
        required = [MaterialKind.ID_COPY, MaterialKind.SOCIAL_SECURITY_COPY]
        if scheme == "resident":
            required.append(MaterialKind.PAYMENT_RECORD)
        missing += [str(k) for k in required if k not in have]
    if agent and MaterialKind.AGENT_ID_COPY not in have:
        missing.append(str(MaterialKind.AGENT_ID_COPY))
    return missing


def _stay_settled(filing: Filing) -> bool:
    """domain.md §2.3: whether the emergency stay a late filing is for was settled at discharge
    already, as the settlement records show it (not only as the person says): a stay of the
    person at the receiving hospital, settled directly (or held for the agency's review), that
    ended on or after the transfer. Voided, rejected and returned settlements do not count."""
    from settlement.models import Settlement

    if not (filing.person_id and filing.receiving_hospital_id and filing.transfer_date):
        return False
    return Settlement.objects.filter(
        person_id=filing.person_id,
        hospital_id=filing.receiving_hospital_id,
        discharged_on__gte=filing.transfer_date,
        status__in=[Settlement.Status.SETTLED, Settlement.Status.HELD],
    ).exists()


def hospital_choices(hospitals: Iterable) -> list[rules.HospitalChoice]:
    """The chosen hospitals as `rules.check_hospital_choice` sees them. A hospital designated for
    resettled persons (e.g. Sanya's hospital of traditional Chinese medicine) is eligible
    whatever its kind, level or ownership: it counts as one of the chosen hospitals and must
    still be at the place of residence."""
    return [
        rules.HospitalChoice(h.code, h.region.code, max(h.level, 2), "general", "public")
        if h.resettlement_designated
        else rules.HospitalChoice(h.code, h.region.code, h.level, h.kind, h.ownership)
        for h in hospitals
    ]


# Checks against the database, shared by create, update and submit.


def _effective(today: datetime.date) -> Q:
    return Q(status=Status.APPROVED) & (Q(valid_until__isnull=True) | Q(valid_until__gte=today))


def has_chronic_base(person, today: datetime.date) -> bool:
    """Whether the person has a filing a chronic-disease filing can sit on (domain.md §2.5): an
    effective long-term or temporary filing, for some place (`_check_chronic_base` judges the
    place)."""
    return Filing.objects.filter(
        _effective(today), person=person, type__in=list(CHRONIC_BASE_TYPES)
    ).exists()


def _check_hospitals(filing: Filing, hospitals: list, today: datetime.date) -> None:
    for h in hospitals:
        if h.suspended_on is not None and h.suspended_on <= today:
            raise RuleError("hospital_suspended", hospital=h.code)
    rules.check_hospital_choice(
        hospital_choices(hospitals),
        parameters_for(filing.insured_region, today),
        filing.place_region.code,
    )


def _others_here(filing: Filing, filing_types: Iterable[str], day: datetime.date):
    """The person's other filings of `filing_types` for `filing`'s place in force on `day`."""
    return Filing.objects.filter(
        _effective(day),
        person_id=filing.person_id,
        type__in=list(filing_types),
        place_region_id=filing.place_region_id,
    ).exclude(pk=filing.pk)


def _check_no_long_term_here(filing: Filing, today: datetime.date) -> None:
    """domain.md §2.6: temporary filings coexist with a long-term filing only for other
    places (the long-term filing already covers its place). Judged from the new filing's first
    day: one that starts after the long-term filing has ended (Daxinganling's 12 months) does
    not coexist with it."""
    starts = max(today, filing.start_date or today)
    long_term = (
        _others_here(filing, [FilingType.LONG_TERM], starts)
        .values_list("number", flat=True)
        .first()
    )
    if long_term:
        if filing.type == FilingType.REFERRAL:  # told to the hospital that refers
            raise RuleError("referral_long_term_covers_place", number=long_term)
        raise RuleError("long_term_covers_place", number=long_term)


def _check_no_temporary_here(filing: Filing, today: datetime.date) -> None:
    """A second other-temporary filing for a place where one is in force on the new one's first
    day would cover nothing more: the person is told until when the first one runs and from
    which day a continuation can start."""
    starts = max(today, filing.start_date or today)
    current = (
        _others_here(filing, [FilingType.TEMPORARY], starts)
        .filter(valid_from__lte=starts)
        .order_by("-valid_until")
        .values_list("number", "valid_until")
        .first()
    )
    if current is None:
        return
    number, until = current
    if until is None:  # (an effective temporary filing always has an end)
        return
    next_day = until + datetime.timedelta(days=1)
    if next_day > rules.latest_start(today):
        # The continuation cannot be filed yet (a filing starts at most 6 months ahead):
        # "start on the day after" would be refused as too far ahead. Say from when.
        raise RuleError(
            "temporary_continue_later",
            number=number,
            valid_until=until,
            next_day=next_day,
            file_from=rules.first_filing_day(next_day),
        )
    raise RuleError(
        "temporary_covers_place",
        number=number,
        valid_until=until,
        next_day=next_day,
    )


def _chronic_base(
    filing: Filing, today: datetime.date
) -> tuple[bool, datetime.date | None, datetime.date | None]:
    """(found, first day, last day) of the filings a chronic-disease filing sits on (domain.md
    §2.5): the person's effective long-term or temporary filings for the same place, in force
    or approved to take effect later; the earliest start, and the end of the one that runs
    longest (an open-ended one: None)."""
    spans = list(
        _others_here(filing, CHRONIC_BASE_TYPES, today).values_list("valid_from", "valid_until")
    )
    if not spans:
        return False, None, None
    starts = [start for start, _end in spans if start is not None]
    ends = [end for _start, end in spans]
    until = None if None in ends else max(d for d in ends if d is not None)
    return True, min(starts) if starts else None, until


def _check_chronic_base(filing: Filing, today: datetime.date) -> None:
    """domain.md §2.5: outpatient chronic/special disease treatment is filed on top of an
    effective long-term or temporary filing for the same place."""
    types = _others_here(
        filing, [*CHRONIC_BASE_TYPES, FilingType.REFERRAL, FilingType.EMERGENCY], today
    ).values_list("type", "number")
    found = dict(types)
    if any(t in found for t in CHRONIC_BASE_TYPES):
        return
    other = found.get(FilingType.REFERRAL) or found.get(FilingType.EMERGENCY)
    if other:
        # The person has a filing for the place, but not one this can sit on: say so.
        raise RuleError("chronic_base_not_referral", number=other)
    raise RuleError("chronic_needs_filing")


def submission_problems(
    filing: Filing, *, kinds: set[str], relatives_home: bool = False
) -> list[RuleError]:
    """What a submission of `filing` (unsaved, as a form would save it) would still lack, its
    materials being `kinds`: the fields and materials `check_filing(complete=True)` asks for.
    For a form refused on its content, so the person is told these too at once."""
    if filing.type == FilingType.LONG_TERM and filing.basis == Basis.COMMITMENT:
        if kinds & set(commitment_proof_kinds(filing.subtype)):
            filing.basis = Basis.MATERIALS  # submitted with the proof (filing_submit)
    try:
        _check_complete(filing, relatives_home=relatives_home, kinds=kinds)
    except RuleError as error:
        return error.every()
    return []


def _check_complete(filing: Filing, *, relatives_home: bool, kinds: set[str] | None = None) -> None:
    empty = [
        name
        for name in REQUIRED_FIELDS.get(filing.type, [])
        if not filing.serializable_value(name)  # a foreign key's id: no query
    ]
    if filing.referral_source == ReferralSource.FOLLOW_UP:
        # A follow-up notice is the receiving hospital's, stamped by its medical office: no
        # department director signs it.
        empty = [n for n in empty if n != "director_signed_by"]
        if not filing.medical_office_signed_at:
            empty.append("medical_office_signed_at")
    elif filing.type == FilingType.REFERRAL and filing.referral_source != "paper":
        # An e-referral carries the signatures' timestamps; the names are checked above.
        empty += [
            n for n in ("director_signed_at", "medical_office_signed_at") if not getattr(filing, n)
        ]
    if filing.agent_name and not filing.agent_id_number:
        empty.append("agent_id_number")
    if filing.agent_id_number and not filing.agent_name:
        empty.append("agent_name")
    if empty:
        raise RuleError("incomplete", fields=empty)
    if kinds is None:
        kinds = set(filing.materials.values_list("kind", flat=True)) if filing.pk else set()
    missing: list[str] = []
    if filing.type == FilingType.LONG_TERM:
        missing = missing_materials(
            kinds=kinds,
            subtype=filing.subtype,
            scheme=filing.person.scheme,
            basis=filing.basis,
            agent=bool(filing.agent_name),
            relatives_home=relatives_home,
        )
    elif filing.type == FilingType.REFERRAL and filing.referral_source == "paper":
        if MaterialKind.REFERRAL_SCAN not in kinds:
            missing = [str(MaterialKind.REFERRAL_SCAN)]
    if missing:
        raise RuleError("materials_incomplete", missing=missing)


def check_filing(
    filing: Filing,
    *,
    hospitals: list | None = None,
    today: datetime.date | None = None,
    complete: bool = False,
    relatives_home: bool = False,
) -> None:
    """Every rule a filing's content must meet; `complete` adds what a submission needs
    (required fields, materials, the chosen hospitals). Raises RuleError: the first rule
    broken, with every other one the content breaks in `also` (a person on a phone is told them
    all at once, not one a submission). The checks that read the place and its hospitals are
    left out once the place itself is refused."""
    today = today or timezone.localdate()
    person = filing.person
    broken: list[RuleError] = []

    def check(fn, *args, **kwargs) -> bool:
        try:
            fn(*args, **kwargs)
        except RuleError as error:
            broken.append(error)
            return False
        return True

    def same_region():
        if filing.place_region_id == person.region_id:
            raise RuleError("same_region")

    def subtype():
        if filing.subtype and filing.subtype not in SUBTYPES.get(filing.type, ()):
            raise RuleError("subtype_not_for_type")
        if (
            filing.type == FilingType.LONG_TERM
            and filing.subtype == LongTermSubtype.RESETTLED_RETIREE
            and not person.retired
        ):
            raise RuleError("not_retired")

    def receiving_hospital():
        hospital = filing.receiving_hospital
        if hospital is not None and hospital.region_id != filing.place_region_id:
            raise RuleError("hospital_not_at_place", hospital=hospital.code)

    place_ok = check(same_region)
    check(subtype)
    if place_ok and filing.type == FilingType.LONG_TERM:
        if hospitals is None:
            hospitals = list(filing.hospitals.select_related("region")) if filing.pk else []
        if hospitals or complete:
            check(_check_hospitals, filing, hospitals, today)
    if place_ok and filing.type in (FilingType.REFERRAL, FilingType.EMERGENCY):
        if filing.receiving_hospital:
            check(receiving_hospital)
    if filing.type == FilingType.EMERGENCY and filing.transfer_date:
        check(
            rules.check_emergency_retro_filing,
            transfer_date=filing.transfer_date,
            today=today,
            discharge_settled=filing.discharge_settled_on is not None or _stay_settled(filing),
            is_working_day=is_working_day_function(),
        )
    if place_ok and filing.type in TEMPORARY_TYPES:
        check(_check_no_long_term_here, filing, today)
    if place_ok and filing.type == FilingType.TEMPORARY:
        check(_check_no_temporary_here, filing, today)
    if filing.type == FilingType.TEMPORARY and filing.covers_chronic_outpatient:
        # §2.5: chronic care needs the disease recognised, on a filing the agency reviews; a
        # temporary filing is approved at once, so it would settle it unreviewed.
        broken.append(RuleError("chronic_needs_own_filing"))
    if filing.type == FilingType.CHRONIC:
        check(_check_chronic_base, filing, today)
    if complete:
        check(_check_complete, filing, relatives_home=relatives_home)
    if broken:
        first, *rest = broken
        first.also = rest
        raise first


# The partial unique constraints of one person's long-term filings (filings/models.py).
LONG_TERM_CONSTRAINTS = (
    "one_pending_long_term_filing_per_person",
    "one_approved_long_term_filing_per_person",
    "one_renewal_per_filing",
)


def _lock_person(person_id: int) -> bool:
    """Lock the insured person's row until the transaction ends: the services whose checks
    read the person's other filings (a submission, a new referral) run one after the other
    for one person. Taken before any filing's lock. Returns whether the person is insured and
    active, as read under the lock (an agency unticking it meanwhile waits or is seen)."""
    rows = InsuredPerson.objects.select_for_update().filter(pk=person_id).values_list("active")
    return any(active for (active,) in rows)


# The version of a filing a reviewer decides on (its last change): a review page posts the
# version it showed, and a decision on an older one is refused (portal.lib.versions).
filing_version = versions.last_change


def _check_seen(filing: Filing, seen_version: str | None) -> None:
    versions.check_seen(filing_version(filing), seen_version, RuleError)


def _lock(pk: int, *related: str) -> Filing:
    """The filing `pk` with `related`, its row locked until the transaction ends: every change
    of a filing starts here, so two at once are made one after the other."""
    return Filing.objects.select_for_update(of=("self",)).select_related(*related).get(pk=pk)


def _other_open_long_term(person_id: int, but: int | None = None) -> bool:
    """The person has a long-term filing in progress or in force (besides filing `but`):
    domain.md §2.6, one at a time, a renewal apart."""
    others = Filing.objects.filter(
        person_id=person_id, type=FilingType.LONG_TERM, status__in=OPEN_STATUSES
    )
    if but is not None:
        others = others.exclude(pk=but)
    return others.exists()


def _insert(*, values: dict, hospitals: list, actor, ip, person) -> Filing:
    """Insert a draft (a fresh number on a collision) with its hospitals and audit event.
    A long-term filing the constraints refuse is RuleError("open_long_term_exists")."""
    filing_type = values["type"]
    for _attempt in range(3):
        try:
            with transaction.atomic():
                filing = Filing.objects.create(
                    number=_number(filing_type, person.region.code), **values
                )
                if hospitals:
                    filing.hospitals.set(hospitals)
                audit.record(
                    action="filing.create",
                    actor=actor,
                    obj=filing,
                    region=person.region,
                    to_state=Status.DRAFT,
                    ip=ip,
                )
                return filing
        except IntegrityError as exc:
            # SQLite names the columns, not the constraint: a long-term filing that now meets
            # one in progress is the constraint's doing, not a number collision.
            renews = values.get("renews")
            if "one_renewal_per_filing" in str(exc) or (
                renews is not None
                and Filing.objects.filter(renews=renews, status__in=OPEN_STATUSES).exists()
            ):
                raise RuleError("already_renewed") from exc
            if any(name in str(exc) for name in LONG_TERM_CONSTRAINTS) or (
                filing_type == FilingType.LONG_TERM
                and Filing.objects.filter(
                    person=person,
                    type=FilingType.LONG_TERM,
                    status__in=[Status.DRAFT, Status.SUBMITTED, Status.RETURNED],
                ).exists()
            ):
                raise RuleError("open_long_term_exists") from exc
            # a number collision: try another number
    raise RuleError("transition_not_allowed", current="", target=Status.DRAFT)


def filing_create(
    *,
    person,
    actor,
    filing_type: str,
    hospitals=(),
    ip=None,
    today: datetime.date | None = None,
    **fields,
) -> Filing:
    """A draft filing for `person`, its content checked by `check_filing` (what is present:
    a draft may be partial). A second long-term filing while one is in progress or in force is
    refused (a renewal is made by `filing_renew`); the partial unique constraints decide under
    concurrency."""
    today = today or timezone.localdate()
    place = fields.get("place_region")
    if place is not None and "place_province" not in fields:
        fields["place_province_id"] = place.province_id
    hospitals = list(hospitals)
    values = {
        "person": person,
        "insured_region_id": person.region_id,
        "type": filing_type,
        "status": Status.DRAFT,
        **fields,
    }
    if filing_type == FilingType.REFERRAL:
        # The region decides what a referral covers, whoever fills it in (hospital or person).
        values.update(rules.referral_care(parameters_for(person.region, today)))
    check_filing(Filing(**values), hospitals=hospitals, today=today)
    if filing_type == FilingType.LONG_TERM and _other_open_long_term(person.pk):
        raise RuleError("open_long_term_exists")
    return _insert(values=values, hospitals=hospitals, actor=actor, ip=ip, person=person)


def renewal_of(filing: Filing) -> Filing | None:
    """The filing's renewal that is not final (draft, submitted, returned or approved)."""
    return (
        Filing.objects.filter(renews_id=filing.pk, status__in=OPEN_STATUSES)
        .only("number", "status", "type", "valid_from", "valid_until")
        .first()
    )


def filing_renew(*, filing: Filing, actor, ip=None, today: datetime.date | None = None) -> Filing:
    """Renew an approved long-term filing before its validity ends (domain.md §2.1, §2.6).

    Precondition: the filing is approved, has a validity (not open-ended) and today is within
    `rules.RENEWAL_WINDOW_DAYS` of its end; it has no renewal that is not final and the person
    has no other long-term filing in progress. Effect: a draft long-term filing that `renews`
    it, with its place, sub-type, care and chosen hospitals (those not suspended), starting the
    day after its validity ends, and its creation event. The person adds the proof materials
    or the commitment and submits it; on approval it takes effect the day after the renewed filing
    ends (`_approval_updates`). The partial unique constraints decide under concurrency."""
    today = today or timezone.localdate()
    with transaction.atomic():
        old = _lock(filing.pk, "person__region", "insured_region", "place_region")
        rules.check_renewal(
            filing_type=old.type, status=old.status, valid_until=old.valid_until, today=today
        )
        assert old.valid_until is not None  # check_renewal refuses an open-ended filing
        existing = renewal_of(old)
        if existing is not None:
            raise RuleError("already_renewed", number=existing.number)
        if _other_open_long_term(old.person_id, but=old.pk):
            raise RuleError("open_long_term_exists")
        hospitals = [
            h
            for h in old.hospitals.select_related("region")
            if h.suspended_on is None or h.suspended_on > today
        ]
        values = {
            "person": old.person,
            "insured_region_id": old.person.region_id,
            "type": FilingType.LONG_TERM,
            "status": Status.DRAFT,
            "renews": old,
            "subtype": old.subtype,
            "place_province_id": old.place_province_id,
            "place_region_id": old.place_region_id,
            "covers_inpatient": old.covers_inpatient,
            "covers_general_outpatient": old.covers_general_outpatient,
            "covers_chronic_outpatient": old.covers_chronic_outpatient,
            "start_date": rules.renewal_start(old.valid_until),
        }
        check_filing(Filing(**values), hospitals=hospitals, today=today)
        # The renewal's own "filing.create" event, with its `renews`, records who renewed.
        return _insert(values=values, hospitals=hospitals, actor=actor, ip=ip, person=old.person)


def filing_update(
    *,
    filing: Filing,
    actor,
    hospitals=None,
    ip=None,
    today: datetime.date | None = None,
    **fields,
) -> Filing:
    """Edit a draft or returned filing (the person's own; an e-referral stays the hospital's).
    The content is checked as on creation; `hospitals` (when given) replaces the choice."""
    names = {name.removesuffix("_id") for name in fields}
    if not names <= EDITABLE_FIELDS:
        raise TypeError(f"not editable: {sorted(names - EDITABLE_FIELDS)}")
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = _lock(filing.pk, "person__user", "insured_region", "place_region")
        if locked.status not in (Status.DRAFT, Status.RETURNED) or (
            locked.type == FilingType.REFERRAL and locked.referral_source != "paper"
        ):
            raise RuleError("not_editable", current=locked.status)
        if locked.type == FilingType.REFERRAL:
            fields.update(rules.referral_care(parameters_for(locked.insured_region, today)))
        for name, value in fields.items():
            setattr(locked, name, value)
        if "place_region" in fields or "place_region_id" in fields:
            locked.place_province_id = locked.place_region.province_id
            fields.setdefault("place_province_id", locked.place_province_id)
        chosen = list(hospitals) if hospitals is not None else None
        check_filing(locked, hospitals=chosen, today=today)
        locked.save(
            update_fields=sorted({Filing._meta.get_field(n).name for n in fields} | {"updated_at"})
        )
        if chosen is not None:
            locked.hospitals.set(chosen)
        _record_in_place(locked, "filing.update", actor=actor, ip=ip)
    return locked


def _transition(
    filing_id: int,
    target: str,
    *,
    actor,
    action: str,
    reason: str = "",
    ip=None,
    updates: Callable[[Filing], dict] | None = None,
    seen_version: str | None = None,
) -> Filing:
    with transaction.atomic():
        filing = _lock(filing_id, "person__user", "insured_region")
        check_agency_region(actor, filing.insured_region_id)
        try:
            rules.check_transition(filing.status, target, filing_type=filing.type)
        except RuleError as error:
            # Named as every page names it: approved but not yet in force is not "in force".
            error.params["current_shown"] = filing.get_status_display()
            raise
        _check_seen(filing, seen_version)
        changes = updates(filing) if updates else {}
        previous = filing.status
        filing.status = target
        for name, value in changes.items():
            setattr(filing, name, value)
        filing.save(update_fields=["status", "updated_at", *changes])
        audit.record(
            action=action,
            actor=actor,
            obj=filing,
            region=filing.insured_region,
            from_state=previous,
            to_state=target,
            reason=reason,
            ip=ip,
        )
        if filing.not_yet_in_force:  # approved, taking effect later: said so, not "in force"
            _notify(filing, "filing_approved_from", d=filing.valid_from, text=reason)
        else:
            _notify(filing, "filing_status", status=target, text=reason)
        if filing.type == FilingType.REFERRAL and target in HOSPITALS_TOLD:
            _notify_hospitals(filing, "referral_decided", status=target, text=reason)
    return filing


def _approval_updates(filing: Filing, actor, today: datetime.date) -> dict:
    params = parameters_for(filing.insured_region, today)
    start_date = filing.start_date
    renewed_until = _renewed_until(filing)
    if renewed_until is not None:
        # A renewal takes effect the day after the renewed filing ends, whatever start the
        # person asked for: no overlap (domain.md §2.6) and no gap. If that day has passed,
        # it takes effect as usual.
        start_date = rules.renewal_start(renewed_until)
    if filing.type == FilingType.EMERGENCY:
        start_date = filing.transfer_date  # valid from the transfer (domain.md §2.3)
    found, base_from, base_until = False, None, None
    if filing.type == FilingType.CHRONIC:
        # It sits on a long-term or temporary filing for the place (§2.5): not before that one
        # takes effect (a renewal, a trip next month), nor beyond its end.
        found, base_from, base_until = _chronic_base(filing, today)
        if base_from is not None and base_from > max(today, start_date or today):
            start_date = base_from
    valid_from, valid_until = rules.validity(filing.type, params, today, start_date)
    if found:
        valid_until = rules.within_base(valid_until, base_until)
    changes = {
        "valid_from": valid_from,
        "valid_until": valid_until,
        "decided_at": timezone.now(),
        "decided_by": actor if getattr(actor, "pk", None) else None,
    }
    if filing.type == FilingType.LONG_TERM and filing.basis == Basis.COMMITMENT:
        # Counted from the day it takes effect (a renewal: the day after the filing it renews
        # ends), not from the decision: the whole period runs while the filing is in force.
        changes["commitment_deadline"] = rules.commitment_deadline(valid_from, params)
    if filing.type == FilingType.REFERRAL and params.referral_course_days:
        changes["course_days"] = params.referral_course_days
    return changes


def _renewed_until(filing: Filing) -> datetime.date | None:
    """The last valid day of the filing `filing` renews, while that one is (or was, until it
    expired) in force; None for a filing that renews nothing, or one cancelled or revoked."""
    if filing.renews_id is None:
        return None
    return (
        Filing.objects.filter(pk=filing.renews_id, status__in=[Status.APPROVED, Status.EXPIRED])
        .values_list("valid_until", flat=True)
        .first()
    )


def filing_submit(
    *,
    filing: Filing,
    actor,
    ip=None,
    relatives_home: bool = False,
    promised: bool | None = None,
    today: datetime.date | None = None,
) -> Filing:
    """Submit a draft (or resubmit a returned filing) once `check_filing` finds it complete:
    required fields, the materials of domain.md §2.1 (`relatives_home`: the property
    certificate is of a relative's home, so proof of the relationship is needed), the chosen
    hospitals, the emergency window, the filing it sits on. Other temporary filings are approved
    automatically on submission when the person is insured and active (domain.md §2.4).

    A long-term filing by commitment that already holds a proof of residence (one that would
    keep the promise: `commitment_proof_kinds`) is submitted with proof materials instead, and
    needs what those need (domain.md §2.1: the commitment promises the proof for later; kept as a
    commitment it would be one-way and revoked at the deadline with the proof on file). The
    change is recorded ("filing.update", reason "proof_attached"); a refusal for missing
    materials then carries `proof_attached`. `promised`: whether the person ticked the written
    commitment; False refuses a filing by commitment until they do (None: not asked)."""
    today = today or timezone.localdate()

    def approved(f: Filing) -> dict:
        check_filing(f, today=today, complete=True, relatives_home=relatives_home)
        return {"submitted_at": timezone.now(), **_approval_updates(f, None, today)}

    def submitted(f: Filing) -> dict:
        changes: dict = {"basis": Basis.MATERIALS} if proof_given else {}
        for name, value in changes.items():
            setattr(f, name, value)
        try:
            check_filing(f, today=today, complete=True, relatives_home=relatives_home)
        except RuleError as error:
            if proof_given and error.code == "materials_incomplete":
                error.params["proof_attached"] = True
            raise
        by_promise = f.type == FilingType.LONG_TERM and f.basis == Basis.COMMITMENT
        if by_promise and promised is False:
            raise RuleError("incomplete", fields=["promise"])
        if by_promise and promised:
            changes["promised"] = True
        return {
            "submitted_at": timezone.now(),
            "relatives_home": relatives_home and f.type == FilingType.LONG_TERM,
            **changes,
        }

    with transaction.atomic():
        # One submission of a person at a time: the checks against the person's other
        # filings (a temporary filing already in force for the place, §2.6) then see what a
        # double tap's first request submitted.
        active = _lock_person(filing.person_id)
        by_commitment = (
            Filing.objects.filter(pk=filing.pk, type=FilingType.LONG_TERM, basis=Basis.COMMITMENT)
            .values_list("subtype", flat=True)
            .first()
        )
        proof_given = (
            by_commitment is not None
            and Material.objects.filter(
                filing_id=filing.pk,
                refused_at__isnull=True,
                kind__in=commitment_proof_kinds(by_commitment),
            ).exists()
        )
        if proof_given:
            _record_in_place(filing, "filing.update", actor=actor, ip=ip, reason="proof_attached")
        # Insured and active as the database says now, not as the caller's copy of the person
        # said when it was read: a person the agency unticked goes to review instead.
        automatic = (
            filing.type in rules.AUTOMATIC_TYPES and filing.status == Status.DRAFT and active
        )
        return _transition(
            filing.pk,
            Status.APPROVED if automatic else Status.SUBMITTED,
            actor=actor,
            action="filing.auto_approve" if automatic else "filing.submit",
            ip=ip,
            updates=approved if automatic else submitted,
        )


def filing_approve(
    *, filing: Filing, actor, note: str = "", ip=None, seen_version: str | None = None
) -> Filing:
    """Approve a submitted filing. `seen_version` (a reviewer's page): refused, changing
    nothing, when the filing changed since that page showed it (`_check_seen`). A person not
    insured and active in the agency's records is not approved (RuleError "person_not_active",
    nothing changed; domain.md §2.4): the agency confirms the person's record first, or rejects
    the filing with a reason."""
    today = timezone.localdate()

    def updates(f: Filing) -> dict:
        # After the transition and version checks, so a filing decided or changed meanwhile
        # is named as such; the person's row is locked, so an edit of it waits.
        rules.check_person_active(f.person.active)
        return {**_approval_updates(f, actor, today), "decision_note": note}

    with transaction.atomic():
        _lock_person(filing.person_id)  # the person before the filing, as filing_submit does
        approved = _transition(
            filing.pk,
            Status.APPROVED,
            actor=actor,
            action="filing.approve",
            reason=note,
            ip=ip,
            updates=updates,
            seen_version=seen_version,
        )
        if approved.type == FilingType.LONG_TERM:
            _end_temporary_filings_there(approved, actor, ip)
    return approved


def _end_temporary_filings_there(long_term: Filing, actor, ip) -> None:
    """domain.md §2.6: a temporary filing coexists with a long-term filing only for another
    place. The person's temporary filings for the long-term filing's place end the day before
    it takes effect (one that would only start later is cancelled), so the person is covered
    without a gap and by one filing at a time; each change is on the temporary filing's
    timeline. The nightly expiry then closes them as any other."""
    if long_term.valid_from is None:
        return
    last_day = long_term.valid_from - datetime.timedelta(days=1)
    temporary = (
        Filing.objects.select_for_update(of=("self",))
        .select_related("insured_region", "person__user")
        .filter(
            person_id=long_term.person_id,
            type=FilingType.TEMPORARY,
            status=Status.APPROVED,
            place_region_id=long_term.place_region_id,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=last_day))
    )
    for other in temporary:
        if other.valid_from is not None and other.valid_from > last_day:
            Filing.objects.filter(pk=other.pk).update(
                status=Status.CANCELLED, updated_at=timezone.now()
            )
            action, to_state = "filing.cancel", str(Status.CANCELLED)
        else:
            Filing.objects.filter(pk=other.pk).update(
                valid_until=last_day, updated_at=timezone.now()
            )
            action, to_state = "filing.superseded", ""
        # The person is told either way; a filing that would only have started later is
        # simply replaced ("ends" the day before it starts).
        _notify(other, "temporary_superseded", lt=long_term.number, d=last_day)
        audit.record(
            action=action,
            actor=actor,
            obj=other,
            region=other.insured_region,
            from_state=str(Status.APPROVED) if to_state else "",
            to_state=to_state,
            reason=long_term.number,
            ip=ip,
        )


def filing_reject(
    *, filing: Filing, actor, reason: str, ip=None, seen_version: str | None = None
) -> Filing:
    reason = text.plain(reason)  # a reason of spaces or invisible characters is none
    if not reason:
        raise RuleError("reason_required")
    return _transition(
        filing.pk,
        Status.REJECTED,
        actor=actor,
        action="filing.reject",
        reason=reason,
        ip=ip,
        updates=lambda f: {
            "decision_note": reason,
            "decided_at": timezone.now(),
            "decided_by": actor,
        },
        seen_version=seen_version,
    )


def filing_return(
    *, filing: Filing, actor, reason: str, ip=None, seen_version: str | None = None
) -> Filing:
    """Ask for more materials: the person edits and resubmits."""
    reason = text.plain(reason)  # a reason of spaces or invisible characters is none
    if not reason:
        raise RuleError("reason_required")
    return _transition(
        filing.pk,
        Status.RETURNED,
        actor=actor,
        action="filing.return",
        reason=reason,
        ip=ip,
        updates=lambda f: {"decision_note": reason},
        seen_version=seen_version,
    )


def filing_accept_materials(
    *,
    filing: Filing,
    actor,
    ip=None,
    material_ids: Iterable[int] | None = None,
    seen_version: str | None = None,
) -> Filing:
    """Supplemented commitment materials accepted: the filing turns two-way.

    `material_ids`: the supplements the reviewer was shown; refused ("materials_changed"),
    changing nothing, when those awaiting review are not exactly these (one supplied since
    the page was opened). Each accepted file gets an audit event of its own
    (`_record_materials`)."""
    with transaction.atomic():
        locked = _lock(filing.pk, "person__user", "insured_region")
        check_agency_region(actor, locked.insured_region_id)
        if locked.basis != Basis.COMMITMENT or locked.status != Status.APPROVED:
            raise RuleError("not_commitment")
        if locked.materials_accepted_at is not None:
            raise RuleError("already_decided", current=locked.status, target=locked.status)
        _check_seen(locked, seen_version)
        decided = _supplements_seen(locked, material_ids)
        if not locked.materials.filter(
            refused_at__isnull=True, kind__in=commitment_proof_kinds(locked.subtype)
        ).exists():
            raise RuleError("materials_missing")
        locked.materials_accepted_at = timezone.now()
        locked.save(update_fields=["materials_accepted_at", "updated_at"])
        _record_in_place(locked, "filing.accept_materials", actor=actor, ip=ip, reason="two_way")
        _record_materials(locked, decided, "filing.accept_materials.file", actor=actor, ip=ip)
        _notify(locked, "materials_accepted")
    return locked


def supplements_awaiting_review(filing: Filing):
    """The materials supplied since the filing was approved and not refused: what the agency
    accepts or refuses (domain.md §2.1)."""
    supplements = filing.materials.filter(refused_at__isnull=True)
    if filing.decided_at is not None:
        supplements = supplements.filter(uploaded_at__gt=filing.decided_at)
    return supplements


def _supplements_seen(filing: Filing, material_ids: Iterable[int] | None) -> list[Material]:
    """The supplements awaiting review that a decision is about: all of them, or, when the
    reviewer's page said which it showed (`material_ids`), exactly those; a file supplied (or
    taken off) since the page was opened refuses the decision ("materials_changed")."""
    awaiting = list(supplements_awaiting_review(filing).order_by("pk"))
    if material_ids is not None and {m.pk for m in awaiting} != set(material_ids):
        raise RuleError("materials_changed")
    return awaiting


def _record_materials(
    filing: Filing, materials: list[Material], action: str, *, actor, ip, reason: str = ""
) -> None:
    """One audit event per file a decision was about (which files were accepted or refused),
    named by the filing's number, the kind and the file's name; the filing's own event keeps
    the decision and the reason the person reads."""
    from filings.messages import kind_label

    AuditEvent.objects.bulk_create(
        AuditEvent(
            **{
                **audit.event_kwargs(
                    action=action,
                    actor=actor,
                    obj=material,
                    region=filing.insured_region,
                    reason=reason,
                    ip=ip,
                ),
                "object_repr": f"{filing.number} · {kind_label(material.kind)} · "
                f"{material.original_name}"[:200],
            }
        )
        for material in materials
    )


def filing_refuse_materials(
    *,
    filing: Filing,
    actor,
    reason: str,
    ip=None,
    material_ids: Iterable[int] | None = None,
    seen_version: str | None = None,
) -> Filing:
    """The agency refuses the materials supplemented for a commitment filing (domain.md §2.1).

    Precondition: an approved commitment filing whose materials are not accepted, with
    supplemented materials (uploaded since approval) not refused yet; agency staff of the
    insured region; a reason, which the person sees. Effect: those materials are marked
    refused (the filing's state does not change), an audit event, and the person is told.
    Before the deadline the person may supply materials again; once it has passed, the next
    nightly run revokes the filing (filings/jobs.py `revoke_commitment`), as for a filing that
    was never supplemented. `material_ids`: the supplements the reviewer was shown; refused
    ("materials_changed"), changing nothing, unless they are exactly those awaiting review
    (one supplied since the page was opened is not refused unseen). Each refused file gets an
    audit event of its own (`_record_materials`)."""
    reason = text.plain(reason)  # a reason of spaces or invisible characters is none
    if not reason:
        raise RuleError("reason_required")
    with transaction.atomic():
        locked = _lock(filing.pk, "person__user", "insured_region")
        if not _may_act_as_agency(actor, locked):
            raise RuleError("agency_only")
        if locked.basis != Basis.COMMITMENT or locked.status != Status.APPROVED:
            raise RuleError("not_commitment")
        if locked.materials_accepted_at is not None:
            raise RuleError("already_decided", current=locked.status, target=locked.status)
        _check_seen(locked, seen_version)
        decided = _supplements_seen(locked, material_ids)
        if not Material.objects.filter(pk__in=[m.pk for m in decided]).update(
            refused_at=timezone.now()
        ):
            raise RuleError("materials_missing")
        _record_in_place(
            locked, "filing.refuse_materials", actor=actor, ip=ip, reason=reason.strip()
        )
        _record_materials(
            locked,
            decided,
            "filing.refuse_materials.file",
            actor=actor,
            ip=ip,
            reason=reason.strip(),
        )
        # Before the deadline the person may supply materials again; after it, the filing is
        # revoked at the next nightly run: the notice says which.
        in_time = locked.commitment_deadline is None or (
            timezone.localdate() <= locked.commitment_deadline
        )
        _notify(
            locked,
            "materials_refused" if in_time else "materials_refused_late",
            reason=reason.strip(),
            d=locked.commitment_deadline,
        )
    return locked


def cancel_copies_missing(filing: Filing) -> list[str]:
    """The copies a person cancelling their effective long-term filing must have uploaded first
    and has not (domain.md §2.1): their ID card's, and the agent's for a filing by an agent.
    Told on the filing's page before cancelling, and checked by `filing_cancel`."""
    if not (filing.status == Status.APPROVED and filing.type == FilingType.LONG_TERM):
        return []
    kinds = set(filing.materials.values_list("kind", flat=True))
    needed = [MaterialKind.ID_COPY]
    if filing.agent_name:
        needed.append(MaterialKind.AGENT_ID_COPY)
    return [str(k) for k in needed if k not in kinds]


def filing_cancel(
    *,
    filing: Filing,
    actor,
    reason: str = "",
    ip=None,
    today: datetime.date | None = None,
    seen_version: str | None = None,
) -> Filing:
    """Cancel; an effective long-term filing only after the region's lock period, and, when
    the person applies, with a copy of their ID card (and of the agent's) among the materials
    (domain.md §2.1)."""
    today = today or timezone.localdate()

    def updates(f: Filing) -> dict:
        if f.status == Status.APPROVED and f.type == FilingType.LONG_TERM:
            rules.check_change_allowed(
                f.valid_from, parameters_for(f.insured_region, today), today, f.valid_until
            )
            if getattr(actor, "pk", None) is not None and actor.pk == f.person.user_id:
                missing = cancel_copies_missing(f)
                if missing:
                    raise RuleError("cancel_needs_copies", missing=missing)
        return {}

    return _transition(
        filing.pk,
        Status.CANCELLED,
        actor=actor,
        action="filing.cancel",
        reason=reason,
        ip=ip,
        updates=updates,
        seen_version=seen_version,
    )


def filing_request_change(
    *, filing: Filing, actor, what: str, ip=None, today: datetime.date | None = None
) -> Filing:
    """The person asks the agency to change an effective long-term filing (place, chosen
    hospitals, care). Refused inside the region's lock period with the date it becomes possible
    (RuleError "locked"); otherwise recorded and sent to the agency staff of the region. The
    filing's state does not change."""
    if not (what or "").strip():
        raise RuleError("describe_change")
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = _lock(filing.pk, "person__user", "insured_region")
        if locked.status != Status.APPROVED or locked.type != FilingType.LONG_TERM:
            raise RuleError("change_not_possible")
        rules.check_change_allowed(
            locked.valid_from,
            parameters_for(locked.insured_region, today),
            today,
            locked.valid_until,
        )
        _record_in_place(locked, "filing.change_request", actor=actor, ip=ip, reason=what.strip())
        _notify_agency(locked, "change_requested_agency", text=what.strip())
        _notify(locked, "change_requested")
    return locked


def filing_expire(*, filing: Filing, actor=None) -> Filing:
    return _transition(filing.pk, Status.EXPIRED, actor=actor, action="filing.expire")


def filing_revoke(*, filing: Filing, actor=None, reason: str = "") -> Filing:
    return _transition(
        filing.pk, Status.REVOKED, actor=actor, action="filing.revoke", reason=reason
    )


def referral_start(
    *,
    hospital,
    actor,
    person,
    receiving_hospital,
    diagnosis: str,
    condition: str,
    attending_doctor: str,
    ip=None,
) -> Filing:
    """An e-referral started by a designated hospital of the person's own region (draft until
    the department director signs and the medical office stamps it)."""
    if person.region_id != hospital.region_id:
        raise RuleError("referral_other_region")
    if receiving_hospital.region_id == person.region_id:
        raise RuleError("referral_same_region")
    region = receiving_hospital.region
    today = timezone.localdate()
    with transaction.atomic():
        # A double click starts one referral, not two. A patient not insured and active could
        # never have it approved: the hospital is told before anyone signs.
        active = _lock_person(person.pk)
        rules.check_person_active(active, code="referral_person_not_active")
        open_one = open_referral_to(person.pk, receiving_hospital.pk, today)
        if open_one is not None:
            raise RuleError("open_referral_exists", number=open_one.number, current=open_one.status)
        return filing_create(
            person=person,
            actor=actor,
            filing_type=FilingType.REFERRAL,
            ip=ip,
            place_province_id=region.province_id,
            place_region=region,
            receiving_hospital=receiving_hospital,
            issuing_hospital=hospital,
            diagnosis=diagnosis,
            referral_condition=condition,
            attending_doctor=attending_doctor,
            referral_source="e_referral",
            start_date=today,
        )


def open_referral_to(person_id: int, hospital_id: int, today: datetime.date) -> Filing | None:
    """The person's referral to `hospital_id` still in progress (draft, submitted, returned) or
    approved and not over: a new referral to the same hospital would duplicate it."""
    ends = Q(valid_until__isnull=True) | Q(valid_until__gte=today) | Q(extended_until__gte=today)
    return (
        Filing.objects.filter(
            Q(status__in=[Status.DRAFT, Status.SUBMITTED, Status.RETURNED])
            | (Q(status=Status.APPROVED) & ends),
            person_id=person_id,
            type=FilingType.REFERRAL,
            receiving_hospital_id=hospital_id,
        )
        .order_by("-created_at")
        .only("number", "status")
        .first()
    )


def _signer_name(name: str) -> str:
    """The name of who signs or stamps a referral, as stored: typed, and as long as the form's
    columns hold (a longer one is refused, never cut)."""
    name = text.plain(name)
    if not name:
        raise RuleError("signer_required")
    longest = Filing._meta.get_field("director_signed_by").max_length or 0
    if len(name) > longest:
        raise RuleError("signer_too_long", max=longest)
    return name


def referral_sign(*, filing: Filing, hospital, actor, step: str, signer: str, ip=None) -> Filing:
    """Record the director's signature, then the medical office's stamp (which submits the
    referral to the agency). Each step is recorded with who and when."""
    signer = _signer_name(signer)
    with transaction.atomic():
        # The person before the filing, as filing_submit does.
        active = _lock_person(filing.person_id)
        locked = _lock(filing.pk, "insured_region", "person__user")
        if locked.issuing_hospital_id != hospital.pk or locked.status != Status.DRAFT:
            raise RuleError("referral_not_draft", current=locked.status)
        # Unticked by the agency since the referral was started: nothing is signed.
        rules.check_person_active(active, code="referral_person_not_active")
        now = timezone.now()
        signed = {"director": locked.director_signed_at, "office": locked.medical_office_signed_at}
        if signed.get(step) is not None:  # a second tab, a double click: the first one stands
            raise RuleError("already_signed", d=timezone.localtime(signed[step]))
        if step == "director":
            locked.director_signed_by, locked.director_signed_at = signer, now
            fields = ["director_signed_by", "director_signed_at"]
        elif step == "office":
            if locked.director_signed_at is None:
                raise RuleError("director_first")
            locked.medical_office_signed_by, locked.medical_office_signed_at = signer, now
            fields = ["medical_office_signed_by", "medical_office_signed_at"]
        else:
            raise RuleError("transition_not_allowed", current=locked.status, target=step)
        locked.save(update_fields=[*fields, "updated_at"])
        audit.record(
            action=f"referral.sign_{step}",
            actor=actor,
            obj=locked,
            region=locked.insured_region,
            reason=signer,
            ip=ip,
        )
        if step == "office":
            # The stamp submits the referral: a refused submission (the patient's filings
            # changed since the start) leaves the referral unstamped, to be stamped again.
            return filing_submit(filing=locked, actor=actor, ip=ip)
    return locked


def referral_discard(*, filing: Filing, hospital, actor, ip=None) -> Filing:
    """The issuing hospital discards a referral it started and has not sent to the agency (a
    draft): a diagnosis mistyped, a stamp refused since (the patient's filings changed). Only a
    draft can be, only by its hospital; the patient, who never saw it, is not told. It no longer
    counts as the patient's open referral to that hospital (`open_referral_to`)."""
    with transaction.atomic():
        _lock_person(filing.person_id)
        locked = _lock(filing.pk, "insured_region")
        if (
            locked.type != FilingType.REFERRAL
            or locked.issuing_hospital_id != hospital.pk
            or locked.status != Status.DRAFT
        ):
            raise RuleError("referral_not_draft_discard", current=locked.status)
        rules.check_transition(locked.status, Status.CANCELLED, filing_type=locked.type)
        locked.status = Status.CANCELLED
        locked.save(update_fields=["status", "updated_at"])
        audit.record(
            action="referral.discard",
            actor=actor,
            obj=locked,
            region=locked.insured_region,
            from_state=Status.DRAFT,
            to_state=Status.CANCELLED,
            ip=ip,
        )
    return locked


def _may_act_as_agency(actor, filing: Filing) -> bool:
    if getattr(actor, "is_superuser", False):
        return True
    region = agency_region(actor)
    return region is not None and region.pk == filing.insured_region_id


def _locked_referral(filing_id: int, statuses: Iterable[str] = (Status.APPROVED,)) -> Filing:
    locked = _lock(filing_id, "person__user", "insured_region", "receiving_hospital")
    if locked.type != FilingType.REFERRAL or locked.status not in statuses:
        raise RuleError("not_an_open_referral", current=locked.status)
    return locked


def _referral_end(filing: Filing) -> datetime.date | None:
    """The referral's last valid day, an extension included (`Filing.valid_through`)."""
    return filing.valid_through


def closed_by_its_window(filing: Filing) -> bool:
    """A referral the nightly run expired only because treatment had not started within its
    start window (filings/jobs.py `expire_referral`; domain.md §2.2, Daxinganling: start within
    1 month, one course): expired, never started, of a region of one course (`course_days` is
    set on approval). The run knew of no start; a stay admitted, or a start recorded, inside
    the window still starts its course. Cancelled or revoked referrals are not."""
    return (
        filing.type == FilingType.REFERRAL
        and filing.status == Status.EXPIRED
        and filing.treatment_started_on is None
        and bool(filing.course_days)
    )


def referral_start_treatment(
    *,
    filing: Filing,
    actor,
    started_on: datetime.date | None = None,
    ip=None,
    seen_version: str | None = None,
) -> Filing:
    """Treatment under an approved referral started at the receiving hospital (domain.md §2.2).

    Precondition: approved, or expired only because its start window passed
    (`closed_by_its_window`), and no other open referral of the person to the hospital; not
    started yet; `started_on` within the validity (the start window where the region has one,
    an extension included). Effect: `treatment_started_on` is set; where the region allows one
    course (Daxinganling: 60 days), `valid_until` moves to the course's last day
    (`rules.course_end`), `course_days` is recorded and the start-window extension no longer
    applies; a referral closed by its window is approved again while its course runs
    (`_start_course`). Agency staff of the insured region, or the receiving hospital's staff.
    `seen_version` (a reviewer's page): refused, changing nothing, when the referral changed
    since that page showed it."""
    today = timezone.localdate()
    started_on = started_on or today
    with transaction.atomic():
        locked = _locked_referral(filing.pk, (Status.APPROVED, Status.EXPIRED))
        _check_seen(locked, seen_version)
        end = _referral_end(locked)
        if locked.status == Status.EXPIRED and not (
            closed_by_its_window(locked) and end is not None and started_on <= end
        ):
            # Only a start inside the window it missed reopens an expired referral.
            raise RuleError("not_an_open_referral", current=locked.status)
        staff = getattr(actor, "hospital_staff", None)
        at_receiving = staff is not None and staff.hospital_id == locked.receiving_hospital_id
        if not (_may_act_as_agency(actor, locked) or at_receiving):
            raise RuleError("agency_only")
        if locked.treatment_started_on is not None:
            raise RuleError("treatment_already_started", started_on=locked.treatment_started_on)
        if started_on > today:
            raise RuleError("date_in_future")
        if (locked.valid_from and started_on < locked.valid_from) or (end and started_on > end):
            raise RuleError("outside_validity", valid_from=locked.valid_from, valid_until=end)
        if locked.status == Status.EXPIRED and locked.receiving_hospital_id:
            # Reopened, it must not run next to a referral the person got since.
            newer = open_referral_to(locked.person_id, locked.receiving_hospital_id, today)
            if newer is not None and newer.pk != locked.pk:
                raise RuleError("open_referral_exists", number=newer.number, current=newer.status)
        _start_course(locked, started_on, actor=actor, ip=ip)
    return locked


def _start_course(
    locked: Filing, started_on: datetime.date, *, actor, ip, reason: str = ""
) -> None:
    """Record the start of treatment on the locked referral: where the region allows one
    course, its last day becomes the validity's end and the start-window extension lapses.
    A referral the nightly run closed by its window (`closed_by_its_window`) is approved again
    while the course runs (the run expires it when the course is over, as any started one);
    one whose course is over by today stays expired, now with its course."""
    params = parameters_for(locked.insured_region, started_on)
    changes: dict = {"treatment_started_on": started_on}
    course_end = rules.course_end(started_on, params)
    if course_end is not None:
        changes.update(
            valid_until=course_end,
            course_days=params.referral_course_days,
            extended_until=None,
        )
    previous = locked.status
    if previous == Status.EXPIRED and (course_end is None or course_end >= timezone.localdate()):
        changes["status"] = Status.APPROVED
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.save(update_fields=[*changes, "updated_at"])
    audit.record(
        action="referral.start_treatment",
        actor=actor,
        obj=locked,
        region=locked.insured_region,
        from_state=previous,
        to_state=locked.status,
        reason=reason,
        ip=ip,
    )
    _notify(locked, "treatment_started", d=started_on, u=_referral_end(locked))


# The recorded reason of a course's start that a direct settlement made (`_start_course`, by
# no one in person), worded for the reader by messages.reason_text.
SETTLED_START = "direct settlement at {hospital}, admitted {admitted}"
# The recorded reason of a material taken off (`material_remove`): its kind as a code, so the
# timeline names it in the reader's language, not in the language of whoever took it off.
MATERIAL_TAKEN_OFF = "material {kind} taken off: {name}"


def _moves_back(referral: Filing) -> bool:
    """Whether the course's start may move back to an earlier stay: only a start that a direct
    settlement recorded (its admission day), not one the receiving hospital or the agency
    recorded, and not once the agency has extended the course (the extension was granted
    from that start)."""
    if referral.extended_until is not None:
        return False
    last_start = (
        AuditEvent.objects.filter(
            object_type="filings.filing",
            object_id=str(referral.pk),
            action="referral.start_treatment",
        )
        .order_by("-id")
        .values_list("actor_id", "reason")
        .first()
    )
    return (
        last_start is not None
        and last_start[0] is None
        and last_start[1].startswith(SETTLED_START.split("{", 1)[0])
    )


def referral_course_for_stay(
    *, number: str, admitted_on: datetime.date, discharged_on: datetime.date, hospital: str
) -> str | None:
    """A stay settled directly under referral `number` (domain.md §2.2). Where the region
    allows one course of treatment (Daxinganling: 60 days), the stay is that course: if the
    receiving hospital has not marked the start of treatment, the admission day starts it now
    (recorded and told as `referral_start_treatment` does, by no one in person). Returns why
    the stay lies outside that course, else None: "referral_course_exceeded" when it runs past
    the course's last day (an extension included; the days beyond need one), and
    "referral_before_course" when it was admitted before the day the receiving hospital
    recorded as the start. Either bill is held for the agency to review. A course that a
    settlement started is the course of the earliest stay: bills settled out of order (a later
    stay first) move its start back to the earlier admission (`_moves_back`), whichever bill
    commits first. Runs in the caller's transaction; a referral without a course (Liaoning) is
    left as it is."""
    pk = Filing.objects.filter(number=number, type=FilingType.REFERRAL).values_list("pk", flat=True)
    if not pk:
        return None
    locked = _lock(pk[0], "person__user", "insured_region")
    started = locked.treatment_started_on
    # Expired since (the nightly job), the referral still judges the stays of its validity:
    # a course that started is the course (the job closed it when it was over), and one
    # closed by its start window before any start was recorded (`closed_by_its_window`) is
    # started by a stay admitted inside the window, as if the job had not run.
    if locked.status != Status.APPROVED and not (
        locked.status == Status.EXPIRED and (started is not None or closed_by_its_window(locked))
    ):
        return None  # cancelled or revoked since the decision: the decision stands
    params = parameters_for(locked.insured_region, admitted_on)
    if started is None and not params.referral_course_days:
        return None  # all care for the validity (Liaoning): no course
    # The course starts on the stay's admission, but not before the referral took effect (a
    # stay admitted before, settled under the referral as a filing made before discharge
    # settlement, starts it on that day): a course never ends before its referral began.
    start = max(admitted_on, locked.valid_from) if locked.valid_from else admitted_on
    automatic = started is not None and start < started and _moves_back(locked)
    if (started is None or automatic) and params.referral_course_days:
        own_end = rules.course_end(admitted_on, params)
        if own_end is not None and discharged_on > own_end:
            # Longer than one course from its own admission: held, and it neither starts
            # nor moves the course (the agency decides on it; the referral stays as it was).
            return "referral_course_exceeded"
        _start_course(
            locked,
            start,
            actor=None,
            ip=None,
            # Kept as data, worded in the reader's language (messages.reason_text).
            reason=SETTLED_START.format(hospital=hospital, admitted=admitted_on.isoformat()),
        )
    if not locked.course_days:
        return None
    end = _referral_end(locked)
    if end is not None and discharged_on > end:
        return "referral_course_exceeded"
    if started is not None and not automatic and start < started:
        return "referral_before_course"  # before the start the hospital or agency recorded
    return None


# Why an extension is refused as too long (`rules.latest_extension`), said to the agency.
EXTENSION_LIMITS = {
    "window": gettext_lazy(
        "The extension may end on %(latest)s at the latest: one more start window of %(n)s "
        "month(s) after %(end)s."
    ),
    "course": gettext_lazy(
        "The extension may end on %(latest)s at the latest: one more course of %(n)s days "
        "after %(end)s."
    ),
    "validity": gettext_lazy(
        "The extension may end on %(latest)s at the latest: one more validity of %(n)s "
        "month(s) after %(end)s."
    ),
}


def referral_extend(
    *,
    filing: Filing,
    actor,
    until: datetime.date,
    reason: str,
    ip=None,
    seen_version: str | None = None,
) -> Filing:
    """The agency extends an approved referral to `until` (`extended_until`; domain.md §2.2).

    Before treatment starts this extends the start window, on request. Once treatment has
    started it extends the course, which needs a hospitalisation summary and a diagnosis
    certificate among the filing's materials. Either way by at most one more window, course or
    validity after the current end (`rules.latest_extension`). Agency staff of the insured
    region only; refused, changing nothing, when the referral changed since the reviewer's page
    showed it (`seen_version`)."""
    reason = text.plain(reason)  # a reason of spaces or invisible characters is none
    if not reason:
        raise RuleError("reason_required")
    with transaction.atomic():
        locked = _locked_referral(filing.pk)
        _check_seen(locked, seen_version)
        if not _may_act_as_agency(actor, locked):
            raise RuleError("agency_only")
        end = _referral_end(locked)
        if end is not None and until <= end:
            raise RuleError("extension_not_later", valid_until=end)
        if end is not None:
            latest, unit, size = rules.latest_extension(
                end,
                parameters_for(locked.insured_region, timezone.localdate()),
                started=locked.treatment_started_on is not None,
                course_days=locked.course_days,
            )
            if until > latest:
                words = {"latest": latest.isoformat(), "end": end.isoformat(), "n": size}
                raise RuleError(
                    "extension_too_long",
                    str(EXTENSION_LIMITS[unit]) % words,
                    latest=latest,
                    valid_until=end,
                )
        if locked.treatment_started_on is not None:
            kinds = set(locked.materials.values_list("kind", flat=True))
            missing = [k for k in EXTENSION_KINDS if k not in kinds]
            if missing:
                raise RuleError("materials_incomplete", missing=missing)
        locked.extended_until = until
        locked.save(update_fields=["extended_until", "updated_at"])
        _record_in_place(locked, "referral.extend", actor=actor, ip=ip, reason=reason.strip())
        # A course not started yet (Daxinganling): `until` is the last day treatment may start.
        notice = (
            "referral_start_extended"
            if locked.course_days and locked.treatment_started_on is None
            else "referral_extended"
        )
        _notify(locked, notice, u=until)
        _notify_hospitals(locked, notice, u=until)
    return locked


def referral_change_hospital(
    *, filing: Filing, actor, hospital, reason: str, ip=None, seen_version: str | None = None
) -> Filing:
    """The agency names another receiving hospital (domain.md §2.2: the person settles
    directly only at the named hospital, and changing it needs the agency). The place of
    treatment follows the hospital. Submitted or approved referrals; agency staff of the
    insured region only; refused, changing nothing, when the referral changed since the
    reviewer's page showed it (`seen_version`)."""
    reason = text.plain(reason)  # a reason of spaces or invisible characters is none
    if not reason:
        raise RuleError("reason_required")
    today = timezone.localdate()
    with transaction.atomic():
        locked = _locked_referral(filing.pk, (Status.SUBMITTED, Status.APPROVED))
        _check_seen(locked, seen_version)
        if not _may_act_as_agency(actor, locked):
            raise RuleError("agency_only")
        if hospital.pk == locked.receiving_hospital_id:
            raise RuleError("same_hospital")
        if hospital.region_id == locked.person.region_id:
            raise RuleError("referral_same_region")
        if hospital.suspended_on is not None and hospital.suspended_on <= today:
            raise RuleError("hospital_suspended", hospital=hospital.code)
        previous = locked.receiving_hospital
        locked.receiving_hospital = hospital
        locked.place_region_id = hospital.region_id
        locked.place_province_id = hospital.region.province_id
        _check_no_long_term_here(locked, today)
        locked.save(
            update_fields=["receiving_hospital", "place_region", "place_province", "updated_at"]
        )
        _record_in_place(
            locked,
            "referral.change_hospital",
            actor=actor,
            ip=ip,
            reason=f"{previous.code if previous else '-'} → {hospital.code}: {reason.strip()}",
        )
        _notify(locked, "referral_hospital_changed", h=hospital.code)
        _notify_hospitals(
            locked,
            "referral_hospital_moved",
            also=[previous.pk] if previous else [],
            was=previous.code if previous else "",
            text=reason.strip(),
        )
    return locked


def cycle_starts(filings: Iterable[Filing]) -> dict[int, datetime.date | None]:
    """For each referral, the start of treatment of the first referral of its chain of
    follow-ups (each follow-up `renews` the one before): where its treatment cycle began.
    One query per level of the chains, whatever the number of referrals (a page of them)."""
    known = {f.pk: (f.renews_id, f.treatment_started_on) for f in filings}
    at = {pk: pk for pk in known}  # each referral's farthest link read so far
    seen = {pk: {pk} for pk in known}
    while True:
        wanted = {known[link][0] for link in at.values()} - {None} - known.keys()
        if wanted:
            rows = Filing.objects.filter(pk__in=wanted).values_list(
                "pk", "renews_id", "treatment_started_on"
            )
            known.update({pk: (renews, started) for pk, renews, started in rows})
        moved = False
        for pk, link in at.items():
            renews = known[link][0]
            if renews is not None and renews in known and renews not in seen[pk]:
                seen[pk].add(renews)
                at[pk], moved = renews, True
        if not moved:
            return {pk: known[link][1] for pk, link in at.items()}


def referral_follow_up(
    *,
    referral: Filing,
    hospital,
    actor,
    kind: str,
    attending_doctor: str,
    medical_office: str,
    ip=None,
) -> Filing:
    """The receiving hospital's written notice for continued treatment or a readmission
    (`kind`: "continued" | "readmission") under a referral of one course (domain.md §2.2,
    Daxinganling), within the treatment cycle counted from the first course's start
    (`rules.check_follow_up`).

    Effect: a referral filing that `renews` (follows up) `referral`, for the same hospital,
    diagnosis and care, stamped by the hospital's medical office and submitted to the agency,
    which approves it as any referral: its start window runs from the approval (or from the
    day after a course still running ends), and its course from the day treatment starts. The
    agency is told. One follow-up that is not final per referral (`one_renewal_per_filing`)."""
    if kind not in FOLLOW_UP_KINDS:
        raise RuleError("follow_up_kind")
    attending_doctor, medical_office = _signer_name(attending_doctor), _signer_name(medical_office)
    today = timezone.localdate()
    with transaction.atomic():
        old = _lock(referral.pk, "person__region", "insured_region", "receiving_hospital")
        if old.type != FilingType.REFERRAL or old.receiving_hospital_id != hospital.pk:
            raise RuleError("not_the_receiving_hospital")
        rules.check_follow_up(
            status=old.status,
            course_days=old.course_days,
            first_started_on=cycle_starts([old])[old.pk],
            today=today,
        )
        if renewal_of(old) is not None:
            raise RuleError("follow_up_open")
        if hospital.suspended_on is not None and hospital.suspended_on <= today:
            raise RuleError("hospital_suspended", hospital=hospital.code)
        rules.check_person_active(old.person.active, code="referral_person_not_active")
        now = timezone.now()
        values = {
            "person": old.person,
            "insured_region_id": old.insured_region_id,
            "type": FilingType.REFERRAL,
            "status": Status.DRAFT,
            "renews": old,
            "referral_source": ReferralSource.FOLLOW_UP,
            "place_province_id": old.place_province_id,
            "place_region_id": old.place_region_id,
            "covers_inpatient": old.covers_inpatient,
            "covers_general_outpatient": old.covers_general_outpatient,
            "covers_chronic_outpatient": old.covers_chronic_outpatient,
            "receiving_hospital": hospital,
            "issuing_hospital": hospital,
            "diagnosis": old.diagnosis,
            "referral_condition": old.referral_condition,
            "attending_doctor": attending_doctor,
            "medical_office_signed_by": medical_office,
            "medical_office_signed_at": now,
            "start_date": today,
        }
        check_filing(Filing(**values), today=today)
        try:
            filing = _insert(values=values, hospitals=[], actor=actor, ip=ip, person=old.person)
        except RuleError as error:
            if error.code != "already_renewed":
                raise
            raise RuleError("follow_up_open") from error  # a notice issued at the same moment
        _record_in_place(
            old,
            "referral.follow_up",
            actor=actor,
            ip=ip,
            reason=f"{filing.number}: {FOLLOW_UP_KINDS[kind]}",
        )
        # Submitted in the same transaction: a notice refused on submission leaves no draft
        # behind to block the next one.
        filing = filing_submit(filing=filing, actor=actor, ip=ip)
    _notify_agency(filing, "follow_up_submitted", r=old.number, h=hospital.code)
    return filing


def material_remove(*, material: Material, actor, ip=None) -> Filing:
    """The person takes a material back from their draft or returned filing (a wrong file):
    the row goes at once, with an audit event naming the file; the file itself is deleted by the
    nightly clean-up of files nothing refers to. A filing under review or decided keeps its
    materials."""
    with transaction.atomic():
        filing = _lock(material.filing_id, "insured_region")
        if filing.status not in (Status.DRAFT, Status.RETURNED):
            raise RuleError("not_editable", current=filing.status)
        if not Material.objects.filter(pk=material.pk, filing=filing).delete()[0]:
            return filing  # taken back already (a second tap)
        audit.record(
            action="filing.material_remove",
            actor=actor,
            obj=filing,
            region=filing.insured_region,
            reason=MATERIAL_TAKEN_OFF.format(kind=material.kind, name=material.original_name),
            ip=ip,
        )
    return filing
