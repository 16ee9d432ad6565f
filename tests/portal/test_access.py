"""Admin behind allauth + TOTP, rate-limited login, languages, and the demo accounts."""

import pytest
from django.urls import reverse

from portal.management.commands.demo_totp import current_code
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


def _login(client, username, password="Demo#2026"):
    return client.post(reverse("account_login"), {"login": username, "password": password})


def _login_with_totp(client, username):
    response = _login(client, username)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(username)})
    assert response.status_code == 302
    return response


def test_home_answers_in_chinese_by_default_and_english_on_request(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()
    assert "异地就医" in response.content.decode()
    response = client.get("/?lang=en")
    assert '<html lang="en">' in response.content.decode()
    assert "Cross-region medical treatment" in response.content.decode()
    # The choice sticks (cookie) for the next request.
    assert '<html lang="en">' in client.get("/").content.decode()


def test_language_switcher_switches_to_english(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="en">' in client.get("/").content.decode()


def test_demo_insured_login_works(client, demo):
    response = _login(client, "wangxiulan")
    assert response.status_code == 302
    assert client.get("/").context["role"] == "insured"


def test_admin_login_page_goes_through_allauth(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    response = client.get("/admin/")
    assert response.status_code == 302


def test_staff_without_totp_cannot_reach_the_admin(client, demo):
    from allauth.mfa.models import Authenticator

    user = demo["agency_shenyang"]
    Authenticator.objects.filter(user=user).delete()
    response = _login(client, "agency_shenyang")
    assert response.status_code == 302  # no MFA stage: the user has no authenticator
    response = client.get("/admin/", follow=True)
    # To the TOTP set-up (allauth asks for the password again first).
    assert "2fa/totp/activate" in response.redirect_chain[-1][0].replace("%2F", "/")
    response = client.get("/admin/filings/")
    assert response.status_code == 302
    assert "/admin/" not in response["Location"] or "login" in response["Location"]


def test_staff_with_totp_reach_the_admin_after_the_code(client, demo):
    response = _login(client, "agency_dxal")
    # Password alone is not enough: the admin is still closed until the TOTP step.
    assert client.get("/admin/").status_code == 302
    response = client.post(reverse("mfa_authenticate"), {"code": current_code("agency_dxal")})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_wrong_totp_code_keeps_the_admin_closed(client, demo):
    _login(client, "agency_dxal")
    wrong = "000000" if current_code("agency_dxal") != "000000" else "111111"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_login_is_rate_limited_after_repeated_failures(client, demo):
    from axes.models import AccessAttempt

    responses = [_login(client, "agency_dxal", password="wrong") for _ in range(7)]
    assert responses[0].status_code == 200
    assert "登录失败次数过多" in responses[-1].content.decode() or responses[-1].status_code in (
        403,
        429,
    )
    # django-axes recorded the failures by username and IP.
    assert AccessAttempt.objects.filter(username="agency_dxal").exists()
    # Even the right password is refused while locked out.
    response = _login(client, "agency_dxal")
    assert response.status_code != 302
    assert "_auth_user_id" not in client.session


def test_failures_typed_as_the_username_and_as_the_email_count_against_one_account(client, demo):
    """The lock-out counts an account's failures however its login is typed: 3 as the username
    and 3 as its email address lock it (the limit is 5), so a guesser has 5 tries, not 10."""
    from axes.models import AccessAttempt
    from django.contrib.auth import get_user_model

    email = get_user_model().objects.get(username="chenming").email
    for login in ["chenming", "ChenMing", "chenming"] + [email, email.upper(), email]:
        client.post(reverse("account_login"), {"login": login, "password": "wrong"})
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"chenming"}
    response = client.post(reverse("account_login"), {"login": email, "password": "Demo#2026"})
    assert response.status_code != 302
    assert "_auth_user_id" not in client.session


def test_reveal_of_an_id_number_is_audited_and_scoped(client, demo):
    from portal.models import InsuredPerson

    _login_with_totp(client, "agency_dxal")
    own = InsuredPerson.objects.get(name="王秀兰")
    other = InsuredPerson.objects.get(name="李建国")  # Shenyang
    url = reverse("admin:portal_insuredperson_reveal", args=[own.pk])
    response = client.post(url)  # the page's button
    assert response.status_code == 200
    assert own.id_number in response.content.decode()
    assert AuditEvent.objects.filter(action="insured.reveal_id", object_id=str(own.pk)).count() == 1
    assert (
        client.get(reverse("admin:portal_insuredperson_reveal", args=[other.pk])).status_code == 404
    )
    assert (
        client.get(reverse("admin:portal_insuredperson_change", args=[other.pk])).status_code == 404
    )


def test_seed_demo_is_idempotent(demo):
    from io import StringIO

    from django.apps import apps
    from django.core.management import call_command

    def counts():
        return {
            m._meta.label: m.objects.count()
            for m in apps.get_models()
            if m._meta.app_label in {"portal", "hospitals", "filings", "settlement", "auth"}
        }

    # The whole demo, with the year of statistics history (the fixture leaves that out).
    call_command("seed_demo", stdout=StringIO())
    before = counts()
    out = StringIO()
    from filings.models import Filing

    versions = dict(Filing.objects.values_list("number", "updated_at"))
    call_command("seed_demo", stdout=out)
    assert counts() == before
    assert "wangxiulan" in out.getvalue()
    # demo.md: "running it twice changes nothing", not even a filing's version (`updated_at`,
    # what a reviewer's page decides on).
    assert dict(Filing.objects.values_list("number", "updated_at")) == versions


def test_one_persons_failed_sign_ins_do_not_lock_others_on_the_same_address(client, demo):
    """A family's or a community centre's shared address: five wrong passwords for a made-up
    account (or for another person's) leave the others free to sign in from it."""
    for _ in range(6):
        _login(client, "nobodyxyz", password="wrong")
    assert _login(client, "liufang").status_code == 302
    page = client.get(reverse("filings:list"))
    assert page.status_code == 200


def test_many_accounts_tried_from_one_address_are_still_stopped(client, demo):
    for n in range(30):
        _login(client, f"guess{n}", password="wrong")
    response = _login(client, "liufang")
    assert response.status_code != 302 and "_auth_user_id" not in client.session
    assert response.status_code == 429 and "尝试次数过多" in response.content.decode()


def test_the_totp_step_asks_for_a_verification_code_not_a_catalogue_code(client, demo):
    """allauth's "Code" reads 编码 (a catalogue number) in Chinese: the field says 验证码."""
    response = _login(client, "agency_dxal")
    page = client.get(response["Location"]).content.decode()
    assert "验证码" in page and "编码" not in page
    assert 'inputmode="numeric"' in page and 'autocomplete="one-time-code"' in page
