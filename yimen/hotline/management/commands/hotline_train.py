"""`manage.py hotline_train`: train the dispatch assistant (智能派单) on the closed work
orders, print its accuracy on the held-out orders, and save it as a new version (the one
suggestions come from from then on). `--dry-run` measures without saving."""

import argparse

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yimen.common import commands
from yimen.common.progress import progress_bar
from yimen.hotline import dispatch, search


def _share(value: str) -> float:
    try:
        share = float(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(_("not a number")) from error
    if not 0 < share < 1:
        raise argparse.ArgumentTypeError(_("must be between 0 and 1"))
    return share


class Command(commands.Command):
    help = gettext_lazy(
        "Train the dispatch assistant on the closed work orders: unit and category models, "
        "their top-1 and top-3 accuracy on held-out orders, saved as a new version."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--test-share",
            type=_share,
            default=0.2,
            help=gettext_lazy("Share of the orders held out to measure the accuracy (0.2)."),
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=0,
            help=gettext_lazy("Seed of the split and of the fitting (0): a rerun is the same."),
        )
        parser.add_argument(
            "--min-orders",
            type=int,
            default=50,
            help=gettext_lazy("Fewest usable orders to train on (50)."),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext_lazy("Measure the accuracy only: save nothing."),
        )
        parser.add_argument(
            "--user",
            help=gettext_lazy("The user the training is recorded under (default: the system)."),
        )
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help=gettext_lazy("Do not show the progress bar."),
        )

    def handle(
        self,
        *args,
        test_share=0.2,
        seed=0,
        min_orders=50,
        dry_run=False,
        user=None,
        no_progress=False,
        **options,
    ):
        actor = self.user_named(user)
        steps = dispatch.DRY_RUN_STEPS if dry_run else tuple(dispatch.STEPS)
        bar = progress_bar(self, total=len(steps), unit=" " + _("steps"), disable=no_progress)
        begun: list[str] = []

        def on_step(step: str) -> None:
            if begun:
                bar.update(1)
            begun.append(step)
            bar.set_description(str(dispatch.STEPS[step]))

        search.load_dictionary()  # before the bar starts: it takes a second
        try:
            with bar:
                model = dispatch.train(
                    actor=actor,
                    progress=on_step,
                    test_share=test_share,
                    seed=seed,
                    min_orders=min_orders,
                    save=not dry_run,
                )
                bar.update(1)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error

        figures = model.figures
        lines = [
            _("Orders used: %(orders)d (%(units)d units, %(categories)d categories)")
            % {"orders": figures.orders, "units": figures.units, "categories": figures.categories},
            _("Trained on %(train)d, held out %(test)d")
            % {"train": figures.train_size, "test": figures.test_size},
            _("Unit accuracy: top-1 %(top1).1f%%, top-3 %(top3).1f%%")
            % {"top1": 100 * figures.unit_top1, "top3": 100 * figures.unit_top3},
            _("Category accuracy: top-1 %(top1).1f%%, top-3 %(top3).1f%%")
            % {"top1": 100 * figures.category_top1, "top3": 100 * figures.category_top3},
        ]
        for line in lines:
            self.stdout.write(line)
        if dry_run:
            self.stdout.write(
                self.style.WARNING(
                    _("Dry run in %(seconds).1f s: nothing saved.") % {"seconds": figures.seconds}
                )
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Saved version %(version)d (refitted on all %(orders)d orders, "
                    "%(kb)d KB) in %(seconds).1f s."
                )
                % {
                    "version": model.version,
                    "orders": figures.orders,
                    "kb": round(len(model.artifact) / 1024),
                    "seconds": figures.seconds,
                }
            )
        )
