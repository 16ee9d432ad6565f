"""Fuzzing of every form and the main POST views (issue 10, acceptance 4): arbitrary text in
any field is valid or invalid, never a server error.

Every Form and formset of the project is found by walking its packages; a new form is fuzzed
without any change here, unless its constructor needs arguments: then it needs an entry in
CONSTRUCTORS, and the coverage test says so. Values are arbitrary text (control characters,
unicode, empty, up to 5000 characters), tricky strings (NaN, huge exponents, impossible dates,
unicode digits) and plausible values taken from the field itself (its choices, a date), so the
cleaning gets past the first check often enough to reach the form's own clean methods.

The suite runs on PostgreSQL in CI, where a NUL character in a query parameter is a server
error (psycopg refuses it); on SQLite every query is checked for one the same way.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import os
import pkgutil
import re
from io import StringIO
from pathlib import Path

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DataError, connection
from django.forms.formsets import BaseFormSet
from django.test import Client
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

APPS = ("portal", "hospitals", "filings", "settlement")
SKIPPED_PACKAGES = {"migrations", "management", "settings"}
ROOT = Path(__file__).resolve().parents[2]
FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
VIEW_FUZZ = settings(FUZZ, max_examples=50)

INSURED = "chenming"  # employee scheme, Shenyang
RESIDENT = "zhangwei"  # residents' scheme, Daxinganling
CLERK = "hosp_h23010300001"


# --- discovery --------------------------------------------------------------------------------


def _discover() -> tuple[dict[str, type], list[str]]:
    """Every form and formset class of the project's own modules, by dotted name; and the
    modules that failed to import."""
    found: dict[str, type] = {}
    failed: list[str] = []
    seen: set[type] = set()
    for app in APPS:
        package = importlib.import_module(app)
        modules = [package.__name__] + [
            info.name
            for info in pkgutil.walk_packages(package.__path__, prefix=f"{app}.")
            if not SKIPPED_PACKAGES & set(info.name.split("."))
        ]
        for name in modules:
            try:
                module = importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - reported by the discovery test
                failed.append(f"{name}: {exc!r}")
                continue
            for attr, obj in sorted(vars(module).items()):
                if not inspect.isclass(obj) or obj in seen:
                    continue
                if issubclass(obj, forms.BaseForm) and obj.__module__.startswith(APPS):
                    seen.add(obj)
                    found[f"{obj.__module__}.{obj.__qualname__}"] = obj
                elif (
                    issubclass(obj, BaseFormSet)
                    and getattr(obj, "form", None) is not None
                    and obj.form.__module__.startswith(APPS)
                ):
                    # formset_factory's classes live in django.forms.formsets: name them where
                    # their form is defined.
                    seen.add(obj)
                    found[f"{obj.form.__module__}.{attr}"] = obj
    return dict(sorted(found.items())), failed


FORMS, IMPORT_FAILURES = _discover()

CLASS_LINE = re.compile(r"^class (\w+)\((?:[\w.]*\.)?\w*Form\)", re.MULTILINE)
FORMSET_LINE = re.compile(r"^(\w+) = (?:forms\.)?\w*formset_factory\(", re.MULTILINE)


def _grepped() -> list[str]:
    """Form and formset classes as a plain search of the sources finds them, by dotted name."""
    names: list[str] = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if SKIPPED_PACKAGES & set(parts):
                continue
            module = ".".join(p for p in parts if p != "__init__")
            text = path.read_text(encoding="utf-8")
            names += [f"{module}.{name}" for name in CLASS_LINE.findall(text)]
            names += [f"{module}.{name}" for name in FORMSET_LINE.findall(text)]
    return names


# --- construction -----------------------------------------------------------------------------

FILING_TYPES = ["long_term", "temporary", "emergency", "chronic_outpatient", "referral"]


def _filing_variants() -> dict:
    """Each type for an employee; the long-term form also for a resident (who gives the payment
    record) and as a draft (nothing but the place required), a referral also as a draft."""
    variants = {t: (t, INSURED, False) for t in FILING_TYPES}
    variants.update(
        {
            "long_term-resident": ("long_term", RESIDENT, False),
            "long_term-draft": ("long_term", INSURED, True),
            "referral-draft": ("referral", INSURED, True),
        }
    )
    return {
        key: lambda world, t=t, u=u, d=d: {
            "filing_type": t,
            "person": world[u].insured,
            "draft": d,
        }
        for key, (t, u, d) in variants.items()
    }


# Forms whose constructor needs keyword arguments: dotted name → {variant: world → kwargs}.
CONSTRUCTORS = {
    "filings.forms.FilingForm": _filing_variants(),
    "settlement.forms.ClaimForm": {
        "submit": lambda world: {"require_documents": True},
        "estimate": lambda world: {"require_documents": False},
        "documents kept": lambda world: {
            "require_documents": True,
            "kept_kinds": {"invoice", "discharge_summary"},
        },
    },
    "settlement.forms.ResubmitForm": {
        "": lambda world: {},
        "documents kept": lambda world: {"kept": 2},
    },
    "hospitals.admin.ClerkInvitationForm": {
        "": lambda world: {"hospitals": _hospitals()},
    },
    # allauth's TOTP forms, worded by the portal: the code is checked against a staff user's.
    "portal.mfa_forms.PortalAuthenticateForm": {"": lambda world: {"user": world["agency_dxal"]}},
    "portal.mfa_forms.PortalReauthenticateForm": {"": lambda world: {"user": world["agency_dxal"]}},
}
NO_KWARGS = {"": lambda world: {}}


def _hospitals():
    from hospitals.models import Hospital

    return Hospital.objects.order_by("code")


CASES = [
    pytest.param(name, variant, id=f"{name}[{variant}]" if variant else name)
    for name in FORMS
    for variant in CONSTRUCTORS.get(name, NO_KWARGS)
]


def _make(name: str, variant: str, world):
    cls = FORMS[name]
    kwargs = CONSTRUCTORS.get(name, NO_KWARGS)[variant](world)
    try:
        cls(**kwargs)
    except TypeError as exc:
        pytest.fail(
            f"{name} cannot be built with {sorted(kwargs)}: add its keyword arguments to "
            f"CONSTRUCTORS in {Path(__file__).name} ({exc})"
        )
    return lambda data, files: cls(data, files, **kwargs)


# --- strategies -------------------------------------------------------------------------------

TRICKY = [
    "",
    " ",
    "\x00",
    "\t\r\n",
    "0",
    "-1",
    "1",
    "-0",
    "0.001",
    "1,000.50",
    "NaN",
    "sNaN",
    "-Infinity",
    "Infinity",
    "1e999999999",
    "1E-999999999",
    "9" * 40,
    "²",
    "١٢٣",
    "𝟙𝟚𝟛",
    "2024-02-30",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "99999-01-01",
    "31/12/2024",
    "210103198512010131",  # a demo person's ID number
    "21010319851201013x",
    "２１０１０３１９８５１２０１０１３１",
    "210103١٩٨٥١٢٠١٠١٣١",
    "on",
    "false",
    "None",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "%s%(x)s{0}",
    "\u202e\ufeff\u200b",
]
long_text = st.text(max_size=25).map(lambda s: (s * 5000)[:5000] if s else "")
# Hypothesis seldom draws a NUL or a line break by itself: put one in on purpose.
SPECIAL = ["\x00", "\x00", "\r\n", "\x1b[0m", "\u202e", "\ufeff", "\x7f"]
with_special = st.tuples(st.text(max_size=20), st.sampled_from(SPECIAL), st.text(max_size=20)).map(
    "".join
)
arbitrary = st.one_of(st.text(max_size=5000), long_text, with_special, st.sampled_from(TRICKY))


def _plausible(field: forms.Field) -> list[str]:
    """Values this field could accept, so the form's own clean methods run too."""
    values: list[str] = []
    if isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
        for value, label in field.choices:
            if isinstance(label, list | tuple):  # an optgroup
                values.extend(str(v) for v, _label in label)
            else:
                values.append(str(value))
    elif isinstance(field, forms.DateField):
        today = datetime.date.today()
        values = [str(today), str(today - datetime.timedelta(days=40)), "2000-01-01"]
    elif isinstance(field, forms.DecimalField | forms.IntegerField):
        values = ["1", "30", "1000.00", "99999999.99", "10000"]
    elif isinstance(field, forms.BooleanField):
        values = ["on"]
    return values[:30]


