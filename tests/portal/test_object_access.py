"""Object-level access: one actor changing an id or a number (in a URL, a form field, a query
string or a JSON body) to reach another actor's object is refused and changes nothing.

test_permission_matrix.py checks who may reach each URL name; here each view that takes an
object identifier is tried across actors: insured person A against B's filings, materials,
PDFs and claims; hospital staff of H1 against H2's referrals; the API key of H1 against H2's
settlements; agency staff of one region posting admin actions with another region's ids; a
public verification token against another document. Where the code answers 404 for "not
yours" (existence is personal data) that is what is asserted, else 403.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from filings import documents
from filings.models import Filing, Material
from hospitals.models import AccessLog, ApiKey, Hospital
from hospitals.services import api_key_create
from portal.models import AuditEvent, InsuredPerson, Notification
from settlement.models import (
    Claim,
    ClaimDocument,
    ClearingDiscrepancy,
    ClearingStatement,
    Settlement,
)
from tests.filings.corpus import _pdf, _png
from tests.portal import test_permission_matrix as matrix
from tests.signin import staff_login

pytestmark = pytest.mark.django_db

A, B, X, Y, H1, H2, K1, K2 = (
    matrix.A,
    matrix.B,
    matrix.X,
    matrix.Y,
    matrix.H1,
    matrix.H2,
    matrix.K1,
    matrix.K2,
)
# The matrix's world: persons A (王秀兰, 232700) and B (李建国, 210100), agency staff X (232700)
# and Y (210100), hospital staff and API keys of H1 (H23010300001) and H2 (H46020000002), with a
# material, a claim, a referral and a statement owned by each side.
world = matrix.world


def client_of(world, actor: str) -> Client:
    """The matrix's client; agency staff sign in for real (password and TOTP, once a test), so
    the admin's sensitive actions and the exports run instead of asking to re-authenticate."""
    if actor not in (X, Y):
        return matrix._client(world, actor)
    clients = world.setdefault("signed_in", {})
    if actor not in clients:
        clients[actor] = Client()
        staff_login(clients[actor], world["users"][actor].username)
    return clients[actor]


def _row(obj) -> dict:
    """Every column of the object as stored now."""
    return type(obj).objects.filter(pk=obj.pk).values().get()


def _counts() -> dict:
    return {
        "audit": AuditEvent.objects.count(),
        "materials": Material.objects.count(),
        "claim_documents": ClaimDocument.objects.count(),
        "notifications": Notification.objects.count(),
        "settlements": Settlement.objects.count(),
        "discrepancies": ClearingDiscrepancy.objects.count(),
        "access_log": AccessLog.objects.count(),
        "api_keys": ApiKey.objects.count(),
    }


def _filing(owner: str) -> Filing:
    name = {"a": "王秀兰", "b": "李建国"}[owner]
    return Filing.objects.get(person__name=name, type="long_term")


def _claim(world, owner: str) -> Claim:
    return Claim.objects.get(number=world["objects"]["settlement:claim-detail"][owner]["number"])


def _png_file(name: str = "scan.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, _png(), content_type="image/png")


def _bearer(world, actor: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {world['keys'][actor]}"}


# --- insured persons: B's objects seen and acted on by A ----------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "filings:detail",
        "filings:edit",
        "filings:material",
        "filings:material-preview",
        "document-download",
        "settlement:claim-detail",
        "settlement:claim-document",
    ],
)
def test_person_a_cannot_open_person_bs_objects(world, name):
    kwargs = world["objects"][name]["b"]
    response = client_of(world, A).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 404
    # B reaches the same object (202: a PDF still being prepared).
    assert client_of(world, B).get(reverse(name, kwargs=kwargs)).status_code in (200, 202, 302)


def test_a_claim_document_of_b_is_not_reached_through_as_own_claim_number(world):
    """The document's pk with the claimant's own claim number in the URL: still 404."""
    own = world["objects"]["settlement:claim-document"]["a"]["number"]
    theirs = world["objects"]["settlement:claim-document"]["b"]["pk"]
    url = reverse("settlement:claim-document", kwargs={"number": own, "pk": theirs})
    assert client_of(world, A).get(url).status_code == 404


