"""The claim form with typed item rows and a bill file chosen together: the file's items are
added after the typed ones, never in their place, and a typed row in error keeps its error."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from settlement.models import Claim
from tests.settlement.test_claim_uploads_kept import _scans, _stay
from tests.settlement.test_claims import _person

pytestmark = pytest.mark.django_db
BILL = "code,name,class,amount,days,kind\nF1,检查费,A,500.00\nF2,药,B,70,20,chronic\n"


def _bill():
    return SimpleUploadedFile("bill.csv", BILL.encode("utf-8-sig"))


def test_typed_rows_and_the_bill_files_items_are_all_filed(client, demo):
    client.force_login(_person("陈明").user)
    response = client.post(
        reverse("settlement:claim-new"),
        _stay(submit="1", bill_file=_bill(), **_scans()),
    )
    assert response.status_code == 302, response.context["form"].errors
    claim = Claim.objects.get()
    assert [(i["code"], i["amount"]) for i in claim.items] == [
        ("X1", "10000.00"),
        ("F1", "500.00"),
        ("F2", "70.00"),
    ]
    assert claim.total == Decimal("10570.00")


def test_an_estimate_with_typed_rows_and_a_bill_file_shows_them_all_as_rows(client, demo):
    client.force_login(_person("陈明").user)
    response = client.post(reverse("settlement:claim-new"), _stay(estimate="1", bill_file=_bill()))
    assert response.status_code == 200
    assert response.context["estimate"].result.total == Decimal("10570.00")
    rows = [f.initial for f in response.context["formset"].forms if f.initial]
    assert [r["code"] for r in rows] == ["X1", "F1", "F2"]
    html = response.content.decode()
    assert "在您填写的项目之后" in html  # the list was added after the typed items


def test_a_bad_typed_row_with_a_bill_file_files_nothing_and_keeps_the_row_and_its_error(
    client, demo
):
    client.force_login(_person("陈明").user)
    response = client.post(
        reverse("settlement:claim-new"),
        _stay(
            submit="1",
            bill_file=_bill(),
            **{"items-0-amount": "-3000"},
            **_scans(),
        ),
    )
    assert response.status_code == 200
    assert Claim.objects.count() == 0
    formset = response.context["formset"]
    assert formset.forms[0].errors["amount"]
    html = response.content.decode()
    assert 'value="-3000"' in html  # the typed row, as typed
    assert 'value="F1"' in html and 'value="F2"' in html  # and the file's rows after it
    assert "is-invalid" in html


def test_more_rows_with_a_bill_file_keeps_the_typed_rows(client, demo):
    client.force_login(_person("陈明").user)
    response = client.post(reverse("settlement:claim-new"), _stay(add_rows="1", bill_file=_bill()))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="X1"' in html and 'value="F1"' in html and 'value="F2"' in html
    assert response.context["formset"].total_form_count() == 3 + 4
