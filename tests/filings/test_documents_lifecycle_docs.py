"""PDFs over a filing's life: waiting for one holds no web worker, a failed render says so,
cached PDFs follow the templates and translations and old ones are removed, and what a printout
and its verification say of a filing that changed or ended."""

from __future__ import annotations

import datetime
import os
import shutil
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from filings import document_tasks, document_views, documents
from filings.models import Status
from portal import notices
from portal.models import AuditEvent, JobRun
from tests.filings import test_documents as base

pytestmark = pytest.mark.django_db
place = base.place
filing = base.filing
DAY = 86400


@pytest.fixture(autouse=True)
def fresh(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    cache.clear()
    documents.render_version.cache_clear()
    yield
    cache.clear()
    documents.render_version.cache_clear()


@pytest.fixture
def owner(filing, django_user_model):
    user = django_user_model.objects.create_user("wang", "w@example.cn", "pw-12345678")
    filing.person.user = user
    filing.person.save()
    return user


@pytest.fixture
def queued(monkeypatch):
    """The renders queued (no worker runs)."""
    calls: list[tuple] = []
    monkeypatch.setattr(document_views.render_document, "delay", lambda *a: calls.append(a))
    return calls


def _url(filing, kind=documents.CERTIFICATE) -> str:
    return reverse("document-download", args=[filing.number, kind])


# --- 1. waiting holds no web worker ---------------------------------------------------------


def test_a_download_waits_about_a_second_at_most_and_a_poll_does_not_wait(
    client, filing, owner, queued
):
    client.force_login(owner)
    started = time.monotonic()
    first = client.get(_url(filing))
    assert first.status_code == 202
    assert time.monotonic() - started < 2.5
    since = int(time.time())
    started = time.monotonic()
    assert client.head(_url(filing), {"since": since}).status_code == 202
    assert client.get(_url(filing), {"since": since}).status_code == 202
    assert time.monotonic() - started < 1


def test_a_render_is_queued_once_however_often_the_page_asks(client, filing, owner, queued):
    client.force_login(owner)
    assert client.get(_url(filing)).status_code == 202
    since = int(time.time())
    for _ in range(3):
        assert client.head(_url(filing), {"since": since}).status_code == 202
    assert queued == [(filing.pk, documents.CERTIFICATE, "zh-hans")]


def test_a_render_is_queued_again_once_the_last_one_may_no_longer_run(
    client, filing, owner, queued
):
    """A worker killed mid-render leaves no PDF: the mark outlives the task's time limit, then
    lets the next ask queue it again."""
    assert document_tasks.RENDER_QUEUED_SECONDS > document_tasks.render_document.time_limit
    client.force_login(owner)
    client.get(_url(filing))
    path = documents.cache_path(filing, documents.CERTIFICATE, "zh-hans")
    cache.delete(document_tasks.render_queued_key(path.name))  # as when it times out
    client.get(_url(filing), {"since": int(time.time())})
    assert len(queued) == 2


def test_a_finished_render_is_served(client, filing, owner, queued):
    client.force_login(owner)
    client.get(_url(filing))
    document_tasks.render_document(filing.pk, documents.CERTIFICATE, "zh-hans")
    response = client.head(_url(filing), {"since": int(time.time())})
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


# --- 2. a failed render says so ---------------------------------------------------------------


def _fail_render(monkeypatch, filing):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    with monkeypatch.context() as patched, pytest.raises(OSError):
        patched.setattr(documents, "cached_or_render", broken)
        document_tasks.render_document(filing.pk, documents.CERTIFICATE, "zh-hans")


@pytest.mark.parametrize(
    ("language", "words"),
    [("zh-hans", "PDF 未能生成"), ("en", "The PDF could not be prepared")],
)
def test_a_failed_render_says_it_could_not_be_prepared_in_the_readers_language(
    client, filing, owner, queued, monkeypatch, language, words
):
    client.force_login(owner)
    assert client.get(_url(filing)).status_code == 202
    _fail_render(monkeypatch, filing)
    if language == "en":  # the English document's render failed too
        path = documents.cache_path(filing, documents.CERTIFICATE, "en")
        cache.set(document_tasks.render_failed_key(path.name), 1, 60)
    response = client.get(_url(filing), {"since": int(time.time())}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 503
    html = response.content.decode()
    assert words in html and 'id="document-failed"' in html
    assert "比平时长" not in html and "longer than usual" not in html
    assert f'href="{_url(filing)}?retry=1" id="try-again"' in html
    assert len(queued) == 1  # nothing queued for a failed render until asked to try again


def test_try_again_after_a_failed_render_queues_it_again(
    client, filing, owner, queued, monkeypatch
):
    client.force_login(owner)
    client.get(_url(filing))
    _fail_render(monkeypatch, filing)
    assert client.head(_url(filing), {"since": int(time.time())}).status_code == 503
    again = client.get(_url(filing), {"retry": 1})
    assert again.status_code == 202 and 'id="document-waiting"' in again.content.decode()
    assert len(queued) == 2
    document_tasks.render_document(filing.pk, documents.CERTIFICATE, "zh-hans")
    assert client.get(_url(filing), {"since": int(time.time())}).status_code == 200


# --- 3. the cache follows the templates, stylesheets and translations; old files go --------


@pytest.fixture
def copied_sources(settings, tmp_path):
    """A copy of the files a document is rendered from, which a test may change."""
    root = tmp_path / "src"
    real = Path(django_settings.BASE_DIR)
    shutil.copytree(real / "templates" / "pdf", root / "templates" / "pdf")
    (root / "templates" / "includes").mkdir(parents=True)
    shutil.copy(real / "templates" / "includes" / "validity.html", root / "templates" / "includes")
    (root / "static" / "css").mkdir(parents=True)
    for css in (real / "static" / "css").glob("pdf*.css"):
        shutil.copy(css, root / "static" / "css")
    shutil.copytree(real / "locale", root / "locale")
    settings.BASE_DIR = root
    settings.LOCALE_PATHS = [root / "locale"]
    return root


@pytest.mark.parametrize(
    "changed",
    [
        "templates/pdf/certificate.html",
        "templates/includes/validity.html",
        "static/css/pdf-forms.css",
        "locale/zh_Hans/LC_MESSAGES/django.mo",
    ],
)
def test_a_changed_template_stylesheet_or_translation_gives_every_document_a_new_cache_name(
    filing, copied_sources, changed
):
    before = documents.cache_path(filing, documents.CERTIFICATE, "zh-hans")
    with open(copied_sources / changed, "ab") as file:
        file.write(b"\n")
    assert documents.cache_path(filing, documents.CERTIFICATE, "zh-hans") == before  # per process
    documents.render_version.cache_clear()  # the next process (a deploy restarts them)
    assert documents.cache_path(filing, documents.CERTIFICATE, "zh-hans") != before


def _write(path: Path, age_days: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-")
    stamp = time.time() - age_days * DAY
    os.utime(path, (stamp, stamp))
    return path


def test_old_versions_of_rendered_documents_are_removed_after_some_days(filing):
    root = Path(django_settings.PRIVATE_MEDIA_ROOT) / "pdf"
    current = documents.cache_path(filing, documents.CERTIFICATE, "zh-hans")
    keep = [
        _write(current, 30),  # the current version, however old
        _write(root / f"certificate-{filing.number}-zh-hans-{'1' * 20}.pdf", 1),  # recent
    ]
    gone = [
        _write(root / f"certificate-{filing.number}-zh-hans-{'2' * 20}.pdf", 8),
        _write(root / f"certificate-{filing.number}-en-{'3' * 20}.pdf", 8),
        _write(root / f"referral_form-{filing.number}-zh-hans-{'4' * 20}.pdf", 8),  # not its kind
        _write(root / f"certificate-BA0000000000-zh-hans-{'5' * 20}.pdf", 8),  # no such filing
        _write(root / f"certificate-{filing.number}-zh-hans-{'6' * 20}.tmp", 8),  # a killed render
    ]
    run = documents.remove_old_documents()
    assert [path.exists() for path in keep] == [True, True]
    assert [path.exists() for path in gone] == [False] * len(gone)
    assert run.name == "filings.old_documents" and run.details["removed"] == len(gone)
    assert run.finished_at is not None and not run.error
    assert documents.remove_old_documents().details["removed"] == 0  # safe to rerun


def test_the_cleanup_is_a_celery_task_recorded_as_a_job_run(filing):
    from filings.tasks import remove_old_documents

    _write(Path(django_settings.PRIVATE_MEDIA_ROOT) / "pdf" / "stray.tmp", 8)
    assert remove_old_documents.name == "filings.tasks.remove_old_documents"
    assert remove_old_documents()["removed"] == 1
    assert JobRun.objects.filter(name="filings.old_documents").count() == 1


# --- 4. the verification names what a printout names ----------------------------------------


def test_verify_names_the_receiving_hospital_and_the_chosen_hospitals_as_they_stand(client, filing):
    token = documents.make_token(documents.CERTIFICATE, filing.number)
    hospitals = list(filing.hospitals.order_by("code"))
    answer = client.get(f"/api/v1/verify/{token}").json()
    assert [h["code"] for h in answer["hospitals"]] == [h.code for h in hospitals]
    assert answer["hospitals"][0]["name"] == "三亚市人民医院"
    assert answer["receiving_hospital"] is None
    for key in ("kind", "number", "status", "valid_from", "valid_until", "in_force_from"):
        assert key in answer  # the fields api.md fixes stay
    # The printout named the first hospital; the filing now names another.
    filing.receiving_hospital = hospitals[2]
    filing.save()
    filing.hospitals.set(hospitals[1:])
    answer = client.get(f"/api/v1/verify/{token}").json()
    assert answer["receiving_hospital"] == {"code": hospitals[2].code, "name": "三亚市中医院"}
    assert [h["code"] for h in answer["hospitals"]] == [h.code for h in hospitals[1:]]


def test_the_api_schema_documents_the_added_verification_fields(client):
    schema = client.get("/api/schema/?format=json").json()
    fields = schema["components"]["schemas"]["Verification"]["properties"]
    assert {"receiving_hospital", "hospitals", "ended_on"} <= set(fields)


# --- 5. the status as of today --------------------------------------------------------------


def test_a_document_prints_expired_once_the_validity_is_over_before_the_nightly_job(filing):
    today = timezone.localdate()
    filing.valid_until = today - datetime.timedelta(days=1)
    filing.save()
    assert filing.status == Status.APPROVED  # the nightly job has not run
    text = base._text(documents.render(filing, documents.CERTIFICATE))
    assert "已过期" in text and "已批准" not in text
    english = base._text(documents.render(filing, documents.CERTIFICATE, lang="en"))
    assert "Expired" in english and "Approved" not in english


# --- 6. an ended filing: no one-way text; the day it ended ----------------------------------


def _revoke(filing, on: datetime.date) -> None:
    filing.status = Status.REVOKED
    filing.save()
    event = AuditEvent.objects.create(
        action="filing.revoke",
        object_type="filings.filing",
        object_id=str(filing.pk),
        from_state=Status.APPROVED,
        to_state=Status.REVOKED,
    )
    noon = datetime.datetime.combine(on, datetime.time(12), tzinfo=timezone.get_current_timezone())
    AuditEvent.objects.filter(pk=event.pk).update(created_at=noon)


def test_rule_2_1_a_revoked_commitment_filing_prints_no_one_way_text_and_the_day_it_ended(
    client, filing
):
    today = timezone.localdate()
    in_force = base._text(documents.render(filing, documents.CERTIFICATE, lang="en"))
    assert "One-way" in in_force and "No longer in force from" not in in_force
    ended = today - datetime.timedelta(days=3)
    _revoke(filing, ended)
    for kind in (documents.CERTIFICATE, documents.FILING_FORM):
        english = base._text(documents.render(filing, kind, lang="en"))
        assert "One-way" not in english and "until the proof materials" not in english
        assert f"No longer in force from {ended:%Y-%m-%d}" in english
        chinese = base._text(documents.render(filing, kind))
        assert "单向" not in chinese and f"失效日期 {base.zh(ended)}" in chinese.replace("\t", " ")
    token = documents.make_token(documents.CERTIFICATE, filing.number)
    answer = client.get(f"/api/v1/verify/{token}").json()
    assert answer["status"] == "revoked" and answer["ended_on"] == ended.isoformat()


def test_the_day_an_expired_filing_ended_is_the_day_after_its_last_valid_day(client, filing):
    today = timezone.localdate()
    token = documents.make_token(documents.CERTIFICATE, filing.number)
    assert client.get(f"/api/v1/verify/{token}").json()["ended_on"] is None  # in force
    filing.valid_until = today - datetime.timedelta(days=2)
    filing.save()
    answer = client.get(f"/api/v1/verify/{token}").json()
    assert answer["status"] == "expired"
    assert answer["ended_on"] == (today - datetime.timedelta(days=1)).isoformat()


def test_a_filing_that_never_took_effect_has_no_end_day(filing):
    filing.status = Status.CANCELLED
    filing.valid_from = filing.valid_until = None
    filing.save()
    assert documents.ended_on(filing) is None


# --- 7. item 9: a start window extended ------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_extended_start_window_is_told_as_the_last_day_to_start_treatment(language):
    subject, body = notices.render(
        "referral_start_extended", {"n": "ZZ232700000001", "u": "2027-01-10"}, language
    )
    assert "ZZ232700000001" in subject and "2027-01-10" in body
    if language == "zh-hans":
        assert "开始治疗" in subject + body and "有效期" not in body
    else:
        assert "start" in body and "Valid until" not in body