@pytest.mark.parametrize(
    "post",
    [
        {"action": "cancel", "reason": "不去了"},
        {"action": "change", "what": "换医院"},
        {"action": "submit"},
        {"action": "upload", "kind": "id_copy"},
    ],
    ids=lambda p: p["action"],
)
def test_person_a_cannot_act_on_person_bs_filing(world, post):
    filing = _filing("b")
    before, counts = _row(filing), _counts()
    data = {**post}
    if post["action"] == "upload":
        data["files"] = _png_file()
    url = reverse("filings:detail", args=[filing.number])
    assert client_of(world, A).post(url, data).status_code == 404
    assert _row(filing) == before
    assert _counts() == counts


def test_the_owner_can_upload_to_the_same_filing(world):
    """The control for the refusal above: the same request from B adds the material (another
    scan than the world's one: the same file again is refused as already attached)."""
    filing = _filing("b")
    url = reverse("filings:detail", args=[filing.number])
    other = SimpleUploadedFile("scan.png", _png(size=(41, 30)), content_type="image/png")
    response = client_of(world, B).post(
        url, {"action": "upload", "kind": "id_copy", "files": other}
    )
    assert response.status_code == 302
    assert filing.materials.count() == 2  # the world's one and this one


def test_person_a_cannot_edit_or_resubmit_person_bs_returned_filing(world):
    filing = _filing("b")
    Filing.objects.filter(pk=filing.pk).update(status="returned")
    before, counts = _row(filing), _counts()
    url = reverse("filings:edit", args=[filing.number])
    client = client_of(world, A)
    assert client.get(url).status_code == 404
    post = {"start_date": timezone.localdate().isoformat(), "draft": "1"}
    assert client.post(url, post).status_code == 404
    assert client.post(url, {**post, "files": _png_file()}).status_code == 404
    assert _row(filing) == before
    assert _counts() == counts


def test_person_a_cannot_resubmit_person_bs_claim(world):
    claim = _claim(world, "b")
    before, counts = _row(claim), _counts()
    url = reverse("settlement:claim-resubmit", args=[claim.number])
    response = client_of(world, A).post(
        url, {"documents": SimpleUploadedFile("more.pdf", _pdf(), content_type="application/pdf")}
    )
    assert response.status_code == 404
    assert _row(claim) == before
    assert _counts() == counts


def test_the_notifications_page_shows_and_marks_only_ones_own(world):
    a, b = world["users"][A], world["users"][B]
    mine = Notification.objects.create(user=a, subject="给王秀兰的通知")
    theirs = Notification.objects.create(user=b, subject="给李建国的通知")
    page = client_of(world, A).get(reverse("notifications")).content.decode()
    assert mine.subject in page and theirs.subject not in page
    client_of(world, A).post(reverse("notifications"))  # "Mark all as read"
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None


# --- agency staff through the portal's own pages -------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "filings:material",
        "filings:material-preview",
        "document-download",
        "settlement:claim-document",
    ],
)
def test_agency_staff_cannot_open_another_regions_persons_objects(world, name):
    kwargs = world["objects"][name]["b"]  # B is insured in Y's region
    assert client_of(world, X).get(reverse(name, kwargs=kwargs)).status_code == 404
    assert client_of(world, Y).get(reverse(name, kwargs=kwargs)).status_code in (200, 202)


@pytest.mark.parametrize(
    ("name", "owner"),
    [
        ("filings:material", "a"),
        ("document-download", "a"),
        ("settlement:claim-document", "a"),
        ("settlement:statement-csv", "x"),
    ],
)
def test_agency_staff_without_staff_status_reach_nothing_of_their_region(world, name, owner):
    """A reviewer whose staff status was taken away (no admin any more) no longer reaches the
    region's objects by number: as the material and claim document views and the dashboard
    already answered."""
    user = world["users"][X]
    user.is_staff = False
    user.save(update_fields=["is_staff"])
    kwargs = world["objects"][name][owner]  # A is insured in X's region; "x" is X's statement
    assert client_of(world, X).get(reverse(name, kwargs=kwargs)).status_code == 404


def test_agency_staff_cannot_read_another_regions_clearing_statement(world):
    number = world["objects"]["settlement:statement-csv"]["y"]["number"]
    for name in ("settlement:statement-csv", "settlement:statement-pdf"):
        assert client_of(world, X).get(reverse(name, args=[number])).status_code == 404


def test_agency_staff_cannot_ask_the_dashboard_for_another_region(world):
    client = client_of(world, X)
    assert client.get(reverse("settlement:dashboard"), {"region": "210100"}).status_code == 404
    csv_url = reverse("settlement:dashboard-csv", args=[matrix._a_chart()])
    assert client.get(csv_url, {"region": "210100"}).status_code == 404
    assert client.get(reverse("settlement:dashboard"), {"region": "232700"}).status_code == 200


