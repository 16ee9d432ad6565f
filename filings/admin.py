"""The agency review queue: own region only, every action through a service."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from filings import services
from filings.messages import message
from filings.models import Filing, FilingParameters, Material, WorkingDayCorrection
from filings.rules import RuleError
from portal.admin import RegionScopedAdmin
from portal.audit import client_ip
from portal.lib import idnumbers


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (shown to the person)"), widget=forms.Textarea, max_length=1000
    )


class CommitmentDueFilter(admin.SimpleListFilter):
    title = _("commitment deadline")
    parameter_name = "commitment"

    def lookups(self, request, model_admin):
        return [("outstanding", _("materials outstanding")), ("due30", _("due within 30 days"))]

    def queryset(self, request, queryset):
        import datetime

        from django.utils import timezone

        outstanding = queryset.filter(
            basis="commitment", materials_accepted_at__isnull=True, status="approved"
        )
        if self.value() == "outstanding":
            return outstanding
        if self.value() == "due30":
            return outstanding.filter(
                commitment_deadline__lte=timezone.localdate() + datetime.timedelta(days=30)
            )
        return queryset


@admin.register(Filing)
class FilingAdmin(RegionScopedAdmin):
    region_field = "insured_region"
    list_display = [
        "number",
        "masked_person",
        "type",
        "subtype",
        "status",
        "place_region",
        "submitted_at",
        "valid_from",
        "valid_until",
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
    search_fields = ["number"]
    date_hierarchy = "submitted_at"
    actions = ["approve", "reject", "return_for_materials", "accept_materials", "cancel"]
    readonly_fields = [
        "number",
        "masked_person",
        "type",
        "subtype",
        "status",
        "insured_region",
        "place_province",
        "place_region",
        "valid_from",
        "valid_until",
        "basis",
        "commitment_deadline",
        "materials_accepted_at",
        "chosen_hospitals",
        "receiving_hospital",
        "issuing_hospital",
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
        "materials_list",
        "documents",
    ]
    fields = readonly_fields

    @admin.display(description=_("insured person"))
    def masked_person(self, obj):
        return str(obj.person)

    @admin.display(description=_("chosen hospitals"))
    def chosen_hospitals(self, obj):
        return ", ".join(str(h) for h in obj.hospitals.all()) or "-"

    @admin.display(description=_("materials"))
    def materials_list(self, obj):
        items = [(reverse("filings:material", args=[m.pk]), m) for m in obj.materials.all()]
        if not items:
            return "-"
        return format_html_join("", '<div><a href="{}">{}</a></div>', items)

    @admin.display(description=_("documents"))
    def documents(self, obj):
        from filings.documents import kinds_for

        links = [(reverse("document-download", args=[obj.number, k]), k) for k in kinds_for(obj)]
        return format_html_join(" ", '<a href="{}">{}.pdf</a>', links) or "-"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        term = idnumbers.normalize(search_term)
        if len(term) == 18 and term[:17].isdigit():
            return queryset.filter(person__id_hash=idnumbers.id_hash(term)), False
        return super().get_search_results(request, queryset, search_term)

    def _each(self, request, queryset, fn, done: str):
        ok = 0
        for filing in queryset:
            try:
                fn(filing)
                ok += 1
            except RuleError as error:
                self.message_user(request, f"{filing.number}: {message(error)}", messages.ERROR)
        if ok:
            self.message_user(request, format_html(done, ok), messages.SUCCESS)

    @admin.action(description=_("Approve"))
    def approve(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda f: services.filing_approve(filing=f, actor=request.user, ip=client_ip(request)),
            _("{} filings approved."),
        )

    @admin.action(description=_("Accept supplemented materials"))
    def accept_materials(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda f: services.filing_accept_materials(
                filing=f, actor=request.user, ip=client_ip(request)
            ),
            _("{} filings are now two-way."),
        )

    def _with_reason(self, request, queryset, action, fn, done, title):
        if "apply" in request.POST:
            form = ReasonForm(request.POST)
            if form.is_valid():
                reason = form.cleaned_data["reason"]
                self._each(
                    request,
                    queryset,
                    lambda f: fn(
                        filing=f, actor=request.user, reason=reason, ip=client_ip(request)
                    ),
                    done,
                )
                return None
        else:
            form = ReasonForm()
        return render(
            request,
            "admin/filings/reason.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "filings": queryset,
                "action": action,
                "title": title,
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Reject (with a reason)"))
    def reject(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "reject",
            services.filing_reject,
            _("{} filings rejected."),
            _("Reject filings"),
        )

    @admin.action(description=_("Return for more materials"))
    def return_for_materials(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "return_for_materials",
            services.filing_return,
            _("{} filings returned."),
            _("Return filings for more materials"),
        )

    @admin.action(description=_("Cancel (with a reason)"))
    def cancel(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "cancel",
            services.filing_cancel,
            _("{} filings cancelled."),
            _("Cancel filings"),
        )


@admin.register(FilingParameters)
class FilingParametersAdmin(RegionScopedAdmin):
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
    list_display = ["date", "is_working_day", "note"]
    date_hierarchy = "date"


@admin.register(Material)
class MaterialAdmin(RegionScopedAdmin):
    region_field = "filing__insured_region"
    list_display = ["filing", "kind", "original_name", "size", "uploaded_at"]
    list_select_related = ["filing"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
