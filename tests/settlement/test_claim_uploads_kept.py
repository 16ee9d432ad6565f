"""Claim documents that passed the checks are kept across an estimate and a corrected error
(filings.pending), on the claim form and on the answer to a return: a person picks each scan once.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from filings import uploads
from filings.jobs import remove_abandoned_uploads
from hospitals.models import Hospital
from settlement import services
from settlement.models import Claim, ClaimDocument
from tests.filings.corpus import _jpeg, _pdf, _png
from tests.settlement.test_claims import _item_rows, _person, _staff, _submit

pytestmark = pytest.mark.django_db


def _stay(**overrides) -> dict:
    today = datetime.date.today()
    return {
        "hospital": Hospital.objects.get(code="H21010000001").pk,
        "care_type": "inpatient",
        "admitted_on": (today - datetime.timedelta(days=9)).isoformat(),
        "discharged_on": (today - datetime.timedelta(days=2)).isoformat(),
        **_item_rows([("X1", "住院费", "A", "10000.00")]),
        **overrides,
    }


def _scans() -> dict:
    return {
        "doc_discharge_summary": SimpleUploadedFile("summary.pdf", _pdf()),
        "doc_invoice": SimpleUploadedFile("invoice.jpg", _jpeg()),
        "doc_itemised_list": SimpleUploadedFile("list.png", _png()),
        "doc_medical_record": SimpleUploadedFile("record.pdf", _pdf()),
    }


def _stored_files() -> set[str]:
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    return {p.name for p in root.iterdir() if p.is_file()} if root.exists() else set()


def test_documents_chosen_with_an_estimate_are_filed_by_the_submit_without_choosing_again(
    client, demo
):
    client.force_login(_person("陈明").user)
    url = reverse("settlement:claim-new")
    estimate = client.post(url, _stay(estimate="1", **_scans()))
    assert estimate.status_code == 200 and estimate.context["estimate"] is not None
    kept = estimate.context["pending"]
    assert sorted(item["name"] for item in kept) == [
        "invoice.jpg",
        "list.png",
        "record.pdf",
        "summary.pdf",
    ]
    page = estimate.content.decode()
    assert 'id="pending-uploads"' in page and "summary.pdf" in page
    assert Claim.objects.count() == 0
    submitted = client.post(url, _stay(submit="1"))  # no file chosen this time
    claim = Claim.objects.get()
    assert submitted.status_code == 302
    documents = {d.original_name: d for d in claim.documents.all()}
    assert sorted(documents) == ["invoice.jpg", "list.png", "record.pdf", "summary.pdf"]
    assert documents["invoice.jpg"].kind == "invoice"
    for document in documents.values():  # the very files checked at the estimate, on disk
        assert (Path(settings.PRIVATE_MEDIA_ROOT) / document.stored_name).is_file()
    assert {item["stored"] for item in kept} == {d.stored_name for d in documents.values()}
    # Filed: the next claim form starts empty.
    assert client.get(url).context["pending"] == []


def test_a_date_error_keeps_the_documents_and_the_corrected_form_files_them(client, demo):
    client.force_login(_person("陈明").user)
    url = reverse("settlement:claim-new")
    today = datetime.date.today()
    wrong = _stay(
        submit="1",
        admitted_on=today.isoformat(),
        discharged_on=(today - datetime.timedelta(days=3)).isoformat(),
        **_scans(),
    )
    refused = client.post(url, wrong)
    assert refused.status_code == 200 and refused.context["form"].errors["admitted_on"]
    assert len(refused.context["pending"]) == 4
    # The required documents are not asked for again: they are kept.
    assert "doc_invoice" not in refused.context["form"].errors
    assert 'name="doc_invoice" required' not in refused.content.decode()
    assert Claim.objects.count() == 0
    assert client.post(url, _stay(submit="1")).status_code == 302
    assert Claim.objects.get().documents.count() == 4


def test_a_kept_document_can_be_removed_and_is_then_asked_for_again(client, demo):
    client.force_login(_person("陈明").user)
    url = reverse("settlement:claim-new")
    kept = client.post(url, _stay(estimate="1", **_scans())).context["pending"]
    invoice = next(item for item in kept if item["name"] == "invoice.jpg")
    assert invoice["stored"] in _stored_files()
    response = client.post(url, _stay(submit="1", discard=[invoice["stored"]]))
    assert response.status_code == 200
    assert response.context["form"].errors["doc_invoice"]  # required again
    assert invoice["stored"] not in _stored_files()  # and gone from the disk
    assert len(response.context["pending"]) == 3
    assert Claim.objects.count() == 0


def test_a_refused_document_is_named_and_the_others_are_kept(client, demo):
    client.force_login(_person("陈明").user)
    url = reverse("settlement:claim-new")
    scans = {**_scans(), "doc_invoice": SimpleUploadedFile("invoice.jpg", b"<html>not</html>")}
    response = client.post(url, _stay(submit="1", **scans))
    assert response.status_code == 200
    assert response.context["form"].errors["doc_invoice"]
    assert sorted(i["name"] for i in response.context["pending"]) == [
        "list.png",
        "record.pdf",
        "summary.pdf",
    ]
    assert Claim.objects.count() == 0
    fixed = client.post(
        url, _stay(submit="1", doc_invoice=SimpleUploadedFile("invoice.jpg", _jpeg()))
    )
    assert fixed.status_code == 302
    assert Claim.objects.get().documents.count() == 4


def test_more_than_ten_files_in_all_are_refused_across_the_attempts(client, demo):
    client.force_login(_person("陈明").user)
    url = reverse("settlement:claim-new")
    client.post(url, _stay(estimate="1", **_scans()))
    many = [SimpleUploadedFile(f"p{i}.png", _png()) for i in range(uploads.MAX_FILES - 3)]
    response = client.post(url, _stay(estimate="1", doc_other=many))
    assert response.context["form"].errors["doc_other"]
    assert len(response.context["pending"]) == 4  # none of the seven were kept


def test_a_fresh_claim_form_starts_empty_and_leaves_another_tabs_kept_files(client, demo):
    """The form opened in a second tab starts with no kept files, and the first tab's are still
    there when it is sent: opening the form deleted them, and the first tab's submit then asked
    for all four documents again. Files of a form never sent go a day later (below)."""
    client.force_login(_person("陈明").user)
    url = reverse("settlement:claim-new")
    token = client.get(url).context["kept_files"]  # the first tab's form
    first = client.post(url, _stay(estimate="1", kept_files=token, **_scans()))
    kept = first.context["pending"]
    assert kept and f'name="kept_files" value="{token}"' in first.content.decode()
    second_tab = client.get(url)
    assert second_tab.context["pending"] == [] and second_tab.context["kept_files"] != token
    again = client.post(url, _stay(estimate="1", kept_files=token))
    assert [i["stored"] for i in again.context["pending"]] == [i["stored"] for i in kept]
    assert {i["stored"] for i in kept} <= _stored_files()


def test_files_kept_for_a_form_never_sent_are_removed_a_day_later(client, demo):
    client.force_login(_person("陈明").user)
    kept = client.post(reverse("settlement:claim-new"), _stay(estimate="1", **_scans()))
    names = {i["stored"] for i in kept.context["pending"]}
    import time

    remove_abandoned_uploads(now=time.time() + 2 * uploads.ABANDONED_AFTER_SECONDS)
    assert not names & _stored_files()


def test_the_answer_to_a_return_keeps_its_documents_when_the_bill_cannot_be_read(client, demo):
    claim = _submit()
    services.claim_return(claim=claim, actor=_staff(), reason="缺少出院小结第二页")
    client.force_login(claim.person.user)
    url = reverse("settlement:claim-resubmit", args=[claim.number])
    response = client.post(
        url,
        {
            "documents": [SimpleUploadedFile("page2.png", _png())],
            "bill_file": SimpleUploadedFile("bill.csv", b"code,name\n\xff\xfe"),
        },
    )
    assert response.status_code == 200 and response.context["resubmit_form"].errors
    assert [i["name"] for i in response.context["pending"]] == ["page2.png"]
    assert "page2.png" in response.content.decode()
    claim.refresh_from_db()
    assert claim.status == "returned" and claim.documents.count() == 4
    sent = client.post(url, {})  # the kept page is the answer
    assert sent.status_code == 302
    claim.refresh_from_db()
    assert claim.status == "submitted"
    assert ClaimDocument.objects.filter(claim=claim, original_name="page2.png").count() == 1


def test_a_bill_file_read_at_an_estimate_comes_back_as_rows_that_the_submit_files(client, demo):
    """A browser never sends a chosen file again: after the estimate, the items read from the
    itemised list are in the item rows, so submitting without choosing the list again files
    exactly those items."""
    client.force_login(_person("陈明").user)
    url = reverse("settlement:claim-new")
    bill = "code,name,class,amount,days,kind\nX1,住院费,A,8000.50\nM1,药,B,70,20,chronic\n"
    typed = {"items-0-code", "items-0-name", "items-0-amount"}  # nothing typed: the file only
    estimate = client.post(
        url,
        {
            **{k: v for k, v in _stay().items() if k not in typed},
            "bill_file": SimpleUploadedFile("bill.csv", bill.encode("utf-8-sig")),
            "estimate": "1",
            **_scans(),
        },
    )
    assert estimate.status_code == 200
    assert estimate.context["estimate"] is not None
    assert "已将您清单中的 2 个费用项目填入下表" in estimate.content.decode()
    formset = estimate.context["formset"]
    rows = [f.initial for f in formset.forms if f.initial]
    assert [(r["code"], r["cls"], str(r["amount"])) for r in rows] == [
        ("X1", "A", "8000.50"),
        ("M1", "B", "70.00"),
    ]
    assert (rows[1]["medication_days"], rows[1]["medication_kind"]) == (20, "chronic")
    # What the browser sends back: the rows as shown, and no file.
    sent = {
        "items-TOTAL_FORMS": str(formset.total_form_count()),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "500",
    }
    for i, form in enumerate(formset.forms):
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            sent[f"items-{i}-{name}"] = "" if value is None else str(value)
    stay_only = {k: v for k, v in _stay().items() if not k.startswith("items-")}
    submitted = client.post(url, {**stay_only, **sent, "submit": "1"})
    assert submitted.status_code == 302, submitted.context["form"].errors
    claim = Claim.objects.get()
    assert [(i["code"], i["amount"]) for i in claim.items] == [("X1", "8000.50"), ("M1", "70.00")]
    assert claim.items[1]["discharge_medication"] == {"days": 20, "kind": "chronic"}
