"""`manage.py catalog_export FILE.xlsx`: write the catalogue to the xlsx template."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yimen.catalog.xlsx import export_catalogue
from yimen.common import commands
from yimen.common.progress import progress_bar


class Command(commands.Command):
    help = gettext_lazy(
        "Export each item's latest version, the material library and the field dictionary "
        "to an xlsx workbook (docs/catalogue-xlsx.md describes the template)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=gettext_lazy("The xlsx file to write."))
        parser.add_argument(
            "--no-progress", action="store_true", help=gettext_lazy("Do not show a progress bar.")
        )

    def handle(self, *args, file, no_progress, **options):
        def progress(iterable, **bar_options):
            return progress_bar(self, iterable, disable=no_progress, leave=False, **bar_options)

        try:
            count = export_catalogue(file, progress=progress)
        except OSError as error:
            message = _("Cannot write %(file)s: %(error)s") % {"file": file, "error": error}
            raise CommandError(message) from error
        self.stdout.write(
            self.style.SUCCESS(
                _("Exported %(count)d items to %(file)s.") % {"count": count, "file": file}
            )
        )
