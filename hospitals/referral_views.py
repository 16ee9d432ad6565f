"""E-referrals issued by a designated hospital: start, director's signature, office stamp."""

from __future__ import annotations

import datetime
import secrets
import unicodedata
from typing import Any
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from filings import rules, services
from filings.forms import StartTreatmentForm
from filings.messages import message
from filings.models import OPEN_STATUSES, Filing, FilingType, ReferralCondition, Status
from filings.rules import RuleError
from hospitals import access_log, eligibility_views
from hospitals.models import Hospital
from portal.audit import client_ip
from portal.lib import idnumbers, text
from portal.models import InsuredPerson
from portal.roles import clerk, clerk_hospital


class HospitalCodeField(forms.ModelChoiceField):
    """A hospital given by its national code (H23010300001), as read out or copied: in lower
    case or in an input method's full-width characters too. For a choice among the whole
    country's hospitals, whose list would be tens of thousands of options, megabytes of page
    that no phone can scroll."""

    widget = forms.TextInput
    default_error_messages = {
        "invalid_choice": gettext_lazy("No designated hospital in service has this code.")
    }

    def __init__(self, queryset, **kwargs):
        super().__init__(queryset, empty_label=None, to_field_name="code", **kwargs)
        self.widget.attrs.update(
            maxlength="20",
            autocomplete="off",
            autocapitalize="characters",
            spellcheck="false",
            placeholder="H23010300001",
        )

    def to_python(self, value):
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value).strip().upper()
        return super().to_python(value)


def find_code_help(url: str):
    """The help under a hospital's code: where to find it by the hospital's name."""
    return format_html(
        '{} <a href="{}" target="_blank" rel="noopener">{}</a>',
        _("Its national code, such as H23010300001."),
        url,
        _("Find it by name in the list of designated hospitals (opens in a new tab)."),
    )


# The receiving hospitals offered in a list: those this hospital refers patients to most.
LIKELY_HOSPITALS = 20


def likely_receiving_hospitals(hospital: Hospital) -> list[Hospital]:
    """The hospitals in service this hospital referred patients to most, the most frequent
    first (at most LIKELY_HOSPITALS): one grouped read of its own referrals, served by the
    index on the issuing hospital (those suspended since are left out after it, not joined
    into it: the join read every hospital of the country)."""
    top = (
        Filing.objects.filter(issuing_hospital=hospital, receiving_hospital__isnull=False)
        .values("receiving_hospital")
        .annotate(n=Count("*"))
        .order_by("-n", "receiving_hospital")[: 2 * LIKELY_HOSPITALS]
    )
    order = [row["receiving_hospital"] for row in top]
    found = Hospital.objects.filter(suspended_on__isnull=True).in_bulk(order)
    return [found[pk] for pk in order if pk in found][:LIKELY_HOSPITALS]