# --- hospital staff: referrals of another hospital ------------------------------------------


def _referrals(world) -> tuple[Filing, Filing]:
    """张伟's, issued by and to H1; 赵丽's, issued by and to H2 (as the world sets them)."""
    zhang = Filing.objects.get(number=world["objects"]["referral-detail"]["h1"]["number"])
    zhao = Filing.objects.get(number=world["objects"]["referral-detail"]["h2"]["number"])
    return zhang, zhao


def test_hospital_staff_cannot_open_another_hospitals_referral(world):
    zhang, zhao = _referrals(world)
    assert (
        client_of(world, H2).get(reverse("referral-detail", args=[zhang.number])).status_code == 404
    )
    assert (
        client_of(world, H1).get(reverse("referral-detail", args=[zhao.number])).status_code == 404
    )
    page = client_of(world, H2).get(reverse("referrals")).content.decode()
    assert zhang.number not in page


def test_hospital_staff_cannot_sign_another_hospitals_referral(world):
    zhang, _zhao = _referrals(world)
    Filing.objects.filter(pk=zhang.pk).update(
        status="draft", director_signed_by="", director_signed_at=None
    )
    before, counts = _row(zhang), _counts()
    url = reverse("referral-detail", args=[zhang.number])
    post = {"step": "director", "signer": "冒名主任"}
    assert client_of(world, H2).post(url, post).status_code == 404
    assert _row(zhang) == before
    assert _counts() == counts
    # The control: the issuing hospital signs.
    assert client_of(world, H1).post(url, post).status_code == 302
    zhang.refresh_from_db()
    assert zhang.director_signed_by == "冒名主任"


def test_only_the_receiving_hospital_starts_treatment(world):
    zhang, zhao = _referrals(world)
    h1 = Hospital.objects.get(code="H23010300001")
    h2 = Hospital.objects.get(code="H46020000002")
    # 赵丽's referral now issued by H1 to H2: the issuing hospital does not start it either.
    Filing.objects.filter(pk=zhao.pk).update(
        issuing_hospital=h1, receiving_hospital=h2, status="approved"
    )
    today = {"started_on": timezone.localdate().isoformat()}
    for actor, filing in [(H2, zhang), (H1, zhao)]:
        before, counts = _row(filing), _counts()
        url = reverse("referral-start-treatment", args=[filing.number])
        assert client_of(world, actor).post(url, today).status_code == 404, actor
        assert _row(filing) == before
        assert _counts() == counts
    # The control: H1 receives 张伟 and records the start.
    url = reverse("referral-start-treatment", args=[zhang.number])
    assert client_of(world, H1).post(url, today).status_code == 302
    zhang.refresh_from_db()
    assert zhang.treatment_started_on == timezone.localdate()


@pytest.mark.parametrize("field", ["hospital", "hospital_id", "hospital_code"])
def test_the_eligibility_page_checks_at_the_staffs_own_hospital(world, field):
    h1 = Hospital.objects.get(code="H23010300001")
    h2 = Hospital.objects.get(code="H46020000002")
    post = {
        "id_number": "232701195603120223",
        "name": "王秀兰",
        "care_type": "inpatient",
        "visit_date": timezone.localdate().isoformat(),
        field: h2.code if field == "hospital_code" else h2.pk,
    }
    response = client_of(world, H1).post(reverse("eligibility-check"), post)
    assert response.status_code == 200
    assert AccessLog.objects.latest("id").hospital_id == h1.pk


# --- the hospital API: the key decides the hospital -----------------------------------------


def _settlement_body(id_number: str, name: str, **extra) -> dict:
    today = timezone.localdate().isoformat()
    return {
        "id_number": id_number,
        "name": name,
        "visit": {"care_type": "inpatient", "admitted_on": today, "discharged_on": today},
        "items": [{"code": "X1", "name": "住院费", "class": "A", "amount": "800.00"}],
        **extra,
    }


def _api_post(client, url, body, headers, **more):
    return client.post(url, json.dumps(body), content_type="application/json", **headers, **more)


