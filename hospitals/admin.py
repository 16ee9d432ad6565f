from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from hospitals.models import AccessLog, ApiKey, Hospital, HospitalStaff
from hospitals.resources import HospitalResource
from hospitals.services import api_key_create, api_key_revoke
from portal.roles import agency_region


class SuspendForm(forms.Form):
    suspended_on = forms.DateField(label=_("Suspended from"), initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea, max_length=500)


@admin.register(Hospital)
class HospitalAdmin(ImportExportModelAdmin):
    resource_classes = [HospitalResource]
    list_display = ["code", "name", "region", "level", "kind", "ownership", "suspended_on"]
    list_filter = [
        "province",
        "region",
        "level",
        "kind",
        "ownership",
        "resettlement_designated",
        "suspended_on",
    ]
    list_select_related = ["region"]
    search_fields = ["code", "name", "name_en", "pinyin", "initials"]
    actions = ["suspend", "resume"]

    @admin.action(description=_("Suspend from direct settlement (with a date and reason)"))
    def suspend(self, request, queryset):
        if "apply" in request.POST:
            form = SuspendForm(request.POST)
            if form.is_valid():
                count = queryset.update(
                    suspended_on=form.cleaned_data["suspended_on"],
                    suspension_reason=form.cleaned_data["reason"],
                )
                self.message_user(
                    request, _("%(n)d hospitals suspended.") % {"n": count}, messages.SUCCESS
                )
                return None
        else:
            form = SuspendForm()
        return render(
            request,
            "admin/hospitals/suspend.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "hospitals": queryset,
                "title": _("Suspend from direct settlement"),
            },
        )

    @admin.action(description=_("Resume direct settlement"))
    def resume(self, request, queryset):
        count = queryset.update(suspended_on=None, suspension_reason="")
        self.message_user(request, _("%(n)d hospitals resumed.") % {"n": count}, messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        from hospitals.services import hospital_fill_search_keys

        hospital_fill_search_keys(obj)
        super().save_model(request, obj, form, change)


@admin.register(HospitalStaff)
class HospitalStaffAdmin(admin.ModelAdmin):
    list_display = ["user", "hospital"]
    list_select_related = ["user", "hospital"]
    autocomplete_fields = ["hospital"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "hospital", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["hospital"]
    search_fields = ["prefix", "hospital__code", "hospital__name"]
    fields = ["hospital", "name"]
    autocomplete_fields = ["hospital"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        key, plain = api_key_create(hospital=obj.hospital, actor=request.user, name=obj.name)
        obj.pk = key.pk
        messages.warning(request, _("The new key, shown only this once: %(key)s") % {"key": plain})

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for key in queryset:
            api_key_revoke(key=key, actor=request.user)
        self.message_user(request, _("Keys revoked."), messages.SUCCESS)


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "purpose", "outcome", "hospital", "actor", "subject_region"]
    list_filter = ["purpose", "outcome", "created_at", "hospital"]
    search_fields = ["subject_hash"]
    list_select_related = ["hospital", "actor", "subject_region"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        region = agency_region(request.user)
        if region is None:
            return qs.none()
        from django.db.models import Q

        return qs.filter(Q(agency_region=region) | Q(subject_region=region))

    def get_search_results(self, request, queryset, search_term):
        from portal.lib import idnumbers

        term = idnumbers.normalize(search_term)
        if len(term) == 18:
            return queryset.filter(subject_hash=idnumbers.id_hash(term)), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