class ReferralForm(forms.Form):
    """The receiving hospital is one of those this hospital refers patients to most
    (`likely_receiving_hospitals`), or any designated hospital in service given by its code:
    the country's are tens of thousands (as the admin's ChangeHospitalForm does)."""

    id_number = idnumbers.IdNumberFormField(label=gettext_lazy("Patient's resident ID number"))
    name = text.PlainTextField(label=gettext_lazy("Patient's name"), max_length=60)
    receiving_hospital = forms.ModelChoiceField(
        label=gettext_lazy("Receiving hospital"),
        queryset=Hospital.objects.filter(suspended_on__isnull=True),
        required=False,
        help_text=gettext_lazy("The hospitals this hospital refers patients to most."),
    )
    receiving_hospital_code = HospitalCodeField(
        Hospital.objects.filter(suspended_on__isnull=True),
        label=gettext_lazy("Or the code of another hospital"),
        required=False,
    )
    diagnosis = text.PlainTextField(label=gettext_lazy("Diagnosis"), max_length=200)
    condition = forms.ChoiceField(
        label=gettext_lazy("Referral condition"),
        choices=ReferralCondition.choices,
        widget=forms.RadioSelect,
    )
    attending_doctor = text.PlainTextField(label=gettext_lazy("Attending doctor"), max_length=60)

    def __init__(self, *args, hospital: Hospital | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        listed = likely_receiving_hospitals(hospital) if hospital is not None else []
        field = self.fields["receiving_hospital"]
        assert isinstance(field, forms.ModelChoiceField)
        chosen = str(self["receiving_hospital"].value() or "")
        if listed and chosen.isdigit() and int(chosen) not in {h.pk for h in listed}:
            # The one chosen stays chosen when the form comes back with an error.
            listed += list(Hospital.objects.filter(suspended_on__isnull=True, pk=int(chosen)))
        code = self.fields["receiving_hospital_code"]
        code.help_text = find_code_help(reverse("hospitals:directory"))
        # Listed: the likely ones; accepted: any in service (validated by the queryset).
        field.choices = [("", field.empty_label), *((h.pk, str(h)) for h in listed)]
        self.listed = bool(listed)
        if not listed:  # none yet: the code alone
            field.widget = forms.HiddenInput()
            code.label = gettext_lazy("Receiving hospital's code")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("receiving_hospital_code"):
            data["receiving_hospital"] = data["receiving_hospital_code"]
        elif not (
            data.get("receiving_hospital")
            or self.has_error("receiving_hospital_code")
            or self.has_error("receiving_hospital")
        ):
            if self.listed:
                self.add_error(
                    "receiving_hospital", _("Choose the receiving hospital, or give its code.")
                )
            else:
                self.add_error("receiving_hospital_code", _("Enter the receiving hospital's code."))
        return data


@login_required
def referral_list(request):
    staff = clerk(request)
    hospital = staff.hospital
    if request.method == "POST" and SEARCH in request.POST:
        return _search_redirect(request, request.POST.get("q", ""))
    if _is_name(request.GET.get("q", "")):
        # A name typed where JavaScript is off, or a link kept from before: out of the address.
        return _search_redirect(request, request.GET["q"])
    form = ReferralForm(request.POST or None, hospital=hospital)
    status = 200
    if request.method == "POST":
        misses, wait = eligibility_views._misses(request.user.pk)
        if (cache.get(misses) or 0) >= eligibility_views.MISSES_PER_WINDOW:
            # The desk check's budget: trying names against an ID number here until a rule
            # message names the person's referral is the same guessing (api.md: no enumeration).
            form.is_valid()
            form.add_error(None, eligibility_views._wait_error(wait))
            status = 429
        elif form.is_valid():
            response = _start(request, staff, form, misses)
            if response is not None:
                return response
    return _referrals_page(request, hospital, form, status=status)


def _start(request, staff, form: ReferralForm, misses: str):
    """Look the patient up (an unknown ID number and a name that is not its holder's get the
    same answer, counted on the desk check's budget), record the lookup in the access log, and
    start the referral. The redirect to it, or None with the form's errors."""
    data = form.cleaned_data
    hospital = staff.hospital
    digest = idnumbers.id_hash(data["id_number"])
    person = (
        InsuredPerson.objects.select_related("region")
        .filter(id_hash=digest, name=data["name"].strip())
        .first()
    )
    access_log.record(
        actor_id=request.user.pk,
        hospital_id=hospital.pk,
        subject_hash=digest,
        subject_region_id=person.region_id if person else None,
        purpose=REFERRAL_LOOKUP,
        outcome="found" if person else "not_found",
    )
    if person is None:
        form.add_error(None, _("No insured person with this ID number and name."))
        if eligibility_views._count_miss(misses) == eligibility_views.MISSES_PER_WINDOW:
            eligibility_views._limit_reached(request, staff)
        return None
    try:
        filing = services.referral_start(
            hospital=hospital,
            actor=request.user,
            person=person,
            receiving_hospital=data["receiving_hospital"],
            diagnosis=data["diagnosis"],
            condition=data["condition"],
            attending_doctor=data["attending_doctor"],
            ip=client_ip(request),
        )
    except RuleError as error:
        form.add_error(None, message(error))
        return None
    messages.success(
        request,
        _("Referral %(n)s started: the department director signs next.") % {"n": filing.number},
    )
    return redirect("referral-detail", number=filing.number)


# The access log's purpose of every read on these pages: a lookup to start a referral, the
# lists, a referral's page (hospitals.models.PURPOSES names it).
REFERRAL_LOOKUP = "referral:web"
# A person's row on a list read again by the same clerk within this long is counted on the
# row already written (AccessLog.calls), not written again: paging back and forth is one read.
READ_LOG_FOLD_SECONDS = 600

# The search of the referrals (both lists) posts its term (a patient's name stays out of
# addresses and server logs, api.md); a referral number, or a part of one, is kept in the
# address as `q`, a name in the session behind a token (`s`), as the admin does for ID numbers.
SEARCH = "_search"
SEARCH_TOKEN = "s"
SEARCHES = "referral_searches"
SEARCHES_KEPT = 20


def _is_name(term: str) -> bool:
    """Whether a search term may be a name: anything but a referral number or a part of one
    (letters and digits, with a digit; a name has none)."""
    term = term.strip()
    return bool(term) and not (term.isascii() and term.isalnum() and any(c.isdigit() for c in term))


def _search_redirect(request, term: str):
    term = text.plain(term)[:60]
    url = reverse("referrals")
    if not term:
        return redirect(f"{url}#issued")
    if not _is_name(term):
        return redirect(f"{url}?{urlencode({'q': term})}#issued")
    token = secrets.token_urlsafe(9)
    kept = dict(list(request.session.get(SEARCHES, {}).items())[-SEARCHES_KEPT + 1 :])
    request.session[SEARCHES] = {**kept, token: term}
    return redirect(f"{url}?{urlencode({SEARCH_TOKEN: token})}#issued")


def _query(request) -> str | None:
    """The search term: a number from the address, or a name from this session's token; None
    for a token of another session, or of one that ended (it finds nothing)."""
    token = request.GET.get(SEARCH_TOKEN, "")
    if token:
        return request.session.get(SEARCHES, {}).get(token)
    term = text.plain(request.GET.get("q", ""))[:60]
    return "" if _is_name(term) else term


PER_PAGE = 25


def _searched(referrals, query: str | None):
    """`referrals` that `query` finds by number (or a part of it) or by the patient's name;
    all for no query, none for None (a search that ended). Both lists of the page are
    searched alike: a receiving hospital looks its incoming referrals up as well."""
    if query is None:
        return referrals.none()
    if query:
        return referrals.filter(Q(number__icontains=query) | Q(person__name__contains=query))
    return referrals


def _issued(hospital: Hospital, query: str | None):
    """The referrals this hospital issued, newest first, as `query` finds them (`_searched`)."""
    referrals = Filing.objects.filter(issuing_hospital=hospital).select_related(
        "person", "receiving_hospital"
    )
    return _searched(referrals, query).order_by("-created_at", "-id")


def _referrals_page(
    request, hospital: Hospital, form, refused: dict | None = None, status: int = 200
):
    """The list page; `refused` is a refused start of treatment or follow-up notice ({number,
    value or follow_up: what was typed, errors: field → message}), shown again in its row as
    `f.refused`, each error beside its field (static/js/portal.js focuses the first). Both
    lists are paged (`page`, `incoming_page`)."""
    query = _query(request)
    incoming = _incoming(hospital, request.GET.get("incoming_page"), query)
    for f in incoming.object_list:
        f.refused = refused if refused and refused["number"] == f.number else {}  # type: ignore[attr-defined]
    issued = Paginator(_issued(hospital, query), PER_PAGE).get_page(request.GET.get("page"))
    _record_reads(request, hospital, [*issued.object_list, *incoming.object_list])
    return render(
        request,
        "hospitals/referrals.html",
        {
            "hospital": hospital,
            "form": form,
            "query": query or "",
            "search_ended": query is None,
            "referrals": issued,
            "incoming": incoming,
            "today": timezone.localdate(),
        },
        status=status,
    )


def _record_reads(request, hospital: Hospital, shown: list[Filing]) -> None:
    """One access-log row per patient a page shows (masked name and ID, diagnosis), so that the
    agency's access log answers "who read this person's record" by the person's ID number; a
    page seen again within READ_LOG_FOLD_SECONDS counts on the rows already written."""
    access_log.record_reads(
        fold=f"{REFERRAL_LOOKUP}:{request.user.pk}:{hospital.pk}",
        seconds=READ_LOG_FOLD_SECONDS,
        subjects=[(f.person.id_hash, f.person.region_id) for f in shown],
        actor_id=request.user.pk,
        hospital_id=hospital.pk,
        purpose=REFERRAL_LOOKUP,
        outcome="found",
    )


def _received(hospital: Hospital):
    """The referrals sent to this hospital: not one its issuing hospital has only started (a
    draft, or one discarded as a draft), which is no one's but that hospital's (404)."""
    return Filing.objects.filter(receiving_hospital=hospital).exclude(
        Q(status=Status.DRAFT) | Q(status=Status.CANCELLED, submitted_at__isnull=True)
    )


# How long after its start window closed a referral never started stays in the list: a stay
# admitted inside the window may be recorded as its start of treatment (domain.md §2.2), and
# such a stay is then about one course (Daxinganling: 60 days) long.
CLOSED_WINDOW_SHOWN = datetime.timedelta(days=60)


def _incoming(hospital: Hospital, page_number=None, query: str | None = ""):
    """Referrals to this hospital, not started first: the approved ones, where its clerks
    record the start of treatment, those closed by their start window lately, whose start
    inside the window can still be recorded (`services.closed_by_its_window`), and the started
    ones of one course, approved or since expired within the treatment cycle, which may get a
    follow-up notice (domain.md §2.2). Each carries its follow-up notice's number and state
    (`follow_up`, `follow_up_status`), if it has one. `query` searches them (`_searched`)."""
    today = timezone.localdate()
    cycle_began_after = today - relativedelta(months=rules.FOLLOW_UP_CYCLE_MONTHS)
    rows = (
        Filing.objects.filter(receiving_hospital=hospital, type=FilingType.REFERRAL)
        .filter(
            Q(status=Status.APPROVED)
            | Q(
                status=Status.EXPIRED,
                course_days__isnull=False,
                treatment_started_on__gt=cycle_began_after,
            )
            | Q(
                status=Status.EXPIRED,
                course_days__isnull=False,
                treatment_started_on__isnull=True,
                valid_until__gte=today - CLOSED_WINDOW_SHOWN,
            )
        )
        .select_related("person", "issuing_hospital")
    )
    rows = _searched(rows, query).order_by(
        F("treatment_started_on").asc(nulls_first=True), "-valid_from", "-id"
    )
    page = Paginator(rows, PER_PAGE).get_page(page_number)
    listed = list(page.object_list)
    starts = services.cycle_starts(listed)
    follow_ups = _follow_ups(listed)
    for f in listed:
        f.follow_up, f.follow_up_status = follow_ups.get(f.pk, ("", ""))
        f.window_closed = services.closed_by_its_window(f)
    page.object_list = [_with_follow_up_offer(f, starts[f.pk], today) for f in listed]
    return page


def _follow_ups(referrals: list[Filing]) -> dict[int, tuple[str, str]]:
    """The notice that follows each referral up (rejected or cancelled ones apart), its number
    and state: once there is one, a further notice follows up the latest referral of the
    chain, not this one. One query for a page of referrals; a follow-up is the same person's
    filing, so the index on the person and state serves it (`renews` has none for expired
    notices)."""
    if not referrals:
        return {}
    rows = (
        Filing.objects.filter(
            person_id__in={f.person_id for f in referrals},
            renews_id__in=[f.pk for f in referrals],
            status__in=[*OPEN_STATUSES, Status.EXPIRED],
        )
        .order_by("renews_id", "-created_at", "-id")
        .values_list("renews_id", "number", "status")
    )
    latest: dict[int, tuple[str, str]] = {}
    for renews_id, number, status in rows:
        latest.setdefault(renews_id, (number, status))
    return latest


def _with_follow_up_offer(filing: Filing, cycle_start, today) -> Filing:
    """Mark `may_follow_up` on a referral this hospital could follow up today (the cycle of a
    chain of follow-ups began with the first course; the service checks it again)."""
    if filing.follow_up:  # type: ignore[attr-defined]
        filing.follow_up_label = Status(filing.follow_up_status).label  # type: ignore[attr-defined]
    filing.may_follow_up = not filing.follow_up and rules.may_follow_up(  # type: ignore[attr-defined]
        status=filing.status,
        course_days=filing.course_days,
        first_started_on=cycle_start,
        today=today,
    )
    return filing


class FollowUpForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("For"),
        choices=[
            ("continued", gettext_lazy("Continued treatment")),
            ("readmission", gettext_lazy("Readmission")),
        ],
    )
    attending_doctor = text.PlainTextField(label=gettext_lazy("Attending doctor"), max_length=60)
    medical_office = text.PlainTextField(
        label=gettext_lazy("Medical office that stamped"), max_length=60
    )


