from portal.roles import role_of


def role(request):
    user = getattr(request, "user", None)
    current = role_of(user) if user is not None else None
    unread = 0
    if current is not None:
        unread = user.notifications.filter(read_at__isnull=True).count()
    return {"role": current, "unread_notifications": unread}
