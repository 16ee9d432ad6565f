"""Session lifetime, recent re-authentication for sensitive actions, and deactivated users.

Issue 10, "Sessions and headers": staff expire after 15 minutes idle and 8 hours in all,
insured persons after 30 minutes idle; revealing an ID number, approving and exporting need an
authentication within the last 5 minutes; a deactivated user's next request is refused.
"""

from __future__ import annotations

import datetime
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.messages import get_messages
from django.urls import reverse

from filings.models import Filing
from hospitals.models import Hospital, HospitalStaff, Kind, Level, Ownership
from portal.management.commands.demo_totp import current_code
from portal.models import AuditEvent, InsuredPerson
from tests.portal.factories import (
    AgencyStaffFactory,
    InsuredPersonFactory,
    ProvinceFactory,
    RegionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 11, 23, 9, 0, tzinfo=datetime.UTC)
PROBE = "/notifications/"  # any page that needs a signed-in user
DEMO_PASSWORD = "Demo#2026"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _minutes(traveller, minutes: float) -> None:
    traveller.shift(datetime.timedelta(minutes=minutes))


def _signed_in(client) -> bool:
    response = client.get(PROBE)
    if response.status_code == 200:
        return True
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    return False


def _hospital_staff_user():
    region = RegionFactory()
    hospital = Hospital.objects.create(
        code="H21010000001",
        name="沈阳测试医院",
        name_en="Shenyang test hospital",
        province=ProvinceFactory(),
        region=region,
        level=Level.TERTIARY,
        kind=Kind.GENERAL,
        ownership=Ownership.PUBLIC,
    )
    user = UserFactory(username="hospital_clerk")
    HospitalStaff.objects.create(user=user, hospital=hospital)
    return user


STAFF = {
    "agency": lambda: AgencyStaffFactory().user,
    "hospital": _hospital_staff_user,
    "admin": lambda: UserFactory(username="root", is_staff=True, is_superuser=True),
}


# -- idle and absolute limits ---------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(STAFF))
def test_staff_still_signed_in_after_14_minutes_idle(client, clock, role):
    client.force_login(STAFF[role]())
    assert _signed_in(client)
    _minutes(clock, 14)
    assert _signed_in(client)
    # Every request restarts the idle clock.
    _minutes(clock, 14)
    assert _signed_in(client)


@pytest.mark.parametrize("role", sorted(STAFF))
def test_staff_signed_out_after_15_minutes_idle_with_a_message(client, clock, role):
    client.force_login(STAFF[role]())
    assert _signed_in(client)
    _minutes(clock, 15)
    response = client.get(PROBE)
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == reverse("account_login")
    assert parse_qs(location.query)["next"] == [PROBE]
    assert SESSION_KEY not in client.session
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("15" in text for text in shown), shown
    # The login page shows it (in the language of the request).
    page = client.get(response["Location"])
    assert "15" in page.content.decode()
    assert not _signed_in(client)


def test_staff_signed_out_8_hours_after_sign_in_even_when_active(client, clock):
    client.force_login(AgencyStaffFactory().user)
    for _ in range(47):  # a request every 10 minutes: never idle
        assert _signed_in(client)
        _minutes(clock, 10)
    assert _signed_in(client)  # 7 h 50 min
    _minutes(clock, 9)  # 7 h 59 min after signing in
    assert _signed_in(client)
    _minutes(clock, 1)
    response = client.get(PROBE)
    assert response.status_code == 302
    assert SESSION_KEY not in client.session
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("8" in text for text in shown), shown


def test_signing_in_again_starts_a_new_working_day(client, clock):
    user = AgencyStaffFactory().user
    client.force_login(user)
    for _ in range(48):
        _signed_in(client)
        _minutes(clock, 10)
    assert not _signed_in(client)
    client.force_login(user)
    assert _signed_in(client)
    _minutes(clock, 10)
    assert _signed_in(client)


def test_insured_person_signed_out_after_30_minutes_idle_not_before(client, clock):
    client.force_login(InsuredPersonFactory().user)
    assert _signed_in(client)
    _minutes(clock, 29)
    assert _signed_in(client)
    _minutes(clock, 30)
    assert not _signed_in(client)
    assert SESSION_KEY not in client.session


