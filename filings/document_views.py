"""Download a filing's PDFs; verify a printed document by its QR token (public)."""

from __future__ import annotations

import hashlib
import time

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from filings import documents
from filings.document_tasks import (
    RENDER_QUEUED_SECONDS,
    render_document,
    render_failed_key,
    render_queued_key,
)
from filings.models import Filing, Status
from hospitals import access_log
from hospitals.eligibility_api import ErrorResponse
from portal.audit import client_ip
from portal.roles import agency_region

# A first ask waits this long for a render that is quick (a worker that is idle and warm):
# never longer, since a waiting request holds one of the few web workers, and with the workers
# behind, every user waiting would hold the whole portal, the hospital API included. Asks again
# (the page's polls, "Check again") do not wait at all.
WAIT_SECONDS = 1
# The "being prepared" page refreshes itself until the PDF is there, for about this long; then
# it says so and stops (a worker far behind, or none running), leaving a way to try again.
REFRESH_SECONDS = 60
REFRESH_EVERY = 5
# The same token verified again from the same address (a QR code scanned twice, a page
# reloaded) within this long is one access-log row, not one per request; the row counts the
# calls (AccessLog.calls).
VERIFY_LOG_FOLD_SECONDS = 600


def _visible_filing(request, number: str) -> Filing:
    """The filing if this user may see it; 404 otherwise (existence is personal data)."""
    user = request.user
    filing = documents.printed_filings().filter(number=number).first()
    if filing is None or not user.is_authenticated:
        raise Http404
    if user.is_superuser:
        return filing
    # An e-referral its hospital has only started (or discarded so) is the issuing hospital's
    # alone: not yet the patient's, nor the receiving hospital's.
    draft = filing.is_hospitals_draft
    if filing.person.user_id == user.pk and not draft:
        return filing
    # The agency and the receiving hospital see no draft (the person's own paper referral not
    # submitted either): the filing is the person's until it is sent.
    unsent = draft or filing.status == Status.DRAFT
    region = agency_region(user)
    if (
        region is not None
        and region.pk == filing.insured_region_id
        and user.is_staff
        and not unsent
    ):
        return filing
    staff = getattr(user, "hospital_staff", None)
    if staff is not None and (
        staff.hospital_id == filing.issuing_hospital_id
        or (staff.hospital_id == filing.receiving_hospital_id and not unsent)
    ):
        return filing
    raise Http404


@login_required  # signed out (the portal signs a quiet session out): to sign in, then back
def document_download(request, number: str, kind: str):
    filing = _visible_filing(request, number)
    if kind not in documents.kinds_for(filing):
        raise Http404
    lang = "en" if (get_language() or "").startswith("en") else "zh-hans"
    path = documents.cache_path(filing, kind, lang)
    if not path.exists():
        if request.GET.get("retry"):  # "Try again" after a failed render
            cache.delete_many([render_failed_key(path.name), render_queued_key(path.name)])
        elif cache.get(render_failed_key(path.name)):
            return _failed(request, filing)
        # One render per document at a time: every poll of the waiting page asks again.
        if cache.add(render_queued_key(path.name), 1, RENDER_QUEUED_SECONDS):
            render_document.delay(filing.pk, kind, lang)
        if "since" not in request.GET and request.method == "GET":
            deadline = time.monotonic() + WAIT_SECONDS
            while not path.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
    if not path.exists():
        return _pending(request, filing)
    _log_read(request.user, filing, kind)
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{kind}-{filing.number}.pdf",
        content_type="application/pdf",
    )


# The access log's purpose of a filing's PDF downloaded (hospitals.models.PURPOSES): a form
# prints the person's name, masked ID number, diagnosis and hospitals.
DOCUMENT_READ = "document:web"


def _log_read(user, filing: Filing, kind: str) -> None:
    """Who downloaded whose form, with their agency region or hospital (as a proof material's
    reads are logged)."""
    staff = getattr(user, "hospital_staff", None)
    access_log.record_file_read(
        purpose=DOCUMENT_READ,
        file=f"{filing.pk}:{kind}",
        user=user,
        person=filing.person,
        region=agency_region(user),
        hospital_id=staff.hospital_id if staff is not None else None,
    )


def _failed(request, filing: Filing):
    """The render failed (filings.document_tasks): say so, with a way to try again, instead
    of waiting for a PDF that will not come."""
    return render(
        request,
        "filings/document_pending.html",
        {
            "filing": filing,
            "failed": True,
            "again": f"{request.path}?retry=1",
            "back": _filing_page(request.user, filing),
        },
        status=503,
    )


