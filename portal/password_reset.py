"""A password reset by e-mail lifts the sign-in lock of its account.

Five failed sign-ins lock an account from an address for an hour (django-axes) and stop allauth
from trying more for five minutes (its `login_failed` limit, by what was typed in the login
field). A person who then resets the password by e-mail has shown they hold the account: the
new password must work at once, not be refused for the old one's mistakes. allauth itself
clears its limit only for the account's e-mail addresses, not for the username most people
sign in with.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from axes.utils import reset as reset_axes


def lift_sign_in_lock(sender, request, user, **kwargs) -> None:
    """allauth's `password_reset` signal: forget the failed sign-ins of `user`'s account, as
    django-axes records them (by the username, `portal.adapters.axes_username`, from every
    address) and as allauth counts them under the username."""
    username = user.get_username().lower()
    reset_axes(username=username)
    # allauth's own key for a login typed as the username (its reset clears only e-mail ones).
    get_adapter(request)._delete_login_attempts_cached_email(request, username=username)
