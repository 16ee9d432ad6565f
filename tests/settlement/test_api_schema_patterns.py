"""The served OpenAPI schema (/api/schema/) is as strict as POST /api/v1/settlements: money and
rate patterns accept what the server accepts and nothing else, `items` states its bounds, the ID
number's lengths and the Idempotency-Key header's refuse nothing the server takes, and the 422
body's `reasons` are described."""

import datetime
import math
import re

import pytest
from django.test import RequestFactory
from django.utils import timezone
from rest_framework import serializers

from hospitals import auth
from hospitals.eligibility_api import EligibilityRequest
from hospitals.eligibility_selectors import clear_caches
from hospitals.models import Hospital
from hospitals.services import api_key_create
from portal.lib import idnumbers
from settlement.api import ItemSerializer, SettlementRequest, idempotency_key

# Each is sent to the server and matched against the served pattern: both must agree.
AMOUNTS = "0 5 5.5 5.55 0.50 1234567890.12 9999999999 0000000001 12345678901 00000000001.00".split()
AMOUNTS += ["-5.00", "", ".5", "5.", "5.555", "+5", " 5", "5 ", "5e3", "NaN", "1,5", "1.2.3"]
AMOUNTS += ["\uff15"]  # a full-width digit 5
RATES = "0 1 0.1 0.10 0.125 1.0 1.000 -0.1 .5 0. 1.5 1.001 0.1234 00.5 2 10 0.1e1 01".split()
RATES += ["", " ", "\t"]  # "" is null (the policy's default); spaces are no number


def _server_accepts(field: str, value: str) -> bool:
    item = {"class": "B", "amount": "1.00", field: value}
    return ItemSerializer(data=item).is_valid()


def _schema_accepts(pattern: str, value: str) -> bool:
    # JSON Schema searches a pattern, with ECMA-262's ASCII-only \d.
    return re.search(pattern, value, re.ASCII) is not None


@pytest.mark.parametrize("value", AMOUNTS)
def test_amount_pattern_in_the_schema_accepts_what_the_server_accepts(schema, value):
    pattern = schema["components"]["schemas"]["Item"]["properties"]["amount"]["pattern"]
    assert _schema_accepts(pattern, value) == _server_accepts("amount", value)


@pytest.mark.parametrize("value", RATES)
def test_first_self_pay_rate_pattern_accepts_what_the_server_accepts(schema, value):
    rate = schema["components"]["schemas"]["Item"]["properties"]["first_self_pay_rate"]
    assert rate["nullable"] is True
    assert _schema_accepts(rate["pattern"], value) == _server_accepts("first_self_pay_rate", value)


def test_the_schema_refuses_the_amounts_the_audit_found_it_took(schema):
    properties = schema["components"]["schemas"]["Item"]["properties"]
    for value in ("-5.00", "", ".5", "5."):
        assert not _schema_accepts(properties["amount"]["pattern"], value)
        assert not _server_accepts("amount", value)
    for value in ("-0.1", ".5", "0."):
        assert not _schema_accepts(properties["first_self_pay_rate"]["pattern"], value)


# 232701195603120223 (王秀兰) and 23272219700630026X (赵丽) as a desk's system may send them.
ID_NUMBERS_TAKEN = [
    "232701195603120223",
    "23272219700630026X",
    "23272219700630026x",
    " 232701 19560312 0223 ",
    "2327 0119 5603 1202 23",
    "232701\t19560312\t0223",
    "２３２７０１１９５６０３１２０２２３",  # full-width digits from an input method
    "23272219700630026ｘ",
    "232701195603120223\u200b",  # a zero-width space pasted after it
    "⑬⑩㉑⑲㊿⑩⑩⑩⑪",  # 131021195010101011 in nine characters
]
# Shorter than any text the server reads as 18 characters.
ID_NUMBERS_TOO_SHORT = [
    "",
    " ",
    "2327",
    "23270119",
    "⑬⑩㉑⑲㊿⑩⑩⑩",
]


def _id_number_schemas(schema) -> list[dict]:
    schemas = schema["components"]["schemas"]
    return [
        schemas[name]["properties"]["id_number"]
        for name in ("EligibilityRequest", "SettlementRequest")
    ]


def _schema_takes_text(node: dict, value: str) -> bool:
    fits = node.get("minLength", 0) <= len(value) <= node.get("maxLength", len(value))
    return fits and _schema_accepts(node.get("pattern", ""), value)


def _server_takes_id_number(value: str) -> bool:
    forms = (EligibilityRequest(), SettlementRequest())
    return all(_takes(form.fields["id_number"], value) for form in forms)


def _takes(field, value) -> bool:
    try:
        field.run_validation(value)
    except serializers.ValidationError:
        return False
    return True


