"""`manage.py seed_demo`: the demo of shared/demo.md. Idempotent; dates relative to today."""

from importlib import import_module

from django.core.management.base import BaseCommand

from portal import demo

# Each app that has demo data provides `<app>.demo.seed(out)` returning login lines.
STEPS = ["portal.demo", "hospitals.demo", "filings.demo", "settlement.demo"]


class Command(BaseCommand):
    help = "Create or refresh the demo data (regions, hospitals, persons, filings, accounts)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Skip the year of historical direct settlements behind the statistics "
            "dashboard (about 1,250 rows; faster, for tests that do not need them).",
        )

    def handle(self, *args, **options):
        logins: list[tuple[str, str]] = []
        for step in STEPS:
            try:
                module = import_module(step)
            except ModuleNotFoundError as exc:
                if exc.name != step:
                    raise
                continue
            kwargs = (
                {"history": False} if step == "settlement.demo" and options["no_history"] else {}
            )
            logins += module.seed(self.stdout, **kwargs) or []
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data is ready. Demo logins (password for all: {demo.PASSWORD}):"
            )
        )
        for login, note in logins:
            self.stdout.write(f"  {login:<24} {note}")
        self.stdout.write("Staff need a TOTP code: python manage.py demo_totp USERNAME")
