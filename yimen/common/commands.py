"""The base of the project's management commands."""

from django.core.management.base import BaseCommand


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
