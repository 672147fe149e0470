"""`manage.py licences_token USCC NAME | --revoke PREFIX | --list [USCC]`: the data-sharing
tokens of department systems. A new token is printed once and stored as a hash only."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yimen.common import commands
from yimen.licences import tokens
from yimen.licences.models import AccessToken
from yimen.org.models import Department


def _when(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


class Command(commands.Command):
    help = gettext_lazy(
        "Make a data-sharing token for a system of the department with this credit code and "
        "print it (once: only its hash is kept); or revoke the token that begins with PREFIX "
        "(its first 8 characters, or the whole token); or list the tokens."
    )

    def add_arguments(self, parser):
        parser.add_argument("uscc", nargs="?", help=gettext_lazy("The department's credit code."))
        parser.add_argument(
            "name", nargs="?", help=gettext_lazy("The system that will use the token.")
        )
        parser.add_argument(
            "--revoke",
            metavar="PREFIX",
            help=gettext_lazy("Revoke the token that begins with PREFIX."),
        )
        parser.add_argument(
            "--list",
            dest="show_list",
            action="store_true",
            help=gettext_lazy("List the tokens (of the department, if named)."),
        )
        parser.add_argument(
            "--user", help=gettext_lazy("The username the audit chain records (default: none).")
        )

    def handle(
        self, *args, uscc=None, name=None, revoke=None, show_list=False, user=None, **options
    ):
        actor = self.user_named(user)
        if show_list:
            return self.list_tokens(uscc)
        if revoke:
            return self.revoke(revoke, actor)
        if not uscc or not name:
            raise CommandError(
                _("Give the department's credit code and the system's name, or --revoke PREFIX.")
            )
        department = Department.objects.filter(uscc=uscc).first()
        if department is None:
            raise CommandError(_("No department has the credit code %(uscc)s.") % {"uscc": uscc})
        try:
            token, plain = tokens.token_create(department=department, name=name, actor=actor)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(
            _("Token for %(name)s of %(department)s (shown this once, keep it safe):")
            % {"name": token.name, "department": department}
        )
        self.stdout.write(plain)

    def revoke(self, given: str, actor) -> None:
        live = AccessToken.objects.select_related("department").filter(revoked_at__isnull=True)
        if len(given) > tokens.PREFIX_LENGTH:
            matches = list(live.filter(key_hash=tokens.hash_of(given)))
        else:
            matches = list(live.filter(prefix=given))
        if not matches:
            raise CommandError(_("No token in use begins with %(prefix)s.") % {"prefix": given})
        if len(matches) > 1:
            raise CommandError(
                _("Several tokens in use begin with %(prefix)s: give the whole token.")
                % {"prefix": given}
            )
        token = tokens.token_revoke(token=matches[0], actor=actor)
        self.stdout.write(
            _("Revoked the token %(prefix)s… of %(name)s (%(department)s).")
            % {"prefix": token.prefix, "name": token.name, "department": token.department}
        )

    def list_tokens(self, uscc: str | None) -> None:
        found = AccessToken.objects.select_related("department").order_by("department", "pk")
        if uscc:
            found = found.filter(department__uscc=uscc)
        for token in found:
            if token.revoked_at:
                state = _("revoked %(when)s") % {"when": _when(token.revoked_at)}
            elif token.last_used_at:
                state = _("last used %(when)s") % {"when": _when(token.last_used_at)}
            else:
                state = _("never used")
            self.stdout.write(
                f"{token.prefix}…  {token.department.uscc}  {token.department}  "
                f"{token.name}  {state}"
            )
