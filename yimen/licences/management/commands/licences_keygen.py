"""`manage.py licences_keygen USCC…|--all`: a new SM2 signing key for departments."""

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yimen.common import commands
from yimen.licences import services
from yimen.licences.models import LicenceType, SigningKey
from yimen.org.models import Department


class Command(commands.Command):
    help = gettext_lazy(
        "Generate a new SM2 signing key for the departments named by their credit code (or, "
        "with --missing, for every department that issues a licence type and has no key). "
        "A department's earlier key is kept to verify what it signed. Private keys are never "
        "printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("uscc", nargs="*", help=gettext_lazy("Credit codes of departments."))
        parser.add_argument(
            "--missing",
            action="store_true",
            help=gettext_lazy("Every issuing department without a key."),
        )

    def handle(self, *args, uscc=(), missing=False, **options):
        if missing:
            issuers = LicenceType.objects.values("issuer")
            keyed = SigningKey.objects.filter(is_active=True).values("department")
            departments = list(Department.objects.filter(pk__in=issuers).exclude(pk__in=keyed))
        else:
            departments = list(Department.objects.filter(uscc__in=uscc))
            unknown = sorted(set(uscc) - {d.uscc for d in departments})
            if unknown:
                raise CommandError(_("No department has the credit code %(codes)s.")
                                   % {"codes": ", ".join(unknown)})  # fmt: skip
            if not departments:
                raise CommandError(_("Name departments by their credit code, or use --missing."))
        for department in departments:
            key = services.key_generate(department=department)
            self.stdout.write(
                _("%(department)s: new key %(key)s…")
                % {"department": department, "key": key.public_key[:16]}
            )
