"""POST /api/v1/settlements refuses what shared/api.md does not allow (money as strings, dates as
YYYY-MM-DD, an Idempotency-Key it can keep) with field messages keyed by path; GET
/api/v1/settlements/{number} is in the access log."""

import datetime

import pytest
from django.utils import timezone

from hospitals.models import AccessLog
from portal.models import InsuredPerson
from settlement.models import Settlement
from tests.settlement import test_api as api_tests
from tests.settlement.test_api import CHEN, URL, bill, post

pytestmark = pytest.mark.django_db
keys = api_tests.keys  # the API tests' fixture
HOSPITAL = "H21010000001"  # where 陈明 is insured: a local settlement


def item(**changes) -> dict:
    return {"code": "X1", "name": "住院费", "class": "A", "amount": "100.00", **changes}


def refused(client, keys, body, *, lang="en", idem=None) -> dict:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {keys[HOSPITAL]}", "HTTP_ACCEPT_LANGUAGE": lang}
    if idem is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = idem
    before = Settlement.objects.count()
    response = client.post(URL, body, content_type="application/json", **headers)
    assert response.status_code == 400, response.content
    assert Settlement.objects.count() == before
    error = response.json()["error"]
    assert error["code"] == "invalid"
    return error["fields"]


# --- field messages keyed by path ---------------------------------------------------------


def test_nested_field_errors_are_readable_messages_keyed_by_their_path(client, keys):
    body = bill(CHEN, items=[item(), item(**{"class": "D"})])
    fields = refused(client, keys, body, lang="zh-hans")
    assert fields == {"items[1].class": ["“D” 不是合法选项。"]}
    fields = refused(client, keys, body)
    assert fields == {"items[1].class": ['"D" is not a valid choice.']}


def test_every_nested_error_is_under_its_own_path(client, keys):
    body = bill(CHEN, items=[item(amount="-1", **{"class": "D"}), item(discharge_medication={})])
    body["visit"]["emergency"] = "maybe"
    body["id_number"] = "232701195603120224"
    fields = refused(client, keys, body)
    assert set(fields) == {
        "id_number",  # a top-level field keeps its name
        "items[0].amount",
        "items[0].class",
        "items[1].discharge_medication.days",
        "items[1].discharge_medication.kind",
        "visit.emergency",
    }
    for messages in fields.values():
        assert messages and all(isinstance(m, str) for m in messages)
        assert not any("ErrorDetail" in m or "{" in m for m in messages)


def test_an_error_about_a_whole_nested_object_or_list_is_under_its_path(client, keys):
    today = bill(CHEN)["visit"]["discharged_on"]
    body = bill(CHEN, admitted=None)
    body["visit"]["admitted_on"], body["visit"]["discharged_on"] = today, "2000-01-01"
    assert refused(client, keys, body) == {
        "visit.discharged_on": ["The discharge date is before the admission date."]
    }
    body = {**bill(CHEN), "visit": "inpatient", "items": []}
    fields = refused(client, keys, body)
    assert set(fields) == {"visit", "items"}
    assert fields["items"] == ["This list may not be empty."]
    assert refused(client, keys, {**bill(CHEN), "items": ["X1"]}).keys() == {"items[0]"}


# --- money and rates as strings ------------------------------------------------------------

MONEY_MESSAGE = (
    'Enter the amount as a string of digits with at most two decimals, such as "123.45".'
)


@pytest.mark.parametrize(
    "amount",
    [
        123.45,
        100,
        0,
        "1e3",
        "1E3",
        "123.456",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1,000",
        "",
        "1.",
        ".5",
        "NaN",
        "Infinity",
        "１２３",
        "0x10",
        True,
        ["1"],
    ],
)
def test_an_amount_other_than_a_string_with_at_most_two_decimals_is_refused(client, keys, amount):
    fields = refused(client, keys, bill(CHEN, items=[item(amount=amount)]))
    assert fields == {"items[0].amount": [MONEY_MESSAGE]}


