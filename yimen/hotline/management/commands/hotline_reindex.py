"""`manage.py hotline_reindex`: rebuild the knowledge base's search index (after a change of
the tokenizer's vocabulary, or a bulk load that wrote articles without their index)."""

import time

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from yimen.common import commands
from yimen.common.progress import progress_bar
from yimen.hotline import knowledge, search
from yimen.hotline.models import KnowledgeArticle, KnowledgeTerm


class Command(commands.Command):
    help = gettext_lazy(
        "Rebuild the knowledge base's search index: every article's terms and length."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help=gettext_lazy("Do not show the progress bar."),
        )

    def handle(self, *args, no_progress=False, **options):
        total = KnowledgeArticle.objects.count()
        started = time.monotonic()
        bar = progress_bar(
            self,
            total=total,
            desc=_("knowledge index"),
            unit=" " + _("articles"),
            disable=no_progress,
        )
        search.load_dictionary()  # before the bar starts: it takes a second
        with bar:
            done = knowledge.reindex_all(progress=bar.update)
        terms = KnowledgeTerm.objects.count()
        message = ngettext(
            "%(count)d article re-indexed (%(terms)d index rows) in %(seconds).1f s.",
            "%(count)d articles re-indexed (%(terms)d index rows) in %(seconds).1f s.",
            done,
        )
        self.stdout.write(
            self.style.SUCCESS(
                message % {"count": done, "terms": terms, "seconds": time.monotonic() - started}
            )
        )
