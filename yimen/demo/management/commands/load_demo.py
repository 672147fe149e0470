"""`manage.py load_demo`: load the demo city (idempotent)."""

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.utils.translation import gettext as _

from yimen.common import commands
from yimen.common.progress import progress_bar
from yimen.demo.loader import STEPS, Report, demo_accounts


class Command(commands.Command):
    help = _(
        "Load the demo city: regions, departments, halls, staff, applicants and the service"
        " catalogue."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--accounts", action="store_true", help=_("Print the demo accounts at the end.")
        )
        parser.add_argument("--url", default="", help=_("The address to print for the site."))
        parser.add_argument("--no-progress", action="store_true", help=_("No progress bar."))

    def handle(self, *args, accounts, url, no_progress, **options):
        report = Report()
        steps = progress_bar(
            self, STEPS, desc=_("Demo city"), unit=_("step"), disable=no_progress, leave=False
        )
        with transaction.atomic():
            for label, step in steps:
                steps.set_postfix_str(label)
                step(report)
        if report.created:
            created = ", ".join(f"{what} {n}" for what, n in report.created.items())
            self.stdout.write(self.style.SUCCESS(_("Demo city loaded: %s.") % created))
        else:
            self.stdout.write(_("Demo city already loaded: nothing to add."))
        # A month of 12345 orders, walked day by day (each day its own transaction: one
        # transaction of the whole month would hold the audit chain's head for minutes).
        if settings.YIMEN_DEMO_HOTLINE_ORDERS:
            call_command(
                "hotline_demo_month",
                orders=settings.YIMEN_DEMO_HOTLINE_ORDERS,
                no_progress=no_progress,
                stdout=self.stdout,
                stderr=self.stderr,
            )
        if accounts:
            self._print_accounts(url)

    def _print_accounts(self, url: str) -> None:
        rows = demo_accounts()
        width = max(len(username) for username, _p, _w in rows)
        self.stdout.write("")
        if url:
            self.stdout.write(self.style.SUCCESS(_("Yimen is starting at %s") % url))
        self.stdout.write(_("Demo accounts (password for all: %s):") % rows[0][1])
        for username, _password, what in rows:
            self.stdout.write(f"  {username.ljust(width)}  {what}")
        self.stdout.write("")
