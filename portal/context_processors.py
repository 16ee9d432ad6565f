from portal.middleware import after_totp, idle_seconds
from portal.roles import role_of


def role(request):
    user = getattr(request, "user", None)
    current = role_of(user) if user is not None else None
    unread = 0
    if current is not None:
        unread = user.notifications.filter(read_at__isnull=True).count()
    signed_in = user is not None and user.is_authenticated
    return {
        "role": current,
        "unread_notifications": unread,
        # For the warning before a quiet session ends (static/js/portal.js, keep_alive).
        "session_idle_seconds": idle_seconds(user) if signed_in else None,
        # Once staff have set up TOTP, the page they were sent from (templates/mfa/).
        "after_totp": after_totp(request)
        if signed_in and request.path.startswith("/accounts/2fa/")
        else None,
    }
