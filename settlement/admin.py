from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from portal.admin import (
    AuditTrailHistory,
    CappedPages,
    DecisionButtons,
    IdNumberSearch,
    LongList,
    PolicyYearFilter,
    RegionScopedAdmin,
    ReviewQueue,
    ServiceActions,
    to_the_minute,
)
from portal.audit import client_ip
from portal.lib.text import plain
from portal.templatetags.portal_tags import yuan
from settlement import clearing, rules, services
from settlement.forms import AdjustForm, ReasonForm, VoidForm
from settlement.messages import breakdown_rows, flag_labels, message
from settlement.models import BenefitPolicy, CategoryPolicy, Claim, Settlement


@admin.register(BenefitPolicy)
class BenefitPolicyAdmin(RegionScopedAdmin):
    list_display = [
        "region",
        "year",
        "scheme",
        "level",
        "deductible",
        "ratio",
        "annual_cap",
        "class_b_rate",
    ]
    list_filter = ["year", "scheme", "level", "region"]
    list_select_related = ["region"]


@admin.register(CategoryPolicy)
class CategoryPolicyAdmin(RegionScopedAdmin):
    list_display = [
        "region",
        "year",
        "category",
        "ratio_reduction_points",
        "deductible_multiplier",
        "fund_share",
    ]
    list_filter = ["year", "category", "region"]
    list_select_related = ["region"]


class ReviewActions(ServiceActions):
    """Claims' and settlements' review actions: the settlement services' refusals."""

    rule_error = rules.RuleError
    describe_error = staticmethod(message)

    def _single(self, request, queryset) -> bool:
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one to adjust."), messages.WARNING)
            return False
        return True


class WholeNumberSearch:
    """A whole settlement or claim number, as a reviewer types it from a bill or a call, is
    found by its unique index (like FilingAdmin's search), not by reading every number in scope
    for a part of one; any other term is searched as usual."""

    def get_search_results(self, request, queryset, search_term):
        # Control characters out: a NUL is refused by PostgreSQL (a 500).
        term = plain(search_term)
        number = term.upper()
        if number and queryset.filter(number=number).exists():
            return queryset.filter(number=number), False
        return super().get_search_results(request, queryset, term)  # type: ignore[misc]


def _split_table(obj) -> str:
    rows = [(_("Total"), obj.total), *breakdown_rows(obj.breakdown)]
    rows = [(label, yuan(amount)) for label, amount in rows]
    return format_html(
        '<table class="split">{}</table>',
        format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
    )


def _items_table(obj) -> str:
    return format_html(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
        _("Catalogue code"),
        _("Item"),
        _("Class"),
        _("Amount (yuan)"),
        format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (i.get("code", ""), i.get("name", ""), i.get("class", ""), yuan(i.get("amount")))
                for i in obj.items or []
            ),
        ),
    )


