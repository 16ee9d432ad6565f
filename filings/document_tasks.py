from __future__ import annotations

from celery import shared_task
from celery.signals import worker_process_init

from filings import documents
from filings.models import Filing


@worker_process_init.connect
def warm_up_pdf_rendering(**kwargs) -> None:
    """Each worker process renders the forms once with a made-up filing, in a background
    thread (the process reports ready at once; a render that arrives meanwhile waits for the
    warm-up), so the first real document does not pay for templates, fontconfig and the font."""
    from portal.lib import pdf

    pdf.warm_up_in_background(documents.warm_up)


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
