from __future__ import annotations

import re
import secrets
import unicodedata
from functools import cache, cached_property
from urllib.parse import urlencode

from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from cron_descriptor import (
    FormatException,
    MissingFieldException,
    Options,
    WrongArgumentException,
    get_description,
)
from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import EmptyPage, Paginator
from django.db import models, transaction
from django.db.models import Q
from django.forms import models as forms_models
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import CrontabScheduleAdmin as BeatCrontabScheduleAdmin
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.admin import PeriodicTaskInline as BeatPeriodicTaskInline
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from portal import audit, staff
from portal.audit_labels import AUDIT_ROLES, AUDIT_SUBJECTS, audit_action_label
from portal.jobruns import JOB_LABELS, detail_label, job_label
from portal.lib import idnumbers
from portal.lib.versions import CHANGED_SINCE_OPENED
from portal.models import (
    Agency,
    AgencyStaff,
    AuditEvent,
    InsuredPerson,
    JobRun,
    Notification,
    Province,
    Region,
)
from portal.roles import agency_region, in_own_region
from portal.templatetags.portal_tags import yuan

GROUPED = "_grouped"


def _grouped_amount(field):
    """A read-only amount as the person's and the hospital's pages show it: two decimals and
    thousands grouped ("150,345.58"), sorted by the field."""

    def show(obj):
        value = getattr(obj, field.name)
        return "-" if value is None else yuan(value)

    show.short_description = field.verbose_name  # type: ignore[attr-defined]
    show.admin_order_field = field.name  # type: ignore[attr-defined]
    return show