def test_a_key_cannot_read_another_hospitals_settlement(world):
    theirs = world["objects"]["api-settlement"]["k2"]["number"]
    mine = world["objects"]["api-settlement"]["k1"]["number"]
    client = client_of(world, K1)
    headers = _bearer(world, K1)
    refused = client.get(reverse("api-settlement", args=[theirs]), **headers)
    unknown = client.get(reverse("api-settlement", args=["JS000000000000"]), **headers)
    assert refused.status_code == unknown.status_code == 404
    assert refused.json() == unknown.json()  # nothing tells "exists elsewhere" from "none"
    assert client.get(reverse("api-settlement", args=[mine]), **headers).status_code == 200
    # A claim's number is no settlement either.
    claim = world["objects"]["settlement:claim-detail"]["a"]["number"]
    assert client.get(reverse("api-settlement", args=[claim]), **headers).status_code == 404


def test_hospital_staff_session_does_not_open_the_settlement_api(world):
    number = world["objects"]["api-settlement"]["k1"]["number"]
    response = client_of(world, H1).get(reverse("api-settlement", args=[number]))
    assert response.status_code in (401, 403)


def test_another_hospitals_idempotency_key_replays_nothing(world):
    """H1 sending H2's Idempotency-Key (and H2's very body) gets no answer of H2's."""
    url = reverse("api-settlements")
    body = _settlement_body("232701195603120223", "王秀兰")
    key = {"HTTP_IDEMPOTENCY_KEY": "visit-2026-0001"}
    first = _api_post(client_of(world, K2), url, body, _bearer(world, K2), **key)
    assert first.status_code == 201
    theirs = Settlement.objects.get(number=first.json()["number"])
    before = _row(theirs)
    replay = _api_post(client_of(world, K1), url, body, _bearer(world, K1), **key)
    assert theirs.number not in replay.content.decode()
    if replay.status_code in (200, 201):
        assert Settlement.objects.get(number=replay.json()["number"]).hospital.code == (
            "H23010300001"
        )
    assert _row(theirs) == before


@pytest.mark.parametrize("field", ["hospital", "hospital_id", "hospital_code"])
def test_a_hospital_named_in_the_body_is_ignored(world, field):
    h1 = Hospital.objects.get(code="H23010300001")
    h2 = Hospital.objects.get(code="H46020000002")
    value = h2.pk if field == "hospital_id" else h2.code
    client, headers = client_of(world, K1), _bearer(world, K1)
    body = _settlement_body("232721197811200177", "张伟", **{field: value})
    response = _api_post(client, reverse("api-settlements"), body, headers)
    assert response.status_code == 201
    assert Settlement.objects.get(number=response.json()["number"]).hospital_id == h1.pk
    eligibility = {
        "id_number": "232701195603120223",
        "name": "王秀兰",
        "care_type": "inpatient",
        field: value,
    }
    assert _api_post(client, reverse("api-eligibility"), eligibility, headers).status_code == 200
    assert AccessLog.objects.latest("id").hospital_id == h1.pk


def test_the_fhir_provider_names_no_other_hospital(world):
    from tests.hospitals.test_fhir import fhir_request

    h1 = Hospital.objects.get(code="H23010300001")
    body = fhir_request()  # its provider is H46020000002
    response = _api_post(client_of(world, K1), reverse("api-fhir"), body, _bearer(world, K1))
    assert response.status_code == 200
    assert AccessLog.objects.latest("id").hospital_id == h1.pk


# --- public verification tokens -----------------------------------------------------------


def test_a_verification_token_tells_only_about_its_own_document(world):
    a, b = _filing("a"), _filing("b")
    token = documents.make_token("certificate", a.number)
    client = client_of(world, matrix.ANON)
    answer = client.get(reverse("api-verify", args=[token])).json()
    assert answer["number"] == a.number
    assert "李建国" not in json.dumps(answer, ensure_ascii=False)
    # The payload is readable, not changeable: B's number in A's signature is a forgery.
    payload, signature = token.rsplit(".", 1)
    b_payload, b_signature = documents.make_token("certificate", b.number).rsplit(".", 1)
    forged = [
        signing.dumps(["certificate", b.number], salt="another.salt", compress=True),
        signing.dumps(["certificate", b.number], compress=True),
        b_payload + "." + signature,
        payload + "." + b_signature,
    ]
    for candidate in forged:
        for name in ("api-verify", "verify-page"):
            path = reverse(name, args=[candidate])
            response = client.get(path)
            assert response.status_code == 404, (name, candidate)
            # Nothing of B's is told, beyond the address asked for (its own links echo it).
            assert b.number not in response.content.decode().replace(path, "")


# --- agency staff in the admin: another region's ids ---------------------------------------