def test_an_amount_message_is_in_the_requested_language(client, keys):
    fields = refused(client, keys, bill(CHEN, items=[item(amount=12.5)]), lang="zh-hans")
    assert fields["items[0].amount"] == [
        '金额请以字符串填写：只含数字，最多两位小数，例如 "123.45"。'
    ]


def test_amounts_with_zero_one_or_two_decimals_are_taken(client, keys):
    items = [
        item(amount="123", **{"class": "C"}),
        item(amount="123.4", **{"class": "C"}),
        item(amount="0.45", **{"class": "C"}),
    ]
    response = post(client, keys[HOSPITAL], bill(CHEN, items=items))
    assert response.status_code == 201, response.content
    assert response.json()["total"] == "246.85"


RATE_MESSAGE = 'Enter the rate as a string decimal from 0 to 1, such as "0.10".'


@pytest.mark.parametrize("rate", [0.1, 1, 0, "1e-1", "-0.1", "+0.1", " 0.1", ".1", "0.", "NaN"])
def test_a_first_self_pay_rate_other_than_a_string_decimal_is_refused(client, keys, rate):
    body = bill(CHEN, items=[item(first_self_pay_rate=rate, **{"class": "B"})])
    assert refused(client, keys, body) == {"items[0].first_self_pay_rate": [RATE_MESSAGE]}


@pytest.mark.parametrize("rate", ["1.5", "2", "0.1234"])
def test_a_first_self_pay_rate_outside_0_to_1_is_refused(client, keys, rate):
    body = bill(CHEN, items=[item(first_self_pay_rate=rate, **{"class": "B"})])
    assert refused(client, keys, body).keys() == {"items[0].first_self_pay_rate"}


@pytest.mark.parametrize("rate", ["0.10", "0", "1", "1.000", None])
def test_a_first_self_pay_rate_from_0_to_1_as_a_string_is_taken(client, keys, rate):
    body = bill(CHEN, items=[item(first_self_pay_rate=rate, **{"class": "B"})])
    assert post(client, keys[HOSPITAL], body).status_code == 201


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["admitted_on", "discharged_on"])
@pytest.mark.parametrize(
    "value", ["20261101", "2026-W48-1", "2026-11-01T00:00", " 2026-11-01", "2026-1-1", 20261101]
)
def test_a_visit_date_other_than_yyyy_mm_dd_is_refused(client, keys, field, value):
    body = bill(CHEN)
    body["visit"][field] = value
    fields = refused(client, keys, body)
    assert fields.keys() == {f"visit.{field}"}
    assert "YYYY-MM-DD" in fields[f"visit.{field}"][0]


def test_a_date_of_the_right_form_that_does_not_exist_is_told_as_such(client, keys):
    body = bill(CHEN)
    body["visit"]["admitted_on"] = "2026-02-30"
    fields = refused(client, keys, body, lang="zh-hans")
    assert fields == {"visit.admitted_on": ["没有这一天：2026-02-30。"]}


def test_a_stay_that_has_not_ended_is_not_settled(client, keys):
    """A bill whose discharge is after today (in China's time) is refused, as a claim is."""
    today = timezone.localdate()
    ahead = bill(
        CHEN, admitted=today + datetime.timedelta(days=5), discharged=today + datetime.timedelta(1)
    )
    ahead["visit"]["admitted_on"] = today.isoformat()
    fields = refused(client, keys, ahead, lang="zh-hans")
    assert fields == {"visit.discharged_on": ["出院日期不能晚于今天。"]}
    fields = refused(client, keys, bill(CHEN, admitted=today + datetime.timedelta(days=3)))
    assert fields == {"visit.discharged_on": ["The discharge date is before the admission date."]}
    # Discharged today: settled.
    assert post(client, keys[HOSPITAL], bill(CHEN, admitted=today)).status_code == 201


