"""`manage.py demo_totp USERNAME`: the current TOTP code of a demo staff account."""

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand, CommandError

from portal.demo import TOTP_SECRETS


def current_code(username: str) -> str:
    import time

    from allauth.mfa import app_settings

    counter = int(time.time()) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(TOTP_SECRETS[username], counter))


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo staff account (demo secrets only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if username not in TOTP_SECRETS:
            raise CommandError(f"{username} is not a demo staff account")
        self.stdout.write(current_code(username))
