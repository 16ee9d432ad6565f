from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_process_init
from django.core.cache import cache

from filings import documents

logger = logging.getLogger(__name__)

RENDER_SOFT_TIME_LIMIT = 60
RENDER_TIME_LIMIT = 90
# A render queued for a document (by its cache file's name) keeps others from being queued for
# it this long: longer than a render may run, so a lost task (a worker killed, none running) is
# queued again after it, never while one may still be running.
RENDER_QUEUED_SECONDS = RENDER_TIME_LIMIT + 60
# A failed render is told to the person who waits for it this long; "Try again" clears it.
RENDER_FAILED_SECONDS = 300


def render_queued_key(name: str) -> str:
    return f"render:{name}"


def render_failed_key(name: str) -> str:
    return f"render-failed:{name}"


@worker_process_init.connect
def warm_up_pdf_rendering(**kwargs) -> None:
    """Each worker process renders the forms once with a made-up filing, in a background
    thread (the process reports ready at once; a render that arrives meanwhile waits for the
    warm-up), so the first real document does not pay for templates, fontconfig and the font."""
    from portal.lib import pdf

    pdf.warm_up_in_background(documents.warm_up)


@shared_task(soft_time_limit=RENDER_SOFT_TIME_LIMIT, time_limit=RENDER_TIME_LIMIT, acks_late=True)
def render_document(filing_id: int, kind: str, lang: str) -> str | None:
    """Render one PDF into the cache (idempotent: an existing cached file is reused). A render
    that fails leaves a marker the download page reads (it says so, instead of waiting), and
    is logged with its traceback; the error is raised again for the worker's log."""
    filing = documents.printed_filings().filter(pk=filing_id).first()
    if filing is None or kind not in documents.kinds_for(filing):
        return None
    path = documents.cache_path(filing, kind, lang)
    try:
        documents.cached_or_render(filing, kind, lang)
    except Exception:  # noqa: BLE001 - told to the page that waits, then raised again
        logger.exception("Rendering %s of %s (%s) failed", kind, filing.number, lang)
        cache.set(render_failed_key(path.name), 1, RENDER_FAILED_SECONDS)
        cache.delete(render_queued_key(path.name))
        raise
    cache.delete(render_queued_key(path.name))
    return str(path)
