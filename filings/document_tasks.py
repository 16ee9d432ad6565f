from __future__ import annotations

from celery import shared_task

from filings import documents
from filings.models import Filing


@shared_task(soft_time_limit=60, time_limit=90, acks_late=True)
def render_document(filing_id: int, kind: str, lang: str) -> str | None:
    """Render one PDF into the cache (idempotent: an existing cached file is reused)."""
    filing = (
        Filing.objects.select_related(
            "person",
            "insured_region__agency",
            "place_region",
            "place_province",
            "issuing_hospital",
            "receiving_hospital",
        )
        .filter(pk=filing_id)
        .first()
    )
    if filing is None or kind not in documents.kinds_for(filing):
        return None
    documents.cached_or_render(filing, kind, lang)
    return str(documents.cache_path(filing, kind, lang))
