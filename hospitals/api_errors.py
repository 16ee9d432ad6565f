"""Every API error as `{"error": {"code", "message", "fields"}}` (shared/api.md)."""

from __future__ import annotations

import json
import math

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect
from django.urls import resolve
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, parsers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_handler

CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "not_eligible",
    429: "rate_limited",
}


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        super().__init__(
            _("The request body is too large: at most %(limit)s bytes.") % {"limit": limit}
        )


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with a body nested too deeply for `json` (RecursionError, not a
    ValueError) answered as any other malformed body instead of a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from None


def _flatten(detail) -> dict[str, list[str]]:
    """A serializer's errors as {path: [message, ...]}: a top-level field by its name
    (`id_number`), a nested one by its path (`visit.discharged_on`, `items[0].class`); an
    error about a nested object or list as a whole under that object's path (`visit`,
    `items`)."""
    fields: dict[str, list[str]] = {}

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, int):
                    walk(value, f"{path}[{key}]")
                elif path and key == api_settings.NON_FIELD_ERRORS_KEY:
                    walk(value, path)
                else:
                    walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, (dict, list)):  # one entry per list item
                    walk(value, f"{path}[{index}]")
                else:
                    fields.setdefault(path, []).append(str(value))
        else:
            fields.setdefault(path, []).append(str(node))

    if isinstance(detail, dict):
        walk(detail, "")
    return fields


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        exc = TooLarge()
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
        wait = max(1, math.ceil(exc.wait or 1))
        message = ngettext(
            "Too many requests: try again in %(s)s second.",
            "Too many requests: try again in %(s)s seconds.",
            wait,
        ) % {"s": wait}
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


@csrf_exempt
def not_found(request, *args, **kwargs) -> HttpResponse:
    """Any path under /api/ that no route takes: the error body, not Django's HTML page.

    A path that only lacks its final slash (`/api/schema`) is still sent on to it, as
    CommonMiddleware did before this catch-all took every path under /api/."""
    path = request.path_info
    if settings.APPEND_SLASH and not path.endswith("/"):
        match = resolve(path + "/", getattr(request, "urlconf", None))
        if match.func is not not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    body = error_body(exceptions.NotFound(), status.HTTP_404_NOT_FOUND)
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(text.encode(), status=404, content_type="application/json")


def error_response(*, code: str, message: str, http_status: int, fields=None, **extra) -> Response:
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    body["error"].update(extra)
    return Response(body, status=http_status)


__all__ = [
    "JSONParser",
    "TooLarge",
    "error_body",
    "error_headers",
    "error_response",
    "exception_handler",
    "not_found",
    "status",
]