def _pending(request, filing: Filing):
    """The PDF is not there yet: a page that says so in a status region and asks again
    (static/js/portal.js, every REFRESH_EVERY seconds: the download starts when it is ready)
    until REFRESH_SECONDS have passed since the first ask, then says it is taking longer than
    usual, with a link to try again. No page reload (a screen reader would start reading from
    the top each time); without JavaScript, "Check again" carries the time of the first ask."""
    now = int(time.time())
    started = request.GET.get("since", "")
    since = int(started) if started.isascii() and started.isdigit() and int(started) <= now else now
    late = now - since >= REFRESH_SECONDS
    return render(
        request,
        "filings/document_pending.html",
        {
            "filing": filing,
            "late": late,
            "check": f"{request.path}?since={since}",
            "poll_every": REFRESH_EVERY,
            "poll_until": since + REFRESH_SECONDS,
            "again": request.path,
            "back": _filing_page(request.user, filing),
        },
        status=202,
    )


def _filing_page(user, filing: Filing) -> str:
    """Where this user sees the filing: the person's own page, the agency's admin page, the
    hospital's referral page."""
    if filing.person.user_id == user.pk:
        return reverse("filings:detail", args=[filing.number])
    if user.is_staff:
        return reverse("admin:filings_filing_change", args=[filing.pk])
    return reverse("referral-detail", args=[filing.number])


def _verified(request, token: str, channel: str) -> dict:
    """The verification of a token (404 for a forged or altered one), recorded in the access
    log (api.md: every call that reads personal data): the answer shows a masked name and ID
    number and the filing's state. Who asked is the signed-in user, if any."""
    result = documents.verification(token)
    if result is None:
        raise Http404
    person = result.pop("_person")
    user = getattr(request, "user", None)
    actor_id = user.pk if user is not None and user.is_authenticated else None
    asked = f"{channel}:{actor_id}:{client_ip(request)}:{token}"
    access_log.record_folded(
        fold="verify:" + hashlib.sha256(asked.encode()).hexdigest(),
        seconds=VERIFY_LOG_FOLD_SECONDS,
        actor_id=actor_id,
        subject_hash=person.id_hash,
        subject_region_id=person.region_id,
        purpose=f"verify:{channel}",
        outcome="found",
    )
    return result


class VerifyThrottle(SimpleRateThrottle):
    """Verifications per client address (portal.audit.client_ip, behind the proxy too), signed
    in or not: the rate REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["verify"]."""

    scope = "verify"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "-"}


def verify_page(request, token: str):
    throttle = VerifyThrottle()
    if not throttle.allow_request(request, None):
        response = render(request, "429.html", status=429)
        response["Retry-After"] = str(int(throttle.wait() or 60))
        return response
    return render(request, "filings/verify.html", {"result": _verified(request, token, "web")})


VerifyResponse = inline_serializer(
    "Verification",
    {
        "kind": serializers.ChoiceField(choices=documents.KINDS),
        "number": serializers.CharField(),
        "status": serializers.ChoiceField(
            choices=["valid", "expired", "cancelled", "revoked", "rejected", "pending"]
        ),
        "valid_from": serializers.DateField(allow_null=True),
        "valid_until": serializers.DateField(allow_null=True),
        "in_force_from": serializers.DateField(
            allow_null=True, help_text="a valid filing that takes effect later: the day it does"
        ),
        "type": serializers.CharField(),
        "place_of_treatment": inline_serializer(
            "VerifiedPlace",
            {"code": serializers.CharField(), "name": serializers.CharField()},
            allow_null=True,
        ),
        "two_way": serializers.BooleanField(
            allow_null=True, help_text="long-term filings: settles at home too (else null)"
        ),
        "receiving_hospital": inline_serializer(
            "VerifiedReceivingHospital",
            {"code": serializers.CharField(), "name": serializers.CharField()},
            allow_null=True,
            help_text="referrals: the hospital the person is referred to, as it stands now",
        ),
        "hospitals": inline_serializer(
            "VerifiedHospital",
            {"code": serializers.CharField(), "name": serializers.CharField()},
            many=True,
            help_text="the designated hospitals chosen, as they stand now (may be empty)",
        ),
        "ended_on": serializers.DateField(
            allow_null=True,
            help_text="cancelled, revoked or expired after taking effect: the day it stopped "
            "being in force (settlements before it stand); else null",
        ),
        "insured": inline_serializer(
            "VerifiedInsured",
            {"name": serializers.CharField(), "id_number": serializers.CharField()},
        ),
    },
)


class VerifyView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [VerifyThrottle]

    @extend_schema(
        operation_id="verify_document",
        responses={
            200: VerifyResponse,
            404: OpenApiResponse(ErrorResponse, description="Forged or altered"),
            429: OpenApiResponse(ErrorResponse, description="Too many verifications from here"),
        },
        tags=["verification"],
    )
    def get(self, request, token: str):
        try:
            return Response(_verified(request, token, "api"))
        except Http404:
            raise NotFound() from None
