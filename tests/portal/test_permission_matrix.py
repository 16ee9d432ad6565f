"""One access-control matrix for every URL of the project and every API operation.

Each URL pattern is requested as anonymous, insured persons A and B, agency staff of regions X
and Y, hospital staff of H1 and H2, an API key of H1 and of H2 and a superuser, against objects
owned by each. `TABLE` says who may: any 2xx outside it fails, and where existence itself is
personal data the others get 404, not 403. A URL pattern without an entry fails the test.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from filings import documents
from filings.models import Filing, Material
from hospitals import auth
from hospitals.eligibility_selectors import clear_caches
from hospitals.models import Hospital
from hospitals.services import api_key_create
from portal.models import InsuredPerson, Region
from settlement import services as settlement_services
from settlement.models import ClearingStatement
from tests.checked_files import checked
from tests.filings.corpus import _jpeg, _pdf, _png

pytestmark = pytest.mark.django_db

ANON, A, B, X, Y, H1, H2, K1, K2, SU = (
    "anonymous",
    "insured_a",
    "insured_b",
    "agency_x",
    "agency_y",
    "hospital_h1",
    "hospital_h2",
    "key_h1",
    "key_h2",
    "superuser",
)
ACTORS = [ANON, A, B, X, Y, H1, H2, K1, K2, SU]
EVERYONE = set(ACTORS)
SESSIONS = EVERYONE - {ANON, K1, K2}
INSURED = {A, B}
AGENCY = {X, Y, SU}
HOSPITAL_STAFF = {H1, H2}
KEYS = {K1, K2}
# Which actors own (or are the agency of) each object owner.
OWNED_BY = {
    "a": {A, X, SU},  # person A is insured in region X
    "b": {B, Y, SU},
    "h1": {H1, SU},
    "h2": {H2, SU},
    "k1": {K1},  # through the API, a hospital is its key
    "k2": {K2},
    "x": {X, SU},
    "y": {Y, SU},
}


@dataclass(frozen=True)
class Rule:
    allowed: frozenset | None = None  # who may, for URLs without an object
    owners: tuple[str, ...] = ()  # object URLs: one case per owner
    only: frozenset | None = None  # object URLs: who of OWNED_BY[owner] may (None: all of them)
    method: str = "get"
    personal: bool = False  # existence is personal data: others get 404, not 403
    success: tuple[int, ...] = (200,)


def R(allowed, **kw) -> Rule:
    return Rule(allowed=frozenset(allowed), **kw)


def Obj(*owners, only=None, **kw) -> Rule:
    return Rule(owners=owners, only=frozenset(only) if only else None, **kw)


# Exports answer, or first ask for a recent re-authentication (a redirect).
EXPORT = (200, 302)

# The table: URL name → who may. Admin and account URLs are covered by the rules below it.
TABLE: dict[str, Rule] = {
    "home": R(EVERYONE),
    "healthz": R(EVERYONE),
    "notifications": R(SESSIONS),
    "keep-alive": R(SESSIONS, method="post", success=(204,)),
    "set_language": R(EVERYONE, method="post", success=(302,)),
    "eligibility-check": R(HOSPITAL_STAFF),
    "referrals": R(HOSPITAL_STAFF),
    "referral-detail": Obj("h1", "h2", only={H1, H2}, personal=True),
    # The receiving hospital records the start of treatment (an empty form: the list again,
    # with the error).
    "referral-start-treatment": Obj("h1", "h2", only={H1, H2}, personal=True, method="post"),
    "referral-follow-up": Obj("h1", "h2", only={H1, H2}, personal=True, method="post"),
    "hospital-settlements": R(HOSPITAL_STAFF),
    "hospital-settlements-csv": R(HOSPITAL_STAFF, success=EXPORT),
    "hospital-settlement": Obj("h1", "h2", only={H1, H2}, personal=True),
    "hospitals:directory": R(EVERYONE),
    "hospitals:home": R(HOSPITAL_STAFF),
    "hospitals:detail": R(EVERYONE),
    "verify-page": R(EVERYONE),
    "document-download": Obj("a", "b", personal=True),
    "filings:list": R(INSURED),
    "filings:new": R(INSURED),
    "filings:material": Obj("a", "b", personal=True),
    "filings:material-preview": Obj("a", "b", personal=True),
    # Only the person takes a material back (their filings here are approved: refused, 302).
    "filings:material-remove": Obj(
        "a", "b", only={A, B}, personal=True, method="post", success=(302,)
    ),
    "filings:detail": Obj("a", "b", only={A, B}, personal=True),
    "filings:edit": Obj("a", "b", only={A, B}, personal=True, success=(200, 302)),
    "settlement:estimate": R(INSURED),
    "settlement:settlements": R(INSURED),
    "settlement:claims": R(INSURED),
    "settlement:claim-new": R(INSURED),
    "settlement:claim-detail": Obj("a", "b", only={A, B}, personal=True),
    "settlement:claim-resubmit": Obj("a", "b", only={A, B}, personal=True, success=(302,)),
    "settlement:claim-document": Obj("a", "b", personal=True),
    "settlement:statement-csv": Obj("x", "y", success=EXPORT),
    "settlement:statement-pdf": Obj("x", "y", success=EXPORT),
    "settlement:dashboard": R({X, Y, SU}),
    "settlement:dashboard-csv": R({X, Y, SU}, success=EXPORT),
    "api-eligibility": R(KEYS, method="post"),
    "api-verify": R(EVERYONE),
    "api-hospitals": R(EVERYONE),
    "api-fhir": R(KEYS, method="post"),
    "api-settlements": R(KEYS, method="post", success=(201,)),
    "api-settlement": Obj("k1", "k2", personal=True),
    "schema": R(EVERYONE),
    "api-docs": R(EVERYONE),
}
# Sign-in, sign-up, password and authenticator pages act on the requester alone.
AUTH_PREFIXES = ("account_", "mfa_", "usersessions_")


def _walk(patterns, ns=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
            yield from _walk(p.url_patterns, inner)
        elif isinstance(p, URLPattern) and p.name:
            yield (f"{ns}:{p.name}" if ns else p.name), p


def project_urls() -> dict[str, URLPattern]:
    return dict(_walk(get_resolver().url_patterns))


def test_every_url_of_the_project_has_an_entry_in_the_table():
    missing = [
        name
        for name in project_urls()
        if name not in TABLE
        and not name.startswith("admin:")
        and not name.startswith(AUTH_PREFIXES)
    ]
    assert not missing, f"URLs without an access rule: {missing}"
    stale = [name for name in TABLE if name not in project_urls()]
    assert not stale, f"rules for URLs that no longer exist: {stale}"


def test_the_table_fails_when_an_entry_is_removed(monkeypatch):
    """The completeness check is real: dropping any entry makes it fail."""
    for name in ["settlement:claim-detail", "api-settlement", "filings:material"]:
        monkeypatch.delitem(TABLE, name)
        with pytest.raises(AssertionError, match=name):
            test_every_url_of_the_project_has_an_entry_in_the_table()
        monkeypatch.undo()


# --- the world the matrix runs in -----------------------------------------------------------


@pytest.fixture
def world(demo, settings, monkeypatch):
    # Who may download is the question here, not the rendering: answer "being prepared" (202)
    # at once instead of waiting for a worker.
    monkeypatch.setattr("filings.document_views.WAIT_SECONDS", 0)
    clear_caches()
    auth.keys.clear()
    users = {
        A: demo["wangxiulan"],
        B: demo["lijianguo"],
        X: demo["agency_dxal"],
        Y: demo["agency_shenyang"],
        H1: demo["hosp_h23010300001"],
        H2: demo["hosp_h46020000002"],
        SU: demo["admin"],
    }
    h1 = Hospital.objects.get(code="H23010300001")
    h2 = Hospital.objects.get(code="H46020000002")
    keys = {K1: api_key_create(hospital=h1)[1], K2: api_key_create(hospital=h2)[1]}
    wang = InsuredPerson.objects.get(name="王秀兰")
    li = InsuredPerson.objects.get(name="李建国")
    filing_a = Filing.objects.get(person=wang, type="long_term")
    filing_b = Filing.objects.get(person=li, type="long_term")
    # Referrals issued by H1 and by H2 (the demo's is issued in Daxinganling).
    zhang = Filing.objects.get(person__name="张伟", type="referral")
    referral_h2 = Filing.objects.get(person__name="赵丽", type="referral")
    Filing.objects.filter(pk=zhang.pk).update(issuing_hospital=h1)
    Filing.objects.filter(pk=referral_h2.pk).update(issuing_hospital=h2, receiving_hospital=h2)

    def material(filing):
        from filings import uploads

        scan = checked("scan.png", _png())
        stored = uploads.store(scan, settings.PRIVATE_MEDIA_ROOT)
        return Material.objects.create(
            filing=filing,
            kind="id_copy",
            stored_name=stored,
            original_name="scan.png",
            content_type=scan.content_type,
            size=len(scan.content),
        )

    def claim(person, hospital):

        docs = [
            (kind, checked(name, data))
            for kind, name, data in [
                ("discharge_summary", "s.pdf", _pdf()),
                ("invoice", "i.jpg", _jpeg()),
                ("itemised_list", "l.png", _png()),
                ("medical_record", "r.pdf", _pdf()),
            ]
        ]
        today = timezone.localdate()
        made = settlement_services.claim_submit(
            person=person,
            actor=person.user,
            hospital=hospital,
            care_type="inpatient",
            admitted_on=today - datetime.timedelta(days=9),
            discharged_on=today - datetime.timedelta(days=3),
            items=[{"code": "X1", "name": "住院费", "class": "A", "amount": "1000.00"}],
            documents=docs,
        )
        settlement_services.claim_return(claim=made, actor=None, reason="补充材料")
        return made

    def settlement(hospital, who, **visit):
        today = timezone.localdate()
        return settlement_services.settle(
            hospital_id=hospital.pk,
            api_key_id=None,
            payload={
                "id_number": who[0],
                "name": who[1],
                "visit": {
                    "care_type": "inpatient",
                    "admitted_on": today - datetime.timedelta(days=2),
                    "discharged_on": today,
                    **visit,
                },
                "items": [{"code": "X1", "name": "住院费", "class": "A", "amount": "5000.00"}],
            },
        ).settlement

    settlement(h1, ("210102196208050352", "李建国"))  # one in region Y too, for the admin
    claim_a = claim(wang, h2)
    claim_b = claim(li, Hospital.objects.get(code="H23010300001"))

    def statement(treatment, insured):
        return ClearingStatement.objects.create(
            number=f"QS-TEST-{treatment}-{insured}",
            period=timezone.localdate().replace(day=1),
            treatment_region=Region.objects.get(code=treatment),
            insured_region=Region.objects.get(code=insured),
            status="draft",
            settlement_count=0,
            total=Decimal("0"),
            fund_pay=Decimal("0"),
            person_pay=Decimal("0"),
        )

    objects = {
        "referral-detail": {"h1": {"number": zhang.number}, "h2": {"number": referral_h2.number}},
        "referral-start-treatment": {
            "h1": {"number": zhang.number},  # to H1's hospital
            "h2": {"number": referral_h2.number},
        },
        "referral-follow-up": {
            "h1": {"number": zhang.number},
            "h2": {"number": referral_h2.number},
        },
        "document-download": {
            "a": {"number": filing_a.number, "kind": "certificate"},
            "b": {"number": filing_b.number, "kind": "certificate"},
        },
        "filings:material": {
            "a": {"pk": material(filing_a).pk},
            "b": {"pk": material(filing_b).pk},
        },
        "filings:detail": {"a": {"number": filing_a.number}, "b": {"number": filing_b.number}},
        "filings:edit": {"a": {"number": filing_a.number}, "b": {"number": filing_b.number}},
        "settlement:claim-detail": {
            "a": {"number": claim_a.number},
            "b": {"number": claim_b.number},
        },
        "settlement:claim-resubmit": {
            "a": {"number": claim_a.number},
            "b": {"number": claim_b.number},
        },
        "settlement:claim-document": {
            "a": {"number": claim_a.number, "pk": claim_a.documents.first().pk},
            "b": {"number": claim_b.number, "pk": claim_b.documents.first().pk},
        },
        "settlement:statement-csv": {
            "x": {"number": statement("460200", "232700").number},
            "y": {"number": statement("210200", "210100").number},
        },
        "api-settlement": {
            # An emergency (no filing covers H1 for her): a stay under 张伟's referral would
            # start his course, and the world needs its start form.
            "k1": {
                "number": settlement(h1, ("232701195603120223", "王秀兰"), emergency=True).number
            },
            "k2": {"number": settlement(h2, ("232701195603120223", "王秀兰")).number},
        },
    }
    objects["hospital-settlement"] = {"h1": objects["api-settlement"]["k1"]}
    objects["hospital-settlement"]["h2"] = objects["api-settlement"]["k2"]
    objects["filings:material-preview"] = objects["filings:material"]
    objects["filings:material-remove"] = objects["filings:material"]
    objects["settlement:statement-pdf"] = objects["settlement:statement-csv"]
    token = documents.make_token("certificate", filing_a.number)
    kwargs = {
        "hospitals:detail": {"code": "H23010300001"},
        "verify-page": {"token": token},
        "api-verify": {"token": token},
        "filings:new": {"filing_type": "temporary"},
        "settlement:dashboard-csv": {"chart": _a_chart()},
    }
    return {"users": users, "keys": keys, "objects": objects, "kwargs": kwargs}


def _a_chart() -> str:
    from settlement import stats

    return sorted(stats.CHART_SLUGS)[0]


def _client(world, actor) -> Client:
    client = Client()
    if actor in world["users"]:
        client.force_login(world["users"][actor])
    return client


def _headers(world, actor) -> dict:
    if actor in world["keys"]:
        return {"HTTP_AUTHORIZATION": f"Bearer {world['keys'][actor]}"}
    return {}


BODIES = {
    "api-eligibility": {
        "id_number": "232701195603120223",
        "name": "王秀兰",
        "care_type": "inpatient",
    },
    "api-settlements": {
        "id_number": "232701195603120223",
        "name": "王秀兰",
        "visit": {"care_type": "inpatient", "admitted_on": "", "discharged_on": ""},
        "items": [{"code": "X1", "name": "住院费", "class": "A", "amount": "100.00"}],
    },
    "api-fhir": None,  # built in _body
}


def _body(name: str, actor: str = "") -> dict | None:
    today = timezone.localdate().isoformat()
    if name == "api-settlements":
        body = {**BODIES[name], "visit": {"care_type": "inpatient"}}
        if actor == K1:  # 张伟's referral names H1
            body.update(id_number="232721197811200177", name="张伟")
        body["visit"].update(admitted_on=today, discharged_on=today)
        return body
    if name == "api-fhir":
        from tests.hospitals.test_fhir import fhir_request

        return fhir_request()
    return BODIES.get(name)


def _request(client, rule: Rule, url: str, headers: dict, name: str, actor: str = ""):
    if rule.method == "post":
        if name == "set_language":
            return client.post(url, {"language": "en", "next": "/"}, **headers)
        return client.post(
            url, _body(name, actor) or {}, content_type="application/json", **headers
        )
    return client.get(url, **headers)


def test_the_matrix_has_no_unexpected_2xx_and_hides_personal_objects(world):
    urls = project_urls()
    problems: list[str] = []
    for name, rule in TABLE.items():
        cases: list[tuple[str, dict, frozenset]] = []
        if rule.owners:
            for owner in rule.owners:
                allowed = OWNED_BY[owner] & (rule.only or EVERYONE)
                cases.append((owner, world["objects"][name][owner], frozenset(allowed)))
        else:
            cases.append(("", world["kwargs"].get(name, {}), rule.allowed))
        assert name in urls
        for owner, kwargs, allowed in cases:
            url = reverse(name, kwargs=kwargs)
            for actor in ACTORS:
                client = _client(world, actor)
                response = _request(client, rule, url, _headers(world, actor), name, actor)
                code = response.status_code
                label = f"{name}[{owner}] as {actor}: {code}"
                if code == 422:
                    label += f" {response.content.decode()[:300]}"
                if actor in allowed:
                    if code not in rule.success and not (rule.success == (200,) and code == 202):
                        problems.append(f"expected success, got {label}")
                elif 200 <= code < 300:
                    problems.append(f"UNEXPECTED 2xx {label}")
                elif rule.personal and actor in (KEYS if url.startswith("/api/") else SESSIONS):
                    # Signed in, but not theirs: the object does not exist for them.
                    if code != 404:
                        problems.append(f"expected 404, got {label}")
    assert not problems, "\n".join(problems)


# --- the admin ----------------------------------------------------------------------------


def _admin_changelists() -> list[str]:
    return sorted(
        name
        for name in project_urls()
        if name.startswith("admin:") and name.endswith("_changelist")
    )


# Accounts, groups, lockouts and authenticators: superusers only (agency staff get 403).
ADMIN_SUPERUSER_ONLY = {
    "admin:account_emailaddress_changelist",
    "admin:auth_group_changelist",
    "admin:auth_user_changelist",
    "admin:axes_accessattempt_changelist",
    "admin:axes_accessfailurelog_changelist",
    "admin:axes_accesslog_changelist",
    "admin:mfa_authenticator_changelist",
}


def test_admin_is_only_for_agency_staff_and_superusers(world):
    problems = []
    for name in ["admin:index", *_admin_changelists()]:
        url = reverse(name)
        for actor in ACTORS:
            code = _client(world, actor).get(url, **_headers(world, actor)).status_code
            if actor in {X, Y} and name in ADMIN_SUPERUSER_ONLY:
                if code != 403:
                    problems.append(f"{name} as {actor}: {code}, expected 403")
            elif actor in AGENCY:
                if code != 200:
                    problems.append(f"{name} as {actor}: {code}, expected 200")
            elif 200 <= code < 300:
                problems.append(f"UNEXPECTED 2xx {name} as {actor}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "model", ["filings_filing", "settlement_claim", "settlement_settlement", "filings_material"]
)
def test_admin_objects_of_another_region_answer_404(world, model):
    from django.apps import apps

    Model = apps.get_model(*model.split("_", 1))
    field = {
        "filings_filing": "insured_region__code",
        "settlement_claim": "insured_region__code",
        "settlement_settlement": "insured_region__code",
        "filings_material": "filing__insured_region__code",
    }[model]
    own = {X: "232700", Y: "210100"}
    for actor, region in own.items():
        client = _client(world, actor)
        mine = Model.objects.filter(**{field: region}).first()
        theirs = Model.objects.exclude(**{field: region}).first()
        assert mine is not None and theirs is not None
        assert client.get(reverse(f"admin:{model}_change", args=[mine.pk])).status_code == 200
        response = client.get(reverse(f"admin:{model}_change", args=[theirs.pk]))
        assert response.status_code == 404, (model, actor)