# The follow-up notice's refusals about one of its fields, shown beside it; the others ("all")
# are about the notice as a whole, shown under its button.
FOLLOW_UP_RULE_FIELDS = {"follow_up_kind": "kind"}


def _about(filing: Filing, problem: str) -> str:
    """A message about one referral of the list, after its number: "ZZ…：…" in Chinese."""
    return f"{filing.number}{pgettext('after a label', ': ')}{problem}"


@login_required
def referral_follow_up(request, number: str):
    """The receiving hospital's written follow-up notice under a referral of one course
    (domain.md §2.2), submitted to the agency. A refused notice shows the list again with a
    message naming the referral; what was typed is kept in its row."""
    hospital = clerk_hospital(request)
    filing = get_object_or_404(_received(hospital), number=number)
    if request.method != "POST":
        return redirect("referrals")
    form = FollowUpForm(request.POST)
    typed: dict[str, Any] = {"number": filing.number, "follow_up": request.POST}
    if not form.is_valid():
        messages.error(
            request,
            _("%(n)s: enter what the notice is for, the attending doctor and the medical office.")
            % {"n": filing.number},
        )
        typed["errors"] = {name: " ".join(errors) for name, errors in form.errors.items()}
        return _referrals_page(request, hospital, ReferralForm(hospital=hospital), typed)
    try:
        follow_up = services.referral_follow_up(
            referral=filing,
            hospital=hospital,
            actor=request.user,
            ip=client_ip(request),
            **form.cleaned_data,
        )
    except RuleError as error:
        messages.error(request, _about(filing, message(error)))
        typed["errors"] = {FOLLOW_UP_RULE_FIELDS.get(error.code, "all"): message(error)}
        return _referrals_page(request, hospital, ReferralForm(hospital=hospital), typed)
    messages.success(
        request,
        _("Follow-up notice %(f)s for referral %(n)s sent to the agency for approval.")
        % {"f": follow_up.number, "n": filing.number},
    )
    return redirect(f"{reverse('referrals')}#incoming")


