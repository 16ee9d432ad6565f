"""Clearing statements in the admin: read-only, seen by the agencies of both regions; reporting a
discrepancy, issuing a corrected statement and deciding a discrepancy go through the services."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext

from portal.admin import IdNumberSearch, RegionScopedAdmin
from portal.roles import in_own_region
from settlement import clearing
from settlement.clearing import ClearingError
from settlement.models import (
    ClearingDiscrepancy,
    ClearingStatement,
    DiscrepancyStatus,
    StatementStatus,
)


class DiscrepancyForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=ClearingDiscrepancy.Kind.choices)
    settlement_number = forms.CharField(label=_("settlement number"), max_length=24, required=False)
    amount = forms.DecimalField(
        label=_("amount in question"), max_digits=12, decimal_places=2, required=False
    )
    description = forms.CharField(label=_("description"), widget=forms.Textarea, max_length=2000)


class CorrectionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the correction"), widget=forms.Textarea, max_length=1000
    )


class PeriodFilter(admin.SimpleListFilter):
    title = _("month")
    parameter_name = "period"

    def lookups(self, request, model_admin):
        periods = (
            model_admin.get_queryset(request)
            .order_by("-period")
            .values_list("period", flat=True)
            .distinct()[:36]
        )
        return [(p.isoformat(), f"{p:%Y-%m}") for p in periods]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            return queryset.filter(period=datetime.date.fromisoformat(self.value()))
        except ValueError:
            return queryset.none()


def _either_region(request, qs, prefix: str = ""):
    """Rows of statements whose place of treatment or of insurance is the staff's region."""
    return in_own_region(
        request.user,
        qs,
        lambda region: (
            Q(**{f"{prefix}treatment_region": region}) | Q(**{f"{prefix}insured_region": region})
        ),
    )


class DiscrepancyInline(admin.TabularInline):
    model = ClearingDiscrepancy
    extra = 0
    fields = ["created_at", "kind", "settlement_number", "amount", "description", "status"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ClearingStatement)
