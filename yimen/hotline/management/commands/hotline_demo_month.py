"""`manage.py hotline_demo_month`: the demo 12345 hotline's month of work orders
(yimen.demo.hotline_orders), walked through the order services, then the dispatch assistant
trained on it. Needs the demo city (`manage.py load_demo`); loading again adds nothing."""

import time

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yimen.common import commands
from yimen.common.progress import progress_bar
from yimen.demo import hotline_orders
from yimen.hotline.choices import (
    CardColour,
    OrderChannel,
    OrderStatus,
    OrderType,
    RequestStatus,
    Satisfaction,
    Urgency,
)


def _positive(value: str) -> int:
    import argparse

    try:
        number = int(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(_("not a whole number")) from error
    if number < 1:
        raise argparse.ArgumentTypeError(_("must be at least 1"))
    return number


class Command(commands.Command):
    help = gettext_lazy(
        "Generate the demo month of 12345 work orders (the last full month and the current one "
        "up to now) through the order services, then train the dispatch assistant on it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--orders",
            type=_positive,
            default=hotline_orders.DEFAULT_ORDERS,
            help=gettext_lazy("Orders in the full month (5000); the current month at that rate."),
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=1,
            help=gettext_lazy("Seed of the month (1): the same seed makes the same month."),
        )
        parser.add_argument(
            "--no-train",
            action="store_true",
            help=gettext_lazy("Do not train the dispatch assistant afterwards."),
        )
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help=gettext_lazy("Do not show the progress bar."),
        )

    def handle(self, *args, orders, seed, no_train=False, no_progress=False, **options):
        started = time.monotonic()
        if hotline_orders.loaded():
            self.stdout.write(_("The demo month is loaded already: nothing to add."))
            return
        if missing := hotline_orders.missing():
            raise CommandError(
                _("Load the demo city first (manage.py load_demo); missing: %s.")
                % ", ".join(missing)
            )
        bar = progress_bar(self, desc=_("Work orders"), unit=" " + _("orders"), disable=no_progress)

        def planned(total: int) -> None:
            bar.total = total
            bar.refresh()

        with bar:
            result = hotline_orders.load(
                orders=orders, seed=seed, progress=bar.update, on_plan=planned
            )
        self._figures(hotline_orders.figures())
        if not no_train:
            self._train()
        self.stdout.write(
            self.style.SUCCESS(
                _("%(orders)d work orders and %(cards)d cards made in %(seconds).1f s.")
                % {
                    "orders": result.orders,
                    "cards": result.cards,
                    "seconds": time.monotonic() - started,
                }
            )
        )

    def _figures(self, figures: dict) -> None:
        def counts(values: dict, choices=None) -> str:
            labels = dict(choices.choices) if choices else {}
            return ", ".join(f"{labels.get(key, key)} {n}" for key, n in values.items()) or "—"

        def share(value) -> str:
            return "—" if value is None else f"{value:.2f}%"

        # The rates are the statistics page's for the month's days (yimen.hotline.stats).
        days, instant = figures["period"], figures["instant"]
        average = figures["average_days"]
        lines = [
            (_("Orders"), str(figures["orders"])),
            (_("By status"), counts(figures["status"], OrderStatus)),
            (_("By channel"), counts(figures["channel"], OrderChannel)),
            (_("By type"), counts(figures["type"], OrderType)),
            (_("By urgency"), counts(figures["urgency"], Urgency)),
            (
                _("Statistics period"),
                f"{days.first:%Y-%m-%d} – {days.last:%Y-%m-%d}" if days else "—",
            ),
            (
                _("Answered at once"),
                _("%(rate)s (%(part)d of %(whole)d received)")
                % {
                    "rate": share(figures["instant_rate"]),
                    "part": instant.part,
                    "whole": instant.whole,
                },
            ),
            (_("Answered from an article"), str(figures["answered_from_articles"])),
            (_("Signed on time"), share(figures["sign_on_time"])),
            (_("Replied on time"), share(figures["reply_on_time"])),
            (_("Satisfaction"), share(figures["satisfaction"])),
            (_("Callback verdicts"), counts(figures["verdicts"], Satisfaction)),
            (_("Average handling (working days)"), "—" if average is None else str(average)),
            (_("Returns"), counts(figures["returns"], RequestStatus)),
            (_("Extensions"), counts(figures["extensions"], RequestStatus)),
            (_("Supervision orders"), str(figures["supervisions"])),
            (_("Repeat calls linked"), str(figures["repeat_calls"])),
            (_("Reopened"), str(figures["reopened"])),
            (_("Re-dispatched to a sub-unit"), str(figures["redispatched"])),
            (_("Co-handled"), str(figures["co_handled"])),
            (_("Cards"), counts(figures["cards"], CardColour)),
            (_("Units"), str(figures["units"])),
        ]
        width = max(len(label) for label, _value in lines)
        for label, value in lines:
            self.stdout.write(f"  {label.ljust(width)}  {value}")

    def _train(self) -> None:
        """The dispatch assistant, when this installation has one to train."""
        model = hotline_orders.train()
        if model is None:
            self.stdout.write(self.style.WARNING(_("The dispatch assistant was not trained.")))
            return
        self.stdout.write(
            _(
                "Dispatch assistant v%(version)s: unit top-1 %(u1).1f%%, top-3 %(u3).1f%%; "
                "category top-1 %(c1).1f%%, top-3 %(c3).1f%%."
            )
            % {
                "version": model.version,
                "u1": 100 * model.unit_top1,
                "u3": 100 * model.unit_top3,
                "c1": 100 * model.category_top1,
                "c3": 100 * model.category_top3,
            }
        )
