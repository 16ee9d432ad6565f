"""POST /api/v1/eligibility over the demo of shared/demo.md, and the desk page beside it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from hospitals import auth
from hospitals.eligibility_api import counters
from hospitals.eligibility_selectors import clear_caches
from hospitals.models import AccessLog, ApiKey, Hospital
from hospitals.services import api_key_create, api_key_revoke

pytestmark = pytest.mark.django_db
URL = "/api/v1/eligibility"
PEOPLE = {
    "王秀兰": "232701195603120223",
    "李建国": "210102196208050352",
    "张伟": "232721197811200177",
    "刘芳": "210202199004150481",
    "陈明": "210103198512010131",
    "赵丽": "23272219700630026X",
    "孙国强": "21010219580101055X",
}


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_caches()
    auth.keys.clear()
    counters.clear()
    yield
    clear_caches()
    auth.keys.clear()
    counters.clear()


@pytest.fixture
def keys(demo):
    return {
        code: api_key_create(hospital=Hospital.objects.get(code=code))[1]
        for code in [
            "H46020000001",
            "H46020000002",
            "H46020000003",
            "H23010300001",
            "H23010300016",
            "H23010300002",
            "H21010000001",
            "H23270000001",
        ]
    }


def ask(client, key, name, care="inpatient", lang=None, **extra):
    body = {"id_number": PEOPLE.get(name, name), "name": name, "care_type": care, **extra}
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    if lang:
        headers["HTTP_ACCEPT_LANGUAGE"] = lang
    return client.post(URL, body, content_type="application/json", **headers)


@pytest.mark.parametrize(
    ("name", "hospital", "care", "eligible", "category", "two_way"),
    [
        ("王秀兰", "H46020000002", "inpatient", True, "long_term", True),  # chosen
        ("王秀兰", "H46020000001", "general_outpatient", True, "long_term", True),
        ("王秀兰", "H23010300001", "inpatient", False, "none", False),  # not her place
        ("王秀兰", "H23270000001", "inpatient", True, "local", True),  # two-way at home
        ("李建国", "H23010300002", "inpatient", True, "long_term", False),  # one-way there
        ("李建国", "H21010000001", "inpatient", False, "local", False),  # one-way: not at home
        ("张伟", "H23010300001", "inpatient", True, "referral", False),
        ("张伟", "H23010300016", "inpatient", False, "none", False),  # another hospital
        ("张伟", "H23010300001", "general_outpatient", False, "none", False),  # care not covered
        ("刘芳", "H23010300016", "general_outpatient", True, "temporary", False),
        ("陈明", "H21010000001", "inpatient", True, "local", False),
        ("陈明", "H23010300001", "inpatient", False, "none", False),
        ("赵丽", "H23010300016", "inpatient", False, "none", False),  # expired
        ("孙国强", "H46020000002", "inpatient", False, "none", False),  # pending review
    ],
)
def test_demo_people_answer_as_their_situations_say(
    client, keys, name, hospital, care, eligible, category, two_way
):
    response = ask(client, keys[hospital], name, care)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["eligible"], body["category"], body["two_way"]) == (eligible, category, two_way)
    if not eligible:
        assert body["reasons"]


def test_response_masks_identity_and_carries_the_filing(client, keys):
    body = ask(client, keys["H46020000002"], "王秀兰").json()
    assert body["insured"] == {
        "name": "王*兰",
        "id_number": "2327**********0223",
        "scheme": "employee",
        "region": {"code": "232700", "name": "大兴安岭地区"},
    }
    filing = body["filing"]
    assert filing["type"] == "long_term" and filing["subtype"] == "resettled_retiree"
    assert filing["status"] == "approved"
    assert filing["place_of_treatment"] == {"code": "460200", "name": "三亚市"}
    assert filing["hospitals"] == ["H46020000001", "H46020000002", "H46020000003"]
    assert filing["commitment_deadline"] is None
    assert body["benefit"] == {
        "ratio_reduction_points": 5,
        "deductible_multiplier": "1.00",
        "fund_share": "1.00",
    }
    assert "232701195603120223" not in response_text(body)


def response_text(body) -> str:
    import json

    return json.dumps(body, ensure_ascii=False)


def test_one_way_filing_shows_the_commitment_deadline(client, keys):
    body = ask(client, keys["H21010000001"], "李建国").json()
    assert body["eligible"] is False
    assert body["filing"]["commitment_deadline"] is not None
    deadline = datetime.date.fromisoformat(body["filing"]["commitment_deadline"])
    assert 25 <= (deadline - timezone.localdate()).days <= 35
    assert any("单向" in r for r in body["reasons"])


def test_rule_2_1_at_the_place_of_residence_a_one_way_filing_names_its_deadline(client, keys):
    # 李建国 settles directly in Harbin (one-way): the desk is told until when that holds.
    body = ask(client, keys["H23010300002"], "李建国").json()
    deadline = body["filing"]["commitment_deadline"]
    assert body["eligible"] is True
    note = next(r for r in body["reasons"] if "单向" in r)
    assert deadline in note and "撤销" not in note
    # A visit asked about after the deadline: eligible today's way, with the warning.
    later = datetime.date.fromisoformat(deadline) + datetime.timedelta(days=1)
    body = ask(client, keys["H23010300002"], "李建国", visit_date=later.isoformat()).json()
    assert any(deadline in r and "撤销" in r for r in body["reasons"])


def test_a_reason_of_two_sentences_is_written_as_its_language_writes_them(client, keys):
    """Chinese sentences follow one another with no space after the full stop; English ones
    with a space."""
    body = ask(client, keys["H21010000001"], "李建国").json()
    deadline = body["filing"]["commitment_deadline"]
    (reason,) = [r for r in body["reasons"] if deadline in r]
    assert f"直接结算。补交期限：{deadline}。" in reason, reason
    body = ask(client, keys["H21010000001"], "李建国", lang="en").json()
    (reason,) = [r for r in body["reasons"] if deadline in r]
    assert f"accepted. Deadline: {deadline}." in reason, reason


def test_unknown_person_and_name_mismatch_get_the_same_404(client, keys):
    mismatch = client.post(
        URL,
        {"id_number": PEOPLE["王秀兰"], "name": "王秀英", "care_type": "inpatient"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {keys['H23010300001']}",
    )
    from stdnum.cn import ric

    body = "21010219620805099"
    real_unknown = body + ric.calc_check_digit(body + "0")
    unknown = client.post(
        URL,
        {"id_number": real_unknown, "name": "王秀英", "care_type": "inpatient"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {keys['H23010300001']}",
    )
    assert unknown.status_code == mismatch.status_code == 404
    assert unknown.json() == mismatch.json()
    assert set(unknown.json()["error"]) >= {"code", "message", "fields"}


def test_malformed_id_number_is_400_with_field_messages_in_the_requested_language(client, keys):
    body = {"id_number": "232701195603120224", "name": "王秀兰", "care_type": "inpatient"}
    zh = client.post(
        URL,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {keys['H23010300001']}",
    )
    en = client.post(
        URL,
        body,
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
        HTTP_AUTHORIZATION=f"Bearer {keys['H23010300001']}",
    )
    assert zh.status_code == en.status_code == 400
    assert "校验码" in zh.json()["error"]["fields"]["id_number"][0]
    assert "check digit" in en.json()["error"]["fields"]["id_number"][0]
    assert en.json()["error"]["code"] == "invalid"


def test_missing_wrong_or_revoked_key_is_401(client, keys, demo):
    assert ask(client, None, "王秀兰").status_code == 401
    assert ask(client, "not-a-key", "王秀兰").status_code == 401
    key, plain = api_key_create(hospital=Hospital.objects.get(code="H46020000002"))
    assert ask(client, plain, "王秀兰").status_code == 200
    api_key_revoke(key=key)
    auth.keys.clear()  # other processes see the revocation within auth.CACHE_SECONDS
    response = ask(client, plain, "王秀兰")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_keys_are_never_stored_in_plain_form(keys):
    for plain in keys.values():
        prefix = plain.split(".")[0]
        row = ApiKey.objects.get(prefix=prefix)
        assert plain not in (row.digest, row.prefix, row.name)
        assert plain.split(".")[1] not in row.digest


def test_over_the_rate_limit_is_429(client, keys, settings):
    from rest_framework.settings import api_settings

    from hospitals.eligibility_api import HospitalKeyThrottle

    HospitalKeyThrottle.THROTTLE_RATES = {"hospital_key": "3/min"}
    try:
        statuses = [ask(client, keys["H46020000002"], "王秀兰").status_code for _ in range(5)]
    finally:
        HospitalKeyThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3] == 429
    response = ask(client, keys["H46020000001"], "王秀兰")  # another key is not limited
    assert response.status_code == 200


def test_every_check_writes_one_access_log_row_with_its_outcome(client, keys):
    before = AccessLog.objects.count()
    ask(client, keys["H46020000002"], "王秀兰")
    ask(client, keys["H23010300016"], "赵丽")
    rows = list(AccessLog.objects.order_by("-id")[:2])
    assert AccessLog.objects.count() == before + 2
    assert {r.outcome for r in rows} == {"eligible", "not_eligible"}
    assert all(len(r.subject_hash) == 64 for r in rows)
    assert all(r.hospital_id for r in rows)


def test_desk_page_and_api_give_the_same_answer(client, keys, demo):
    client.force_login(demo["hosp_h23010300001"])
    for name, care in [
        ("张伟", "inpatient"),
        ("张伟", "general_outpatient"),
        ("王秀兰", "inpatient"),
        ("李建国", "inpatient"),
    ]:
        api = ask(client, keys["H23010300001"], name, care).json()
        page = client.post(
            reverse("eligibility-check"),
            {
                "id_number": PEOPLE[name],
                "name": name,
                "care_type": care,
                "visit_date": timezone.localdate().isoformat(),
            },
        )
        assert page.status_code == 200
        assert page.context["result"] == api
        html = page.content.decode()
        assert ('data-verdict="eligible"' in html) == api["eligible"]
        assert f'data-category="{api["category"]}"' in html


def test_desk_page_keeps_what_was_typed_on_an_error(client, demo):
    client.force_login(demo["hosp_h23010300001"])
    page = client.post(
        reverse("eligibility-check"),
        {"id_number": "232701195603120224", "name": "王秀兰", "care_type": "inpatient"},
    )
    html = page.content.decode()
    assert "校验码" in html
    assert 'value="王秀兰"' in html
    assert "232701195603120224" in html  # what the clerk typed, so it can be corrected


@pytest.mark.parametrize(
    ("clerk", "name", "terms"),
    [
        (
            "hosp_h21010000001",
            "陈明",
            "待遇不降低",
        ),  # local
        ("hosp_h46020000002", "王秀兰", "支付比例降低 5 个百分点"),
    ],
)
def test_desk_page_says_a_ratio_is_not_reduced_rather_than_minus_0(
    client, demo, clerk, name, terms
):
    client.force_login(demo[clerk])
    html = client.post(
        reverse("eligibility-check"),
        {"id_number": PEOPLE[name], "name": name, "care_type": "inpatient"},
    ).content.decode()
    assert 'data-verdict="eligible"' in html
    assert terms in html and "降低 0 个百分点" not in html


def test_desk_page_is_only_for_hospital_staff(client, demo):
    client.force_login(demo["wangxiulan"])
    assert client.get(reverse("eligibility-check")).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"id_number": 123, "name": "x", "care_type": "inpatient"},
        {"id_number": "232701195603120223", "name": "", "care_type": "inpatient"},
        {"id_number": "232701195603120223", "name": "王秀兰", "care_type": "dental"},
        {
            "id_number": "232701195603120223",
            "name": "王秀兰",
            "care_type": "inpatient",
            "visit_date": "2026-13-01",
        },
        {
            "id_number": "232701195603120223",
            "name": "王秀兰",
            "care_type": "inpatient",
            "visit_date": 20261101,
        },
        ["not", "an", "object"],
    ],
)
def test_bad_bodies_get_400_with_the_error_body_and_agree_with_the_documented_serializer(
    client, keys, body
):
    from hospitals.eligibility_api import EligibilityRequest

    response = client.post(
        URL,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {keys['H46020000002']}",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["message"]
    if isinstance(body, dict):
        documented = EligibilityRequest(data=body)
        assert not documented.is_valid()
        assert set(error["fields"]) == set(documented.errors)


def test_not_json_is_400(client, keys):
    response = client.post(
        URL,
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {keys['H46020000002']}",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


VALID = {"id_number": "232701195603120223", "name": "王秀兰", "care_type": "inpatient"}


@pytest.mark.parametrize(
    "visit_date", ["2026-W01-1", "20261101", "2026-1-1", "2026-02-30", " 2026-11-01", ""]
)
def test_a_visit_date_other_than_yyyy_mm_dd_is_400_as_the_documented_serializer_says(
    client, keys, visit_date
):
    from hospitals.eligibility_api import EligibilityRequest

    body = {**VALID, "visit_date": visit_date}
    response = client.post(
        URL,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {keys['H46020000002']}",
    )
    assert response.status_code == 400, response.content
    assert set(response.json()["error"]["fields"]) == {"visit_date"}
    assert not EligibilityRequest(data=body).is_valid()


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"visit_date": "2026-11-22"},
        {"id_number": " 232701195603120223 "},
        {"id_number": "23272219700630026x"},
        {"id_number": "2327011956 03120223"},
        {"id_number": "２３２７０１１９５６０３１２０２２３"},  # full-width digits
        {"id_number": "232701195603120224"},
        {"id_number": None},
        {"name": " 王秀兰 "},
        {"name": 123},
        {"name": "王\x00兰"},
        {"name": "王\ud800兰"},
        {"name": "\u3000王秀兰"},
        {"name": "王" * 60},
        {"name": "王" * 61},
        {"name": "   "},
        {"care_type": "dental"},
        {"care_type": ["inpatient"]},
        {"visit_date": 20261122},
        {"visit_date": "2026-11-22T00:00"},
        {"visit_date": "0000-01-01"},
        {"extra": "ignored"},
    ],
)
def test_parse_request_accepts_and_refuses_exactly_what_the_documented_serializer_does(changes):
    from rest_framework import serializers

    from hospitals.eligibility_api import EligibilityRequest, parse_request

    data = {**VALID, **changes}
    documented = EligibilityRequest(data=data)
    try:
        parsed = parse_request(data)
    except serializers.ValidationError as exc:
        assert not documented.is_valid()
        assert set(exc.detail) == set(documented.errors)
    else:
        assert documented.is_valid(), documented.errors
        assert parsed == {"visit_date": None, **documented.validated_data}


def _both_paths(client, body, key=None, **headers):
    """The same request through the plain path and through the DRF view (a query string sends
    it there)."""
    if key:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    raw = body if isinstance(body, str) else None
    kwargs = {"content_type": "application/json", **headers}
    plain = client.post(URL, raw if raw is not None else body, **kwargs)
    drf = client.post(URL + "?via=drf", raw if raw is not None else body, **kwargs)
    return plain, drf


@pytest.mark.parametrize(
    ("body", "key", "lang"),
    [
        ({**VALID}, "H46020000002", None),
        ({**VALID, "care_type": "general_outpatient"}, "H23010300001", "en"),
        ({**VALID, "name": "王秀英"}, "H46020000002", "en"),
        ({**VALID, "id_number": "232701195603120224"}, "H46020000002", None),
        ({**VALID, "id_number": "232701195603120224"}, "H46020000002", "en"),
        ({}, "H46020000002", None),
        (["not", "an", "object"], "H46020000002", None),
        ("{not json", "H46020000002", None),
        ('{"id_number": NaN}', "H46020000002", None),
        ("", "H46020000002", None),
        ({**VALID}, None, None),
        ({**VALID}, "wrong", "en"),
    ],
)
def test_the_plain_path_answers_exactly_as_the_drf_view(client, keys, body, key, lang):
    headers = {"HTTP_ACCEPT_LANGUAGE": lang} if lang else {}
    plain, drf = _both_paths(client, body, keys.get(key, key), **headers)
    assert plain.status_code == drf.status_code
    assert plain.content == drf.content
    assert plain["Content-Type"] == drf["Content-Type"]
    assert plain.get("WWW-Authenticate") == drf.get("WWW-Authenticate")


def test_the_plain_path_answers_429_as_the_drf_view(client, keys):
    from rest_framework.settings import api_settings

    from hospitals.eligibility_api import HospitalKeyThrottle

    HospitalKeyThrottle.THROTTLE_RATES = {"hospital_key": "1/min"}
    try:
        first = ask(client, keys["H46020000002"], "王秀兰")
        plain, drf = _both_paths(client, VALID, keys["H46020000002"], HTTP_ACCEPT_LANGUAGE="en")
    finally:
        HospitalKeyThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert first.status_code == 200
    assert plain.status_code == drf.status_code == 429
    assert plain.json()["error"]["code"] == drf.json()["error"]["code"] == "rate_limited"
    assert plain.json()["error"]["message"].startswith("Too many requests")
    assert 0 <= int(plain["Retry-After"]) - int(drf["Retry-After"]) <= 1


def test_requests_the_plain_path_does_not_take_on_go_to_the_drf_view(client, keys):
    auth_header = {"HTTP_AUTHORIZATION": f"Bearer {keys['H46020000002']}"}
    assert client.get(URL, **auth_header).status_code == 405
    form = client.post(URL, VALID, **auth_header)  # multipart: DRF parses JSON only
    assert form.status_code == 415
    assert form.json()["error"]["code"] == "unsupported_media_type"
    html_only = client.post(
        URL, VALID, content_type="application/json", HTTP_ACCEPT="text/html", **auth_header
    )
    assert html_only.status_code == 406
    pretty = client.post(
        URL,
        VALID,
        content_type="application/json",
        HTTP_ACCEPT="application/json; indent=2",
        **auth_header,
    )
    assert pretty.status_code == 200 and b'\n  "eligible"' in pretty.content


def test_benefit_comes_from_the_insured_regions_category_policy(client, keys):
    from decimal import Decimal

    from portal.models import Region
    from settlement.models import CategoryPolicy

    dalian = Region.objects.get(code="210200")
    year = timezone.localdate().year
    CategoryPolicy.objects.update_or_create(
        region=dalian,
        year=year,
        category="temporary",
        defaults={
            "ratio_reduction_points": 15,
            "deductible_multiplier": Decimal("1.20"),
            "fund_share": Decimal("1.00"),
        },
    )
    clear_caches()  # the policies are cached per process (eligibility_selectors.CACHE_SECONDS)
    body = ask(client, keys["H23010300016"], "刘芳", "general_outpatient").json()
    assert (body["eligible"], body["category"]) == (True, "temporary")
    assert body["benefit"] == {
        "ratio_reduction_points": 15,
        "deductible_multiplier": "1.20",
        "fund_share": "1.00",
    }
    # Without a policy of the region for the year of the visit: the defaults of domain.md §4.
    CategoryPolicy.objects.filter(region=dalian, year=year).delete()
    clear_caches()
    body = ask(client, keys["H23010300016"], "刘芳", "general_outpatient").json()
    assert body["benefit"] == {
        "ratio_reduction_points": 20,
        "deductible_multiplier": "1.50",
        "fund_share": "1.00",
    }


def test_the_rate_limit_holds_across_processes_counted_in_batches():
    from hospitals.eligibility_api import _Counters

    first, second = _Counters(), _Counters()  # two processes sharing the cache
    allowed = sum(
        process.hit("test", 1, 250, 3600)[0] for _ in range(200) for process in (first, second)
    )
    assert 250 <= allowed <= 250 + 2 * _Counters.SYNC_EVERY


def test_batched_access_log_rows_are_written_by_flush():
    from hospitals import access_log

    access_log._queue.put(
        access_log._row(
            {
                "subject_hash": "f" * 64,
                "hospital_id": Hospital.objects.first().pk if Hospital.objects.exists() else None,
                "purpose": "eligibility:api",
                "outcome": "eligible",
                "created_at": timezone.now(),
            }
        )
    )
    assert access_log.flush() == 1
    row = AccessLog.objects.get(subject_hash="f" * 64)
    assert (row.purpose, row.outcome, row.actor_id) == ("eligibility:api", "eligible", None)
    with pytest.raises(TypeError):
        access_log._row({"subject": "x"})


def test_the_api_answers_in_the_requests_accept_language_not_a_pages_cookie(client, keys):
    """A clerk's browser that switched the portal's pages to English carries the language
    cookie; the API, called from it, still answers in the request's Accept-Language (api.md)."""
    client.cookies["django_language"] = "en"
    body = ask(client, keys["H23010300001"], "陈明", lang="zh-hans").json()
    assert not body["eligible"] and any("急诊" in r for r in body["reasons"]), body["reasons"]
    client.cookies["django_language"] = "zh-hans"
    body = ask(client, keys["H23010300001"], "陈明", lang="en").json()
    assert any("emergency" in r.lower() for r in body["reasons"]), body["reasons"]
