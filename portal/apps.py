from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from allauth.account.signals import password_reset
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from portal.password_reset import lift_sign_in_lock
        from portal.staff import agency_group_after_migrate

        user_logged_in.connect(remember_language, dispatch_uid="portal-remember-language")
        password_reset.connect(lift_sign_in_lock, dispatch_uid="portal-lift-sign-in-lock")
        # Every migrate keeps the agency staff's group and its permissions (portal.staff).
        post_migrate.connect(agency_group_after_migrate, dispatch_uid="portal-agency-group")


def remember_language(sender, request, user, **kwargs):
    """The language a user signs in with is the one their emails are written in."""
    from portal.models import Preference

    language = getattr(request, "LANGUAGE_CODE", None) if request is not None else None
    if language:
        Preference.remember(user, language)
