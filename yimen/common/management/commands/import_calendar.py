"""`manage.py import_calendar FILE.csv --year 2027 --notice "…"`: import a year's holidays."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yimen.common import commands
from yimen.common.calendar_import import CalendarImportError, import_year, read_calendar_csv
from yimen.common.progress import progress_bar


class Command(commands.Command):
    help = gettext_lazy(
        "Import a year's statutory holidays and make-up working days from a UTF-8 CSV file "
        "with the header date,kind,name (kind: holiday/休 or workday/班). Every bad row is "
        "reported and nothing is imported unless the whole file is right."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=gettext_lazy("The CSV file."))
        parser.add_argument(
            "--year", type=int, required=True, help=gettext_lazy("The year the file covers.")
        )
        parser.add_argument(
            "--notice",
            required=True,
            help=gettext_lazy("Title or number of the State Council notice."),
        )
        parser.add_argument(
            "--user", help=gettext_lazy("Username recorded as the importer in the audit chain.")
        )
        parser.add_argument(
            "--no-progress", action="store_true", help=gettext_lazy("Do not show a progress bar.")
        )

    def handle(self, *args, file, year, notice, user, no_progress, **options):
        actor = self.user_named(user)
        try:
            rows = read_calendar_csv(file)
            bar = progress_bar(
                self, rows, desc=_("Checking rows"), unit=_("row"), disable=no_progress, leave=False
            )
            summary = import_year(year=year, rows=bar, notice=notice, actor=actor)
        except OSError as error:
            message = _("Cannot read %(file)s: %(error)s") % {"file": file, "error": error}
            raise CommandError(message) from error
        except CalendarImportError as error:
            raise self.refuse_import(error.row_errors) from error
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Imported %(year)s: %(holidays)d holidays and %(workdays)d make-up working "
                    "days (%(replaced)d earlier days replaced); %(clocks)d unconfirmed clocks "
                    "recomputed."
                )
                % {
                    "year": summary.year,
                    "holidays": summary.holidays,
                    "workdays": summary.workdays,
                    "replaced": summary.replaced,
                    "clocks": summary.recomputed_clocks,
                }
            )
        )
