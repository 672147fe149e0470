"""`manage.py catalog_check`: run the quality checker over every version of the catalogue.

Rules change after publication, so a guide in force may fail one today: the command stores
fresh findings on every version, summarises them, and exits with status 1 when a published
version has a blocking finding (a job can alert on that).
"""

from collections import Counter

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from yimen.catalog import quality, services
from yimen.catalog.choices import Severity, VersionStatus
from yimen.catalog.models import ItemVersion
from yimen.common import commands
from yimen.common.progress import progress_bar


class Command(commands.Command):
    help = gettext_lazy(
        "Check every version of the catalogue against the quality rules and store the "
        "findings. Exits with status 1 when a published version has a blocking finding."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--blocking-only",
            action="store_true",
            help=gettext_lazy("Count the blocking rules only."),
        )
        parser.add_argument(
            "--no-progress", action="store_true", help=gettext_lazy("Do not show a progress bar.")
        )

    def handle(self, *args, blocking_only=False, no_progress=False, **options):
        versions = ItemVersion.objects.select_related("item").order_by(
            "item__implementation_code", "number"
        )
        bar = progress_bar(
            self,
            versions.iterator(chunk_size=500),
            total=versions.count(),
            desc=_("Checking guides"),
            unit=" " + _("versions"),
            disable=no_progress,
        )
        checked, per_rule, blocked = 0, Counter(), []
        for version in bar:
            try:
                findings = services.refresh_derived(version)
            except ItemVersion.DoesNotExist:  # a draft discarded while the command runs
                continue
            checked += 1
            per_rule.update({f.code for f in findings})
            if version.status == VersionStatus.PUBLISHED and quality.blocking(findings):
                blocked.append((version, quality.blocking(findings)))

        self._summary(checked, per_rule, blocked, blocking_only=blocking_only)
        if blocked:
            message = ngettext(
                "%(count)d published version has a blocking finding.",
                "%(count)d published versions have a blocking finding.",
                len(blocked),
            )
            raise CommandError(message % {"count": len(blocked)}, returncode=1)
        self.stdout.write(self.style.SUCCESS(_("No published version has a blocking finding.")))

    def _summary(self, checked, per_rule, blocked, *, blocking_only):
        write = self.stdout.write
        write(
            ngettext("%(count)d version checked.", "%(count)d versions checked.", checked)
            % {"count": checked}
        )
        write(_("Versions with each finding:"))
        for code, rule in quality.RULES.items():
            if blocking_only and rule.severity != Severity.BLOCKING:
                continue
            line = _("%(code)s: %(count)d  [%(severity)s] %(rule)s") % {
                "code": code,
                "count": per_rule[code],
                "severity": Severity(rule.severity).label,
                "rule": rule.message,
            }
            write(f"  {line}")
        if not blocked:
            return
        write(_("Published versions with blocking findings:"))
        for version, findings in blocked:
            heading = _("%(name)s (%(code)s, version %(number)d)") % {
                "name": version.name,
                "code": version.item.implementation_code,
                "number": version.number,
            }
            write(self.style.ERROR(f"  {heading}"))
            for finding in findings:
                write(f"    - {finding.message}")