def _value(field: forms.Field | None):
    plausible = _plausible(field) if field is not None else []
    return st.one_of(arbitrary, st.sampled_from(plausible)) if plausible else arbitrary


def _bill_cell():
    return st.one_of(
        st.sampled_from(["A", "b", "C", "D", "acute", "chronic", "special", "1", "30"]),
        st.sampled_from(TRICKY),
        st.text(max_size=30),
    )


bill_csv = st.lists(st.lists(_bill_cell(), max_size=7), max_size=6).map(
    lambda rows: "\n".join(",".join(row) for row in rows)
)
file_content = st.one_of(
    st.text(max_size=5000).map(lambda s: s.encode("utf-8")),
    bill_csv.map(lambda s: s.encode("utf-8")),
    bill_csv.map(lambda s: s.encode("gb18030", errors="replace")),
    st.binary(max_size=2000),
    st.sampled_from([b"PK\x03\x04broken", b"%PDF-1.4\n"]),
    # one field over the csv module's limit of 131072 characters
    st.just(140_000).map(lambda n: b"x" * n + b",y,A,1\n"),
)
file_name = st.one_of(
    st.sampled_from(["bill.csv", "bill.xlsx", "scan.pdf", "photo.jpg", "x"]),
    # an uploaded file's name is never empty, "." or ".." (Django refuses those itself)
    st.text(max_size=50).map(lambda s: "x" if os.path.basename(s) in {"", ".", ".."} else s),
)


