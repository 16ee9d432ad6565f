"""`manage.py seed_demo`: the demo of shared/demo.md. Idempotent; dates relative to today."""

from importlib import import_module

from django.core.management.base import BaseCommand

from portal import demo

# Each app that has demo data provides `<app>.demo.seed(out)` returning login lines.
STEPS = ["portal.demo", "hospitals.demo", "filings.demo", "settlement.demo"]


class Command(BaseCommand):
    help = "Create or refresh the demo data (regions, hospitals, persons, filings, accounts)."

    def handle(self, *args, **options):
        logins: list[tuple[str, str]] = []
        for step in STEPS:
            try:
                module = import_module(step)
            except ModuleNotFoundError as exc:
                if exc.name != step:
                    raise
                continue
            logins += module.seed(self.stdout) or []
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data is ready. Demo logins (password for all: {demo.PASSWORD}):"
            )
        )
        for login, note in logins:
            self.stdout.write(f"  {login:<24} {note}")
        self.stdout.write("Staff need a TOTP code: python manage.py demo_totp USERNAME")
