"""The TOTP code's field, as the portal words it: a "verification code" (验证码), not allauth's
"Code", which Chinese renders as 编码 (a catalogue number)."""

from __future__ import annotations

from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from django.utils.translation import gettext_lazy as _


def _word_the_code(form) -> None:
    field = form.fields["code"]
    field.label = _("Verification code")
    field.widget.attrs["placeholder"] = _("6 digits from your authenticator app")
    field.widget.attrs["inputmode"] = "numeric"


class PortalAuthenticateForm(AuthenticateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _word_the_code(self)


class PortalReauthenticateForm(ReauthenticateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _word_the_code(self)
