"""`manage.py hotline_open311_key`: the api keys of Open311 client applications.

hotline_open311_key create "Foshan app" [--channel app]   # prints the key, once
hotline_open311_key list
hotline_open311_key revoke "Foshan app"
"""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yimen.common import commands
from yimen.hotline.choices import OrderChannel
from yimen.hotline.models import Open311Client
from yimen.hotline.open311 import keys


class Command(commands.Command):
    help = gettext_lazy(
        "Create, list or revoke the api keys of the applications that file 12345 requests "
        "through Open311."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help=str(gettext_lazy("Make a client and its key.")))
        create.add_argument("name", help=str(gettext_lazy("The application's name.")))
        create.add_argument(
            "--channel",
            default=OrderChannel.APP,
            choices=OrderChannel.values,
            help=str(gettext_lazy("The channel its orders are registered under.")),
        )
        actions.add_parser("list", help=str(gettext_lazy("List the clients.")))
        revoke = actions.add_parser("revoke", help=str(gettext_lazy("Revoke a client's key.")))
        revoke.add_argument("name", help=str(gettext_lazy("The application's name.")))

    def handle(self, *args, action, **options):
        getattr(self, f"_{action}")(**options)

    def _create(self, *, name, channel=OrderChannel.APP, **options):
        try:
            client, raw = keys.make_key(name, channel)
        except ValidationError as error:
            raise CommandError(
                "; ".join(f"{field}: {' '.join(m)}" for field, m in error.message_dict.items())
            ) from error
        self.stdout.write(self.style.SUCCESS(_("Client “%(name)s” made.") % {"name": client.name}))
        self.stdout.write(f"api_key: {raw}")
        self.stdout.write(
            self.style.WARNING(_("Keep the key now: it is not stored and is not shown again."))
        )

    def _list(self, **options):
        rows = list(keys.clients())
        if not rows:
            self.stdout.write(_("No Open311 clients."))
            return
        for client in rows:
            state = _("active") if client.is_active else _("revoked")
            used = (
                timezone.localtime(client.last_used_at).strftime("%Y-%m-%d %H:%M")
                if client.last_used_at
                else _("never used")
            )
            self.stdout.write(
                f"{client.name}\t{client.key_prefix}…\t{client.channel}\t{state}\t"
                f"{timezone.localtime(client.created_at):%Y-%m-%d}\t{used}"
            )

    def _revoke(self, *, name, **options):
        client = Open311Client.objects.filter(name=name).first()
        if client is None:
            raise CommandError(_("No client named “%(name)s”.") % {"name": name})
        if not client.is_active:
            self.stdout.write(_("The key of “%(name)s” was revoked already.") % {"name": name})
            return
        keys.revoke_key(client)
        self.stdout.write(
            self.style.SUCCESS(_("The key of “%(name)s” is revoked.") % {"name": name})
        )
