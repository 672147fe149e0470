"""`manage.py hall_sweep`: close the hall's day as the periodic task does, now."""

from django.utils.translation import gettext_lazy, ngettext

from yimen.common import commands
from yimen.hall import tasks


class Command(commands.Command):
    help = gettext_lazy(
        "Mark the appointments whose period ended unused as missed and close the tickets of "
        "earlier days still in the queue, as the periodic task does."
    )

    def handle(self, *args, **options):
        counts = tasks.sweep_hall()
        self.stdout.write(
            ngettext(
                "%(count)d appointment missed.",
                "%(count)d appointments missed.",
                counts["appointments_missed"],
            )
            % {"count": counts["appointments_missed"]}
        )
        self.stdout.write(
            ngettext(
                "%(count)d ticket closed.", "%(count)d tickets closed.", counts["tickets_closed"]
            )
            % {"count": counts["tickets_closed"]}
        )
