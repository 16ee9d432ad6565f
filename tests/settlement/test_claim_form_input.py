"""The claim form (/settlement/claims/new/) against what a browser, a person or a fuzzer may
send: a broken row count, amounts written as people write them, the same claim sent twice."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from settlement.models import Claim
from tests.filings.corpus import _jpeg, _pdf, _png
from tests.settlement.test_claim_uploads_kept import _stay
from tests.settlement.test_claims import _item_rows, _person

pytestmark = pytest.mark.django_db
URL = "settlement:claim-new"


def _scans() -> dict:
    return {
        "doc_discharge_summary": SimpleUploadedFile("summary.pdf", _pdf()),
        "doc_invoice": SimpleUploadedFile("invoice.jpg", _jpeg()),
        "doc_itemised_list": SimpleUploadedFile("list.png", _png()),
        "doc_medical_record": SimpleUploadedFile("record.pdf", _pdf()),
    }


# --- the count of item rows ----------------------------------------------------------------


@pytest.mark.parametrize("count", ["abc", "²", "1e3", "-7", ""])
def test_more_rows_with_a_row_count_that_is_not_a_number_is_a_page_not_a_server_error(
    client, demo, count
):
    client.force_login(_person("陈明").user)
    data = _stay(add_rows="1", **{"items-TOTAL_FORMS": count})
    response = client.post(reverse(URL), data)
    assert response.status_code == 200
    formset = response.context["formset"]
    assert formset.total_form_count() == 4  # taken as none, and four more
    assert 'value="住院费"' in response.content.decode()  # the typed row is still there
    assert Claim.objects.count() == 0


def test_a_row_count_that_is_not_a_number_on_submit_is_answered_by_the_formset(client, demo):
    client.force_login(_person("陈明").user)
    data = _stay(submit="1", **{"items-TOTAL_FORMS": "²"}, **_scans())
    response = client.post(reverse(URL), data)
    assert response.status_code == 200
    assert response.context["formset"].non_form_errors()
    assert Claim.objects.count() == 0


# --- amounts as people write them -----------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("1,234.56", "1234.56"),
        ("１２３４．５６", "1234.56"),
        ("１，２３４．５", "1234.50"),
        (" 1 234.56 ", "1234.56"),
        ("10000", "10000.00"),
    ],
)
def test_an_item_amount_is_read_as_the_person_wrote_it(client, demo, typed, read):
    client.force_login(_person("陈明").user)
    data = _stay(estimate="1", **_item_rows([("X1", "住院费", "A", typed)]))
    response = client.post(reverse(URL), data)
    assert response.status_code == 200
    assert response.context["estimate"] is not None
    assert response.context["estimate"].result.total == D(read)


@pytest.mark.parametrize("typed", ["1e5", "1_000", "12,5", "1,2345.00", "0x10", "NaN", "１e5"])
def test_an_item_amount_decimal_reads_but_a_person_does_not_write_is_refused_beside_it(
    client, demo, typed
):
    client.force_login(_person("陈明").user)
    data = _stay(estimate="1", **_item_rows([("X1", "住院费", "A", typed)]))
    response = client.post(reverse(URL), data)
    assert response.status_code == 200 and response.context["estimate"] is None
    row = response.context["formset"].forms[0]
    assert row.errors["amount"] == ["请输入金额，例如 1234.56。"]
    assert f'value="{typed}"' in response.content.decode()  # kept as typed


def test_an_item_amount_is_refused_in_english_for_an_english_reader(client, demo):
    client.force_login(_person("陈明").user)
    client.cookies["django_language"] = "en"
    data = _stay(estimate="1", **_item_rows([("X1", "住院费", "A", "1e5")]))
    response = client.post(reverse(URL), data)
    assert response.context["formset"].forms[0].errors["amount"] == [
        "Enter an amount, such as 1234.56."
    ]


def test_the_item_amount_keeps_its_limits_and_their_messages(client, demo):
    client.force_login(_person("陈明").user)
    rows = [("X1", "a", "A", "0"), ("X2", "b", "A", "1.234"), ("X3", "c", "A", "123,456,789")]
    response = client.post(reverse(URL), _stay(estimate="1", **_item_rows(rows)))
    forms = response.context["formset"].forms
    assert "0.01" in forms[0].errors["amount"][0]  # the least
    assert "2" in forms[1].errors["amount"][0] and "小数" in forms[1].errors["amount"][0]
    assert "8" in forms[2].errors["amount"][0]  # digits before the point


def test_the_item_amount_is_a_text_box_a_browser_sends_as_typed(client, demo):
    """A number box would be emptied by the browser when it holds "1,234.56"."""
    client.force_login(_person("陈明").user)
    html = client.get(reverse(URL)).content.decode()
    box = re.search(r'<input[^>]*name="items-0-amount"[^>]*>', html).group(0)
    assert 'type="text"' in box and 'inputmode="decimal"' in box


# --- the same claim sent twice --------------------------------------------------------------


def test_the_same_claim_sent_again_is_named_on_the_form_and_not_filed_twice(client, demo):
    client.force_login(_person("陈明").user)
    first = client.post(reverse(URL), _stay(submit="1", **_scans()))
    assert first.status_code == 302
    claim = Claim.objects.get()
    again = client.post(reverse(URL), _stay(submit="1", **_scans()))
    assert again.status_code == 200
    assert Claim.objects.count() == 1
    errors = again.context["form"].non_field_errors()
    assert len(errors) == 1
    assert claim.number in errors[0] and "10,000.00" in errors[0] and "已申请过" in errors[0]
    assert timezone.localdate().isoformat() in errors[0]
    html = again.content.decode()
    assert 'value="10000.00"' in html and 'value="住院费"' in html  # what was typed is kept
    assert 'name="different_bill"' in html
    # The documents sent with it are kept: the person need not choose them again.
    assert len(again.context["pending"]) == 4


def test_a_person_who_says_it_is_another_bill_files_it_and_the_reviewer_still_sees_the_flag(
    client, demo
):
    client.force_login(_person("陈明").user)
    assert client.post(reverse(URL), _stay(submit="1", **_scans())).status_code == 302
    sure = client.post(reverse(URL), _stay(submit="1", different_bill="on", **_scans()))
    assert sure.status_code == 302
    assert Claim.objects.count() == 2
    assert "duplicate_bill" in Claim.objects.order_by("-id").first().flags


def test_the_same_claim_is_told_in_english_to_an_english_reader(client, demo):
    client.force_login(_person("陈明").user)
    client.cookies["django_language"] = "en"
    client.post(reverse(URL), _stay(submit="1", **_scans()))
    again = client.post(reverse(URL), _stay(submit="1", **_scans()))
    [error] = again.context["form"].non_field_errors()
    assert error.startswith("You have already claimed this bill")
    assert "This is another bill, not the one I claimed before" in error


def test_a_different_total_or_a_rejected_claim_is_not_the_same_bill(client, demo):
    from settlement import services
    from tests.settlement.test_claims import _staff

    client.force_login(_person("陈明").user)
    assert client.post(reverse(URL), _stay(submit="1", **_scans())).status_code == 302
    other = _stay(submit="1", **_item_rows([("X1", "住院费", "A", "9000.00")]), **_scans())
    assert client.post(reverse(URL), other).status_code == 302
    for claim in Claim.objects.all():
        services.claim_reject(claim=claim, actor=_staff(), reason="发票不清晰")
    assert client.post(reverse(URL), _stay(submit="1", **_scans())).status_code == 302
    assert Claim.objects.count() == 3


def test_an_estimate_of_a_bill_already_claimed_files_nothing_and_is_shown(client, demo):
    client.force_login(_person("陈明").user)
    client.post(reverse(URL), _stay(submit="1", **_scans()))
    response = client.post(reverse(URL), _stay(estimate="1"))
    assert response.status_code == 200 and response.context["estimate"] is not None
    assert Claim.objects.count() == 1


def test_a_claim_submitted_before_today_is_named_with_its_date(client, demo):
    client.force_login(_person("陈明").user)
    client.post(reverse(URL), _stay(submit="1", **_scans()))
    earlier = timezone.now() - datetime.timedelta(days=3)
    Claim.objects.update(submitted_at=earlier)
    again = client.post(reverse(URL), _stay(submit="1", **_scans()))
    [error] = again.context["form"].non_field_errors()
    assert timezone.localtime(earlier).date().isoformat() in error


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_same_claim_sent_by_4_presses_at_once_is_filed_once():
    import io
    import threading

    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client

    if connection.vendor != "postgresql":
        pytest.skip("races need PostgreSQL: runs with CI=true")
    call_command("seed_demo", "--no-history", stdout=io.StringIO())
    user = _person("陈明").user
    barrier = threading.Barrier(4)
    results = []

    def press():
        try:
            client = Client()
            client.force_login(user)
            data = _stay(submit="1", **_scans())
            barrier.wait()
            results.append(client.post(reverse(URL), data).status_code)
        except Exception as error:  # noqa: BLE001 - a server error is the failure
            results.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 200, 200, 302]
    assert Claim.objects.count() == 1