def uploads(names=file_name):
    return st.builds(SimpleUploadedFile, name=names, content=file_content)


def form_payload(fields: dict[str, forms.Field], prefix: str = "", files=True):
    """(data, files) with zero to two values per field; files for the file fields."""
    data_parts = {}
    file_parts = {}
    for name, field in fields.items():
        key = f"{prefix}{name}"
        data_parts[key] = st.lists(_value(field), max_size=2)
        if files and isinstance(field, forms.FileField):
            file_parts[key] = st.lists(uploads(), max_size=2)
    return st.tuples(st.fixed_dictionaries(data_parts), st.fixed_dictionaries(file_parts))


def formset_payload(formset_class, prefix: str):
    form = formset_class.form()
    management = {
        f"{prefix}-{key}": st.lists(
            st.one_of(
                arbitrary,
                st.sampled_from(["0", "1", "2", "3", "500", "501", "99999999", "-1"]),
            ),
            max_size=2,
        )
        for key in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")
    }
    per_form = [form_payload(form.fields, f"{prefix}-{i}-", files=False) for i in range(3)]

    def merge(parts):
        management_data, forms_data = parts
        data = dict(management_data)
        for form_data, _files in forms_data:
            data.update(form_data)
        return data

    return st.tuples(st.fixed_dictionaries(management), st.tuples(*per_form)).map(merge)


def _multi(values: dict) -> MultiValueDict:
    return MultiValueDict({k: list(v) for k, v in values.items() if v})


# --- the world --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The seeded demo (as the `demo` fixture seeds it), once for the module, rolled back at
    its end; each test runs in a savepoint inside it."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("seed_demo", "--no-history", stdout=StringIO())
            yield {u.username: u for u in get_user_model().objects.all()}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _refuse_nul(execute, sql, params, many, context):
    """PostgreSQL (psycopg) refuses a NUL character in a text parameter: so do we."""
    rows = params if many else [params]
    for row in rows or []:
        values = row.values() if isinstance(row, dict) else (row or ())
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
    return execute(sql, params, many, context)


@pytest.fixture
def pg_like(world, db):
    with connection.execute_wrapper(_refuse_nul):
        yield world


# --- discovery and coverage -------------------------------------------------------------------


def test_discovery_is_real():
    assert not IMPORT_FAILURES, "project modules failed to import: " + "; ".join(IMPORT_FAILURES)
    assert FORMS, "no form found in the project's modules"
    grepped = _grepped()
    assert set(grepped) <= set(FORMS), (
        f"in the sources, not discovered: {set(grepped) - set(FORMS)}"
    )
    assert len(FORMS) >= len(grepped) >= 20, (len(FORMS), grepped)
    assert "settlement.forms.ItemFormSet" in FORMS


def test_every_form_can_be_built(pg_like):
    """A form whose constructor needs arguments must have an entry in CONSTRUCTORS."""
    missing = []
    for name, cls in FORMS.items():
        for variant, kwargs in CONSTRUCTORS.get(name, NO_KWARGS).items():
            try:
                cls(data={}, **kwargs(pg_like))
            except TypeError as exc:
                missing.append(f"{name}[{variant}] ({exc})")
    assert not missing, (
        "forms that cannot be built: add their keyword arguments to CONSTRUCTORS in "
        f"{Path(__file__).name}: " + "; ".join(missing)
    )
    assert not set(CONSTRUCTORS) - set(FORMS), "CONSTRUCTORS names a form that no longer exists"


# --- forms ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,variant", CASES)
def test_form_accepts_arbitrary_text(pg_like, name, variant):
    cls = FORMS[name]
    if issubclass(cls, BaseFormSet):
        payload = formset_payload(cls, cls.get_default_prefix())

        @FUZZ
        @given(data=payload)
        def run(data):
            formset = cls(_multi(data))
            formset.is_valid()
            assert isinstance(formset.errors, list)
            formset.non_form_errors()

        run()
        return

    make = _make(name, variant, pg_like)
    payload = form_payload(make(None, None).fields)

    @FUZZ
    @given(payload=payload)
    def run(payload):
        data, files = payload
        form = make(_multi(data), _multi(files))
        form.is_valid()
        assert isinstance(form.errors, dict)

    # allauth's forms (the TOTP step) read the request being served, as its middleware sets it.
    from allauth.core import context as allauth_context
    from django.test import RequestFactory

    with allauth_context.request_context(RequestFactory().post("/")):
        run()