def test_insured_person_has_no_absolute_limit(client, clock):
    client.force_login(InsuredPersonFactory().user)
    for _ in range(40):  # 10 hours, a request every 15 minutes
        assert _signed_in(client)
        _minutes(clock, 15)
    assert _signed_in(client)


def test_session_limits_come_from_the_settings(client, clock, settings):
    settings.SESSION_IDLE_SECONDS_INSURED = 60
    client.force_login(InsuredPersonFactory().user)
    assert _signed_in(client)
    _minutes(clock, 1)
    assert not _signed_in(client)


def test_the_hospital_api_is_left_alone(client, clock):
    """The API authenticates with Bearer keys: a stale session neither helps nor hurts it."""
    client.force_login(AgencyStaffFactory().user)
    assert _signed_in(client)
    _minutes(clock, 60)
    response = client.get("/api/v1/hospitals")
    assert response.status_code == 200  # the public directory
    # The session was not touched by the API request; the next page request expires it.
    assert SESSION_KEY in client.session
    assert not _signed_in(client)


# -- deactivated users ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    [
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    ],
)
def test_deactivated_user_is_refused_on_the_next_request(client, clock, backend):
    user = AgencyStaffFactory().user
    client.force_login(user, backend=backend)
    assert _signed_in(client)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert not _signed_in(client)
    # Not merely anonymous for one request: the session no longer names the user.
    assert SESSION_KEY not in client.session
    user.is_active = True
    user.save(update_fields=["is_active"])
    assert not _signed_in(client)


def test_deactivated_user_signed_in_through_allauth_is_refused(client, clock):
    user = InsuredPersonFactory().user
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    response = client.post(
        reverse("account_login"), {"login": user.username, "password": "pass-word-123"}
    )
    assert response.status_code == 302
    assert _signed_in(client)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert not _signed_in(client)
    assert SESSION_KEY not in client.session


# -- recent re-authentication --------------------------------------------------------------------


def _staff_login(client, username: str) -> None:
    response = client.post(reverse("account_login"), {"login": username, "password": DEMO_PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(username)})
    assert response.status_code == 302


def _asks_to_reauthenticate(response, next_url: str) -> bool:
    if response.status_code != 302:
        return False
    location = urlparse(response["Location"])
    return location.path == reverse("mfa_reauthenticate") and parse_qs(location.query).get(
        "next"
    ) == [next_url]


def _reauthenticate_with_totp(client, username: str, next_url: str):
    response = client.post(
        f"{reverse('mfa_reauthenticate')}?next={next_url}", {"code": current_code(username)}
    )
    assert response.status_code == 302
    assert response["Location"] == next_url
    return response


def test_revealing_an_id_number_needs_a_recent_authentication(client, demo, clock):
    _staff_login(client, "agency_dxal")
    person = InsuredPerson.objects.get(name="王秀兰")
    url = reverse("admin:portal_insuredperson_reveal", args=[person.pk])
    # Signing in (password and TOTP) a moment ago counts. The reveal is the page's button.
    assert client.post(url).status_code == 200
    _minutes(clock, 6)
    response = client.post(url)
    assert _asks_to_reauthenticate(response, url)
    assert person.id_number not in response.content.decode()
    assert AuditEvent.objects.filter(action="insured.reveal_id").count() == 1

    _reauthenticate_with_totp(client, "agency_dxal", url)
    response = client.post(url)
    assert response.status_code == 200
    assert person.id_number in response.content.decode()
    assert AuditEvent.objects.filter(action="insured.reveal_id").count() == 2

    # The window runs from the re-authentication.
    _minutes(clock, 4)
    assert client.post(url).status_code == 200
    _minutes(clock, 2)
    assert _asks_to_reauthenticate(client.post(url), url)