def test_a_bill_that_comes_to_nothing_is_refused(client, keys):
    body = bill(CHEN, items=[item(amount="0.00"), item(amount="0", **{"class": "C"})])
    assert refused(client, keys, body) == {
        "items": ["The bill comes to 0.00: there is nothing to settle."]
    }
    body = bill(CHEN, items=[item(amount="0.00"), item(amount="0.01")])
    assert post(client, keys[HOSPITAL], body).status_code == 201


@pytest.mark.parametrize(
    "id_number", [" 210103 198512 010131 ", "2101 0319 8512 0101 31", "210103198512010131"]
)
def test_an_id_number_typed_in_groups_is_taken_as_the_web_check_takes_it(client, keys, id_number):
    body = bill(CHEN)
    body["id_number"] = id_number
    response = post(client, keys[HOSPITAL], body)
    assert response.status_code == 201, response.content
    assert response.json()["number"]


@pytest.mark.parametrize(
    "id_number", [210103198512010131, "21010319851201013", "21010319851201013Y"]
)
def test_an_id_number_that_is_not_18_characters_in_a_string_is_told_what_one_is(
    client, keys, id_number
):
    body = bill(CHEN)
    body["id_number"] = id_number
    assert refused(client, keys, body, lang="zh-hans") == {
        "id_number": ["身份证号码为18位：前17位为数字，最后一位为数字或X。"]
    }


def test_a_body_that_is_not_an_object_is_refused_in_the_request_language(client, keys):
    """Not DRF's "Expected a dictionary, but got list" (with Python's word for it)."""
    for url in (URL, "/api/v1/eligibility"):
        for lang, expected in (
            ("zh-hans", "请求体必须是一个 JSON 对象。"),
            ("en", "The request body must be a JSON object."),
        ):
            for body in ([bill(CHEN)], "null"):  # `null`: not DRF's English "No data provided"
                response = client.post(
                    url,
                    body,
                    content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {keys[HOSPITAL]}",
                    HTTP_ACCEPT_LANGUAGE=lang,
                )
                assert response.status_code == 400
                assert response.json()["error"]["fields"] == {"non_field_errors": [expected]}


# --- JSON types as api.md has them --------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda b: b["visit"].update(emergency="yes"), "visit.emergency"),
        (lambda b: b["visit"].update(emergency=1), "visit.emergency"),
        (lambda b: b["visit"].update(emergency="true"), "visit.emergency"),
        (lambda b: b["visit"].update(transfer_approved=0), "visit.transfer_approved"),
        (lambda b: b.update(name=5), "name"),
        (lambda b: b["items"][0].update(code=123), "items[0].code"),
        (lambda b: b["items"][0].update(name=["住院费"]), "items[0].name"),
        (
            lambda b: b["items"][0].update(discharge_medication={"days": "7", "kind": "acute"}),
            "items[0].discharge_medication.days",
        ),
        (
            lambda b: b["items"][0].update(discharge_medication={"days": True, "kind": "acute"}),
            "items[0].discharge_medication.days",
        ),
    ],
)
def test_a_value_of_another_json_type_is_refused_not_converted(client, keys, change, path):
    """api.md: invalid input is 400. A string "yes" for the emergency flag had settled a bill
    as an emergency (the money changes); a number for the name had answered 404."""
    body = bill(CHEN)
    change(body)
    fields = refused(client, keys, body)
    assert list(fields) == [path], fields