# --- views ------------------------------------------------------------------------------------


def _client(user=None) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def _assert_no_server_error(response, method: str, path: str):
    exc = getattr(response, "exc_info", None)
    assert response.status_code < 500, f"{method} {path}: {response.status_code} {exc and exc[1]!r}"


@pytest.mark.parametrize("filing_type", FILING_TYPES)
def test_filing_form_view(pg_like, filing_type):
    from filings.forms import FilingForm

    user = pg_like[INSURED]
    path = f"/filings/new/{filing_type}/"
    fields = FilingForm(filing_type=filing_type, person=user.insured).fields
    button = st.sampled_from([{"submit": [""]}, {"draft": ["1"]}, {}])
    extra = st.fixed_dictionaries({"discard": st.lists(arbitrary, max_size=2)})
    client = _client(user)

    @VIEW_FUZZ
    @given(payload=form_payload(fields), button=button, extra=extra)
    def run(payload, button, extra):
        data, files = payload
        body = {**data, **extra, **button}
        for key, values in files.items():
            body[key] = [*body.get(key, []), *values]
        _assert_no_server_error(client.post(path, body), "POST", path)

    run()


def test_claim_view(pg_like):
    from settlement.forms import ClaimForm, ItemFormSet

    path = "/settlement/claims/new/"
    client = _client(pg_like[INSURED])
    fields = ClaimForm(require_documents=True).fields
    bill = st.lists(
        st.builds(
            SimpleUploadedFile, name=st.sampled_from(["bill.csv", "b.xlsx"]), content=file_content
        ),
        max_size=1,
    )
    button = st.sampled_from([{"submit": ["1"]}, {"estimate": ["1"]}, {}])

    @VIEW_FUZZ
    @given(
        payload=form_payload(fields),
        items=formset_payload(ItemFormSet, "items"),
        bill=bill,
        button=button,
    )
    def run(payload, items, bill, button):
        data, files = payload
        body = {**data, **items, **button}
        for key, values in files.items():
            body[key] = [*body.get(key, []), *values]
        if bill:
            body["bill_file"] = bill
        _assert_no_server_error(client.post(path, body), "POST", path)

    run()


def test_estimate_view(pg_like):
    from settlement.views import EstimateForm

    path = "/settlement/estimate/"
    client = _client(pg_like[INSURED])

    @VIEW_FUZZ
    @given(payload=form_payload(EstimateForm().fields, files=False))
    def run(payload):
        data, _files = payload
        _assert_no_server_error(client.get(path, data), "GET", path)

    run()


def test_eligibility_check_view(pg_like):
    from hospitals.eligibility_views import EligibilityForm

    path = "/hospitals/check/"
    client = _client(pg_like[CLERK])

    @VIEW_FUZZ
    @given(payload=form_payload(EligibilityForm().fields, files=False))
    def run(payload):
        data, _files = payload
        _assert_no_server_error(client.post(path, data), "POST", path)

    run()


def test_referral_view(pg_like):
    from hospitals.referral_views import ReferralForm

    path = "/hospitals/referrals/"
    client = _client(pg_like[CLERK])

    @VIEW_FUZZ
    @given(payload=form_payload(ReferralForm().fields, files=False))
    def run(payload):
        data, _files = payload
        _assert_no_server_error(client.post(path, data), "POST", path)

    run()


DIRECTORY_PARAMS = {
    "q": ["哈尔滨", "hyd", "H23010300001", "harbin"],
    "region": ["230100", "210100"],
    "province": ["230000", "黑龙江省"],
    "level": ["1", "2", "3"],
    "kind": ["general", "tcm"],
    "ownership": ["public", "private"],
    "service": ["inpatient", "general_outpatient", "__class__"],
    "resettlement": ["1", "on"],
    "sort": ["code", "name", "level", "region", "-pk"],
    "page": ["1", "2", "last", "0"],
    "page_size": ["1", "100", "101", "0"],
}


def test_directory_view(pg_like):
    path = "/hospitals/"
    client = _client()
    query = st.fixed_dictionaries(
        {
            key: st.lists(st.one_of(arbitrary, st.sampled_from(values)), max_size=2)
            for key, values in DIRECTORY_PARAMS.items()
        }
    )

    @VIEW_FUZZ
    @given(params=query)
    def run(params):
        _assert_no_server_error(client.get(path, params), "GET", path)

    run()