class GroupedAmounts:
    """Amounts (the model's two-decimal DecimalFields) read in lists and read-only fields with
    their thousands grouped, as on every other page; a field that is edited stays as typed.
    Django's admin would print them ungrouped ("150345.58"): each such column or read-only field
    is shown by a function of its own, `<field>_grouped`, with the field's name and ordering."""

    def __init__(self, model, admin_site):
        super().__init__(model, admin_site)  # type: ignore[call-arg]
        self._amounts = {
            f.name
            for f in model._meta.fields
            if isinstance(f, models.DecimalField) and f.decimal_places == 2
        }
        for name in self._amounts:
            setattr(self, name + GROUPED, _grouped_amount(model._meta.get_field(name)))

    def _grouping(self, names, only=None):
        if names is None:
            return names
        return type(names)(
            n + GROUPED
            if isinstance(n, str) and n in self._amounts and (only is None or n in only)
            else n
            for n in names
        )

    def get_list_display(self, request):
        return self._grouping(super().get_list_display(request))  # type: ignore[misc]

    def get_readonly_fields(self, request, obj=None):
        return self._grouping(super().get_readonly_fields(request, obj))  # type: ignore[misc]

    def get_exclude(self, request, obj=None):
        # A read-only amount is shown by its function, so its field leaves the form by name.
        readonly = set(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        excluded = list(super().get_exclude(request, obj) or [])  # type: ignore[misc]
        return excluded + sorted(self._amounts & readonly)

    def get_fields(self, request, obj=None):
        readonly = set(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return self._grouping(super().get_fields(request, obj), only=readonly)  # type: ignore[misc]


class RegionScopedAdmin(GroupedAmounts, admin.ModelAdmin):
    """Agency staff see the rows of their own region only; other rows do not exist (404).

    Where the region is the row's own field (`region_field` names a foreign key of the model),
    agency staff can choose only their own region in the form, and a row saved for another
    region is refused (403): they cannot add a row to another region or move one there."""

    region_field = "region"

    def region_q(self, region) -> Q:
        """The rows of `region`."""
        return Q(**{self.region_field: region})

    def scope(self, request, qs):
        return in_own_region(request.user, qs, self.region_q)

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    def _own_region_field(self) -> str | None:
        """The attribute of the row's region id, when the region is the row's own field."""
        try:
            field = self.model._meta.get_field(self.region_field)
        except FieldDoesNotExist:
            return None
        return field.attname if field.many_to_one and field.related_model is Region else None

    def has_add_permission(self, request, *args):
        if self._own_region_field() and not request.user.is_superuser:
            if agency_region(request.user) is None:
                return False
        return super().has_add_permission(request, *args)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == self.region_field and not request.user.is_superuser:
            region = agency_region(request.user)
            kwargs["queryset"] = Region.objects.filter(pk=region.pk if region else None)
            if region is not None:
                kwargs["initial"] = region.pk
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        attname = self._own_region_field()
        if attname and not request.user.is_superuser:
            region = agency_region(request.user)
            if region is None or getattr(obj, attname) != region.pk:
                raise PermissionDenied
        super().save_model(request, obj, form, change)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404


# A search by a full ID number, or by anything that may be a name, is kept out of URLs (and so
# out of access logs and browser history): the search box posts it
# (static/js/admin-id-search.js), the session keeps it under a random token (a full ID number
# as its keyed hash only), and the changelist is shown for `q=#<token>`. A plain number-like
# code (a filing, claim or settlement number, a hospital's code) stays in the URL.
ID_SEARCH_TOKEN = "#"
ID_SEARCHES = "admin_id_searches"
ID_SEARCHES_KEPT = 20
# What may stay in a URL: ASCII letters and digits (with . _ -), at least one digit.
CODE_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def is_code_term(term: str) -> bool:
    """Whether a search term is a plain number-like code ("ZZ232700000001", "H21010000001"),
    as typed with an input method's full-width characters too; an empty term is one."""
    term = unicodedata.normalize("NFKC", term).strip()
    return not term or bool(CODE_TERM.fullmatch(term) and any(c.isdigit() for c in term))


class IdNumberSearch:
    """The changelist's search finds the persons' rows by full ID number through the keyed
    hash in `id_hash_field` (none: a list that holds no person's rows finds nothing by it); any
    other term searches `search_fields` as usual. A full ID number, and with `private_terms`
    any term that is not a plain code (a name, in Chinese characters or letters), reaches the
    changelist through a session token, never in its URL."""

    id_hash_field: str | None = None
    # Lists whose search can find persons (by name, account, e-mail) take every term that is
    # not a code by a token; lists of places and hospitals keep their names in the URL.
    private_terms = True
    # Said under the search box: what it finds, and why a whole ID number comes back as "#…".
    search_help_text = _(
        "Search by number (whole or its start) or by a whole ID number, which is then shown as "
        "#… so that it stays out of the address bar. Names are not searched."
    )
    # The same, on a list that finds a person's rows by their full name (`person_name_field`).
    search_by_name_help_text = _(
        "Search by number (whole or its start), by the insured person's full name as recorded, "
        "or by a whole ID number. A name or an ID number stays out of the address bar, which "
        "shows #… instead."
    )

    # Where a list finds a person's rows by their full name ("person__name"), matched exactly
    # (an index on InsuredPerson.name serves it: portal migration 0012), never by a part of it,
    # which would read every person in scope. None: names are not searched here.
    person_name_field: str | None = None

    class Media:
        js = ["js/admin-id-search.js"]

    def get_changelist_instance(self, request):
        """The box shows the term a token stands for (a name, to the session that searched
        it), not "#…"; a whole ID number, kept as its keyed hash only, stays "#…"."""
        changelist = super().get_changelist_instance(request)  # type: ignore[misc]
        if changelist.query.startswith(ID_SEARCH_TOKEN):
            kept = request.session.get(ID_SEARCHES, {}).get(changelist.query[1:])
            if isinstance(kept, dict):
                changelist.query = kept.get("term", "").strip()
        return changelist

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST" and "_id_search" in request.POST:
            return self._id_search_redirect(
                request, request.POST.get("q", ""), request.POST.get("_changelist_query", "")
            )
        if request.method == "GET" and self._kept_out_of_urls(request.GET.get("q", "")):
            # Without JavaScript the term came in the URL: answer with the token's URL, so at
            # least the browser's history and any link copied from the page do not keep it.
            query = request.GET.copy()
            term = query.pop("q")[-1]
            return self._id_search_redirect(request, term, query.urlencode())
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

    def _kept_out_of_urls(self, term: str) -> bool:
        if term.startswith(ID_SEARCH_TOKEN):
            return False
        return self._full_id_hash(term) is not None or (
            self.private_terms and not is_code_term(term)
        )

    def _id_search_redirect(self, request, term: str, changelist_query: str):
        query = QueryDict(changelist_query, mutable=True)
        query.pop("p", None)
        digest = self._full_id_hash(term)
        if digest is None and not self._kept_out_of_urls(term):
            query["q"] = term
        else:
            token = secrets.token_urlsafe(9)
            kept = dict(list(request.session.get(ID_SEARCHES, {}).items())[-ID_SEARCHES_KEPT + 1 :])
            # A full ID number as its keyed hash only; any other term as typed.
            request.session[ID_SEARCHES] = {**kept, token: digest or {"term": term}}
            query["q"] = ID_SEARCH_TOKEN + token
        return HttpResponseRedirect(f"{request.path}?{urlencode(list(query.lists()), doseq=True)}")

    @staticmethod
    def _full_id_hash(term: str) -> str | None:
        normalized = idnumbers.normalize(term)
        if len(normalized) == 18 and normalized[:17].isascii() and normalized[:17].isdigit():
            return idnumbers.id_hash(normalized)
        return None

    def id_search(self, request, queryset, digest: str):
        """The rows of the person whose ID number has the keyed hash `digest`."""
        if self.id_hash_field is None:
            return queryset.none()
        return queryset.filter(**{self.id_hash_field: digest})

    def get_search_results(self, request, queryset, search_term):
        if search_term.startswith(ID_SEARCH_TOKEN):
            # A token of another session, or of one that ended, finds nothing.
            kept = request.session.get(ID_SEARCHES, {}).get(search_term[1:])
            if isinstance(kept, dict):
                return self.get_search_results(request, queryset, kept.get("term", ""))
            if kept is None:
                return queryset.none(), False
            return self.id_search(request, queryset, kept), False
        digest = self._full_id_hash(search_term)
        if digest is not None:
            return self.id_search(request, queryset, digest), False
        name = unicodedata.normalize("NFKC", search_term).strip()
        if self.person_name_field and not is_code_term(name):
            return queryset.filter(**{self.person_name_field: name}), False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc]


class AuditTrailHistory:
    """The History button of a record the services change (a filing, a claim, a settlement):
    its audit events, where every decision is recorded with who, when, why and from where,
    rather than Django's edit log, which the services do not write."""

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is None:
            raise Http404
        url = reverse(f"{self.admin_site.name}:portal_auditevent_changelist")
        return HttpResponseRedirect(f"{url}?{urlencode({'q': obj.number})}")


# A decision posts, for each row, the version of it the reviewer's page showed ("_seen_<pk>";
# the services' `*_version`): the service refuses the row when it has changed since
# ("changed_since_opened"), even when it is back in the state the decision needs.
SEEN = "_seen_"


class ConfirmForm(forms.Form):
    """An intermediate page with nothing to fill in: the rows listed, and Confirm."""


class ServiceActions:
    """Admin actions that call one service per selected object: each refusal is reported in
    words, beside the count of those done; `_with_form` first asks for the action's input (a
    reason, an amount) on an intermediate page. Each app names the refusal its services raise
    (`rule_error`) and how it is told (`describe_error`), and the version of a row a page shows
    (`row_version`), which the decision posts back (`seen`) for the service to compare."""

    rule_error: type[Exception]
    describe_error = staticmethod(str)
    row_version = staticmethod(lambda obj: "")
    # Refusals because the row changed since the page was opened: told with the row's label.
    stale_codes = frozenset({CHANGED_SINCE_OPENED, "materials_changed"})

    def object_label(self, obj) -> str:
        return str(obj)

    def seen(self, request, obj) -> str | None:
        """The version of `obj` the page the decision came from showed (None: not said)."""
        return request.POST.get(f"{SEEN}{obj.pk}") or None

    def shown_fields(self, obj, action: str) -> list[tuple[str, str]]:
        """What a page showing `obj` for `action` posts with the decision, as hidden fields:
        the row's version now."""
        version = self.row_version(obj)
        return [(f"{SEEN}{obj.pk}", version)] if version else []

    def carried_fields(self, request, obj, action: str) -> list[tuple[str, str]]:
        """The hidden fields an intermediate page passes on: those posted by the page the
        reviewer decided from (what it showed), else the row as it is now."""
        fields = self.shown_fields(obj, action)
        carried = []
        for name in dict.fromkeys(n for n, _v in fields):
            if name in request.POST:
                carried += [(name, v) for v in request.POST.getlist(name)]
            else:
                carried += [(n, v) for n, v in fields if n == name]
        return carried

    def row_notes(self, request, obj, action: str) -> list[str]:
        """Lines said under a row on an intermediate page (the files a decision is about)."""
        return []

    def action_allowed(self, obj, action: str) -> bool:
        """Whether `action` still applies to `obj` in its state (asked before a form)."""
        names = getattr(self, "decision_names", None)
        return names is None or action in names(obj)

    def not_allowed_reason(self, obj, action: str) -> str:
        """Why `action` was left out for `obj`, whose state no longer allows it."""
        state = obj.get_status_display() if hasattr(obj, "get_status_display") else ""
        said = _("It is now %(state)s: this action no longer applies, it was left out.")
        return str(said) % {"state": state}

    def _describe(self, error) -> str:
        if getattr(error, "code", None) == CHANGED_SINCE_OPENED:
            return str(
                _(
                    "It was changed after you opened it: nothing was done. Open it again to "
                    "decide on it as it is now."
                )
            )
        return self.describe_error(error)

    def action_checkbox(self, obj):
        """The list's box, with the version of the row the list shows (`SEEN`)."""
        box = super().action_checkbox(obj)  # type: ignore[misc]
        version = self.row_version(obj)
        if not version:
            return box
        return format_html(
            '{}<input type="hidden" name="{}" value="{}">', box, f"{SEEN}{obj.pk}", version
        )

    def response_action(self, request, queryset):
        """Rows selected on a page but no longer in the list the action was posted to (a
        decision from a filtered queue, such as "submitted", on a row another reviewer decided
        meanwhile) would be dropped without a word: each is named with its state now, and
        nothing is done to it. When none of the selected rows is left, the action is not run."""
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if selected and request.POST.get("select_across") != "1":
            present = {
                str(pk) for pk in queryset.filter(pk__in=selected).values_list("pk", flat=True)
            }
            gone = [pk for pk in selected if pk not in present]
            if gone:
                for obj in self.get_queryset(request).filter(pk__in=gone):
                    state = obj.get_status_display() if hasattr(obj, "get_status_display") else ""
                    said = _(
                        "It was decided or changed meanwhile and is now %(state)s: nothing was "
                        "done to it."
                    )
                    self._refused(request, obj, str(said) % {"state": state})
                if len(gone) == len(selected):
                    return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    def _refused(self, request, obj, why: str) -> None:
        """A row left as it was, named, and why ("BA…：…")."""
        self.message_user(
            request,
            f"{self.object_label(obj)}{pgettext('after a label', ': ')}{why}",
            messages.ERROR,
        )

    def _each(self, request, queryset, fn, done, raise_refusal: bool = False) -> int:
        """Apply fn to each object. `done` is (what was done to one, "{} objects ..."): the
        message names the object when one was done (a decision from its page), linked to it,
        so the reviewer back in the queue sees which; otherwise it counts them."""
        done_one, done_many = done
        decided = []
        for obj in queryset:
            try:
                fn(obj)
                decided.append(obj)
            except self.rule_error as error:
                if raise_refusal:
                    raise
                self._refused(request, obj, self._describe(error))
        if len(decided) == 1:
            obj = decided[0]
            url = reverse(
                f"{self.admin_site.name}:{obj._meta.app_label}_{obj._meta.model_name}_change",
                args=[obj.pk],
            )
            self.message_user(
                request,
                format_html(
                    _('<a href="{url}">{object}</a>: {done}'),
                    url=url,
                    object=self.object_label(obj),
                    done=done_one,
                ),
                messages.SUCCESS,
            )
        elif decided:
            self.message_user(request, format_html(done_many, len(decided)), messages.SUCCESS)
        return len(decided)

    def _confirmed_if_several(self, request, queryset, action, fn, done, title):
        """Decide now on one row (from its page, or one ticked in the list); several (a "select
        all" over a queue of hundreds) are first listed on a page to confirm, with how many."""
        if "apply" not in request.POST and queryset.count() <= 1:
            self._each(request, queryset, fn, done)
            return None
        return self._with_form(
            request, queryset, action, ConfirmForm, lambda obj, _data: fn(obj), done, title
        )

    def _with_form(self, request, queryset, action, form_class, apply, done, title):
        """Ask for the action's input, then call `apply(obj, cleaned_data)` for each selected
        object; an invalid form re-renders the page with its messages and changes nothing."""
        if "apply" not in request.POST:
            # Rows whose state no longer allows the action (decided meanwhile, selected from an
            # unfiltered list or a search) are named and left out before a reason is asked for.
            kept = []
            for obj in queryset:
                if self.action_allowed(obj, action):
                    kept.append(obj.pk)
                    continue
                self._refused(request, obj, self.not_allowed_reason(obj, action))
            if not kept:
                return None
            queryset = queryset.filter(pk__in=kept)
        # A form that checks its input against the selected objects (an amount against their
        # totals) is given them.
        objects = {"objects": list(queryset)} if getattr(form_class, "takes_objects", False) else {}
        if "apply" in request.POST:
            form = form_class(request.POST, **objects)
            if form.is_valid():
                selected = list(queryset)
                # One row (a decision from its page): a refusal comes back on the form, with
                # what was typed, rather than as a message over the list.
                try:
                    self._each(
                        request,
                        selected,
                        lambda obj: apply(obj, form.cleaned_data),
                        done,
                        raise_refusal=len(selected) == 1,
                    )
                    return None
                except self.rule_error as error:
                    why = self._describe(error)
                    if getattr(error, "code", None) in self.stale_codes:  # which one changed
                        label = self.object_label(selected[0])
                        why = f"{label}{pgettext('after a label', ': ')}{why}"
                    form.add_error(None, why)
        else:
            form = form_class(**objects)
        rows = [
            (
                obj,
                self.carried_fields(request, obj, action),
                self.row_notes(request, obj, action),
            )
            for obj in queryset
        ]
        return render(
            request,
            "admin/filings/reason.html",
            {
                **self.admin_site.each_context(request),
                "form": form,
                "filings": queryset,
                "rows": rows,
                "count": len(rows),
                "action": action,
                "title": title,
                "opts": self.model._meta,
                # The list the action was posted to, with its filters (a decision from an
                # object's page posts to the list it came from): nothing is done.
                "cancel_url": request.get_full_path(),
            },
        )


class LongList:
    """A list over a table that grows by the million (filings, audit events, notifications, the
    access log, direct settlements, claims). It reads a page, not the table
    (bench/bench_admin.py):
    - no count of the whole table beside a filtered one;
    - no date hierarchy, which reads the date of every row in scope (over a second at three
      million audit events); dates are filtered by today, the past 7 days, this month or this
      year, which reads nothing;
    - no facet counts ("show counts"): Django counts each filter choice with a subquery over
      every row in scope, which took over 14 minutes on the audit events at that volume, and any
      reviewer could start it with one click;
    - filters whose choices are known in advance (ChoicesFilter), not read from the rows."""

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER


class CappedCountPaginator(Paginator):
    """Counts the rows of a list up to `cap` and no further: a list of more rows says "more
    than 10,000" and pages through its first 10,000 in the list's order (100 pages; the logs
    list the newest first).

    An exact count reads every row that matches, however few a page shows: over a region's 1.5
    million audit events, a filter by subject took 360-440 ms to count (bench/bench_admin.py).
    Counting stops at the first `cap + 1` rows found (`SELECT COUNT(*) FROM (... LIMIT cap + 1)`).
    """

    cap = 10_000

    @cached_property
    def counted(self) -> int:
        return self.object_list[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self.counted, self.cap)

    @property
    def capped(self) -> bool:
        """Whether more rows match than were counted."""
        return self.counted > self.cap


class PagesUpToTheCap(Paginator):
    """Counts every row (a "select all N" stands for all of them) but pages only through the
    first `cap` in the list's order, as the logs do (CappedCountPaginator: 100 pages of 100); a
    page past the last offered is the last. A deeper page is an OFFSET that reads every row
    before it: the oldest rows of a region's history, reached by the last page's link, cost
    the most (half a second at 100,000 settlements, seconds at a million)."""

    cap = CappedCountPaginator.cap

    @cached_property
    def num_pages(self) -> int:
        return min(super().num_pages, max(1, self.cap // self.per_page))

    @property
    def pages_capped(self) -> bool:
        """Whether rows lie beyond the last page offered."""
        return self.count > self.num_pages * self.per_page

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except EmptyPage:
            if int(number) > self.num_pages:  # a link kept from before, an address typed
                return self.num_pages
            raise


class CountAndPagesUpToTheCap(PagesUpToTheCap, CappedCountPaginator):
    """The logs' count, which stops at `cap` (the list says "more than 10,000" and how to
    narrow it), a page past the last being the last."""


class CappedPages:
    """A list that pages only through its first rows (PagesUpToTheCap): its last page says
    how to reach the others (the filters, the search), unless the list already says that it
    counted only its first rows (CappedCountPaginator.capped)."""

    paginator = PagesUpToTheCap

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)  # type: ignore[misc]
        paginator = changelist.paginator
        # The page served (the last, for one past it), marked as the current one.
        changelist.page_num = min(changelist.page_num, paginator.num_pages)
        if (
            request.method == "GET"
            and getattr(paginator, "pages_capped", False)
            and not getattr(paginator, "capped", False)
            and changelist.page_num == paginator.num_pages
        ):
            messages.info(
                request,
                _("Pages stop at %(pages)s: use the filters or the search to find older %(name)s.")
                % {"pages": paginator.num_pages, "name": changelist.opts.verbose_name_plural},
            )
        return changelist


class LogList(LongList):
    """A log that grows by the million and is only read (audit events, notifications, the access
    log): its count stops at 10,000 (CappedCountPaginator). Only lists without actions: "select
    all 10,000" must not stand for more rows than it says."""

    paginator = CappedCountPaginator
    actions = None


class ChoicesFilter(admin.SimpleListFilter):
    """A filter on one field (`field`) whose choices are known in advance (`options`, code to
    label): offered without reading the rows. With a `separator`, a choice also takes every
    value under it (`eligibility` takes `eligibility:web`)."""

    field: str
    options: dict = {}
    separator = ""

    def lookups(self, request, model_admin):
        return list(self.options.items())

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        q = Q(**{self.field: value})
        if self.separator:
            q |= Q(**{f"{self.field}__startswith": f"{value}{self.separator}"})
        return queryset.filter(q)


class PolicyYearFilter(admin.SimpleListFilter):
    """The policy years a reviewer works in (this one and the four before it), offered without
    reading the years of every row."""

    title = _("policy year")
    parameter_name = "policy_year"

    def lookups(self, request, model_admin):
        year = timezone.localdate().year
        return [(str(y), str(y)) for y in range(year, year - 5, -1)]

    def queryset(self, request, queryset):
        value = self.value()
        return (
            queryset.filter(policy_year=int(value))
            if value and value.isascii() and value.isdigit()
            else queryset
        )


def to_the_minute(value) -> str:
    """A date and time in a list's cell: digits to the minute in local time ("2026-11-23
    10:05"), narrower than the date format spelt out, so a queue's columns fit a laptop."""
    return "-" if value is None else f"{timezone.localtime(value):%Y-%m-%d %H:%M}"


class ReviewQueue:
    """A list that holds a review queue: filtered to the state that waits for a decision
    (`queue_status`), it is worked first come, first served (oldest `queue_since` first), and
    the `waiting` column tells how many whole days each row has waited (none for other states)."""

    queue_status: str
    queue_since: str  # the field holding when the row joined the queue

    def get_ordering(self, request):
        if request.GET.get("status__exact") == self.queue_status:
            return [self.queue_since, "id"]
        return super().get_ordering(request)

    @admin.display(description=_("waiting"))
    def waiting(self, obj):
        since = getattr(obj, self.queue_since)
        if obj.status != self.queue_status or since is None:
            return "-"
        days = (timezone.localdate() - timezone.localdate(since)).days
        return ngettext("%(days)s day", "%(days)s days", days) % {"days": days}


class DecisionButtons:
    """A review object's own page offers, as buttons beside its history, the decisions its
    state allows (`decision_names`), among the actions the reviewer may use: a queue is worked
    from each object's page, its documents and the decision side by side. Each button posts the
    list's action for this object alone (one that needs a reason opens the reason page, as from
    the list); the services check every transition."""

    change_form_template = "admin/decisions_change_form.html"
    decision_labels: dict = {}  # a label for one object where the action's speaks of several

    def decision_names(self, obj) -> list[str]:
        return []

    def decisions(self, request, obj) -> list[tuple[str, str]]:
        allowed = self.get_actions(request)
        return [
            (name, self.decision_labels.get(name, allowed[name][2]))
            for name in self.decision_names(obj)
            if name in allowed
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["decisions"] = self.decisions(request, obj)
            # Each button also posts what the page shows of the object (`shown_fields`: its
            # version, the files a decision is about), so a decision on an object changed
            # since the page was opened is refused rather than taken unseen.
            shown = getattr(self, "shown_fields", lambda obj, name: [])
            context["decision_buttons"] = [
                (name, label, shown(obj, name)) for name, label in context["decisions"]
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)


class KeptRecords:
    """Records that are never deleted in the admin, by anyone: they change only through the
    services (with their audit trail), and a deletion here would bypass both (a deleted
    proof of residence would leave its filing two-way; a notification is what was told)."""

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserEdits:
    """Reference data and who works where: agency staff may look, only superusers change it
    (a reviewer who could edit an agency's staff could move themselves to another region)."""

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Province)
class ProvinceAdmin(SuperuserEdits, admin.ModelAdmin):
    list_display = ["code", "name", "name_en"]


@admin.register(Region)
class RegionAdmin(SuperuserEdits, IdNumberSearch, admin.ModelAdmin):
    private_terms = False  # places: a whole ID number only is kept out of the URL
    search_help_text = None
    list_display = ["code", "name", "name_en", "province", "measures"]
    list_filter = ["province", "measures"]
    search_fields = ["code", "name", "name_en"]


@admin.register(Agency)
class AgencyAdmin(SuperuserEdits, admin.ModelAdmin):
    list_display = ["name", "region"]
    list_select_related = ["region"]


@admin.register(AgencyStaff)
class AgencyStaffAdmin(SuperuserEdits, RegionScopedAdmin):
    """Making an account agency staff here puts it in the agency group and the admin, and
    removing the row takes both away (portal.staff): a new reviewer can work at once."""

    region_field = "agency__region"
    list_display = ["user", "agency"]
    list_select_related = ["user", "agency"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """Only an account with no other role becomes agency staff: not an insured person's, not
        a hospital clerk's (whose pages would then be an agency's). The list stays short: the
        persons' own accounts are most of them."""
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model().objects.filter(
                insured__isnull=True, hospital_staff__isnull=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        previous = AgencyStaff.objects.get(pk=obj.pk).user if change and obj.pk else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            staff.agency_staff_saved(staff=obj, previous_user=previous)

    def delete_model(self, request, obj):
        with transaction.atomic():
            super().delete_model(request, obj)
            staff.agency_staff_removed(user=obj.user)

    def delete_queryset(self, request, queryset):
        users = [row.user for row in queryset.select_related("user")]
        with transaction.atomic():
            super().delete_queryset(request, queryset)
            for user in users:
                staff.agency_staff_removed(user=user)


# A reload of a person's page, or of a reveal, within this many seconds by the same reader is
# counted on the access-log row of the first read, not written as a row of its own.
PERSON_READ_FOLD_SECONDS = 300
CARD = "social_security_no"


def record_person_read(request, person: InsuredPerson, purpose: str) -> None:
    """One access-log row (hospitals.access_log) for an agency reader's read of `person`'s
    record in the admin (api.md: every read of personal data is recorded): who, for which
    agency, whose record by its keyed hash, for what; repeats within minutes fold into it."""
    from hospitals import access_log

    reader = request.user
    region = agency_region(reader)
    access_log.record_folded(
        fold=f"{purpose}:{reader.pk}:{person.pk}",
        seconds=PERSON_READ_FOLD_SECONDS,
        actor_id=reader.pk,
        agency_region_id=region.pk if region is not None else None,
        subject_hash=person.id_hash,
        subject_region_id=person.region_id,
        purpose=purpose,
        outcome="found",
    )


# A social security card number as the agency types it: letters and digits (ASCII, as typed
# with an input method's full-width characters too), at least one digit, 6 to 30 of them
# (the field's length). domain.md gives no format; this keeps out what cannot be one ("abc").
CARD_NUMBER = re.compile(r"(?=[A-Z]*[0-9])[A-Z0-9]{6,30}")
CLEAR_CARD = "clear_social_security_no"


def _typed_card(value: str) -> str:
    return "".join(unicodedata.normalize("NFKC", value or "").split()).upper()


class InsuredPersonForm(forms.ModelForm):
    """A person's record as the agency edits it: the social security card number is not shown
    (it binds an account to the record: portal.forms); a new one typed replaces it, a blank
    box keeps it, and a ticked "clear" box removes a wrong one."""

    clear_social_security_no = forms.BooleanField(
        label=_("Clear the card number on record"),
        help_text=_("Tick to remove a wrong number: the record then has no card number."),
        required=False,
    )

    class Meta:
        model = InsuredPerson
        fields = ["name", CARD, "region", "scheme", "retired", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # As on record before the edit (validation writes the typed number onto the instance).
        self.card_on_record = self.instance.social_security_no or ""
        card = self.fields.get(CARD)
        if card is not None:
            self.initial[CARD] = ""
            card.widget.attrs["autocomplete"] = "off"
            if self.instance.pk is not None:
                card.label = _("New social security card number")
                card.help_text = _("Leave it blank to keep the number on record.")

    def clean_social_security_no(self):
        typed = _typed_card(self.cleaned_data.get(CARD) or "")
        if typed and not CARD_NUMBER.fullmatch(typed):
            raise forms.ValidationError(
                _(
                    "Type the number as printed on the card: 6 to 30 letters and digits, with "
                    "at least one digit (spaces are ignored)."
                ),
                code="card_number",
            )
        return typed or self.card_on_record or None

    def clean(self):
        data = super().clean()
        if data.get(CLEAR_CARD):
            if _typed_card(self.data.get(CARD, "")):
                self.add_error(
                    CLEAR_CARD, _("Either type a new card number or clear it, not both.")
                )
            else:
                data[CARD] = None
        return data

    @cached_property
    def changed_data(self):
        # The card number counts as changed when a number other than the one on record is typed,
        # or the one on record is cleared; the box itself is no field of the record.
        changed = [name for name in super().changed_data if name not in (CARD, CLEAR_CARD)]
        typed = _typed_card(self.data.get(CARD) or "")
        cleared = self.cleaned_data.get(CLEAR_CARD) if hasattr(self, "cleaned_data") else False
        if CARD in self.fields and (
            (typed and typed != self.card_on_record) or (cleared and self.card_on_record)
        ):
            changed.append(CARD)
        return changed


@admin.register(InsuredPerson)
class InsuredPersonAdmin(KeptRecords, IdNumberSearch, RegionScopedAdmin):
    id_hash_field = "id_hash"
    form = InsuredPersonForm
    list_display = ["masked_name_col", "masked_id_col", "region", "scheme", "retired", "active"]
    list_filter = ["scheme", "retired", "active", "region"]
    list_select_related = ["region"]
    search_fields = ["name"]
    search_help_text = _(
        "Search by name or by a whole ID number; either is then shown as #… so that it stays "
        "out of the address bar."
    )
    fields = [
        "name",
        "masked_id_col",
        "masked_card",
        "social_security_no",
        "region",
        "scheme",
        "retired",
        "active",
        "user",
        "reveal_link",
    ]
    readonly_fields = ["masked_id_col", "masked_card", "reveal_link", "user"]

    def get_fields(self, request, obj=None):
        # The box that clears the card number, under the new number's, where there is one.
        fields = list(super().get_fields(request, obj))
        if obj is not None and obj.social_security_no and CARD in fields:
            fields.insert(fields.index(CARD) + 1, CLEAR_CARD)
        return fields

    @admin.display(description=_("name"))
    def masked_name_col(self, obj):
        return obj.masked_name

    @admin.display(description=_("ID number"))
    def masked_id_col(self, obj):
        return obj.masked_id

    @admin.display(description=_("social security card number"))
    def masked_card(self, obj):
        return obj.masked_social_security_no

    @admin.display(description=_("Reveal"))
    def reveal_link(self, obj):
        if obj.pk is None:
            return "-"
        url = reverse("admin:portal_insuredperson_reveal", args=[obj.pk])
        return format_html(
            '<a href="{}">{}</a>', url, _("Reveal the full ID and card numbers (audited)")
        )

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/reveal/",
                self.admin_site.admin_view(self.reveal_view),
                name="portal_insuredperson_reveal",
            )
        ]
        return urls + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The page shows the full name (and, before this fix, the card number): a read.
        if obj is not None and obj.pk is not None:
            record_person_read(request, obj, "person:admin")
        return super().render_change_form(request, context, add, change, form_url, obj)

    def reveal_view(self, request, pk):
        """A GET shows the button that reveals, and records nothing; its POST (with the CSRF
        token) shows the full ID and card numbers and records the reveal in the audit log and
        the access log. So a link from another site, or in an uploaded PDF, reveals nothing
        and writes no "who revealed whose ID" in the reviewer's name."""
        person = get_object_or_404(self.get_queryset(request), pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "person": person,
            "title": _("Full ID and card numbers"),
            "opts": self.model._meta,
        }
        if request.method == "POST":
            audit.record(
                action="insured.reveal_id",
                actor=request.user,
                obj=person,
                region=person.region,
                ip=audit.client_ip(request),
            )
            record_person_read(request, person, "reveal:admin")
            context["id_number"] = person.id_number
            context["card_number"] = person.social_security_no or "-"
        return TemplateResponse(request, "admin/portal/reveal.html", context)

    def has_add_permission(self, request):
        return request.user.is_superuser

    # Kept out of the audit log's text: which changed is recorded, not the values; a name is
    # recorded masked ("王*兰 → 王*蘭"), as the log shows persons everywhere.
    UNRECORDED_VALUES = {"social_security_no"}
    MASKED_VALUES = {"name"}

    def save_model(self, request, obj, form, change):
        """An edit of a person's record (insured and active decides every hospital's answer)
        is in the audit log, field by field, old → new, with who and from where, in the same
        transaction as the edit."""
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            audit.record(
                action="insured.update",
                actor=request.user,
                obj=obj,
                region=obj.region,
                reason=self._changes(form),
                ip=audit.client_ip(request),
            )

    def _changes(self, form) -> str:
        def shown(field, value):
            if isinstance(value, bool):
                return str(_("Yes") if value else _("No"))
            if isinstance(field, forms_models.ModelChoiceField) and value not in (None, ""):
                found = field.queryset.filter(pk=getattr(value, "pk", value)).first()
                return str(found) if found is not None else str(value)
            if field is not None and getattr(field, "choices", None) and value not in (None, ""):
                return str(dict(field.choices).get(value, value))
            return "-" if value in (None, "") else str(value)

        sep = pgettext("after a label", ": ")
        parts = []
        for name in form.changed_data:
            field = form.fields.get(name)
            label = str(field.label if field is not None else name)
            if name in self.UNRECORDED_VALUES:
                changed = _("changed")  # not inside the f-string: makemessages reads it there
                parts.append(f"{label}{sep}{changed}")
                continue
            old = shown(field, form.initial.get(name))
            new = shown(field, form.cleaned_data.get(name))
            if name in self.MASKED_VALUES:
                old, new = idnumbers.mask_name(old), idnumbers.mask_name(new)
            parts.append(f"{label}{sep}{old} → {new}")
        return "; ".join(parts)


@cache
def _state_labels(object_type: str) -> dict:
    """The labels of an audited object's states (its model's `status` choices), by code."""
    try:
        return dict(apps.get_model(object_type)._meta.get_field("status").flatchoices)
    except (LookupError, ValueError, FieldDoesNotExist):
        return {}


def _state_label(event, code: str):
    return _state_labels(event.object_type).get(code, code) if code else "-"


class AuditSubjectFilter(ChoicesFilter):
    title = _("about")
    parameter_name = "about"
    field, options, separator = "action", AUDIT_SUBJECTS, "."


class AuditRoleFilter(ChoicesFilter):
    title = _("role")
    parameter_name = "role"
    field, options = "actor_role", AUDIT_ROLES


@admin.register(AuditEvent)
class AuditEventAdmin(LogList, IdNumberSearch, RegionScopedAdmin):
    list_display = [
        "created_at",
        "action_shown",
        "actor",
        "role_shown",
        "object_repr",
        "from_shown",
        "to_shown",
        "ip",
    ]
    # Its page shows the worded action, role and states, not the recorded codes.
    exclude = ["from_state", "to_state", "action", "actor_role", "object_type"]
    readonly_fields = ["action_shown", "role_shown", "from_shown", "to_shown"]

    @admin.display(description=_("action"), ordering="action")
    def action_shown(self, obj):
        return audit_action_label(obj.action)

    @admin.display(description=_("role"), ordering="actor_role")
    def role_shown(self, obj):
        return AUDIT_ROLES.get(obj.actor_role, obj.actor_role)

    @admin.display(description=_("from"), ordering="from_state")
    def from_shown(self, obj):
        return _state_label(obj, obj.from_state)

    @admin.display(description=_("to"), ordering="to_state")
    def to_shown(self, obj):
        return _state_label(obj, obj.to_state)

    list_filter = [AuditSubjectFilter, AuditRoleFilter, "created_at"]
    search_fields = ["object_id", "action"]
    search_help_text = _(
        "A whole filing, claim, settlement or statement number finds its events; a whole ID "
        "number those of the person's record, filings, claims and settlements; otherwise an "
        "object's id or a recorded action. Anything but a number is shown as #… so that it "
        "stays out of the address bar."
    )
    list_select_related = ["actor"]
    # The numbered records a reviewer looks up: label, number field.
    NUMBERED = [
        ("filings.filing", "number"),
        ("settlement.claim", "number"),
        ("settlement.settlement", "number"),
        ("settlement.clearingstatement", "number"),
    ]

    def get_search_results(self, request, queryset, search_term):
        """A whole number (as typed from a letter or a call) finds the events of that record
        through the (object type, object id) index, not by reading every event for a text."""
        number = search_term.strip().upper()
        if number:
            for label, field in self.NUMBERED:
                model = apps.get_model(label)
                pks = list(model.objects.filter(**{field: number}).values_list("pk", flat=True))
                if pks:
                    found = Q(object_type=label, object_id__in=[str(p) for p in pks])
                    if label == "filings.filing":
                        # With the events of its files (which supplements a decision was on).
                        files = apps.get_model("filings.material").objects.filter(filing_id__in=pks)
                        ids = [str(p) for p in files.values_list("pk", flat=True)]
                        found |= Q(object_type="filings.material", object_id__in=ids)
                    return queryset.filter(found), False
        return super().get_search_results(request, queryset, search_term)

    # The person's own records whose events a whole ID number finds: label, path to the person.
    PERSONS_RECORDS = [
        ("portal.insuredperson", ""),
        ("filings.filing", "person__"),
        ("settlement.claim", "person__"),
        ("settlement.settlement", "person__"),
    ]

    def id_search(self, request, queryset, digest: str):
        """The events of the person with that ID number: of their record, their filings,
        claims and settlements, through the (object type, object id) index."""
        found = Q(pk__in=[])
        for label, person in self.PERSONS_RECORDS:
            model = apps.get_model(label)
            pks = model.objects.filter(**{f"{person}id_hash": digest}).values_list("pk", flat=True)
            found |= Q(object_type=label, object_id__in=[str(p) for p in pks])
        return queryset.filter(found)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(KeptRecords, LogList, RegionScopedAdmin):
    """What was told to whom: agency staff see the notifications of the persons insured in
    their region and of their own agency's staff."""

    list_display = ["created_at", "user", "shown_subject", "read_at", "emailed_at"]
    # Newest first by the primary key: rows are only ever appended, so it is the order of
    # creation, and it needs no index of its own on a table the jobs write in bulk.
    ordering = ["-id"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False  # written by the services and jobs that tell someone something

    def region_q(self, region) -> Q:
        return Q(user__insured__region=region) | Q(user__agency_staff__agency__region=region)

    @admin.display(description=_("subject"))
    def shown_subject(self, obj):
        return obj.shown[0]

    @admin.display(description=_("message"))
    def shown_body(self, obj):
        return obj.shown[1]

    # The message as its reader got it, in words: not the notice's code and raw parameters
    # ({"claim_status": "returned"}), nor the empty subject and body columns of a notice
    # worded when shown.
    fields = ["created_at", "user", "shown_subject", "shown_body", "url", "read_at", "emailed_at"]
    readonly_fields = ["created_at", "shown_subject", "shown_body"]

    def has_change_permission(self, request, obj=None):
        return False


class JobNameFilter(ChoicesFilter):
    title = _("job")
    parameter_name = "job"
    field = "name"

    def lookups(self, request, model_admin):
        return [(name, job_label(name)) for name in JOB_LABELS]


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """What each run of a scheduled job did, in words: the job, when, how long, how many rows,
    each step's count, the error. The jobs run for every region: their counts are the whole
    portal's and an error may name any region's rows, so agency staff see when each job ran
    and the numbers of their own region's clearing statements only; the counts and the error
    are the superusers'."""

    list_display = ["job", "started_at", "finished_at", "seconds", "rows", "error"]
    list_filter = [JobNameFilter, "started_at"]
    fields = ["job", "started_at", "finished_at", "seconds", "rows", "steps", "error"]
    readonly_fields = fields
    WHOLE_PORTAL = {"rows", "error"}

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if request.user.is_superuser:
            return shown
        return [name for name in shown if name not in self.WHOLE_PORTAL]

    def get_fields(self, request, obj=None):
        shown = super().get_fields(request, obj)
        if request.user.is_superuser:
            return shown
        return [name for name in shown if name not in self.WHOLE_PORTAL]

    @admin.display(description=_("job"), ordering="name")
    def job(self, obj):
        return job_label(obj.name)

    @admin.display(description=_("seconds"))
    def seconds(self, obj):
        return "-" if obj.seconds is None else f"{obj.seconds:.1f}"

    @admin.display(description=_("what it did"))
    def steps(self, obj):
        details = {k: v for k, v in (obj.details or {}).items() if k != "seconds"}
        if not details:
            return "-"
        whole_portal = getattr(obj, "reader_is_superuser", False)
        region = getattr(obj, "reader_region", None)
        rows = []
        for key, value in details.items():
            if isinstance(value, list):
                if not whole_portal:  # another region's statements are not theirs to read
                    code = region.code if region is not None else None
                    value = [v for v in value if code and f"-{code}-" in str(v)]
                value = ", ".join(str(v) for v in value) or "-"
            elif not whole_portal:
                value = "-"  # a count over every region's rows: the step is named, not counted
            rows.append((detail_label(key), value))
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:  # whose page it is, for `steps` (on the row, not the shared admin)
            obj.reader_region = agency_region(request.user)
            obj.reader_is_superuser = request.user.is_superuser
        return obj

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def schedule_in_words(crontab: CrontabSchedule | None) -> str:
    """A crontab schedule in words, in the reader's language ("在 01:05", "At 01:05"), with its
    time zone: cron_descriptor's own catalogue, which django-celery-beat does not ask for (its
    `human_readable` is always English, and in 12-hour time)."""
    if crontab is None:
        return "-"
    options = Options()
    options.locale_code = "zh_CN" if (get_language() or "").startswith("zh") else "en_US"
    options.use_24hour_time_format = True
    fields = [crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year]
    expression = " ".join([*fields, crontab.day_of_week])
    try:
        words = get_description(expression, options)
    except (MissingFieldException, FormatException, WrongArgumentException):
        return f"{expression} ({crontab.timezone})"
    return f"{words} ({crontab.timezone})"


class TaskName:
    """A periodic task's dotted path under our label: django-celery-beat's model calls it
    "Task Name" in English whatever the language."""

    @admin.display(description=_("Task name"))
    def task_name(self, obj):
        return obj.task


class PeriodicTaskInline(TaskName, BeatPeriodicTaskInline):
    """The jobs that use a schedule."""

    fields = readonly_fields = ("name", "task_name", "enabled", "last_run_at")


class PeriodicTaskAdmin(TaskName, SuperuserEdits, IdNumberSearch, BeatPeriodicTaskAdmin):
    """The job schedules run every region's jobs: agency staff look at them; only superusers
    edit, enable, disable or run them (django-celery-beat's actions ask for no permission).

    Shown in the reader's language: the schedule in words, the task's label (TaskName),
    django-celery-beat's own strings through our catalogue. Its change form's script (a
    crontab's English description under the field) is an inline script, which the portal's CSP
    does not run: the plain change form is used."""

    list_display = ["name", "enabled", "when", "start_time", "last_run_at", "one_off"]
    private_terms = False  # job names: a whole ID number only is kept out of the URL
    search_help_text = None
    list_filter = ["enabled", "one_off", "start_time", "last_run_at"]  # not by dotted path
    change_form_template = None

    def get_actions(self, request):
        return super().get_actions(request) if request.user.is_superuser else {}

    @admin.display(description=_("runs"))
    def when(self, obj):
        if obj.crontab_id:
            return schedule_in_words(obj.crontab)
        return obj.interval or obj.solar or obj.clocked or "-"

    @admin.display(description=_("schedule in words"))
    def crontab_translation(self, obj):
        return schedule_in_words(obj.crontab)

    def get_fieldsets(self, request, obj=None):
        """Read-only (agency staff), the task is shown under our label (TaskName)."""
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj):
            return fieldsets
        swap = {"task": "task_name"}
        # The form's picker of registered tasks ("regtask") has nothing to show read-only:
        # its label came out as an untranslated "Regtask" with "None".
        return [
            (
                title,
                {
                    **options,
                    "fields": [swap.get(f, f) for f in options["fields"] if f != "regtask"],
                },
            )
            for title, options in fieldsets
        ]


class CrontabScheduleAdmin(SuperuserEdits, BeatCrontabScheduleAdmin):
    """Crontab schedules in words in the reader's language; the jobs that use each one."""

    list_display = ["__str__", "crontab_in_words"]
    fields = ["crontab_in_words", "minute", "hour", "day_of_month", "month_of_year", "day_of_week"]
    fields += ["timezone"]
    readonly_fields = ["crontab_in_words"]
    inlines = [PeriodicTaskInline]

    @admin.display(description=_("schedule in words"))
    def crontab_in_words(self, obj):
        return schedule_in_words(obj)


def _searched_privately(model, id_hash_field: str | None = None) -> None:
    """Another app's admin of `model`, with its search box keeping a whole ID number, and any
    term that may be a name (accounts: user names, e-mail addresses), out of URLs."""
    registered = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    attrs = {"id_hash_field": id_hash_field, "search_help_text": None, "__module__": __name__}
    admin.site.register(model, type(registered.__name__, (IdNumberSearch, registered), attrs))


_searched_privately(get_user_model(), "insured__id_hash")
_searched_privately(Group)
for _axes_model in (AccessAttempt, AxesAccessLog, AccessFailureLog):
    _searched_privately(_axes_model)

admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskAdmin)
admin.site.unregister(CrontabSchedule)
admin.site.register(CrontabSchedule, CrontabScheduleAdmin)
