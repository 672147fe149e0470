"""`manage.py catalog_import FILE.xlsx [--dry-run]`: apply a workbook to the catalogue."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yimen.catalog.xlsx import ImportFailed, import_catalogue
from yimen.common import commands
from yimen.common.choices import Channel
from yimen.common.progress import progress_bar


class Command(commands.Command):
    help = gettext_lazy(
        "Import a catalogue workbook (the template of catalog_export): material types and "
        "dictionary fields are created or updated, items created or given a new version. "
        "Every bad row is reported and nothing is written unless the whole file is right."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=gettext_lazy("The xlsx file."))
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext_lazy("Check the file and count the changes, but write nothing."),
        )
        parser.add_argument(
            "--user", help=gettext_lazy("Username recorded as the importer in the audit chain.")
        )
        parser.add_argument(
            "--no-progress", action="store_true", help=gettext_lazy("Do not show a progress bar.")
        )

    def handle(self, *args, file, dry_run, user, no_progress, **options):
        actor = self.user_named(user)

        def progress(iterable, **bar_options):
            return progress_bar(self, iterable, disable=no_progress, leave=False, **bar_options)

        try:
            report = import_catalogue(
                file, actor=actor, channel=Channel.ADMIN, progress=progress, dry_run=dry_run
            )
        except ImportFailed as error:
            raise self.refuse_import(error.errors) from error
        lines = [
            (_("Items"), report.items),
            (_("Material types"), report.material_types),
            (_("Dictionary fields"), report.fields),
        ]
        for label, tally in lines:
            self.stdout.write(
                _("%(what)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
                % {
                    "what": label,
                    "created": tally.created,
                    "updated": tally.updated,
                    "unchanged": tally.unchanged,
                }
            )
        if dry_run:
            self.stdout.write(self.style.WARNING(_("Dry run: nothing was written.")))
        else:
            self.stdout.write(self.style.SUCCESS(_("Imported %(file)s.") % {"file": file}))
