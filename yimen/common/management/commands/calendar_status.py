"""`manage.py calendar_status`: which years the working-day calendar knows, and what is missing."""

import datetime as dt

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yimen.common import commands
from yimen.common.workdays import get_calendar, missing_calendar_years, year_overview


def year_ranges(years) -> str:
    """2004–2026, 2028 — consecutive years joined into ranges."""
    spans: list[list[int]] = []
    for year in sorted(years):
        if spans and year == spans[-1][1] + 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


class Command(commands.Command):
    help = gettext_lazy(
        "Show the years the working-day calendar knows, this year's and next year's holidays "
        "and make-up working days, and which year still has to be imported."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            help=gettext_lazy("Check as if today were this date (YYYY-MM-DD)."),
        )

    def handle(self, *args, today, **options):
        today = self._today(today)
        calendar = get_calendar()
        known = year_ranges(calendar.known_years) or _("none")
        self.stdout.write(_("Known years: %(years)s") % {"years": known})
        for year in (today.year, today.year + 1):
            self.stdout.write(self._describe(year))
        missing = missing_calendar_years(today, calendar=calendar)
        if missing:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Warning: the calendar of %(years)s is missing. Import it from the State "
                        "Council notice with `manage.py import_calendar FILE.csv --year YEAR "
                        "--notice TITLE`."
                    )
                    % {"years": ", ".join(str(year) for year in missing)}
                )
            )

    @staticmethod
    def _describe(year: int) -> str:
        overview = year_overview(year)
        if not overview.known:
            return _(
                "%(year)s: not known — deadlines reaching it count weekends only and are marked "
                "「日历未确认」 (calendar unconfirmed)."
            ) % {"year": year}
        return _(
            "%(year)s (%(source)s%(notice)s): %(holidays)d holidays, %(workdays)d make-up "
            "working days"
        ) % {
            "year": year,
            "source": overview.source,
            "notice": f": {overview.notice}" if overview.notice else "",
            "holidays": overview.holidays,
            "workdays": overview.workdays,
        }

    @staticmethod
    def _today(value: str | None) -> dt.date:
        if not value:
            return timezone.localdate(timezone=timezone.get_default_timezone())
        try:
            return dt.date.fromisoformat(value)
        except ValueError as error:
            raise CommandError(_("--today must be a date (YYYY-MM-DD).")) from error
