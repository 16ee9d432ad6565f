"""Writing audit events: every service that changes state calls `record`."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.db import models

from portal.models import AuditEvent
from portal.roles import role_of


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or behind settings.TRUSTED_PROXY_COUNT proxies (each
    appends the address it was reached from to X-Forwarded-For) the entry that many from the
    right. Entries further left are the client's own to write and never believed; a request
    that did not pass every proxy (too few entries) is answered by REMOTE_ADDR."""
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",")] if forwarded else []
    if proxies <= 0 or len(hops) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:  # a proxy that writes something else: its own address is still true
        return remote


def record(
    *,
    action: str,
    actor=None,
    obj: models.Model | None = None,
    region=None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    ip: str | None = None,
) -> AuditEvent:
    """Write one audit event. `obj` is described by type, id and its (masked) str()."""
    return AuditEvent.objects.create(
        **event_kwargs(
            action=action,
            actor=actor,
            obj=obj,
            region=region,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            ip=ip,
        )
    )


def event_kwargs(
    *, action, actor=None, obj=None, region=None, from_state="", to_state="", reason="", ip=None
) -> dict:
    """Field values of one event, so jobs can `bulk_create` many at once."""
    return {
        "actor": actor if getattr(actor, "pk", None) else None,
        "actor_role": role_of(actor) or ("system" if actor is None else ""),
        "action": action,
        "object_type": obj._meta.label_lower if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None else "",
        "object_repr": str(obj)[:200] if obj is not None else "",
        "region": region,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason,
        "ip": ip,
    }