class ClearingStatementAdmin(IdNumberSearch, RegionScopedAdmin):
    private_terms = False  # statement numbers: a whole ID number only is kept out of the URL
    search_help_text = None
    list_display = [
        "number",
        "month",
        "treatment_region",
        "insured_region",
        "version",
        "status",
        "settlement_count",
        "total",
        "fund_pay",
        "person_pay",
        "downloads",
    ]
    list_filter = [PeriodFilter, "status"]
    list_select_related = ["treatment_region", "insured_region"]
    search_fields = ["number"]
    fields = [
        "number",
        "period",
        "treatment_region",
        "insured_region",
        "version",
        "status",
        "settlement_count",
        "total",
        "fund_pay",
        "person_pay",
        "issued_at",
        "supersedes_link",
        "superseded_by_link",
        "downloads",
        "tools",
    ]
    readonly_fields = fields
    inlines = [DiscrepancyInline]
    actions = ["report_discrepancy", "correct"]

    def scope(self, request, qs):
        return _either_region(request, qs)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("month"), ordering="period")
    def month(self, obj):
        return f"{obj.period:%Y-%m}"

    @admin.display(description=_("Download"))
    def downloads(self, obj):
        if obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">CSV</a> · <a href="{}">PDF</a>',
            reverse("settlement:statement-csv", args=[obj.number]),
            reverse("settlement:statement-pdf", args=[obj.number]),
        )

    def _change_link(self, other):
        if other is None:
            return "-"
        url = reverse("admin:settlement_clearingstatement_change", args=[other.pk])
        return format_html('<a href="{}">{}</a>', url, other.number)

    @admin.display(description=_("supersedes"))
    def supersedes_link(self, obj):
        return self._change_link(obj.supersedes)

    @admin.display(description=_("superseded by"))
    def superseded_by_link(self, obj):
        return self._change_link(getattr(obj, "superseded_by", None))

    @admin.display(description=_("Actions"))
    def tools(self, obj):
        if obj.pk is None or obj.status != StatementStatus.ISSUED:
            return "-"
        links = [
            (
                reverse("admin:settlement_clearingstatement_report", args=[obj.pk]),
                _("Report a discrepancy"),
            ),
            (
                reverse("admin:settlement_clearingstatement_correct", args=[obj.pk]),
                _("Issue a corrected statement"),
            ),
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/report-discrepancy/",
                view(self.report_view),
                name="settlement_clearingstatement_report",
            ),
            path(
                "<int:pk>/correct/",
                view(self.correct_view),
                name="settlement_clearingstatement_correct",
            ),
        ] + super().get_urls()

    def _form_page(self, request, statement, form, title):
        # The shared confirmation page of the admin (a list of objects and one form).
        return render(
            request,
            "admin/filings/reason.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "filings": [statement],
                "rows": [(statement, [], [])],
                "cancel_url": reverse(
                    "admin:settlement_clearingstatement_change", args=[statement.pk]
                ),
                "count": 1,
                "action": "",
                "title": title,
                "opts": self.model._meta,
            },
        )

    def _done(self, statement):
        return HttpResponseRedirect(
            reverse("admin:settlement_clearingstatement_change", args=[statement.pk])
        )

    def report_view(self, request, pk):
        statement = get_object_or_404(self.get_queryset(request), pk=pk)
        form = DiscrepancyForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                clearing.discrepancy_report(
                    statement=statement, actor=request.user, **form.cleaned_data
                )
            except ClearingError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request, _("The discrepancy has been reported."), messages.SUCCESS
                )
                return self._done(statement)
        return self._form_page(request, statement, form, _("Report a discrepancy"))

    def correct_view(self, request, pk):
        statement = get_object_or_404(self.get_queryset(request), pk=pk)
        form = CorrectionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            try:
                new = clearing.statement_correct(
                    statement=statement, actor=request.user, reason=form.cleaned_data["reason"]
                )
            except ClearingError as error:
                form.add_error(None, error.message)
            else:
                self.message_user(
                    request,
                    _("Corrected statement %(number)s issued.") % {"number": new.number},
                    messages.SUCCESS,
                )
                pending = clearing.pending_discrepancies(new).count()
                if pending:
                    self.message_user(
                        request,
                        ngettext_lazy(
                            "%(count)d discrepancy was not changed by this correction and is "
                            "still pending.",
                            "%(count)d discrepancies were not changed by this correction and "
                            "are still pending.",
                            pending,
                        )
                        % {"count": pending},
                        messages.WARNING,
                    )
                return self._done(new)
        return self._form_page(request, statement, form, _("Issue a corrected statement"))

    def _one(self, request, queryset, url_name):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one statement."), messages.ERROR)
            return None
        return HttpResponseRedirect(reverse(url_name, args=[queryset.get().pk]))

    @admin.action(description=_("Report a discrepancy"))
    def report_discrepancy(self, request, queryset):
        return self._one(request, queryset, "admin:settlement_clearingstatement_report")

    @admin.action(description=_("Issue a corrected statement"))
    def correct(self, request, queryset):
        return self._one(request, queryset, "admin:settlement_clearingstatement_correct")


@admin.register(ClearingDiscrepancy)
class ClearingDiscrepancyAdmin(IdNumberSearch, RegionScopedAdmin):
    private_terms = False  # numbers: a whole ID number only is kept out of the URL
    search_help_text = None
    list_display = [
        "created_at",
        "statement",
        "kind",
        "settlement_number",
        "amount",
        "status",
        "reported_by",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["statement", "reported_by"]
    search_fields = ["statement__number", "settlement_number"]
    readonly_fields = [
        "statement",
        "kind",
        "settlement_number",
        "amount",
        "description",
        "status",
        "reported_by",
        "created_at",
    ]
    fields = readonly_fields
    actions = ["confirm", "dismiss"]

    def scope(self, request, qs):
        return _either_region(request, qs, "statement__")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _set(self, request, queryset, status):
        done = 0
        for discrepancy in queryset:
            try:
                clearing.discrepancy_set_status(
                    discrepancy=discrepancy, status=status, actor=request.user
                )
                done += 1
            except ClearingError as error:
                self.message_user(
                    request,
                    f"{discrepancy}{pgettext('after a label', ': ')}{error.message}",
                    messages.ERROR,
                )
        if done:
            label = dict(DiscrepancyStatus.choices)[status]
            self.message_user(
                request,
                ngettext_lazy(
                    "%(count)s discrepancy now %(status)s.",
                    "%(count)s discrepancies now %(status)s.",
                    "count",
                )
                % {"count": done, "status": label},
                messages.SUCCESS,
            )

    @admin.action(description=_("Confirm (to be corrected)"))
    def confirm(self, request, queryset):
        self._set(request, queryset, DiscrepancyStatus.CONFIRMED)

    @admin.action(description=_("Dismiss"))
    def dismiss(self, request, queryset):
        self._set(request, queryset, DiscrepancyStatus.DISMISSED)