def _action(client, changelist: str, action: str, pks, **data):
    response = client.post(
        reverse(changelist),
        {"action": action, "_selected_action": [str(pk) for pk in pks], **data},
    )
    assert "reauthenticate" not in response.get("Location", ""), action  # the action ran
    return response


def test_filing_actions_with_another_regions_ids_change_nothing(world):
    sun = Filing.objects.get(person__name="孙国强", type="long_term")  # 210100: Y's region
    assert sun.status == "submitted"
    before, counts = _row(sun), _counts()
    client = client_of(world, X)
    reason = {"apply": "1", "reason": "冒领"}
    for action in ("reject", "return_for_materials", "cancel"):
        _action(client, "admin:filings_filing_changelist", action, [sun.pk], **reason)
    for action in ("approve", "accept_materials"):
        _action(client, "admin:filings_filing_changelist", action, [sun.pk])
    assert _row(sun) == before
    assert _counts() == counts
    # The control: the region's own agency rejects it with the same request.
    _action(client_of(world, Y), "admin:filings_filing_changelist", "reject", [sun.pk], **reason)
    sun.refresh_from_db()
    assert sun.status == "rejected"


def test_claim_and_settlement_actions_with_another_regions_ids_change_nothing(world):
    claim = _claim(world, "b")  # B's: Y's region
    Claim.objects.filter(pk=claim.pk).update(status="submitted")
    held = Settlement.objects.filter(insured_region__code="210100").first()
    Settlement.objects.filter(pk=held.pk).update(status="held_for_review")
    before = (_row(claim), _row(held))
    client = client_of(world, X)
    reason = {"apply": "1", "reason": "冒领", "fund_pay": "1.00"}
    for action in ("reject", "return_to_person", "approve_clean", "approve_adjusted", "mark_paid"):
        _action(client, "admin:settlement_claim_changelist", action, [claim.pk], **reason)
    for action in ("approve", "reject", "return_to_hospital", "approve_adjusted"):
        _action(client, "admin:settlement_settlement_changelist", action, [held.pk], **reason)
    assert (_row(claim), _row(held)) == before
    # The control.
    y = client_of(world, Y)
    _action(y, "admin:settlement_claim_changelist", "reject", [claim.pk], **reason)
    _action(y, "admin:settlement_settlement_changelist", "reject", [held.pk], **reason)
    claim.refresh_from_db()
    held.refresh_from_db()
    assert claim.status == "rejected" and held.status == "rejected"


def test_clearing_actions_and_pages_with_another_regions_ids_change_nothing(world):
    number = world["objects"]["settlement:statement-csv"]["x"]["number"]
    statement = ClearingStatement.objects.get(number=number)  # 460200 / 232700: X's
    ClearingStatement.objects.filter(pk=statement.pk).update(status="issued")
    discrepancy = ClearingDiscrepancy.objects.create(
        statement=statement, kind="other", description="金额不符", amount=Decimal("1.00")
    )
    before, counts = (_row(statement), _row(discrepancy)), _counts()
    client = client_of(world, Y)
    for action in ("confirm", "dismiss"):
        _action(client, "admin:settlement_clearingdiscrepancy_changelist", action, [discrepancy.pk])
    for action in ("report_discrepancy", "correct"):
        response = _action(
            client, "admin:settlement_clearingstatement_changelist", action, [statement.pk]
        )
        assert "report-discrepancy" not in response.get("Location", "")
        assert "correct" not in response.get("Location", "")
    for url in (
        "admin:settlement_clearingstatement_report",
        "admin:settlement_clearingstatement_correct",
    ):
        post = {"apply": "1", "kind": "other", "description": "x", "reason": "x"}
        assert client.post(reverse(url, args=[statement.pk]), post).status_code == 404
    assert (_row(statement), _row(discrepancy)) == before
    assert _counts() == counts
    # The control: X, a party to the statement, dismisses it.
    _action(
        client_of(world, X),
        "admin:settlement_clearingdiscrepancy_changelist",
        "dismiss",
        [discrepancy.pk],
    )
    discrepancy.refresh_from_db()
    assert discrepancy.status == "dismissed"


