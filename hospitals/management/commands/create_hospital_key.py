"""`manage.py create_hospital_key HOSPITAL_CODE`: prints the new key alone on its last line."""

from django.core.management.base import BaseCommand, CommandError

from hospitals.models import Hospital
from hospitals.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a designated hospital and print it (shown once, stored hashed)."

    def add_arguments(self, parser):
        parser.add_argument("hospital_code")
        parser.add_argument("--name", default="", help="a label for the key")

    def handle(self, *args, hospital_code, name, **options):
        hospital = Hospital.objects.filter(code=hospital_code.strip().upper()).first()
        if hospital is None:
            raise CommandError(f"No designated hospital with code {hospital_code!r}.")
        key, plain = api_key_create(hospital=hospital, name=name or "command line")
        self.stderr.write(
            f"Key {key.prefix}… for {hospital.code} {hospital.name}. "
            "It is shown once: store it now."
        )
        self.stdout.write(plain)
