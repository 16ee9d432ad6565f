"""Background work of the hospitals app."""

from __future__ import annotations

from urllib.parse import quote

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation


def invitation_url(user) -> str:
    """allauth's set-a-new-password page for `user`, with a one-time key (valid for
    PASSWORD_RESET_TIMEOUT; void once a password is set)."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    key = f"{user_pk_to_url_str(user)}-{default_token_generator.make_token(user)}"
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
    return settings.SITE_URL + path.replace("UID-KEY", quote(key))


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_clerk_invitation(user_id: int) -> bool:
    """Email a hospital clerk's invitation, in Simplified Chinese and then English (the clerk
    has not chosen a language yet). The link is made here, never stored: the task's message
    carries only the account's id. Nothing is sent once the clerk has set a password."""
    user = (
        get_user_model()
        .objects.select_related("hospital_staff__hospital")
        .filter(pk=user_id)
        .first()
    )
    if user is None or user.has_usable_password() or not hasattr(user, "hospital_staff"):
        return False
    context = {
        "hospital": user.hospital_staff.hospital,
        "email": user.email,
        "url": invitation_url(user),
        "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        "login_url": settings.SITE_URL + reverse("account_login"),
    }
    subjects, bodies = [], []
    for language in ("zh-hans", "en"):
        with translation.override(language):
            subjects.append(
                render_to_string("hospitals/email/clerk_invitation_subject.txt", context).strip()
            )
            bodies.append(render_to_string("hospitals/email/clerk_invitation_message.txt", context))
    send_mail(" / ".join(subjects), "\n\n".join(bodies), None, [user.email])
    return True
