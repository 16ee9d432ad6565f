"""Hospital clerks' accounts: the agency of the hospital's region invites them by email, and
the clerk sets a password through the invitation's link (hospitals.services.clerk_invite)."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from hospitals.models import Hospital, HospitalStaff
from hospitals.tasks import send_clerk_invitation
from portal.models import AuditEvent
from tests.signin import staff_login

pytestmark = pytest.mark.django_db
INVITE = "admin:hospitals_hospitalstaff_invite"


@pytest.fixture
def eager():
    from portal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _invite(client, django_capture_on_commit_callbacks, hospital: str, email: str):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse(INVITE), {"hospital": Hospital.objects.get(code=hospital).pk, "email": email}
        )


def _link(message) -> str:
    (url,) = set(re.findall(r"https?://\S+/password/reset/key/\S+/", message.body))
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_agency_invites_a_clerk_who_sets_a_password_and_works_for_the_hospital(
    client, demo, eager, django_capture_on_commit_callbacks
):
    staff_login(client, "agency_shenyang")
    form = client.get(reverse(INVITE))
    assert form.status_code == 200
    mail.outbox.clear()
    response = _invite(client, django_capture_on_commit_callbacks, "H21010000001", "Li.Na@H1.cn")
    assert response.status_code == 302
    clerk = get_user_model().objects.get(email="li.na@h1.cn")
    assert not clerk.has_usable_password() and not clerk.is_staff
    assert HospitalStaff.objects.get(user=clerk).hospital.code == "H21010000001"
    assert EmailAddress.objects.get(user=clerk).verified
    event = AuditEvent.objects.get(action="hospital_staff.invite")
    assert event.actor.username == "agency_shenyang" and event.reason == "li.na@h1.cn"
    (message,) = mail.outbox
    assert message.to == ["li.na@h1.cn"]
    assert "账号" in message.subject and "account" in message.subject
    hospital_name = Hospital.objects.get(code="H21010000001").name
    assert hospital_name in message.body and "Set your password" in message.body
    listing = client.get(reverse("admin:hospitals_hospitalstaff_changelist")).content.decode()
    assert "li.na@h1.cn" in listing
    # The clerk follows the link and sets a password; the link then works no more.
    client.logout()
    link = _link(message)
    page = client.get(link, follow=True)
    assert page.status_code == 200
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    done = client.post(form_url, {"password1": "Clerk#2026-desk", "password2": "Clerk#2026-desk"})
    assert done.status_code == 302
    clerk.refresh_from_db()
    assert clerk.has_usable_password()
    again = client.get(link, follow=True)
    assert again.context["token_fail"] is True
    client.post(link, {"password1": "Other#2026-desk", "password2": "Other#2026-desk"})
    clerk.refresh_from_db()
    assert clerk.check_password("Clerk#2026-desk")
    signed_in = client.post(
        reverse("account_login"), {"login": "li.na@h1.cn", "password": "Clerk#2026-desk"}
    )
    assert signed_in.status_code == 302
    desk = client.get(reverse("hospitals:home"))
    assert desk.status_code == 200 and hospital_name in desk.content.decode()


def test_another_regions_hospital_is_not_offered_and_cannot_be_posted(
    client, demo, eager, django_capture_on_commit_callbacks
):
    staff_login(client, "agency_shenyang")
    page = client.get(reverse(INVITE)).content.decode()
    assert "H21010000001" in page and "H23010300001" not in page
    mail.outbox.clear()
    response = _invite(client, django_capture_on_commit_callbacks, "H23010300001", "x@h.cn")
    assert response.status_code == 200 and response.context["form"].errors["hospital"]
    assert not get_user_model().objects.filter(email="x@h.cn").exists()
    assert mail.outbox == []


def test_an_address_that_has_an_account_is_refused_and_nothing_changes(
    client, demo, eager, django_capture_on_commit_callbacks
):
    existing = get_user_model().objects.exclude(email="").first()
    staff_login(client, "agency_shenyang")
    users, staff = get_user_model().objects.count(), HospitalStaff.objects.count()
    mail.outbox.clear()
    response = _invite(
        client, django_capture_on_commit_callbacks, "H21010000001", existing.email.upper()
    )
    assert response.status_code == 200
    assert "已有账号" in str(response.context["form"].errors["email"])
    assert (get_user_model().objects.count(), HospitalStaff.objects.count()) == (users, staff)
    assert mail.outbox == []
    bad = _invite(client, django_capture_on_commit_callbacks, "H21010000001", "not-an-address")
    assert bad.status_code == 200 and bad.context["form"].errors["email"]


def test_the_invitation_is_sent_again_only_to_clerks_without_a_password(
    client, demo, eager, django_capture_on_commit_callbacks
):
    staff_login(client, "agency_shenyang")
    _invite(client, django_capture_on_commit_callbacks, "H21010000001", "new@h1.cn")
    pending = HospitalStaff.objects.get(user__email="new@h1.cn")
    accepted = HospitalStaff.objects.filter(hospital__code="H21010000001").exclude(pk=pending.pk)
    accepted = accepted.first()
    assert accepted.user.has_usable_password()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("admin:hospitals_hospitalstaff_changelist"),
            {"action": "invite_again", "_selected_action": [pending.pk, accepted.pk]},
        )
    assert [m.to for m in mail.outbox] == [["new@h1.cn"]]
    assert AuditEvent.objects.filter(action="hospital_staff.invite_again").count() == 1
    # The task itself sends nothing to an account that has a password.
    assert send_clerk_invitation(accepted.user_id) is False


def test_persons_and_clerks_cannot_reach_the_invitation_page(client, demo):
    clerk = HospitalStaff.objects.filter(hospital__code="H21010000001").first().user
    for user in (get_user_model().objects.get(username="chenming"), clerk):
        client.force_login(user)
        response = client.get(reverse(INVITE))
        assert response.status_code in (302, 403), user
        assert "login" in response.get("Location", "login")
    assert not AuditEvent.objects.filter(action="hospital_staff.invite").exists()
