"""A person's way back into their account: the e-mail address that cannot be lost, the password
changed from the account's pages, a reset that lifts the sign-in lock, and the reset pages'
ways on (a used link, the new password's sign-in)."""

import re

import pytest
from allauth.account.models import EmailAddress
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Neu#2026-zhaoli"


def _reset_link(client, email: str, capture) -> str:
    """Ask for a reset of `email` and return the path of the link the e-mail carries."""
    mail.outbox.clear()
    with capture(execute=True):
        client.post(reverse("account_reset_password"), {"email": email})
    (message,) = mail.outbox
    (url,) = set(re.findall(r"https?://\S+/password/reset/key/\S+/", message.body))
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _set_new_password(client, link: str):
    form = client.get(link, follow=True)
    form_url = form.redirect_chain[-1][0] if form.redirect_chain else link
    return client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})


def test_the_only_email_address_is_not_offered_for_removal(client, demo):
    client.force_login(demo["liufang"])
    page = client.get(reverse("account_email")).content.decode()
    assert 'name="action_remove"' not in page and 'name="action_primary"' not in page
    # Verified already: nothing to send again.
    assert 'name="action_send"' not in page
    assert 'id="only-address"' in page
    user = get_user_model().objects.get(username="liufang")
    EmailAddress.objects.create(user=user, email="liufang.new@example.cn", verified=False)
    page = client.get(reverse("account_email")).content.decode()
    assert 'name="action_remove"' in page and 'name="action_primary"' in page
    assert 'name="action_send"' in page and 'id="only-address"' not in page


def test_the_only_address_and_the_only_verified_one_are_kept_when_removal_is_posted(client, demo):
    """A removal posted without the page (an old tab, a script) is refused by the account
    adapter: the account keeps an address, and a verified one, to sign in and reset with."""
    client.force_login(demo["liufang"])
    user = get_user_model().objects.get(username="liufang")
    (only,) = EmailAddress.objects.filter(user=user)
    client.post(reverse("account_email"), {"action_remove": "", "email": only.email})
    assert EmailAddress.objects.filter(pk=only.pk).exists()
    extra = EmailAddress.objects.create(user=user, email="liufang.new@example.cn", verified=False)
    # The unverified one leaves the verified one alone: it still cannot go.
    client.post(reverse("account_email"), {"action_remove": "", "email": only.email})
    assert EmailAddress.objects.filter(pk=only.pk).exists()
    client.post(reverse("account_email"), {"action_remove": "", "email": extra.email})
    assert not EmailAddress.objects.filter(pk=extra.pk).exists()


def test_a_person_finds_change_password_in_the_menu_and_on_the_email_page(client, demo):
    client.force_login(demo["liufang"])
    change = reverse("account_change_password")
    for url in (reverse("filings:list"), reverse("account_email")):
        page = client.get(url).content.decode()
        assert f'href="{change}"' in page
    assert client.get(change).status_code == 200


def test_a_password_reset_lifts_the_sign_in_lock_of_the_account(
    client, demo, django_capture_on_commit_callbacks
):
    for _ in range(6):
        client.post(reverse("account_login"), {"login": "zhaoli", "password": "wrong"})
    assert AccessAttempt.objects.filter(username="zhaoli").exists()
    locked = client.post(reverse("account_login"), {"login": "zhaoli", "password": "Demo#2026"})
    assert locked.status_code != 302  # the right password is refused while locked
    email = get_user_model().objects.get(username="zhaoli").email
    done = _set_new_password(client, _reset_link(client, email, django_capture_on_commit_callbacks))
    assert done.status_code == 302
    assert not AccessAttempt.objects.filter(username="zhaoli").exists()
    signed_in = client.post(reverse("account_login"), {"login": "zhaoli", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302 and "_auth_user_id" in client.session


def test_the_reset_pages_lead_on_in_the_persons_language(
    client, demo, django_capture_on_commit_callbacks
):
    email = get_user_model().objects.get(username="chenming").email
    sent = client.post(reverse("account_reset_password"), {"email": email}, follow=True)
    sent_page = sent.content.decode()
    assert "联系我们" not in sent_page and "contact us" not in sent_page
    assert "联系我们" not in client.get(reverse("account_reset_password")).content.decode()
    link = _reset_link(client, email, django_capture_on_commit_callbacks)
    done = client.get(_set_new_password(client, link)["Location"]).content.decode()
    assert f'href="{reverse("account_login")}"' in done and 'id="sign-in"' in done
    used = client.get(link, follow=True)
    assert used.context["token_fail"] is True
    page = used.content.decode()
    assert "token" not in page.lower().replace('name="csrfmiddlewaretoken"', "")
    assert 'id="link-used"' in page and f'href="{reverse("account_reset_password")}"' in page


def test_the_verification_page_does_not_point_to_a_contact_that_does_not_exist(client, db):
    page = client.get(reverse("account_email_verification_sent")).content.decode()
    assert "联系我们" not in page and 'id="verification-sent"' in page
