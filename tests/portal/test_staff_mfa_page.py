"""The two-factor page (allauth's `mfa_index`) offers to deactivate an authenticator app only to
those who may: staff keep theirs (portal.adapters.MFAAdapter refuses it), so their page has no
Deactivate link and says instead that an administrator removes a lost phone's, in the page's
language."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.urls import reverse

from tests.portal.test_staff_mfa_everywhere import _code, _signed_in_with_totp

pytestmark = pytest.mark.django_db
DEACTIVATE = reverse("mfa_deactivate_totp")
SAID = {
    "en": "If your phone is lost or replaced, ask an administrator to remove it",
    "zh-hans": "如手机丢失或更换，请联系管理员删除原身份验证器",
}


@pytest.mark.parametrize("username", ["agency_dxal", "admin"])
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_staff_are_not_offered_to_deactivate_their_authenticator(demo, username, language):
    client = _signed_in_with_totp(username)
    client.cookies["django_language"] = language
    page = client.get(reverse("mfa_index"))
    html = page.content.decode()
    assert page.status_code == 200 and f'<html lang="{language}"' in html
    assert f'href="{DEACTIVATE}"' not in html
    assert SAID[language] in html
    assert not re.search(r"<li>\s*</li>", html)  # no empty place where the button was
    assert reverse("mfa_generate_recovery_codes") in html  # the rest of the page stays


def test_a_person_is_offered_to_deactivate_an_authenticator_of_their_own(demo):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"
    TOTP.activate(demo["wangxiulan"], secret)
    client = _signed_in_with_totp("wangxiulan", _code(secret))
    html = client.get(reverse("mfa_index")).content.decode()
    assert f'href="{DEACTIVATE}"' in html
    assert SAID["zh-hans"] not in html
