"""The agency review queue: own region only, every action through a service."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from filings import services
from filings.forms import StartTreatmentForm
from filings.jobs import supplied_in_time
from filings.messages import kind_label, message
from filings.models import (
    Basis,
    Filing,
    FilingParameters,
    FilingType,
    Material,
    ReferralSource,
    Status,
    WorkingDayCorrection,
)
from filings.rules import RuleError
from filings.selectors import AGENCY_UNSEEN_FILINGS, AGENCY_UNSEEN_MATERIALS, agency_sees_material
from hospitals.models import Hospital
from portal.admin import (
    AuditTrailHistory,
    CappedPages,
    ConfirmForm,
    CountAndPagesUpToTheCap,
    DecisionButtons,
    IdNumberSearch,
    KeptRecords,
    LogList,
    LongList,
    RegionScopedAdmin,
    ReviewQueue,
    ServiceActions,
    to_the_minute,
)
from portal.audit import client_ip
from portal.lib.text import PlainTextField, enumeration


class ReasonForm(forms.Form):
    # Kept as `plain` keeps it: a reason of spaces and zero-width spaces is no reason.
    reason = PlainTextField(
        label=_("Reason (shown to the person)"), widget=forms.Textarea, max_length=1000
    )


class ExtendForm(ReasonForm):
    until = forms.DateField(
        label=_("Extended until"),
        # ISO in every language: a date input takes only YYYY-MM-DD as its value.
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
        help_text=_(
            "At most one more start window (before treatment starts), one more course (once "
            "it has started) or one more validity after the current end."
        ),
    )


class ChangeHospitalForm(ReasonForm):
    """The new receiving hospital: chosen from the designated hospitals of the selected
    referrals' place of treatment (the whole country's would be tens of thousands of options,
    megabytes of page), or, to move a referral to another place, given by its code."""

    takes_objects = True
    hospital = forms.ModelChoiceField(
        label=_("New receiving hospital"),
        queryset=Hospital.objects.filter(suspended_on__isnull=True).select_related("region"),
        required=False,
    )
    hospital_code = forms.CharField(
        label=_("Or the code of a hospital in another place"),
        max_length=20,
        required=False,
        help_text=_("Its national code, e.g. H46020000002; the place of treatment follows it."),
    )

    def __init__(self, *args, objects=(), **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["hospital"]
        assert isinstance(field, forms.ModelChoiceField)
        places = {f.place_region_id for f in objects}
        listed = (
            Hospital.objects.filter(suspended_on__isnull=True, region_id__in=places)
            .select_related("region")
            .order_by("region_id", "code")
        )
        # Listed: the place's hospitals; accepted: any in service (validated by the queryset).
        field.choices = [("", field.empty_label), *((h.pk, str(h)) for h in listed)]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        code = (data.get("hospital_code") or "").strip().upper()
        if code:
            hospital = Hospital.objects.filter(suspended_on__isnull=True, code=code).first()
            if hospital is None:
                self.add_error(
                    "hospital_code", _("No designated hospital in service has this code.")
                )
            else:
                data["hospital"] = hospital
        elif not data.get("hospital") and "hospital" not in self.errors:
            self.add_error("hospital", _("Choose the new receiving hospital, or give its code."))
        return data


def _on_materials(decide):
    """A decision on supplemented materials (services.filing_accept_materials,
    filing_refuse_materials) refused because another reviewer accepted them meanwhile: the
    filing is still approved, the files awaiting review are what changed, and it is told so."""

    def decided(**kwargs):
        try:
            return decide(**kwargs)
        except RuleError as error:
            if error.code == "already_decided" and error.params.get("current") == Status.APPROVED:
                raise RuleError("materials_changed") from error
            raise

    return decided


class CommitmentDueFilter(admin.SimpleListFilter):
    """Commitment filings (domain.md §2.1) whose materials are not accepted yet: those still
    waiting for the person's materials (all of them, or due within 30 days), and the review
    queue of those whose supplied materials await the agency's decision. Supplied means what
    the nightly revocation counts (uploaded after approval, by the deadline, not refused), so
    the queue holds exactly the filings the job leaves alone for the reviewer."""

    title = _("commitment deadline")
    parameter_name = "commitment"

    def lookups(self, request, model_admin):
        return [
            ("outstanding", _("materials outstanding")),
            ("due30", _("due within 30 days")),
            ("awaiting_review", _("supplemented materials awaiting review")),
        ]

    def queryset(self, request, queryset):
        import datetime

        open_commitments = queryset.filter(
            basis="commitment", materials_accepted_at__isnull=True, status="approved"
        )
        if self.value() == "awaiting_review":
            return open_commitments.filter(supplied_in_time())
        outstanding = open_commitments.filter(~supplied_in_time())
        if self.value() == "outstanding":
            return outstanding
        if self.value() == "due30":
            return outstanding.filter(
                commitment_deadline__lte=timezone.localdate() + datetime.timedelta(days=30)
            )
        return queryset


@admin.register(Filing)
class FilingAdmin(
    CappedPages,
    LongList,
    IdNumberSearch,
    AuditTrailHistory,
    ServiceActions,
    ReviewQueue,
    DecisionButtons,
    RegionScopedAdmin,
):
    queue_status, queue_since = Status.SUBMITTED, "submitted_at"
    region_field = "insured_region"

    def region_q(self, region) -> Q:
        """The region's filings the agency sees: not the persons' drafts (selectors)."""
        return super().region_q(region) & ~AGENCY_UNSEEN_FILINGS

    id_hash_field = "person__id_hash"
    person_name_field = "person__name"
    search_help_text = IdNumberSearch.search_by_name_help_text
    rule_error = RuleError
    describe_error = staticmethod(message)
    row_version = staticmethod(services.filing_version)
    MATERIAL_ACTIONS = ("accept_materials", "refuse_materials")
    # Compact enough for a laptop beside the filters: the kind in one column, dates as digits,
    # and how long a submitted filing has waited.
    list_display = [
        "number",
        "masked_person",
        "kind",
        "status",
        "place_region",
        "submitted",
        "waiting",
        "validity",
        "commitment_deadline",
    ]
    list_filter = [
        "status",
        "type",
        "place_region",
        CommitmentDueFilter,
        "submitted_at",
        "valid_until",
    ]
    list_select_related = ["person", "place_region"]
    # Column headers sort only where an index serves the order: the number (unique). The
    # others (submitted, validity, commitment deadline, state, type, place) would sort every
    # filing in scope, a region's whole history; the default order (newest first) and the
    # review queue's (oldest submitted first, on its state's filter) stay.
    sortable_by = ["number"]
    search_fields = ["number"]
    actions = [
        "approve",
        "reject",
        "return_for_materials",
        "accept_materials",
        "refuse_materials",
        "cancel",
        "start_treatment",
        "extend_referral",
        "change_receiving_hospital",
    ]
    readonly_fields = [
        "number",
        "masked_person",
        "type",
        "subtype",
        "status",
        "insured_region",
        "place_province",
        "place_region",
        "care_covered",
        # What validity is computed from, on approval (domain.md §2.1).
        "start_date",
        "valid_from",
        "valid_until",
        # A renewal takes effect the day after the filing it renews ends (domain.md §2.1).
        "renews",
        # An e-referral, a paper one, or a follow-up notice (domain.md §2.2).
        "referral_source",
        "basis",
        "relatives_home",
        "commitment_deadline",
        "materials_accepted_at",
        "chosen_hospitals",
        "receiving_hospital",
        "issuing_hospital",
        "treatment_started_on",
        "course_days",
        "extended_until",
        "diagnosis",
        "referral_condition",
        "attending_doctor",
        "director_signed_by",
        "medical_office_signed_by",
        "transfer_date",
        "disease",
        "agent_name",
        "agent_relationship",
        "decision_note",
        "submitted_at",
        "decided_at",
        "decider",
        "materials_list",
        "documents",
    ]
    fields = readonly_fields

    def get_search_results(self, request, queryset, search_term):
        number = search_term.strip().upper()
        if number and queryset.filter(number=number).exists():
            # A whole filing number, as a reviewer types it from a letter or a call: found by
            # its unique index, not by reading every number in scope for a part of one.
            return queryset.filter(number=number), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("insured person"))
    def masked_person(self, obj):
        return format_html("{}<br>{}", obj.person.masked_name, obj.person.masked_id)

    @admin.display(description=_("decided by"))
    def decider(self, obj):
        return obj.decided_by or "-"

    @admin.display(description=_("care covered"))
    def care_covered(self, obj):
        return enumeration(obj.care_labels()) or "-"

    @admin.display(description=_("type"), ordering="type")
    def kind(self, obj):
        if obj.referral_source == ReferralSource.FOLLOW_UP:
            return format_html(
                "{}<br>{}", obj.get_type_display(), obj.get_referral_source_display()
            )
        if not obj.subtype:
            return obj.get_type_display()
        return format_html("{}<br>{}", obj.get_type_display(), obj.get_subtype_display())

    @admin.display(description=_("submitted"), ordering="submitted_at")
    def submitted(self, obj):
        return to_the_minute(obj.submitted_at)

    @admin.display(description=_("validity"), ordering="valid_from")
    def validity(self, obj):
        if obj.valid_from is None:
            return "-"
        end = obj.valid_through  # a referral's extension included
        until = f"{end:%Y-%m-%d}" if end else _("open-ended")
        return format_html("{} –<br>{}", f"{obj.valid_from:%Y-%m-%d}", until)

    @admin.display(description=_("chosen hospitals"))
    def chosen_hospitals(self, obj):
        return ", ".join(str(h) for h in obj.hospitals.all()) or "-"

    @admin.display(description=_("materials"))
    def materials_list(self, obj):
        """Images previewed inline through the permission-checked view, PDFs linked (they are
        downloaded, never rendered in the admin's page)."""
        rows = []
        for m in obj.materials.all():
            if not agency_sees_material(m, obj):  # added to a returned filing, not yet sent
                continue
            download = reverse("filings:material", args=[m.pk])
            label = f"{kind_label(m.kind)} · {m.original_name}"
            if m.refused_at:  # a supplement the agency did not accept stays, marked
                refused_on = timezone.localtime(m.refused_at).date()
                label += " · " + _("refused on %(d)s") % {"d": refused_on}
            if m.content_type in ("image/jpeg", "image/png"):
                rows.append(
                    format_html(
                        '<figure class="material-preview"><a href="{}"><img src="{}" alt="{}" '
                        'loading="lazy" style="max-width:320px;max-height:320px"></a>'
                        "<figcaption>{}</figcaption></figure>",
                        download,
                        reverse("filings:material-preview", args=[m.pk]),
                        label,
                        label,
                    )
                )
            else:
                rows.append(format_html('<div><a href="{}">{} (PDF)</a></div>', download, label))
        return format_html_join("", "{}", ((r,) for r in rows)) if rows else "-"

    # Each document by its name, as the person's page names it (templates/filings/detail.html).
    DOCUMENT_LABELS = {
        "referral_form": _("Patient referral form"),
        "filing_form": _("Filing form (two copies)"),
        "certificate": _("Filing certificate"),
    }

    @admin.display(description=_("documents"))
    def documents(self, obj):
        from filings.documents import kinds_for

        links = [
            (reverse("document-download", args=[obj.number, k]), self.DOCUMENT_LABELS.get(k, k))
            for k in kinds_for(obj)
        ]
        return format_html_join(" · ", '<a href="{}">{} (PDF)</a>', links) or "-"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # Every field is read-only (a filing changes only through its decisions): Save and
        # Save and continue editing would save nothing, so they are not offered.
        fields = set(self.get_fields(request, obj))
        if fields <= set(self.get_readonly_fields(request, obj)):
            context.update(show_save=False, show_save_and_continue=False)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def object_label(self, obj) -> str:
        return obj.number

    def decision_names(self, obj: Filing) -> list[str]:
        if obj.status == Status.SUBMITTED:
            return ["approve", "reject", "return_for_materials"]
        names = []
        if obj.status == Status.APPROVED:
            if (
                obj.basis == Basis.COMMITMENT
                and obj.materials_accepted_at is None
                and self._supplements(obj)
            ):
                # Offered while supplied materials await a decision: not after a refusal,
                # until the person supplies again.
                names += ["accept_materials", "refuse_materials"]
            if obj.type == FilingType.REFERRAL:
                if obj.treatment_started_on is None:
                    names.append("start_treatment")
                names += ["extend_referral", "change_receiving_hospital"]
            names.append("cancel")
        elif services.closed_by_its_window(obj):
            # Expired with its start window, no start recorded: one inside it may still be.
            names.append("start_treatment")
        return names

    def not_allowed_reason(self, obj, action: str) -> str:
        """A decision on supplemented materials left out while the filing is still approved:
        its state did not change, the files awaiting review did (decided by another reviewer,
        or taken off), so it is told as the service tells a stale one."""
        if action in self.MATERIAL_ACTIONS and obj.status == Status.APPROVED:
            return message(RuleError("materials_changed"))
        return super().not_allowed_reason(obj, action)

    def shown_fields(self, obj, action: str) -> list[tuple[str, str]]:
        """Beside the version: for a decision on supplemented materials, the files awaiting
        review that the page shows, so that only those are decided."""
        fields = super().shown_fields(obj, action)
        if action in self.MATERIAL_ACTIONS:
            name = self._materials_field(obj)
            fields += [(name, str(m.pk)) for m in self._supplements(obj)]
        return fields

    # The materials of each selected filing, read once for all of them: a decision's page
    # lists hundreds ("select all" over the queue of supplemented materials awaiting review),
    # and each row asks which files await a decision (decision_names, shown_fields, row_notes).
    LISTED_MATERIALS = "listed_materials"

    def response_action(self, request, queryset):
        materials = Prefetch(
            "materials", queryset=Material.objects.order_by("pk"), to_attr=self.LISTED_MATERIALS
        )
        return super().response_action(request, queryset.prefetch_related(materials))

    def _materials(self, obj: Filing) -> list[Material]:
        """The filing's materials by id: those read with the selected rows, if they were."""
        listed = getattr(obj, self.LISTED_MATERIALS, None)
        return list(obj.materials.order_by("pk")) if listed is None else listed

    def _supplements(self, obj: Filing) -> list[Material]:
        """services.supplements_awaiting_review, by id: the materials supplied since the filing
        was approved and not refused, from those read with the selected rows if they were."""
        if getattr(obj, self.LISTED_MATERIALS, None) is None:
            return list(services.supplements_awaiting_review(obj).order_by("pk"))
        return [
            m
            for m in self._materials(obj)
            if m.refused_at is None and (obj.decided_at is None or m.uploaded_at > obj.decided_at)
        ]

    @staticmethod
    def _materials_field(obj) -> str:
        return f"_materials_{obj.pk}"

    def materials_seen(self, request, obj) -> list[int] | None:
        """The supplements the reviewer's page showed for `obj` (None: it did not say)."""
        name = self._materials_field(obj)
        if name not in request.POST:
            return None
        return [int(v) for v in request.POST.getlist(name) if v.isascii() and v.isdigit()]

    def row_notes(self, request, obj, action: str) -> list[str]:
        """On the page of a decision on supplemented materials: each file it decides."""
        if action not in self.MATERIAL_ACTIONS:
            return []
        name = self._materials_field(obj)
        ids = {int(v) for n, v in self.carried_fields(request, obj, action) if n == name}
        # Each opens as on the filing's page (`materials_list`), in a new tab, so the reviewer
        # who decides "by the files shown" can see them and come back to confirm.
        return [
            format_html(
                '<a href="{}" target="_blank" rel="noopener">{} · {}</a>',
                reverse("filings:material", args=[m.pk]),
                kind_label(m.kind),
                m.original_name,
            )
            for m in self._materials(obj)
            if m.pk in ids
        ]

    @admin.action(description=_("Approve"))
    def approve(self, request, queryset):
        return self._confirmed_if_several(
            request,
            queryset,
            "approve",
            lambda f: services.filing_approve(
                filing=f,
                actor=request.user,
                ip=client_ip(request),
                seen_version=self.seen(request, f),
            ),
            (_("Approved."), _("{} filings approved.")),
            _("Approve the selected filings"),
        )

    @admin.action(description=_("Accept supplemented materials"))
    def accept_materials(self, request, queryset):
        def accept(f):
            return _on_materials(services.filing_accept_materials)(
                filing=f,
                actor=request.user,
                ip=client_ip(request),
                material_ids=self.materials_seen(request, f),
                seen_version=self.seen(request, f),
            )

        done = (_("Now two-way."), _("{} filings are now two-way."))
        if all(self.materials_seen(request, f) is not None for f in queryset):
            # From the filing's page, which showed the files.
            self._each(request, queryset, accept, done)
            return None
        # From the list, which does not show them: a page naming the files first.
        return self._with_form(
            request,
            queryset,
            "accept_materials",
            ConfirmForm,
            lambda f, data: accept(f),
            done,
            _("Accept supplemented materials"),
        )

    @admin.action(description=_("Refuse supplemented materials (with a reason)"))
    def refuse_materials(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "refuse_materials",
            _on_materials(services.filing_refuse_materials),
            (
                _("The supplemented materials were refused."),
                _("{} filings: the supplemented materials were refused."),
            ),
            _("Refuse supplemented materials"),
            material_ids=self.materials_seen,
        )

    def _with_reason(self, request, queryset, action, fn, done, title, **more):
        return self._with_form(
            request,
            queryset,
            action,
            ReasonForm,
            lambda f, data: fn(
                filing=f,
                actor=request.user,
                reason=data["reason"],
                ip=client_ip(request),
                seen_version=self.seen(request, f),
                **{name: get(request, f) for name, get in more.items()},
            ),
            done,
            title,
        )

    @admin.action(description=_("Reject (with a reason)"))
    def reject(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "reject",
            services.filing_reject,
            (_("Rejected."), _("{} filings rejected.")),
            _("Reject filings"),
        )

    @admin.action(description=_("Return for more materials"))
    def return_for_materials(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "return_for_materials",
            services.filing_return,
            (_("Returned for more materials."), _("{} filings returned.")),
            _("Return filings for more materials"),
        )

    @admin.action(description=_("Cancel (with a reason)"))
    def cancel(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "cancel",
            services.filing_cancel,
            (_("Cancelled."), _("{} filings cancelled.")),
            _("Cancel filings"),
        )

    @admin.action(description=_("Referral: treatment started"))
    def start_treatment(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            "start_treatment",
            StartTreatmentForm,
            lambda f, data: services.referral_start_treatment(
                filing=f,
                actor=request.user,
                started_on=data["started_on"],
                ip=client_ip(request),
                seen_version=self.seen(request, f),
            ),
            (_("Treatment started."), _("{} referrals: treatment started.")),
            _("Record the start of treatment"),
        )

    @admin.action(description=_("Referral: extend"))
    def extend_referral(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            "extend_referral",
            ExtendForm,
            lambda f, data: services.referral_extend(
                filing=f,
                actor=request.user,
                until=data["until"],
                reason=data["reason"],
                ip=client_ip(request),
                seen_version=self.seen(request, f),
            ),
            (_("Extended."), _("{} referrals extended.")),
            _("Extend referrals"),
        )

    @admin.action(description=_("Referral: change the receiving hospital"))
    def change_receiving_hospital(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            "change_receiving_hospital",
            ChangeHospitalForm,
            lambda f, data: services.referral_change_hospital(
                filing=f,
                actor=request.user,
                hospital=data["hospital"],
                reason=data["reason"],
                ip=client_ip(request),
                seen_version=self.seen(request, f),
            ),
            (_("The receiving hospital is changed."), _("{} referrals now name another hospital.")),
            _("Change the receiving hospital"),
        )


@admin.register(FilingParameters)
class FilingParametersAdmin(RegionScopedAdmin):
    """Agency staff see and edit their own region's parameters only, on add and on change;
    a superuser edits any region's."""

    list_display = [
        "region",
        "effective_from",
        "benefits_start",
        "lock_months",
        "long_term_validity_months",
        "max_hospitals",
        "commitment_months",
        "referral_validity_months",
        "referral_start_window_months",
        "referral_course_days",
    ]
    list_filter = ["region"]


@admin.register(WorkingDayCorrection)
class WorkingDayCorrectionAdmin(admin.ModelAdmin):
    """domain.md §2.3: agency administrators add or correct days of the official calendar (a
    new year's make-up days published late), so a December transfer's 3 working days are
    counted right. The corrections hold for every region; who may add, change or delete them is
    the agency group's model permissions (portal/staff.py), and each change is kept in the
    admin's history (LogEntry) like the filing parameters'."""

    list_display = ["date", "is_working_day", "note"]
    date_hierarchy = "date"


@admin.register(Material)
class MaterialAdmin(CappedPages, KeptRecords, LogList, RegionScopedAdmin):
    """Every file supplied in the region, newest first (served by the primary key: the
    files' own order, oldest first, would sort the region's whole history on every page), read
    only: counted as the logs are, up to 10,000."""

    region_field = "filing__insured_region"

    def region_q(self, region) -> Q:
        """The region's files the agency sees: not those of drafts, nor those added to a
        returned filing before it is sent again (selectors)."""
        return super().region_q(region) & ~AGENCY_UNSEEN_MATERIALS

    list_display = ["filing", "kind", "original_name", "size", "uploaded_at"]
    list_select_related = ["filing"]
    ordering = ["-id"]
    # No column sorts: each would sort the region's whole history.
    sortable_by = ()
    paginator = CountAndPagesUpToTheCap

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