@login_required
def referral_start_treatment(request, number: str):
    """The receiving hospital records the day treatment started under a referral (domain.md
    §2.2): the course's length runs from it. A refused day shows the list again, the day
    typed in its row."""
    hospital = clerk_hospital(request)
    filing = get_object_or_404(_received(hospital), number=number)
    if request.method != "POST":
        return redirect("referrals")
    form = StartTreatmentForm(request.POST)
    typed: dict[str, Any] = {"number": filing.number, "value": request.POST.get("started_on", "")}
    if not form.is_valid():
        if typed["value"].strip():  # a day typed that is no date (2027-02-29): the form says so
            problem = " ".join(str(e) for e in form.errors.get("started_on", []))
        else:
            problem = _("Enter the day treatment started.")
        messages.error(request, _about(filing, problem))
        typed["errors"] = {"started_on": problem}
        return _referrals_page(request, hospital, ReferralForm(hospital=hospital), typed)
    try:
        filing = services.referral_start_treatment(
            filing=filing,
            actor=request.user,
            started_on=form.cleaned_data["started_on"],
            ip=client_ip(request),
        )
    except RuleError as error:  # each about the day typed (not yet, outside the window, ...)
        messages.error(request, _about(filing, message(error)))
        typed["errors"] = {"started_on": message(error)}
        return _referrals_page(request, hospital, ReferralForm(hospital=hospital), typed)
    else:
        messages.success(
            request,
            _("%(n)s: treatment started on %(d)s; valid until %(u)s.")
            % {
                "n": filing.number,
                "d": filing.treatment_started_on.isoformat(),
                "u": filing.valid_until.isoformat() if filing.valid_until else "-",
            },
        )
    return redirect("referrals")