def test_hospital_and_key_actions_with_another_regions_ids_change_nothing(world):
    shenyang = Hospital.objects.get(code="H21010000001")
    assert shenyang.region.code == "210100"  # Y's region
    suspended = Hospital.objects.get(code="H21010000002")
    Hospital.objects.filter(pk=suspended.pk).update(
        suspended_on=timezone.localdate() - datetime.timedelta(days=3), suspension_reason="整改"
    )
    h1_key = ApiKey.objects.filter(hospital__code="H23010300001").first()
    own_key, _plain = api_key_create(hospital=shenyang)
    before = [_row(shenyang), _row(suspended), _row(h1_key), _row(own_key)]
    counts = _counts()
    x = client_of(world, X)
    _action(
        x,
        "admin:hospitals_hospital_changelist",
        "suspend",
        [shenyang.pk],
        apply="1",
        suspended_on=timezone.localdate().isoformat(),
        reason="冒名",
    )
    _action(x, "admin:hospitals_hospital_changelist", "resume", [suspended.pk])
    _action(x, "admin:hospitals_apikey_changelist", "revoke", [own_key.pk, h1_key.pk])
    _action(client_of(world, Y), "admin:hospitals_apikey_changelist", "revoke", [h1_key.pk])
    change = reverse("admin:hospitals_hospital_change", args=[shenyang.pk])
    assert x.post(change, {"name": "改名医院"}).status_code == 403
    assert [_row(shenyang), _row(suspended), _row(h1_key), _row(own_key)] == before
    assert _counts() == counts
    # H1's key still works.
    number = world["objects"]["api-settlement"]["k1"]["number"]
    response = client_of(world, K1).get(
        reverse("api-settlement", args=[number]), **_bearer(world, K1)
    )
    assert response.status_code == 200
    # The control: Y revokes its own region's hospital's key.
    _action(client_of(world, Y), "admin:hospitals_apikey_changelist", "revoke", [own_key.pk])
    own_key.refresh_from_db()
    assert own_key.revoked_at is not None


def test_admin_pages_of_another_regions_objects_answer_404(world):
    wang = InsuredPerson.objects.get(name="王秀兰")  # X's region
    filing = _filing("a")
    claim = _claim(world, "a")
    event = AuditEvent.objects.filter(region=wang.region).first()
    notification = Notification.objects.create(user=wang.user, subject="通知")
    y = client_of(world, Y)
    reveals = AuditEvent.objects.filter(action="insured.reveal_id").count()
    urls = [
        reverse("admin:portal_insuredperson_reveal", args=[wang.pk]),
        reverse("admin:portal_insuredperson_change", args=[wang.pk]),
        reverse("admin:filings_filing_history", args=[filing.pk]),
        reverse("admin:settlement_claim_history", args=[claim.pk]),
        reverse("admin:portal_auditevent_change", args=[event.pk]),
        reverse("admin:portal_notification_change", args=[notification.pk]),
    ]
    for url in urls:
        assert y.get(url).status_code == 404, url
    assert AuditEvent.objects.filter(action="insured.reveal_id").count() == reveals


# --- the services themselves: agency staff act on their own region's rows only --------------


def test_services_refuse_agency_staff_of_another_region(world):
    """Behind the admin's querysets, each reviewing service checks the actor's region again."""
    from django.core.exceptions import PermissionDenied

    from filings import services as filing_services
    from settlement import services as settlement_services

    x = world["users"][X]  # Daxinganling's agency; everything below is Shenyang's (Y)
    sun = Filing.objects.get(person__name="孙国强")  # submitted
    li = _filing("b")  # approved by commitment, materials outstanding
    claim = _claim(world, "b")
    Claim.objects.filter(pk=claim.pk).update(status="submitted")
    held = Settlement.objects.filter(insured_region__code="210100").first()
    Settlement.objects.filter(pk=held.pk).update(status="held_for_review")
    rows, counts = (_row(sun), _row(li), _row(claim), _row(held)), _counts()
    attempts = [
        lambda: filing_services.filing_approve(filing=sun, actor=x),
        lambda: filing_services.filing_reject(filing=sun, actor=x, reason="冒领"),
        lambda: filing_services.filing_return(filing=sun, actor=x, reason="冒领"),
        lambda: filing_services.filing_accept_materials(filing=li, actor=x),
        lambda: settlement_services.claim_reject(claim=claim, actor=x, reason="冒领"),
        lambda: settlement_services.claim_approve(claim=claim, actor=x),
        lambda: settlement_services.settlement_reject(settlement=held, actor=x, reason="冒领"),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    assert (_row(sun), _row(li), _row(claim), _row(held)) == rows
    assert _counts() == counts
    # The region's own agency, the control.
    y = world["users"][Y]
    assert filing_services.filing_reject(filing=sun, actor=y, reason="材料不全").status == (
        "rejected"
    )
    assert settlement_services.claim_reject(claim=claim, actor=y, reason="x").status == "rejected"