def test_reauthentication_by_password_also_counts(client, demo, clock):
    _staff_login(client, "agency_dxal")
    person = InsuredPerson.objects.get(name="王秀兰")
    url = reverse("admin:portal_insuredperson_reveal", args=[person.pk])
    _minutes(clock, 10)
    assert _asks_to_reauthenticate(client.get(url), url)
    response = client.post(
        f"{reverse('account_reauthenticate')}?next={url}", {"password": DEMO_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == url
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("action", ["approve", "accept_materials"])
def test_approving_in_the_admin_needs_a_recent_authentication(client, demo, clock, action):
    _staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    changelist = reverse("admin:filings_filing_changelist")
    _minutes(clock, 6)
    response = client.post(changelist, {"action": action, "_selected_action": [filing.pk]})
    assert _asks_to_reauthenticate(response, changelist)
    # The selection is gone: a warning says so.
    warnings = [m for m in get_messages(response.wsgi_request) if m.level == messages.WARNING]
    assert len(warnings) == 1
    filing.refresh_from_db()
    assert filing.status == "submitted"
    assert not AuditEvent.objects.filter(object_id=str(filing.pk), action="filing.approve")

    _reauthenticate_with_totp(client, "agency_shenyang", changelist)
    response = client.post(changelist, {"action": "approve", "_selected_action": [filing.pk]})
    assert not _asks_to_reauthenticate(response, changelist)
    filing.refresh_from_db()
    assert filing.status == "approved"


@pytest.mark.parametrize(
    ("changelist", "action"),
    [
        ("admin:settlement_claim_changelist", "mark_paid"),
        ("admin:hospitals_apikey_changelist", "revoke"),
        ("admin:hospitals_hospital_changelist", "suspend"),
        ("admin:hospitals_hospital_changelist", "resume"),
    ],
)
def test_paying_revoking_and_suspending_need_a_recent_authentication(
    client, demo, clock, changelist, action
):
    """Like approving: a claim paid out, a hospital's key revoked, its direct settlement
    suspended or resumed, each asks for the code again after 5 minutes, and nothing changes."""
    _staff_login(client, "agency_shenyang")
    url = reverse(changelist)
    _minutes(clock, 6)
    response = client.post(url, {"action": action, "_selected_action": ["1"]})
    assert _asks_to_reauthenticate(response, url)
    (warning,) = [m for m in get_messages(response.wsgi_request) if m.level == messages.WARNING]
    assert "Nothing was changed" in str(warning) or "本次未作任何更改" in str(warning)


def test_after_confirming_it_is_them_a_reviewer_returns_to_the_page_they_decided_on(
    client, demo, clock
):
    """A decision pressed on a filing's own page (or in a filtered queue) posts to the list:
    after the code, the reviewer is back on that page, not on the whole list."""
    _staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    changelist = reverse("admin:filings_filing_changelist")
    page = reverse("admin:filings_filing_change", args=[filing.pk])
    _minutes(clock, 6)
    response = client.post(
        changelist,
        {"action": "approve", "_selected_action": [filing.pk]},
        HTTP_REFERER=f"http://testserver{page}",
    )
    assert _asks_to_reauthenticate(response, page)
    queue = f"{changelist}?status__exact=submitted"
    response = client.post(
        changelist,
        {"action": "approve", "_selected_action": [filing.pk]},
        HTTP_REFERER=f"http://testserver{queue}",
    )
    assert _asks_to_reauthenticate(response, queue)
    # Another site's page is not followed.
    response = client.post(
        changelist,
        {"action": "approve", "_selected_action": [filing.pk]},
        HTTP_REFERER="https://elsewhere.example/admin/",
    )
    assert _asks_to_reauthenticate(response, changelist)


def test_other_admin_actions_do_not_ask_again(client, demo, clock):
    _staff_login(client, "agency_shenyang")
    filing = Filing.objects.get(number="BA210100000002")
    changelist = reverse("admin:filings_filing_changelist")
    _minutes(clock, 6)
    assert client.get(changelist).status_code == 200
    page = client.post(changelist, {"action": "reject", "_selected_action": [filing.pk]})
    assert page.status_code == 200  # the reason form, no re-authentication


@pytest.mark.parametrize(
    "url",
    [
        "/admin/hospitals/hospital/export/",
        "/settlement/dashboard/pending.csv",
        "/settlement/clearing/QS0000000000.csv",
        "/settlement/clearing/QS0000000000.pdf",
    ],
)
def test_exports_need_a_recent_authentication(client, demo, clock, url):
    _staff_login(client, "admin")
    _minutes(clock, 6)
    assert _asks_to_reauthenticate(client.get(url), url)
    _reauthenticate_with_totp(client, "admin", url)
    response = client.get(url)
    # Through to the view (which may still find nothing under a made-up number).
    assert response.status_code in (200, 404)


def test_reauthentication_is_not_asked_of_ordinary_pages(client, demo, clock):
    _staff_login(client, "agency_shenyang")
    _minutes(clock, 14)
    assert client.get(reverse("admin:filings_filing_changelist")).status_code == 200
    assert client.get("/settlement/dashboard/").status_code == 200


def test_anonymous_export_is_not_sent_to_reauthenticate(client, demo):
    response = client.get("/settlement/clearing/QS0000000000.csv")
    assert response.status_code in (302, 404)
    assert reverse("mfa_reauthenticate") not in response.get("Location", "")


def test_a_form_sent_after_signing_out_elsewhere_says_why_and_that_nothing_was_saved(client):
    """Signed out in another tab, the person presses Submit on a form still open: the sign-in
    page comes with the reason, not bare."""
    client.force_login(InsuredPersonFactory().user)
    client.post(reverse("account_logout"))  # (as the other tab did, through the sign-out page)
    response = client.post(reverse("filings:new", args=["temporary"]), {"care": ["inpatient"]})
    assert response.status_code == 302
    assert urlparse(response["Location"]).path == reverse("account_login")
    page = client.get(response["Location"]).content.decode()  # the sign-in page shows it
    assert "您已退出登录，刚才提交的内容未能保存。请重新登录后再填写一次。" in page
    # A page opened (not sent) signed out is no such case: no message.
    response = client.get(reverse("filings:new", args=["temporary"]))
    assert response.status_code == 302
    assert "未能保存" not in client.get(response["Location"]).content.decode()


def _lost(page) -> bool:
    return "未能保存" in page.content.decode()


def test_a_form_sent_from_a_session_that_timed_out_says_nothing_was_saved(client, clock):
    client.force_login(InsuredPersonFactory().user)
    assert _signed_in(client)
    _minutes(clock, 31)
    response = client.post(reverse("filings:new", args=["temporary"]), {"care": ["inpatient"]})
    assert urlparse(response["Location"]).path == reverse("account_login")
    page = client.get(response["Location"])
    assert "30" in page.content.decode() and _lost(page)


def test_a_form_sent_with_a_session_cookie_that_maps_to_no_session_says_nothing_was_saved(
    client,
):
    """Signed out on another device (the session deleted on the server): the browser still
    sends its old session cookie."""
    client.force_login(InsuredPersonFactory().user)
    client.session.delete()  # the stored session is gone; the cookie stays
    response = client.post(reverse("filings:new", args=["temporary"]), {"care": ["inpatient"]})
    assert urlparse(response["Location"]).path == reverse("account_login")
    assert _lost(client.get(response["Location"]))


def test_an_anonymous_form_answered_by_the_sign_in_page_is_not_told_it_was_lost(client):
    """Never signed in (a fresh visitor, or one confirming the e-mail address of a new account
    and sent on to sign in): nothing of theirs was lost."""
    client.get(reverse("account_login"))  # a session cookie of an anonymous visit, if any
    response = client.post(reverse("filings:new", args=["temporary"]), {"care": ["inpatient"]})
    assert urlparse(response["Location"]).path == reverse("account_login")
    assert not _lost(client.get(response["Location"]))


def test_the_notice_of_a_lost_form_is_given_once_not_on_every_later_form(client):
    client.force_login(InsuredPersonFactory().user)
    client.post(reverse("account_logout"))
    url = reverse("filings:new", args=["temporary"])
    assert _lost(client.get(client.post(url, {"care": ["inpatient"]})["Location"]))
    assert not _lost(client.get(client.post(url, {"care": ["inpatient"]})["Location"]))
