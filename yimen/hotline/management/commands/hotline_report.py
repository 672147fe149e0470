"""`manage.py hotline_report [--month 2026-11 | --from 2026-11-01 --to 2026-11-15]
[--xlsx path] [--pdf path]`: print the hotline's headline figures of a period (the previous
month by default: the bulletin reports a finished month) and write the workbook and the
operation bulletin (运行情况通报) to the files given."""

import datetime as dt
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yimen.common import commands
from yimen.hotline import report, stats


def _previous_month() -> str:
    first = timezone.localdate().replace(day=1)
    return f"{first - dt.timedelta(days=1):%Y-%m}"


class Command(commands.Command):
    help = gettext_lazy(
        "Print the 12345 hotline's figures of a month (or of a span of days) and write the "
        "workbook and the operation bulletin."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--month", help=gettext_lazy("The month, YYYY-MM (default: the previous month).")
        )
        parser.add_argument(
            "--from", dest="first", help=gettext_lazy("The first day, YYYY-MM-DD (with --to).")
        )
        parser.add_argument(
            "--to", dest="last", help=gettext_lazy("The last day, YYYY-MM-DD (with --from).")
        )
        parser.add_argument("--xlsx", help=gettext_lazy("Write the xlsx workbook to this file."))
        parser.add_argument("--pdf", help=gettext_lazy("Write the PDF bulletin to this file."))

    def handle(self, *args, month=None, first=None, last=None, xlsx=None, pdf=None, **options):
        params = {"month": month or "", "from": first or "", "to": last or ""}
        if not any(params.values()):
            params["month"] = _previous_month()
        try:
            period = stats.period_from(params)
        except ValidationError as error:
            raise CommandError(
                " ".join(
                    f"--{name}: {' '.join(messages)}"
                    for name, messages in error.message_dict.items()
                )
            ) from None
        figures = stats.figures(period)
        self.stdout.write(report.title(figures))
        for headline in stats.headlines(figures):
            line = f"{headline.label}: {headline}"
            if headline.kind == "rate" and headline.value.whole:
                line += f" ({headline.value.part}/{headline.value.whole})"
            self.stdout.write(line)
        for path, render in ((xlsx, report.workbook), (pdf, report.render_pdf)):
            if not path:
                continue
            try:
                Path(path).write_bytes(render(figures))
            except OSError as error:
                raise CommandError(
                    _("Cannot write %(path)s: %(error)s") % {"path": path, "error": error}
                ) from None
            self.stdout.write(self.style.SUCCESS(_("Written: %(path)s") % {"path": path}))
