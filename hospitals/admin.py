from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import XLSX

from hospitals.models import OUTCOMES, PURPOSES, AccessLog, ApiKey, Hospital, HospitalStaff
from hospitals.referral_views import HospitalCodeField, find_code_help
from hospitals.resources import HospitalResource
from hospitals.selectors import suspension_history
from hospitals.services import (
    InvitationError,
    SuspensionError,
    api_key_create,
    api_key_revoke,
    clerk_invitation_resend,
    clerk_invite,
    hospital_resume,
    hospital_suspend,
)
from portal import audit
from portal.admin import ChoicesFilter, IdNumberSearch, LogList
from portal.lib.text import spreadsheet_text_xlsx
from portal.roles import agency_region, in_own_region


def _hospitals_of(region) -> Q:
    return Q(region=region)


class PurposeFilter(ChoicesFilter):
    title = _("purpose")
    parameter_name = "purpose"
    # A purpose over every channel it is used on (eligibility:api, eligibility:web...).
    field, options, separator = "purpose", PURPOSES, ":"


class OutcomeFilter(ChoicesFilter):
    title = _("outcome")
    parameter_name = "outcome"
    field, options = "outcome", OUTCOMES


class ClerkInvitationForm(forms.Form):
    """The hospital is chosen from a list when they are few (an agency's region), given by its
    code when they are many (a superuser's: the whole country's, tens of thousands of options,
    megabytes of page)."""

    LISTED_AT_MOST = 500
    hospital = forms.ModelChoiceField(label=_("Hospital"), queryset=Hospital.objects.none())
    email = forms.EmailField(
        label=_("The clerk's email address"),
        max_length=150,
        help_text=_("The clerk signs in with it and gets the link to set a password there."),
    )

    def __init__(self, *args, hospitals, **kwargs):
        super().__init__(*args, **kwargs)
        if hospitals[: self.LISTED_AT_MOST + 1].count() > self.LISTED_AT_MOST:
            self.fields["hospital"] = HospitalCodeField(
                hospitals,
                label=_("Hospital's code"),
                help_text=find_code_help(reverse("admin:hospitals_hospital_changelist")),
                error_messages={"invalid_choice": _("No designated hospital has this code.")},
            )
        self.fields["hospital"].queryset = hospitals


class SuspendForm(forms.Form):
    suspended_on = forms.DateField(label=_("Suspended from"), initial=timezone.localdate)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea, max_length=500)