@admin.register(Claim)
class ClaimAdmin(
    CappedPages,
    LongList,
    WholeNumberSearch,
    IdNumberSearch,
    AuditTrailHistory,
    ReviewActions,
    ReviewQueue,
    DecisionButtons,
    RegionScopedAdmin,
):
    """The region's claim queue: the engine's split beside the bill, the reason codes, and
    approve / adjust / reject / return / paid, each through one service."""

    id_hash_field = "person__id_hash"
    person_name_field = "person__name"
    search_help_text = IdNumberSearch.search_by_name_help_text
    queue_status, queue_since = rules.SUBMITTED, "submitted_at"
    row_version = staticmethod(services.claim_version)
    decision_labels = {"approve_clean": _("Approve as estimated")}

    @admin.display(description=_("submitted"), ordering="submitted_at")
    def submitted(self, obj):
        return to_the_minute(obj.submitted_at)

    def decision_names(self, obj) -> list[str]:
        if obj.status == rules.SUBMITTED:
            clean = ["approve_clean"] if rules.is_clean(obj.flags) else []
            return [*clean, "approve_adjusted", "reject", "return_to_person"]
        return ["mark_paid"] if obj.status == rules.APPROVED else []

    region_field = "insured_region"
    list_display = [
        "number",
        "masked_person",
        "hospital",
        "discharged_on",
        "total",
        "estimated_fund_pay",
        "approved_fund_pay",
        "status",
        "reason_codes",
        "submitted",
        "waiting",
    ]
    list_filter = ["status", "care_type", "category", PolicyYearFilter, "submitted_at"]
    # Only the columns an index orders (number; claim_region_recent, claim_recent): sorting a
    # region's claims by an amount or the hospital reads and sorts all of them.
    sortable_by = ["number", "submitted"]
    search_fields = ["number"]
    list_select_related = ["hospital", "person"]
    actions = ["approve_clean", "approve_adjusted", "reject", "return_to_person", "mark_paid"]
    exclude = ["person", "items", "breakdown", "flags", "adjustment"]
    readonly_fields = [
        "number",
        "masked_person",
        "insured_region",
        "hospital",
        "care_type",
        "admitted_on",
        "discharged_on",
        "category",
        "policy_year",
        "bill",
        "split",
        "reason_codes",
        "estimated_fund_pay",
        "fund_pay_now",
        "total",
        "approved_fund_pay",
        "approved_person_pay",
        "status",
        "reason",
        "document_links",
        "submitted_at",
        "decided_at",
        "paid_at",
    ]

    @admin.display(description=_("insured person"))
    def masked_person(self, obj):
        return str(obj.person)

    @admin.display(description=_("reason codes"))
    def reason_codes(self, obj):
        return "; ".join(flag_labels(obj.flags)) or "-"

    @admin.display(description=_("the fund would pay now"))
    def fund_pay_now(self, obj):
        """The split against the year to date as it is now, which "approve as estimated" pays:
        other decisions since the claim was filed may have used or freed part of the cap."""
        if obj.status != rules.SUBMITTED:
            return "-"
        return _pay_now(obj, obj.estimated_fund_pay, counted_already=False)

    @admin.display(description=_("bill"))
    def bill(self, obj):
        return _items_table(obj)

    @admin.display(description=_("the engine's split"))
    def split(self, obj):
        return _split_table(obj)

    @admin.display(description=_("documents"))
    def document_links(self, obj):
        return format_html_join(
            "",
            '<a href="{}">{}</a><br>',
            (
                (reverse("settlement:claim-document", args=[obj.number, d.pk]), str(d))
                for d in obj.documents.all()
            ),
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Approve the clean ones (no reason code) as estimated"))
    def approve_clean(self, request, queryset):
        skipped = 0
        for claim in queryset:
            if claim.status != rules.SUBMITTED or not rules.is_clean(claim.flags):
                skipped += 1
        clean = [c for c in queryset if c.status == rules.SUBMITTED and rules.is_clean(c.flags)]
        self._each(
            request,
            clean,
            lambda c: services.claim_approve(
                claim=c,
                actor=request.user,
                ip=client_ip(request),
                only_if_estimate_stands=True,
                seen_version=self.seen(request, c),
            ),
            (_("Approved."), _("{} claims approved.")),
        )
        if skipped:
            self.message_user(
                request,
                _("%(n)s claims with reason codes or already decided were left for review.")
                % {"n": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Approve with an adjusted amount (with a reason)"))
    def approve_adjusted(self, request, queryset):
        if not self._single(request, queryset):
            return None
        return self._with_form(
            request,
            queryset,
            "approve_adjusted",
            AdjustForm,
            lambda c, data: services.claim_approve(
                claim=c,
                actor=request.user,
                fund_pay=data["fund_pay"],
                reason=data["reason"],
                ip=client_ip(request),
                seen_version=self.seen(request, c),
            ),
            (
                _("Approved with an adjusted amount."),
                _("{} claims approved with an adjusted amount."),
            ),
            _("Adjust and approve"),
        )

    @admin.action(description=_("Reject (with a reason)"))
    def reject(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            "reject",
            ReasonForm,
            lambda c, data: services.claim_reject(
                claim=c,
                actor=request.user,
                reason=data["reason"],
                ip=client_ip(request),
                seen_version=self.seen(request, c),
            ),
            (_("Rejected."), _("{} claims rejected.")),
            _("Reject claims"),
        )

    @admin.action(description=_("Return to the person (what is missing)"))
    def return_to_person(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            "return_to_person",
            ReasonForm,
            lambda c, data: services.claim_return(
                claim=c,
                actor=request.user,
                reason=data["reason"],
                ip=client_ip(request),
                seen_version=self.seen(request, c),
            ),
            (_("Returned."), _("{} claims returned.")),
            _("Return claims"),
        )

    @admin.action(description=_("Mark as paid"))
    def mark_paid(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda c: services.claim_mark_paid(
                claim=c,
                actor=request.user,
                ip=client_ip(request),
                seen_version=self.seen(request, c),
            ),
            (_("Marked as paid."), _("{} claims marked as paid.")),
        )


def _pay_now(obj, stored, *, counted_already: bool):
    """What the fund pays if the row is approved as computed now (services.split_now), marked
    when it is not the figure stored when the row was filed or held."""
    try:
        now = services.split_now(obj, counted_already=counted_already).fund_pay
    except services.SettlementError as error:
        return error.message
    if now == stored:
        return yuan(now)
    return format_html(
        '<strong id="fund-pay-now">{}</strong> · {}',
        yuan(now),
        _(
            "not the figure computed when it was filed: the annual cap has been used or freed "
            "since. Approving as computed pays this amount."
        ),
    )


# Settlements the fund does not pay: their computed split is not what was paid.
UNPAID = {Settlement.Status.REJECTED, Settlement.Status.RETURNED, Settlement.Status.VOIDED}


# What a reviewer decides a held settlement on: the patient (masked), the stay, the bill and the
# split; not the API's plumbing (the request's hash and idempotency key, the key it came with)
# nor the adjustment's raw JSON, which SettlementAdmin.benefit_terms puts in words.
SETTLEMENT_HIDDEN = {
    "id",
    "person",
    "request_hash",
    "idempotency_key",
    "api_key",
    "items",
    "breakdown",
    "flags",
    "adjustment",
    "overlaps",  # shown linked (SettlementAdmin.overlapping)
}


class OverlapFilter(admin.SimpleListFilter):
    """Settlements for days of a stay that an earlier one, still standing, settled already
    (`Settlement.overlaps`): the same bill sent twice, or one stay at two hospitals. The agency
    voids the one the fund must not pay; once either is voided (or rejected, or returned), the
    pair leaves the list."""

    title = _("overlapping stays")
    parameter_name = "overlaps"

    def lookups(self, request, model_admin):
        return [("yes", _("Overlaps an earlier settlement that stands"))]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        return queryset.filter(
            overlaps__isnull=False,
            overlaps__status__in=services.STANDING,
            status__in=services.STANDING,
        )


def overlap_note(obj) -> str:
    """The note 'Overlaps JS… (settled)' for a settlement whose stay an earlier one still
    standing settled; empty otherwise."""
    other = obj.overlaps
    if (
        other is None
        or other.status not in services.STANDING
        or obj.status not in services.STANDING
    ):
        return ""
    return _("Overlaps %(number)s (%(status)s)") % {
        "number": other.number,
        "status": other.get_status_display(),
    }


@admin.register(Settlement)
class SettlementAdmin(
    CappedPages,
    LongList,
    WholeNumberSearch,
    IdNumberSearch,
    AuditTrailHistory,
    ReviewActions,
    ReviewQueue,
    DecisionButtons,
    RegionScopedAdmin,
):
    """Direct settlements of the region's insured; the held ones are the review queue."""

    queue_status, queue_since = Settlement.Status.HELD, "created_at"
    id_hash_field = "person__id_hash"
    person_name_field = "person__name"
    search_help_text = IdNumberSearch.search_by_name_help_text
    row_version = staticmethod(services.settlement_version)

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj):
        return to_the_minute(obj.created_at)

    def decision_names(self, obj) -> list[str]:
        if obj.status == Settlement.Status.SETTLED:
            return ["void_settlement"]
        if obj.status != Settlement.Status.HELD:
            return []
        return ["approve", "approve_adjusted", "reject", "return_to_hospital", "void_settlement"]

    region_field = "insured_region"
    list_display = [
        "number",
        "masked_person",
        "hospital",
        "category",
        "policy_year",
        "total",
        "fund_pays",
        "person_pays",
        "status",
        "reason_codes",
        "created",
        "waiting",
    ]
    list_filter = [
        "status",
        "category",
        PolicyYearFilter,
        "care_type",
        OverlapFilter,
        "created_at",
    ]
    # Only the columns an index orders (number; settlement_region_recent, settlement_recent).
    sortable_by = ["number", "created"]
    search_fields = ["number"]
    list_select_related = ["hospital", "person", "overlaps"]
    actions = ["approve", "approve_adjusted", "reject", "return_to_hospital", "void_settlement"]
    readonly_fields = [
        "number",
        "masked_person",
        *(f.name for f in Settlement._meta.fields if f.name not in SETTLEMENT_HIDDEN | {"number"}),
        "overlapping",
        "fund_pay_now",
        "benefit_terms",
        "bill",
        "split",
        "reason_codes",
    ]
    exclude = sorted(SETTLEMENT_HIDDEN - {"id"})

    @admin.display(description=_("the fund would pay now"))
    def fund_pay_now(self, obj):
        """For a held settlement, what approving it as computed pays (the cap as it is now)."""
        if obj.status != Settlement.Status.HELD:
            return "-"
        return _pay_now(obj, obj.fund_pay, counted_already=True)

    @admin.display(description=_("insured person"))
    def masked_person(self, obj):
        return str(obj.person)

    @admin.display(description=_("fund pays"))
    def fund_pays(self, obj):
        """The fund's payment; on a bill the fund does not pay (rejected, returned, voided) the
        computed figure is struck out and said not to be paid, so the column adds up to what
        the fund pays."""
        if obj.status not in UNPAID:
            return obj.fund_pay
        return format_html(
            '<del>{}</del> <span class="unpaid">{}</span>',
            yuan(obj.fund_pay),
            _("not paid by the fund"),
        )

    @admin.display(description=_("person pays"))
    def person_pays(self, obj):
        if obj.status not in UNPAID:
            return obj.person_pay
        return format_html("<del>{}</del>", yuan(obj.person_pay))

    @admin.display(description=_("Benefit adjustment"))
    def benefit_terms(self, obj):
        benefit = services.adjustment_from(obj.adjustment)
        return render_to_string("includes/benefit_terms.html", {"benefit": benefit}).strip()

    @admin.display(description=_("reason codes"))
    def reason_codes(self, obj):
        note = overlap_note(obj)
        return "; ".join([*flag_labels(obj.flags), *([note] if note else [])]) or "-"

    @admin.display(description=_("overlaps settlement"))
    def overlapping(self, obj):
        """The earlier settlement of days of this stay, linked, with its state now."""
        other = obj.overlaps
        if other is None:
            return "-"
        return format_html(
            '<a href="{}">{}</a> ({}, {} {} – {})',
            reverse("admin:settlement_settlement_change", args=[other.pk]),
            other.number,
            other.get_status_display(),
            other.hospital,
            other.admitted_on.isoformat(),
            other.discharged_on.isoformat(),
        )

    @admin.display(description=_("bill"))
    def bill(self, obj):
        return _items_table(obj)

    @admin.display(description=_("the engine's split"))
    def split(self, obj):
        return _split_table(obj)

    def has_add_permission(self, request):
        return False

    def _each(self, request, queryset, fn, done, raise_refusal: bool = False) -> int:
        # A hospital's clerks hear of the action's decisions in one message (not one a bill).
        with services.reviews_told_together():
            return super()._each(request, queryset, fn, done, raise_refusal=raise_refusal)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Approve as computed"))
    def approve(self, request, queryset):
        return self._confirmed_if_several(
            request,
            queryset,
            "approve",
            lambda s: services.settlement_approve(
                settlement=s,
                actor=request.user,
                ip=client_ip(request),
                seen_version=self.seen(request, s),
            ),
            (_("Approved."), _("{} settlements approved.")),
            _("Approve the selected settlements as computed"),
        )

    @admin.action(description=_("Approve with an adjusted amount (with a reason)"))
    def approve_adjusted(self, request, queryset):
        if not self._single(request, queryset):
            return None
        return self._with_form(
            request,
            queryset,
            "approve_adjusted",
            AdjustForm,
            lambda s, data: services.settlement_approve(
                settlement=s,
                actor=request.user,
                fund_pay=data["fund_pay"],
                reason=data["reason"],
                ip=client_ip(request),
                seen_version=self.seen(request, s),
            ),
            (
                _("Approved with an adjusted amount."),
                _("{} settlements approved with an adjusted amount."),
            ),
            _("Adjust and approve"),
        )

    @admin.action(description=_("Reject (with a reason)"))
    def reject(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            "reject",
            ReasonForm,
            lambda s, data: services.settlement_reject(
                settlement=s,
                actor=request.user,
                reason=data["reason"],
                ip=client_ip(request),
                seen_version=self.seen(request, s),
            ),
            (_("Rejected."), _("{} settlements rejected.")),
            _("Reject settlements"),
        )

    @admin.action(description=_("Return to the hospital (with a reason)"))
    def return_to_hospital(self, request, queryset):
        return self._with_form(
            request,
            queryset,
            "return_to_hospital",
            ReasonForm,
            lambda s, data: services.settlement_return(
                settlement=s,
                actor=request.user,
                reason=data["reason"],
                ip=client_ip(request),
                seen_version=self.seen(request, s),
            ),
            (_("Returned to the hospital."), _("{} settlements returned to the hospital.")),
            _("Return settlements"),
        )

    def row_notes(self, request, obj, action: str) -> list[str]:
        """On the page that voids a settlement: what tells a duplicate from the bill it repeats
        (the patient masked, the hospital, the stay, the amounts, when it was submitted), and
        that a void is for good."""
        if action != "void_settlement":
            return super().row_notes(request, obj, action)
        after = pgettext("after a label", ": ")
        days = f"{obj.admitted_on:%Y-%m-%d} – {obj.discharged_on:%Y-%m-%d}"
        stay = f"{obj.get_care_type_display()} {days}"
        facts = [
            [(_("Patient"), str(obj.person)), (_("Hospital"), obj.hospital), (_("Stay"), stay)],
            [
                (_("Total"), yuan(obj.total)),
                (_("Fund pays"), yuan(obj.fund_pay)),
                (_("Status"), obj.get_status_display()),
                (_("Created"), to_the_minute(obj.created_at)),
            ],
        ]
        return [
            *(" · ".join(f"{label}{after}{value}" for label, value in line) for line in facts),
            format_html(
                "<strong>{}</strong>",
                _(
                    "A void cannot be undone: the fund will not pay this bill, and what it "
                    "counted against the person's cap is given back. If the stay still needs "
                    "settling, the hospital must submit the bill again."
                ),
            ),
        ]

    @admin.action(description=_("Void a settlement (e.g. a duplicate)"))
    def void_settlement(self, request, queryset):
        """One settled or held settlement at a time, with a reason (services.settlement_void).
        One on an issued clearing statement is named, to be taken off by a corrected one."""
        if queryset.count() != 1:
            self.message_user(
                request, _("Choose exactly one settlement to void."), messages.WARNING
            )
            return None

        def void(settlement, data):
            voided = services.settlement_void(
                settlement=settlement,
                actor=request.user,
                reason=data["reason"],
                ip=client_ip(request),
                seen_version=self.seen(request, settlement),
            )
            for statement in clearing.statements_listing(voided):
                self.message_user(
                    request,
                    _(
                        "%(settlement)s is on clearing statement %(statement)s: issue a "
                        "corrected statement to take it off."
                    )
                    % {"settlement": voided.number, "statement": statement.number},
                    messages.WARNING,
                )
            return voided

        return self._with_form(
            request,
            queryset,
            "void_settlement",
            VoidForm,
            void,
            (_("Voided."), _("{} settlements voided.")),
            _("Void a settlement"),
        )


from settlement import admin_clearing  # noqa: E402,F401  (clearing statements)