def test_a_name_of_another_json_type_is_refused_by_the_eligibility_check(client, keys):
    response = client.post(
        "/api/v1/eligibility",
        {"id_number": CHEN[0], "name": 5, "care_type": "inpatient"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {keys[HOSPITAL]}",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["name"]


def test_the_authorization_scheme_is_case_insensitive(client, keys):
    """RFC 9110 §11.1: "bearer" is the same scheme as "Bearer"."""
    for scheme in ("bearer", "BEARER"):
        response = client.post(
            "/api/v1/eligibility",
            {"id_number": CHEN[0], "name": CHEN[1], "care_type": "inpatient"},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"{scheme} {keys[HOSPITAL]}",
        )
        assert response.status_code == 200, scheme


# --- Idempotency-Key -----------------------------------------------------------------------


def test_an_idempotency_key_longer_than_it_can_be_stored_is_refused_not_cut(client, keys):
    stem = "k" * 128
    fields = refused(client, keys, bill(CHEN), idem=stem + "1")
    assert fields == {
        "Idempotency-Key": ["The Idempotency-Key header is longer than 128 characters."]
    }
    zh = refused(client, keys, bill(CHEN), idem=stem + "2", lang="zh-hans")
    assert zh == {"Idempotency-Key": ["Idempotency-Key 请求头超过 128 个字符。"]}
    # Exactly as long as the column: kept whole, and the same key returns the same settlement.
    first = post(client, keys[HOSPITAL], bill(CHEN), idem=stem)
    again = post(client, keys[HOSPITAL], bill(CHEN), idem=f"  {stem} ")
    assert (first.status_code, again.status_code) == (201, 200)
    assert Settlement.objects.get(number=first.json()["number"]).idempotency_key == stem


@pytest.mark.parametrize("idem", ["", "   ", "\t"])
def test_an_idempotency_key_given_empty_is_refused(client, keys, idem):
    fields = refused(client, keys, bill(CHEN), idem=idem)
    assert fields == {"Idempotency-Key": ["The Idempotency-Key header is empty."]}


# --- the access log ------------------------------------------------------------------------


def test_reading_a_settlement_writes_one_access_log_row(client, keys):
    number = post(client, keys[HOSPITAL], bill(CHEN)).json()["number"]
    reads = AccessLog.objects.filter(purpose="settlement:read")
    assert not reads.exists()
    own = client.get(f"{URL}/{number}", HTTP_AUTHORIZATION=f"Bearer {keys[HOSPITAL]}")
    assert own.status_code == 200
    row = reads.get()
    chen = InsuredPerson.objects.get(name="陈明")
    settlement = Settlement.objects.get(number=number)
    assert (row.api_key_id, row.hospital_id, row.subject_hash, row.subject_region_id) == (
        settlement.api_key_id,
        settlement.hospital_id,
        chen.id_hash,
        chen.region_id,
    )
    assert row.outcome == "found"
    assert row.purpose_label().startswith("Direct settlement") or "直接结算" in row.purpose_label()
    # Another hospital learns nothing, and its attempt is recorded without a subject.
    other = client.get(f"{URL}/{number}", HTTP_AUTHORIZATION=f"Bearer {keys['H46020000002']}")
    assert other.status_code == 404
    miss = reads.exclude(pk=row.pk).get()
    assert (miss.outcome, miss.subject_hash, miss.hospital.code) == (
        "not_found",
        "",
        "H46020000002",
    )


def test_the_admin_lists_settlement_reads_under_the_settlement_purpose(client, keys):
    from django.urls import reverse

    from tests.signin import staff_login

    number = post(client, keys[HOSPITAL], bill(CHEN)).json()["number"]
    client.get(f"{URL}/{number}", HTTP_AUTHORIZATION=f"Bearer {keys[HOSPITAL]}")
    read = AccessLog.objects.get(purpose="settlement:read")
    staff_login(client, "agency_shenyang")  # 陈明 is insured in Shenyang
    url = reverse("admin:hospitals_accesslog_changelist")
    listed = client.get(url, {"purpose": "settlement"}).context["cl"].result_list
    assert read.pk in {row.pk for row in listed}


def test_a_bad_idempotency_key_and_a_bad_body_are_answered_together(client, keys):
    body = bill(CHEN, items=[item(amount=1)])
    assert refused(client, keys, body, idem=" ").keys() == {"Idempotency-Key", "items[0].amount"}


def test_an_admission_in_a_year_typed_wrong_is_the_admission_dates_error(client, keys):
    body = bill(CHEN)
    body["visit"]["admitted_on"] = "0206-11-01"
    fields = refused(client, keys, body)
    assert set(fields) == {"visit.admitted_on"}
