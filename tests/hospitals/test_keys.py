"""API keys: created by command or in the admin (shown once, stored hashed), revoked at once in
this process, last-used times, and agency staff scoped to their own region's hospitals."""

import re
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from hospitals import auth
from hospitals.eligibility_selectors import clear_caches
from hospitals.models import ApiKey, Hospital
from hospitals.services import api_key_create, api_key_revoke, digest
from portal.models import AuditEvent
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
URL = "/api/v1/eligibility"
WANG = {"id_number": "232701195603120223", "name": "王秀兰", "care_type": "inpatient"}


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_caches()
    auth.keys.clear()
    yield
    clear_caches()
    auth.keys.clear()


def ask(client, plain: str):
    return client.post(
        URL, WANG, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {plain}"
    )


def test_revoked_key_gets_401_on_the_very_next_call_in_the_same_process(
    client, demo, django_capture_on_commit_callbacks
):
    key, plain = api_key_create(hospital=Hospital.objects.get(code="H46020000002"))
    assert ask(client, plain).status_code == 200  # the key is now in this process's snapshot
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        api_key_revoke(key=key)
    assert auth.keys.clear in callbacks  # dropped only once the revocation is committed
    response = ask(client, plain)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


def test_key_revoked_by_the_admin_action_gets_401_at_once(
    client, demo, django_capture_on_commit_callbacks
):
    from django.test import Client

    key, plain = api_key_create(hospital=Hospital.objects.get(code="H23270000001"))
    api = Client()
    assert ask(api, plain).status_code == 200
    staff_login(client, "agency_dxal")
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            reverse("admin:hospitals_apikey_changelist"),
            {"action": "revoke", "_selected_action": [key.pk]},
            follow=True,
        )
    assert "已吊销1个密钥。" in done.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    event = AuditEvent.objects.get(action="api_key.revoke", object_id=str(key.pk))
    assert event.ip == "127.0.0.1"  # who and from where, as every admin decision
    assert ask(api, plain).status_code == 401
    # Revoking it again changes nothing and says so, instead of "revoked" once more.
    again = client.post(
        reverse("admin:hospitals_apikey_changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
        follow=True,
    ).content.decode()
    assert "1个密钥此前已吊销，未作更改。" in again and "已吊销1个密钥" not in again
    assert AuditEvent.objects.filter(action="api_key.revoke").count() == 1


def _columns(key: ApiKey) -> list[str]:
    return [str(getattr(key, f.attname)) for f in ApiKey._meta.concrete_fields]


def test_create_hospital_key_prints_the_key_alone_on_its_last_line_and_stores_a_hash(client, demo):
    out, err = StringIO(), StringIO()
    call_command("create_hospital_key", "h23010300001", "--name", "HIS", stdout=out, stderr=err)
    plain = out.getvalue().rstrip("\n").splitlines()[-1]
    assert plain == plain.strip() and " " not in plain and len(plain) > 40
    assert plain not in err.getvalue()
    key = ApiKey.objects.get(digest=digest(plain))
    assert key.hospital.code == "H23010300001" and key.name == "HIS"
    assert key.created_at is not None and key.last_used_at is None
    assert not any(plain in value or plain.split(".")[1] in value for value in _columns(key))
    assert ask(client, plain).status_code in {200, 404}  # authenticated: the key works
    assert AuditEvent.objects.filter(action="api_key.create", object_id=str(key.pk)).exists()


def test_create_hospital_key_refuses_an_unknown_hospital(demo):
    with pytest.raises(CommandError, match="H99"):
        call_command("create_hospital_key", "H99", stdout=StringIO(), stderr=StringIO())
    assert not ApiKey.objects.exists()


def test_admin_shows_a_new_key_once_and_stores_only_its_hash(client, demo):
    from django.contrib.sessions.models import Session

    staff_login(client, "agency_dxal")
    hospital = Hospital.objects.get(code="H23270000001")
    response = client.post(
        reverse("admin:hospitals_apikey_add"), {"hospital": hospital.pk, "name": "HIS"}
    )
    assert response.status_code == 200
    match = re.search(r'id="new-api-key"[^>]*>([^<]+)<', response.content.decode())
    assert match, "the new key is shown on the response"
    plain = match.group(1)
    key = ApiKey.objects.get(hospital=hospital)
    assert key.digest == digest(plain) and plain.startswith(key.prefix)
    assert not any(plain in value for value in _columns(key))
    # Shown once: not kept for a later page, not in the session, not in a message cookie.
    listing = client.get(reverse("admin:hospitals_apikey_changelist")).content.decode()
    assert key.prefix in listing and plain not in listing
    assert not any(plain in str(s.get_decoded()) for s in Session.objects.all())
    assert not any(plain in morsel.value for morsel in client.cookies.values())
    assert ask(client, plain).status_code == 200


def test_last_used_time_is_recorded_after_a_call(client, demo):
    key, plain = api_key_create(hospital=Hospital.objects.get(code="H46020000002"))
    before = timezone.now()
    assert ask(client, plain).status_code == 200
    # Last-used times are written in one statement at the process's next snapshot reload.
    auth.keys.loaded_at -= auth.CACHE_SECONDS + 1
    assert ask(client, plain).status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None and key.last_used_at >= before
    client.force_login(demo["hosp_h46020000002"])
    home = client.get(reverse("hospitals:home")).content.decode()
    assert timezone.localtime(key.last_used_at).strftime("%Y-%m-%d %H:%M") in home


def test_agency_staff_manage_only_their_own_regions_keys(client, demo):
    own, own_plain = api_key_create(hospital=Hospital.objects.get(code="H23270000001"))
    other, other_plain = api_key_create(hospital=Hospital.objects.get(code="H46020000002"))
    staff_login(client, "agency_dxal")
    changelist = reverse("admin:hospitals_apikey_changelist")
    response = client.get(changelist)
    assert {k.pk for k in response.context["cl"].result_list} == {own.pk}
    # Revoking another region's key through the action does nothing.
    client.post(changelist, {"action": "revoke", "_selected_action": [other.pk]})
    other.refresh_from_db()
    assert other.revoked_at is None
    # A key for another region's hospital cannot be created.
    response = client.post(
        reverse("admin:hospitals_apikey_add"),
        {"hospital": Hospital.objects.get(code="H46020000002").pk, "name": "x"},
    )
    assert response.status_code == 200 and response.context["adminform"].form.errors
    assert ApiKey.objects.filter(hospital__code="H46020000002").count() == 1
    # The hospital picker offers their own region's hospitals only.
    picker = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "hospitals", "model_name": "apikey", "field_name": "hospital", "term": ""},
    ).json()
    codes = {Hospital.objects.get(pk=r["id"]).code for r in picker["results"]}
    assert codes == {"H23270000001", "H23270000002"}


def test_a_key_revoked_in_one_process_stops_working_in_another_within_a_second(
    demo, monkeypatch, django_capture_on_commit_callbacks
):
    key, plain = api_key_create(hospital=Hospital.objects.get(code="H46020000002"))
    other = auth._KeySnapshot()  # another process's snapshot
    assert other.ids(digest(plain)) == (key.pk, key.hospital_id)
    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(key=key)
    # Within the second after its last look at the mark, the other process still serves its
    # snapshot; its next look sees the revocation and reloads.
    assert other.ids(digest(plain)) == (key.pk, key.hospital_id)
    clock = time.monotonic() + auth.REVOCATION_CHECK_SECONDS + 0.01
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock)
    assert other.ids(digest(plain)) is None
    assert not other.stale()  # not the 30-second reload: the mark


def test_an_unreachable_cache_falls_back_to_the_periodic_reload(demo, monkeypatch):
    _key, plain = api_key_create(hospital=Hospital.objects.get(code="H46020000002"))

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(auth.cache, "get", down)
    other = auth._KeySnapshot()
    assert other.ids(digest(plain)) is not None  # still serves, with a warning logged
