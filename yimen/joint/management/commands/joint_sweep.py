"""`manage.py joint_sweep`: accept the theme applications left without an acceptance
decision for 5 working days, as the periodic task does, now."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from yimen.common import commands
from yimen.joint import services, tasks


class Command(commands.Command):
    help = gettext_lazy(
        "Accept the theme applications left without an acceptance decision for 5 working "
        "days (from their day of receipt) and open their cases, as the periodic task does."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext_lazy("List what would be done, and change nothing."),
        )

    def handle(self, *args, dry_run=False, **options):
        if dry_run:
            due = list(services.acceptances_due().select_related("acceptance_clock"))
            for joint in due:
                self.stdout.write(
                    _("Would deem %(number)s accepted (received %(received)s).")
                    % {
                        "number": joint.number,
                        "received": timezone.localtime(joint.submitted_at).strftime(
                            "%Y-%m-%d %H:%M"
                        ),
                    }
                )
            self.stdout.write(_("Dry run: nothing was changed."))
            return
        count = tasks.sweep_joint()["deemed_accepted"]
        self.stdout.write(
            ngettext(
                "%(count)d application deemed accepted.",
                "%(count)d applications deemed accepted.",
                count,
            )
            % {"count": count}
        )
