"""`manage.py hotline_sweep`: issue the yellow and red cards of the work orders' missed
deadlines now, as the periodic task does; `--dry-run` lists the deadlines that would be
carded and changes nothing."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from yimen.common import commands
from yimen.hotline import selectors, tasks
from yimen.hotline.choices import OrderClock
from yimen.hotline.models import Supervision, WorkOrder


def _moment(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


class Command(commands.Command):
    help = gettext_lazy(
        "Issue a yellow or red card, with a notice to the unit, for each deadline a work "
        "order or a supervision order missed, as the periodic task does."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext_lazy("List the deadlines that would be carded, and change nothing."),
        )

    def handle(self, *args, dry_run=False, **options):
        if dry_run:
            self._plan()
            return
        counts = tasks.sweep_hotline()
        self.stdout.write(
            ngettext(
                "%(count)d yellow card issued.",
                "%(count)d yellow cards issued.",
                counts["yellow_cards"],
            )
            % {"count": counts["yellow_cards"]}
        )
        self.stdout.write(
            ngettext(
                "%(count)d red card issued.", "%(count)d red cards issued.", counts["red_cards"]
            )
            % {"count": counts["red_cards"]}
        )

    def _plan(self):
        missed = list(selectors.overdue_clocks(timezone.now()))
        numbers = self._numbers(missed)
        for clock in missed:
            self.stdout.write(
                _("Would card %(number)s: %(deadline)s, due %(due)s.")
                % {
                    "number": numbers.get(clock.pk) or "—",
                    "deadline": OrderClock(clock.purpose).label,
                    "due": _moment(clock.due_at),
                }
            )
        self.stdout.write(
            ngettext(
                "%(count)d missed deadline would be carded.",
                "%(count)d missed deadlines would be carded.",
                len(missed),
            )
            % {"count": len(missed)}
        )
        self.stdout.write(_("Dry run: nothing was changed."))

    @staticmethod
    def _numbers(missed) -> dict[int, str]:
        """The order number of each clock (its order's, or its supervision order's), in two
        queries."""
        own = {c.pk: int(c.subject_id) for c in missed if c.purpose != OrderClock.SUPERVISION}
        supervised = [c.pk for c in missed if c.purpose == OrderClock.SUPERVISION]
        by_order = dict(
            WorkOrder.objects.filter(pk__in=set(own.values())).values_list("pk", "number")
        )
        numbers = {clock: by_order.get(order) for clock, order in own.items()}
        numbers.update(
            Supervision.objects.filter(clock__in=supervised).values_list(
                "clock_id", "order__number"
            )
        )
        return numbers
