"""Reads of the directory: one filtered, sorted queryset for the page and the API alike."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from hospitals.models import CareType, Hospital

SORTS = {"code": "code", "name": "pinyin", "level": "-level", "region": "region__code"}


def directory(params) -> QuerySet[Hospital]:
    qs = Hospital.objects.select_related("region", "province")
    q = (params.get("q") or "").strip()
    if q:
        lowered = q.lower().replace(" ", "")
        match = Q(name__icontains=q) | Q(name_en__icontains=q) | Q(code__iexact=q)
        if lowered.isascii() and lowered.isalpha():
            # Full pinyin anywhere; initials from the start of the name, one letter per character
            # (`hebykdx`) or one per word (`hyd`, 哈医大: 哈尔滨|医科|大学). Never scattered
            # letters: `hyd` must not find 黑龙江中医药大学 (h…y…d) as well.
            match |= (
                Q(pinyin__contains=lowered)
                | Q(initials__startswith=lowered)
                | Q(initials__contains=" " + lowered)
            )
        qs = qs.filter(match)
    if params.get("region"):
        qs = qs.filter(region__code=params["region"])
    if params.get("province"):
        value = params["province"]
        qs = qs.filter(Q(province__code=value) | Q(province__name=value))
    if str(params.get("level") or "") in {"1", "2", "3"}:
        qs = qs.filter(level=int(params["level"]))
    if params.get("kind"):
        qs = qs.filter(kind=params["kind"])
    if params.get("ownership"):
        qs = qs.filter(ownership=params["ownership"])
    if params.get("service") in CareType.values:
        qs = qs.filter(**{params["service"]: True})
    if params.get("resettlement") in {"1", "true", "on"}:
        qs = qs.filter(resettlement_designated=True)
    return qs.order_by(SORTS.get(params.get("sort") or "", "code"), "code")
