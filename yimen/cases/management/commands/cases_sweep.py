"""`manage.py cases_sweep`: apply the rules of cases that fall due with time, as the periodic
task does (the 5-working-day acceptance rule, overdue 容缺 commitments), now."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from yimen.cases import rules, selectors, tasks
from yimen.common import commands


def _moment(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


class Command(commands.Command):
    help = gettext_lazy(
        "Accept the cases left without an acceptance decision for 5 working days (from their "
        "day of receipt) and alert the supervisor of each overdue commitment of tolerated "
        "acceptance, as the periodic task does."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext_lazy("List what would be done, and change nothing."),
        )

    def handle(self, *args, dry_run=False, **options):
        if dry_run:
            self._plan()
            return
        counts = tasks.sweep_cases()
        self._counts(counts["deemed_accepted"], counts["commitments_overdue"])

    def _plan(self):
        due = list(selectors.acceptances_due())
        for case in due:
            self.stdout.write(
                _("Would deem %(number)s accepted (received %(received)s, due %(due)s).")
                % {
                    "number": case.number,
                    "received": _moment(case.received_at),
                    "due": _moment(case.acceptance_clock.due_at),
                }
            )
        overdue = rules.commitments_to_alert()
        for row in overdue:
            self.stdout.write(
                _("Would alert: %(number)s, %(material)s promised by %(date)s.")
                % {
                    "number": row.case.number,
                    "material": row.material.display_name if row.material else row.file_name,
                    "date": row.supply_by.isoformat(),
                }
            )
        self.stdout.write(
            ngettext(
                "%(count)d case would be deemed accepted.",
                "%(count)d cases would be deemed accepted.",
                len(due),
            )
            % {"count": len(due)}
        )
        self.stdout.write(
            ngettext(
                "%(count)d overdue commitment would be alerted.",
                "%(count)d overdue commitments would be alerted.",
                len(overdue),
            )
            % {"count": len(overdue)}
        )
        self.stdout.write(_("Dry run: nothing was changed."))

    def _counts(self, accepted: int, alerted: int):
        self.stdout.write(
            ngettext(
                "%(count)d case deemed accepted.", "%(count)d cases deemed accepted.", accepted
            )
            % {"count": accepted}
        )
        self.stdout.write(
            ngettext(
                "%(count)d overdue commitment alerted.",
                "%(count)d overdue commitments alerted.",
                alerted,
            )
            % {"count": alerted}
        )
