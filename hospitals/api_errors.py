"""Every API error as `{"error": {"code", "message", "fields"}}` (shared/api.md)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    415: "unsupported_media_type",
    422: "not_eligible",
    429: "rate_limited",
}


def _flatten(detail) -> dict:
    if isinstance(detail, dict):
        return {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
    return {}


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_handler(exc, context)
    if response is None:
        return None
    body = error_body(exc, response.status_code)
    return Response(body, status=response.status_code, headers=_headers(response))


def error_body(exc, status_code: int) -> dict:
    """The body for an exception: shared by the handler above and the plain-Django eligibility
    view (hospitals.eligibility_api), so both answer alike."""
    code = CODES.get(status_code, "error")
    fields: dict = {}
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = _("The request is invalid: see the fields.")
    elif isinstance(exc, exceptions.Throttled):
        message = _("Too many requests: try again in %(s)s seconds.") % {"s": exc.wait or 1}
    elif isinstance(exc, exceptions.NotFound):
        message = (
            str(exc.detail) if exc.detail != exceptions.NotFound.default_detail else _("Not found.")
        )
    else:
        message = str(getattr(exc, "detail", "")) or _("Error.")
    body = {"error": {"code": code, "message": message, "fields": fields}}
    if isinstance(exc, exceptions.ParseError):
        body["error"]["message"] = _("The request body is not valid JSON.")
    return body


def error_headers(exc) -> dict:
    """The headers DRF's handler adds for an exception (auth challenge, Retry-After)."""
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    return headers


def _headers(response) -> dict:
    keep = {}
    for name in ("WWW-Authenticate", "Retry-After"):
        if name in response:
            keep[name] = response[name]
    return keep


def error_response(*, code: str, message: str, http_status: int, fields=None, **extra) -> Response:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    body["error"].update(extra)
    return Response(body, status=http_status)


__all__ = ["exception_handler", "error_body", "error_headers", "error_response", "status"]
