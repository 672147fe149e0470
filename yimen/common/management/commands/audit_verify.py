"""`manage.py audit_verify`: walk the whole audit chain and report the first broken link."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from yimen.common import commands
from yimen.common.audit import Break, iter_verify
from yimen.common.models import AuditEvent
from yimen.common.progress import progress_bar

# The bar is advanced in steps, not once per event: on a million events that matters.
_BAR_STEP = 1000


class Command(commands.Command):
    help = gettext_lazy(
        "Verify the audit chain: every event's SM3 hash and link, then the chain head. "
        "Exits with status 1 at the first broken link."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help=gettext_lazy("Do not show the progress bar."),
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=5000,
            help=gettext_lazy("Events read from the database at a time (default 5000)."),
        )

    def handle(self, *args, no_progress=False, chunk_size=5000, **options):
        if chunk_size < 1:
            raise CommandError(_("--chunk-size must be a positive number."))
        total = AuditEvent.objects.count()
        bar = progress_bar(
            self, total=total, desc=_("audit chain"), unit=" " + _("events"), disable=no_progress
        )
        verified = pending = 0
        broken = None
        with bar:
            for step in iter_verify(chunk_size=chunk_size):
                if isinstance(step, Break):
                    broken = step
                    break
                verified += 1
                pending += 1
                if pending == _BAR_STEP:
                    bar.update(pending)
                    pending = 0
            bar.update(pending)

        if broken is None:
            message = ngettext(
                "chain intact: %(count)d event", "chain intact: %(count)d events", verified
            )
            self.stdout.write(self.style.SUCCESS(message % {"count": verified}))
            return
        if broken.event_id is None:
            message = _("chain broken at the head: %(problem)s")
        else:
            message = _("chain broken at event #%(id)d: %(problem)s")
        raise CommandError(
            message % {"id": broken.event_id, "problem": broken.problem},
            returncode=1,
        )