@login_required
def referral_detail(request, number: str):
    hospital = clerk_hospital(request)
    filing = get_object_or_404(
        Filing.objects.select_related("person", "receiving_hospital"),
        number=number,
        issuing_hospital=hospital,
    )
    signer = signer_error = ""
    if request.method == "POST" and request.POST.get("step") == "discard":
        try:
            services.referral_discard(
                filing=filing, hospital=hospital, actor=request.user, ip=client_ip(request)
            )
        except RuleError as error:
            messages.error(request, message(error), extra_tags="focus-on-load")
            return redirect("referral-detail", number=number)
        messages.success(request, _("Draft referral %(n)s discarded.") % {"n": number})
        return redirect("referrals")
    if request.method == "POST":
        signer = request.POST.get("signer", "")
        try:
            services.referral_sign(
                filing=filing,
                hospital=hospital,
                actor=request.user,
                step=request.POST.get("step", ""),
                signer=signer,
                ip=client_ip(request),
            )
        except RuleError as error:  # the page again, with what was typed
            if error.code in SIGNER_ERRORS:  # beside the name, focused (static/js/portal.js)
                signer_error = message(error)
            else:
                messages.error(request, message(error), extra_tags="focus-on-load")
            filing.refresh_from_db()  # as it is now (another tab may have moved it on)
        else:
            messages.success(request, _("Recorded."))
            return redirect("referral-detail", number=number)
    _record_reads(request, hospital, [filing])
    return render(
        request,
        "hospitals/referral_detail.html",
        {"filing": filing, "signer": signer, "signer_error": signer_error},
    )


# The signature's refusals about the name typed (services._signer_name).
SIGNER_ERRORS = {"signer_required", "signer_too_long"}