class HospitalForm(forms.ModelForm):
    """A hospital as the agency adds or edits it: the national code in its format (H and 11
    digits; the model's validator, which an import runs too)."""

    class Meta:
        model = Hospital
        fields = [
            "name",
            "name_en",
            "code",
            "province",
            "region",
            "level",
            "kind",
            "ownership",
            "inpatient",
            "general_outpatient",
            "chronic_outpatient",
            "resettlement_designated",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        code = self.fields.get("code")
        if code is not None:
            code.widget.attrs.setdefault("placeholder", "H23010300001")


@admin.register(Hospital)
class HospitalAdmin(IdNumberSearch, ImportExportModelAdmin):
    resource_classes = [HospitalResource]
    form = HospitalForm
    # Hospitals' names and codes stay in the URL; a whole ID number does not (IdNumberSearch).
    private_terms = False
    search_help_text = None
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
    # Suspension changes only through the actions (and so the services, with their audit trail).
    readonly_fields = ["suspended_on", "suspension_reason", "suspension_history"]
    actions = ["suspend", "resume"]

    @admin.display(description=_("Suspension history"))
    def suspension_history(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        periods = suspension_history(obj)
        if not periods:
            return _("Never suspended.")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}</li>",
                ((self._describe(period),) for period in periods),
            ),
        )

    @staticmethod
    def _describe(period) -> str:
        text = _("From %(date)s: %(reason)s (decided %(at)s by %(by)s)") % {
            "date": period.suspended_on.isoformat(),
            "reason": period.reason,
            "at": date_format(localtime(period.decided_at), "Y-m-d H:i"),
            "by": period.decided_by or "-",
        }
        if period.resumed_at:
            text += " · " + _("resumed %(at)s by %(by)s") % {
                "at": date_format(localtime(period.resumed_at), "Y-m-d H:i"),
                "by": period.resumed_by or "-",
            }
        return text

    def get_export_data(self, file_format, request, queryset, **kwargs):
        """An XLSX export has its text cells typed as text (no cell runs as a formula, none
        shows an apostrophe); the text formats escape them in the resource."""
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        return spreadsheet_text_xlsx(data) if isinstance(file_format, XLSX) else data

    def get_import_resource_kwargs(self, request, **kwargs):
        """Agency staff import the hospitals of their own region only."""
        kwargs = super().get_import_resource_kwargs(request, **kwargs)
        if not request.user.is_superuser:
            kwargs.update(region=agency_region(request.user), restricted=True)
        return kwargs

    def _may_edit(self, request, obj) -> bool:
        """The whole directory is readable; agency staff change only their region's hospitals."""
        if obj is None or request.user.is_superuser:
            return True
        region = agency_region(request.user)
        return region is not None and obj.region_id == region.pk

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """Agency staff add (and move) hospitals within their own region only."""
        if db_field.name in ("region", "province") and not request.user.is_superuser:
            region = agency_region(request.user)
            model = db_field.remote_field.model
            if region is None:
                kwargs["queryset"] = model.objects.none()
            elif db_field.name == "region":
                kwargs["queryset"] = model.objects.filter(pk=region.pk)
            else:
                kwargs["queryset"] = model.objects.filter(pk=region.province_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)

    def _in_scope(self, request, queryset):
        """Agency staff act on the hospitals of their own region only."""
        return in_own_region(request.user, queryset, _hospitals_of)

    def _report(self, request, done: int, skipped: int, done_message: str) -> None:
        self.message_user(request, done_message % {"n": done}, messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                ngettext_lazy(
                    "%(n)d hospital was skipped: not in your region or not in that state.",
                    "%(n)d hospitals were skipped: not in your region or not in that state.",
                    "n",
                )
                % {"n": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Suspend from direct settlement (with a date and reason)"))
    def suspend(self, request, queryset):
        if "apply" in request.POST:
            form = SuspendForm(request.POST)
            if form.is_valid():
                done = 0
                for hospital in self._in_scope(request, queryset):
                    try:
                        hospital_suspend(
                            hospital=hospital,
                            actor=request.user,
                            suspended_on=form.cleaned_data["suspended_on"],
                            reason=form.cleaned_data["reason"],
                            ip=audit.client_ip(request),
                        )
                    except SuspensionError:
                        continue
                    done += 1
                self._report(
                    request,
                    done,
                    queryset.count() - done,
                    ngettext_lazy(
                        "%(n)d hospital suspended.",
                        "%(n)d hospitals suspended.",
                        "n",
                    ),
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
        done = 0
        for hospital in self._in_scope(request, queryset):
            try:
                hospital_resume(hospital=hospital, actor=request.user, ip=audit.client_ip(request))
            except SuspensionError:
                continue
            done += 1
        self._report(
            request,
            done,
            queryset.count() - done,
            ngettext_lazy(
                "%(n)d hospital resumed.",
                "%(n)d hospitals resumed.",
                "n",
            ),
        )

    def get_search_results(self, request, queryset, search_term):
        """The hospital picker of a new API key or a new clerk offers the agency's own
        hospitals only (the forms accept no other)."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        picking_for_own = request.GET.get("model_name") in OWN_REGION_PICKERS
        if picking_for_own:
            queryset = in_own_region(request.user, queryset, _hospitals_of)
        return queryset, may_have_duplicates

    def save_model(self, request, obj, form, change):
        from hospitals.services import hospital_fill_search_keys

        hospital_fill_search_keys(obj)
        super().save_model(request, obj, form, change)


# The admin pages whose hospital picker offers the agency's own region's hospitals only.
OWN_REGION_PICKERS = {"apikey", "hospitalstaff"}


class OwnRegionsHospitals:
    """Rows that belong to a hospital: agency staff see and choose only their own region's
    hospitals (another region's rows answer 404)."""

    def get_queryset(self, request):
        return in_own_region(
            request.user, super().get_queryset(request), lambda r: Q(hospital__region=r)
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "hospital":
            kwargs["queryset"] = in_own_region(request.user, Hospital.objects.all(), _hospitals_of)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(HospitalStaff)
class HospitalStaffAdmin(OwnRegionsHospitals, IdNumberSearch, admin.ModelAdmin):
    """Who works for a hospital (its web pages and referrals): assigned by the agency of the
    hospital's region."""

    list_display = ["user", "hospital", "invitation"]
    list_select_related = ["user", "hospital"]
    autocomplete_fields = ["hospital"]
    search_fields = ["user__username", "user__email", "hospital__code", "hospital__name"]
    # A clerk's user name or e-mail address is kept out of the URL (IdNumberSearch).
    search_help_text = None
    change_list_template = "admin/hospitals/hospitalstaff/change_list.html"
    actions = ["invite_again"]

    @admin.display(description=_("Invitation"))
    def invitation(self, obj):
        return _("accepted") if obj.user.has_usable_password() else _("waiting for the clerk")

    def get_urls(self):
        urls = [
            path(
                "invite/",
                self.admin_site.admin_view(self.invite_view),
                name="hospitals_hospitalstaff_invite",
            )
        ]
        return urls + super().get_urls()

    def invite_view(self, request):
        """A new clerk's account by email: the clerk sets a password through the invitation."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        hospitals = in_own_region(request.user, Hospital.objects.order_by("code"), _hospitals_of)
        form = ClerkInvitationForm(request.POST or None, hospitals=hospitals)
        if request.method == "POST" and form.is_valid():
            try:
                staff = clerk_invite(
                    hospital=form.cleaned_data["hospital"],
                    email=form.cleaned_data["email"],
                    actor=request.user,
                    ip=audit.client_ip(request),
                )
            except InvitationError as error:
                form.add_error("email", error.message)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s for %(hospital)s.")
                    % {"email": staff.user.email, "hospital": staff.hospital},
                )
                return redirect("admin:hospitals_hospitalstaff_changelist")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Invite a hospital clerk"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/hospitals/invite_clerk.html", context)

    @admin.action(description=_("Send the invitation again"), permissions=["add"])
    def invite_again(self, request, queryset):
        sent = skipped = 0
        for staff in queryset.select_related("user", "hospital"):
            if clerk_invitation_resend(
                staff=staff, actor=request.user, ip=audit.client_ip(request)
            ):
                sent += 1
            else:
                skipped += 1
        if sent:
            messages.success(
                request,
                ngettext_lazy(
                    "%(n)d invitation sent again.",
                    "%(n)d invitations sent again.",
                    "n",
                )
                % {"n": sent},
            )
        if skipped:
            messages.info(
                request,
                ngettext_lazy(
                    "%(n)d clerk already set their password: nothing sent.",
                    "%(n)d clerks already set their password: nothing sent.",
                    "n",
                )
                % {"n": skipped},
            )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """Agency staff give a hospital an account that has no other role (not a person's, not
        staff's, not another region's hospital clerk), or keep one of their region's clerks."""
        if db_field.name == "user" and not request.user.is_superuser:
            region = agency_region(request.user)
            free = Q(
                is_staff=False,
                is_superuser=False,
                insured__isnull=True,
                agency_staff__isnull=True,
                hospital_staff__isnull=True,
            )
            own = Q(hospital_staff__hospital__region=region) if region else Q(pk__in=[])
            kwargs["queryset"] = get_user_model().objects.filter(free | own).distinct()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ApiKey)
class ApiKeyAdmin(OwnRegionsHospitals, IdNumberSearch, admin.ModelAdmin):
    private_terms = False  # key prefixes and hospitals: a whole ID number only is kept out
    search_help_text = None
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
        key, plain = api_key_create(
            hospital=obj.hospital, actor=request.user, name=obj.name, ip=audit.client_ip(request)
        )
        obj.pk = key.pk
        request._new_api_key = plain  # for response_add only: never stored, never a message

    def response_add(self, request, obj, post_url_continue=None):
        """Show the new key on the response itself, once: not through messages, which would
        keep it in a cookie or the session until the next page."""
        return TemplateResponse(
            request,
            "admin/hospitals/apikey_created.html",
            {
                **self.admin_site.each_context(request),
                "title": _("New API key"),
                "key": obj,
                "plain": request._new_api_key,
                "opts": self.model._meta,
            },
        )

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        revoked = already = 0
        for key in queryset:
            if key.revoked_at is not None:
                already += 1
                continue
            api_key_revoke(key=key, actor=request.user, ip=audit.client_ip(request))
            revoked += 1
        if revoked:
            self.message_user(
                request,
                ngettext_lazy("%(n)d key revoked.", "%(n)d keys revoked.", "n") % {"n": revoked},
                messages.SUCCESS,
            )
        if already:
            self.message_user(
                request,
                ngettext_lazy(
                    "%(n)d key was already revoked: nothing changed.",
                    "%(n)d keys were already revoked: nothing changed.",
                    "n",
                )
                % {"n": already},
                messages.INFO,
            )


@admin.register(AccessLog)
class AccessLogAdmin(LogList, IdNumberSearch, admin.ModelAdmin):
    id_hash_field = "subject_hash"
    search_help_text = _(
        "Search by a hospital's national code, or by a whole ID number, which is then shown "
        "as #… so that it stays out of the address bar."
    )
    list_display = [
        "created_at",
        "purpose_shown",
        "outcome_shown",
        "calls",
        "hospital",
        "actor",
        "subject_region",
    ]
    # No filter by hospital: its choices were every hospital of the country (32,000 links, of
    # every region); a hospital is found by its code in the search box (`get_search_results`).
    list_filter = [PurposeFilter, OutcomeFilter, "created_at"]
    exclude = ["purpose", "outcome"]
    readonly_fields = ["purpose_shown", "outcome_shown"]

    @admin.display(description=_("purpose"), ordering="purpose")
    def purpose_shown(self, obj):
        return obj.purpose_label()

    @admin.display(description=_("outcome"), ordering="outcome")
    def outcome_shown(self, obj):
        return obj.outcome_label()

    search_fields = ["subject_hash"]
    list_select_related = ["hospital", "actor", "subject_region"]

    def get_search_results(self, request, queryset, search_term):
        """A hospital's national code (any case, spaces around it) lists that hospital's rows
        among the region's (`get_queryset`), through the hospital's key; any other term
        searches as before (a whole ID number through its keyed hash)."""
        code = search_term.strip().upper()
        hospitals = Hospital.objects.filter(code=code).values_list("pk", flat=True)
        hospital = hospitals.first() if code else None
        if hospital is not None:
            return queryset.filter(hospital_id=hospital), False
        return super().get_search_results(request, queryset, search_term)

    def get_queryset(self, request):
        return in_own_region(
            request.user,
            super().get_queryset(request),
            lambda r: Q(agency_region=r) | Q(subject_region=r),
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
