"""The base of the project's management commands."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class Command(BaseCommand):
    """Help texts are lazy translations (they follow the operator's language); argparse
    formats plain strings only, so they are rendered when the parser is built."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        if parser.description is not None:
            parser.description = str(parser.description)
        for action in parser._actions:
            if action.help is not None:
                action.help = str(action.help)
        return parser

    def user_named(self, username: str | None):
        """The user an import is recorded under in the audit chain (None: the system)."""
        if not username:
            return None
        try:
            return get_user_model().objects.get_by_natural_key(username)
        except get_user_model().DoesNotExist as error:
            raise CommandError(_("No user named “%(user)s”.") % {"user": username}) from error

    def refuse_import(self, errors) -> CommandError:
        """Print every problem of a refused import; the error to raise after them."""
        for error in errors:
            self.stderr.write(str(error))
        count = len(errors)
        message = ngettext(
            "%(count)d problem found; nothing was imported.",
            "%(count)d problems found; nothing was imported.",
            count,
        )
        return CommandError(message % {"count": count})