@pytest.mark.parametrize("value", ID_NUMBERS_TAKEN)
def test_the_schema_takes_every_id_number_the_server_takes(schema, value):
    assert _server_takes_id_number(value)
    for node in _id_number_schemas(schema):
        assert _schema_takes_text(node, value)


@pytest.mark.parametrize("value", ID_NUMBERS_TOO_SHORT)
def test_an_id_number_the_schema_refuses_as_too_short_the_server_refuses(schema, value):
    assert not _server_takes_id_number(value)
    for node in _id_number_schemas(schema):
        assert not _schema_takes_text(node, value)


def test_no_shorter_text_is_read_as_an_id_number(schema):
    # Each character is read as at most two of the 18 (⑩ to ㊿ as two digits: NFKC), so nine
    # is the fewest that can make one, as ID_NUMBERS_TAKEN's last shows.
    most = max(
        len(plain)
        for plain in map(idnumbers.normalize, map(chr, range(0x110000)))
        if re.fullmatch(r"[0-9X]+", plain)
    )
    assert most == 2
    for node in _id_number_schemas(schema):
        assert node["minLength"] == math.ceil(18 / most)


# Header values as HTTP carries them (Latin-1); what str.strip() drops is no key.
IDEMPOTENCY_KEYS = ["a", "k" * 128, "k" * 129, "", " ", "\t", "\xa0", "\x85", "\x1c\x1f", "a b"]
IDEMPOTENCY_KEYS += ["\xa0x\xa0", "\x85x", "order-2026-0001", "\u00e9t\u00e9"]


def _server_takes_idempotency_key(value: str) -> bool:
    request = RequestFactory().post("/", headers={"Idempotency-Key": value})
    try:
        idempotency_key(request)
    except serializers.ValidationError:
        return False
    return True


@pytest.mark.parametrize("value", IDEMPOTENCY_KEYS)
def test_the_idempotency_key_in_the_schema_is_the_one_the_server_takes(schema, value):
    parameters = schema["paths"]["/api/v1/settlements"]["post"]["parameters"]
    header = next(p for p in parameters if p["name"] == "Idempotency-Key")
    assert header["in"] == "header"
    assert _schema_takes_text(header["schema"], value) == _server_takes_idempotency_key(value)


def test_valid_amounts_keep_their_value():
    item = ItemSerializer(
        data={"class": "B", "amount": "0000000123.4", "first_self_pay_rate": "0.1"}
    )
    assert item.is_valid(), item.errors
    amount, rate = item.validated_data["amount"], item.validated_data["first_self_pay_rate"]
    assert (str(amount), str(rate)) == ("123.40", "0.100")
    blank = ItemSerializer(data={"class": "B", "amount": "5", "first_self_pay_rate": ""})
    assert blank.is_valid(), blank.errors
    assert blank.validated_data["first_self_pay_rate"] is None  # the policy's default


def test_items_min_and_max_in_the_schema_are_the_ones_enforced(schema):
    items = schema["components"]["schemas"]["SettlementRequest"]["properties"]["items"]
    assert (items["minItems"], items["maxItems"]) == (1, 2000)
    field = SettlementRequest().fields["items"]
    one = {"class": "A", "amount": "1.00"}
    assert len(field.run_validation([one])) == 1
    assert len(field.run_validation([one] * 2000)) == 2000
    for count in (0, 2001):
        with pytest.raises(serializers.ValidationError):
            field.run_validation([one] * count)


def _resolve(schema, node):
    ref = node.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else node


@pytest.mark.django_db
def test_the_422_body_with_its_reasons_is_the_one_the_schema_describes(client, demo, schema):
    clear_caches()
    auth.keys.clear()
    key = api_key_create(hospital=Hospital.objects.get(code="H23010300016"))[1]
    today = timezone.localdate()
    body = {
        "id_number": "232721197811200177",  # 张伟: his referral names H23010300001
        "name": "张伟",
        "visit": {
            "care_type": "inpatient",
            "admitted_on": (today - datetime.timedelta(days=3)).isoformat(),
            "discharged_on": today.isoformat(),
        },
        "items": [{"class": "A", "amount": "100.00"}],
    }
    response = client.post(
        "/api/v1/settlements",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    clear_caches()
    auth.keys.clear()
    assert response.status_code == 422, response.content
    answer = response.json()
    assert answer["reasons"] and answer["error"]["reasons"] == answer["reasons"]

    post = schema["paths"]["/api/v1/settlements"]["post"]
    described = _resolve(schema, post["responses"]["422"]["content"]["application/json"]["schema"])
    assert set(answer) <= set(described["properties"])
    assert described["properties"]["reasons"]["items"]["type"] == "string"
    error = _resolve(schema, described["properties"]["error"])
    assert set(answer["error"]) <= set(error["properties"])
    assert error["properties"]["reasons"]["type"] == "array"
