"""Writes of the knowledge base (知识库): articles and their search index.

An article's life: an agent (or a reviewer) writes a draft (`article_create`, then
`article_update`), submits it (`article_submit`: draft → pending), a reviewer publishes it
or sends it back with a note (`article_review`: pending → published / draft), and a
reviewer retires it (`article_retire`). Editing a published article puts it back under
review as its next version (the agents answer from reviewed text only). A reviewer never
reviews a version they wrote or edited: the authors of a version are read from the audit
chain (the create and update events of that version).

Every function runs in one transaction, locks the article row, validates before it writes
(errors keyed by field), re-indexes the article (its KnowledgeTerm rows and `length`, see
yimen.hotline.search) and appends one audit event `hotline.article.<action>`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimen.common import audit, writes
from yimen.common.choices import Channel
from yimen.common.models import AuditEvent
from yimen.org.choices import Role

from . import permissions, search
from .choices import ArticleStatus
from .models import KnowledgeArticle, KnowledgeTerm

# The fields an author writes (article_update takes any of them).
ARTICLE_FIELDS = (
    "title", "questions", "answer", "department", "category", "tags", "valid_until",
)  # fmt: skip
OBJECT_TYPE = KnowledgeArticle._meta.label_lower
REINDEX_CHUNK = 500  # articles re-indexed per transaction by reindex_all


# --- the index ---------------------------------------------------------------------------------


def index_rows(article: KnowledgeArticle) -> tuple[int, list[KnowledgeTerm]]:
    """The article's BM25 length and its (unsaved) index rows."""
    counts = search.weighted_terms(
        title=article.title, questions=article.questions, answer=article.answer, tags=article.tags
    )
    rows = [
        KnowledgeTerm(term=term, article_id=article.pk, weight=min(weight, 32767))
        for term, weight in counts.items()
    ]
    return sum(r.weight for r in rows), rows


def reindex(article: KnowledgeArticle) -> None:
    """Replace the article's index rows and length (inside the caller's transaction)."""
    length, rows = index_rows(article)
    before = set(KnowledgeTerm.objects.filter(article_id=article.pk).values_list("term", flat=True))
    KnowledgeTerm.objects.filter(article_id=article.pk).delete()
    KnowledgeTerm.objects.bulk_create(rows, batch_size=1000)
    if article.length != length:
        article.length = length
        KnowledgeArticle.objects.filter(pk=article.pk).update(length=length)
    # The document frequencies of these terms moved: forget them now (this process) and once
    # committed (a search that counted them meanwhile).
    changed = before ^ {r.term for r in rows}
    search.forget_terms(changed)
    transaction.on_commit(lambda: search.forget_terms(changed))


def reindex_all(progress: Callable[[int], Any] | None = None, *, chunk: int = REINDEX_CHUNK) -> int:
    """Rebuild the whole index, REINDEX_CHUNK articles per transaction (searches keep
    working meanwhile: each article's rows are swapped in one step). `progress(n)` is called
    after each chunk with the number of articles it re-indexed. Returns the article count."""
    done = 0
    last_pk = 0
    while True:
        batch = list(
            KnowledgeArticle.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .only("pk", "title", "questions", "answer", "tags", "length")[:chunk]
        )
        if not batch:
            break
        with transaction.atomic():
            rows: list[KnowledgeTerm] = []
            changed = []
            for article in batch:
                length, article_rows = index_rows(article)
                rows.extend(article_rows)
                if article.length != length:
                    article.length = length
                    changed.append(article)
            KnowledgeTerm.objects.filter(article_id__in=[a.pk for a in batch]).delete()
            KnowledgeTerm.objects.bulk_create(rows, batch_size=2000)
            if changed:
                KnowledgeArticle.objects.bulk_update(changed, ["length"], batch_size=500)
        last_pk = batch[-1].pk
        done += len(batch)
        if progress is not None:
            progress(len(batch))
    # Index rows of articles that no longer exist cannot remain (the FK cascades), so the
    # index is now exactly the articles'.
    search.invalidate()
    return done


# --- helpers -----------------------------------------------------------------------------------


def _role(actor) -> str:
    if permissions.is_knowledge_reviewer(actor):
        return Role.SYSTEM_ADMIN
    if permissions.is_agent(actor):
        return Role.HOTLINE_AGENT
    return ""


def _record(*, action: str, article: KnowledgeArticle, actor, channel: str, **event) -> None:
    payload = {"version": article.version, **event.pop("payload", {})}
    audit.record(
        action=f"hotline.article.{action}",
        obj=article,
        actor=actor,
        role=_role(actor),
        channel=channel,
        payload=payload,
        **event,
    )


def _lock(article: KnowledgeArticle) -> KnowledgeArticle:
    return KnowledgeArticle.objects.select_for_update().get(pk=article.pk)


def _refresh(target: KnowledgeArticle, source: KnowledgeArticle) -> KnowledgeArticle:
    """Copy the locked row's state back onto the caller's instance, and return it."""
    for f in target._meta.concrete_fields:
        setattr(target, f.attname, getattr(source, f.attname))
    return target


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    """Tidy the texts an author typed: trimmed, one question per non-empty line, tags
    separated by single spaces (commas too)."""
    out = dict(data)
    for name in ("title", "answer"):
        if name in out and out[name] is not None:
            out[name] = str(out[name]).strip()
    if "questions" in out:
        lines = (line.strip() for line in str(out["questions"] or "").splitlines())
        out["questions"] = "\n".join(line for line in lines if line)
    if "tags" in out:
        text = str(out["tags"] or "").replace("，", " ").replace(",", " ").replace("、", " ")
        out["tags"] = " ".join(dict.fromkeys(text.split()))
    return out


def _extra_errors(article: KnowledgeArticle, changed: Iterable[str], today: dt.date) -> dict:
    errors = {}
    changed = set(changed)
    if "category" in changed and article.category is not None and not article.category.is_active:
        errors["category"] = _("This category is no longer in use.")
    if (
        "department" in changed
        and article.department is not None
        and not getattr(article.department, "is_active", True)
    ):
        errors["department"] = _("This department is no longer active.")
    if "valid_until" in changed and article.valid_until and article.valid_until < today:
        errors["valid_until"] = _("An article cannot expire in the past.")
    return errors


def _apply(article: KnowledgeArticle, data: dict[str, Any]) -> dict[str, list]:
    """Set the fields; returns {field: [old, new]} of those that changed."""
    writes.check_fields(data, ARTICLE_FIELDS)
    changes = {}
    for name, new in _normalise(data).items():
        old = writes.field_value(article, name)
        setattr(article, name, new)
        if writes.field_value(article, name) != old:
            changes[name] = [old, writes.field_value(article, name)]
    return changes


def _authors(article: KnowledgeArticle) -> set[int]:
    """Ids of the users who created or edited the article's current version."""
    events = AuditEvent.objects.filter(
        object_type=OBJECT_TYPE,
        object_id=str(article.pk),
        action__in=["hotline.article.create", "hotline.article.update"],
    ).values_list("actor_id", "payload")
    return {
        actor_id
        for actor_id, payload in events
        if actor_id is not None and (payload or {}).get("version") == article.version
    }


# --- writes ----------------------------------------------------------------------------------


@transaction.atomic
def article_create(
    *,
    actor,
    title: str,
    answer: str,
    questions: str = "",
    department=None,
    category=None,
    tags: str = "",
    valid_until: dt.date | None = None,
    channel: str = Channel.HOTLINE,
) -> KnowledgeArticle:
    """A new article, a draft of its author."""
    if not (permissions.is_agent(actor) or permissions.is_knowledge_reviewer(actor)):
        raise PermissionDenied
    now = timezone.now()
    article = KnowledgeArticle(
        created_at=now,
        updated_at=now,
        created_by=actor,
        status=ArticleStatus.DRAFT,
        version=1,
    )
    data = {
        "title": title,
        "answer": answer,
        "questions": questions,
        "department": department,
        "category": category,
        "tags": tags,
        "valid_until": valid_until,
    }
    _apply(article, data)
    writes.validate(article, extra=_extra_errors(article, data, timezone.localdate()))
    writes.save(article)
    reindex(article)
    _record(
        action="create",
        article=article,
        actor=actor,
        channel=channel,
        to_state=ArticleStatus.DRAFT,
        payload={"title": article.title, "terms": article.length},
    )
    return article


@transaction.atomic
def article_update(
    *, article: KnowledgeArticle, actor, channel: str = Channel.HOTLINE, **fields
) -> KnowledgeArticle:
    """Change an article's text or references. A draft or a pending article keeps its
    status; a published one goes back to review as its next version. Nothing changed:
    nothing is written."""
    locked = _lock(article)
    if not permissions.may_edit_article(actor, locked):
        raise PermissionDenied
    changes = _apply(locked, fields)
    if not changes:
        return _refresh(article, locked)
    writes.validate(locked, extra=_extra_errors(locked, changes, timezone.localdate()))
    before = locked.status
    update_fields = [*changes, "updated_at"]
    if before == ArticleStatus.PUBLISHED:
        locked.status = ArticleStatus.PENDING
        locked.version += 1
        update_fields += ["status", "version"]
    locked.updated_at = timezone.now()
    writes.save(locked, update_fields=update_fields)
    reindex(locked)
    _record(
        action="update",
        article=locked,
        actor=actor,
        channel=channel,
        from_state=before,
        to_state=locked.status,
        payload={"changes": changes},
    )
    return _refresh(article, locked)


@transaction.atomic
def article_submit(
    *, article: KnowledgeArticle, actor, channel: str = Channel.HOTLINE
) -> KnowledgeArticle:
    """Send a draft for review (draft → pending)."""
    locked = _lock(article)
    if not permissions.may_edit_article(actor, locked):
        raise PermissionDenied
    if locked.status != ArticleStatus.DRAFT:
        raise ValidationError(
            {
                "status": _("Only a draft can be sent for review: this article is %(status)s.")
                % {"status": locked.get_status_display()}
            }
        )
    locked.status, locked.updated_at = ArticleStatus.PENDING, timezone.now()
    writes.save(locked, update_fields=["status", "updated_at"])
    reindex(locked)
    _record(
        action="submit",
        article=locked,
        actor=actor,
        channel=channel,
        from_state=ArticleStatus.DRAFT,
        to_state=ArticleStatus.PENDING,
    )
    return _refresh(article, locked)


@transaction.atomic
def article_review(
    *,
    article: KnowledgeArticle,
    actor,
    approve: bool,
    note: str = "",
    channel: str = Channel.HOTLINE,
) -> KnowledgeArticle:
    """A reviewer's decision on an article awaiting review: publish it, or send it back to
    its authors as a draft with a note saying what to change (required then)."""
    if not permissions.is_knowledge_reviewer(actor):
        raise PermissionDenied
    locked = _lock(article)
    if locked.status != ArticleStatus.PENDING:
        raise ValidationError(
            {
                "status": _("Only an article awaiting review can be reviewed: this one is "
                "%(status)s.")
                % {"status": locked.get_status_display()}
            }
        )  # fmt: skip
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": _("Say what should change before it can be published.")})
    if actor.pk in _authors(locked):
        raise ValidationError(
            {"approve": _("You wrote or edited this version: another reviewer must review it.")}
        )
    if approve and locked.valid_until is not None and locked.valid_until < timezone.localdate():
        raise ValidationError(
            {"valid_until": _("This article has expired: renew its valid-until date first.")}
        )
    target = ArticleStatus.PUBLISHED if approve else ArticleStatus.DRAFT
    locked.status = target
    locked.reviewed_at = timezone.now()
    locked.reviewed_by = actor
    locked.review_note = note
    writes.save(locked, update_fields=["status", "reviewed_at", "reviewed_by", "review_note"])
    reindex(locked)
    _record(
        action="publish" if approve else "send_back",
        article=locked,
        actor=actor,
        channel=channel,
        from_state=ArticleStatus.PENDING,
        to_state=target,
        reason=note,
    )
    return _refresh(article, locked)


@transaction.atomic
def article_retire(
    *, article: KnowledgeArticle, actor, reason: str, channel: str = Channel.HOTLINE
) -> KnowledgeArticle:
    """Withdraw an article for good (any status but retired): it is no longer found."""
    if not permissions.is_knowledge_reviewer(actor):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the article is retired.")})
    locked = _lock(article)
    if locked.status == ArticleStatus.RETIRED:
        raise ValidationError({"status": _("This article is already retired.")})
    before = locked.status
    locked.status, locked.updated_at = ArticleStatus.RETIRED, timezone.now()
    writes.save(locked, update_fields=["status", "updated_at"])
    reindex(locked)
    _record(
        action="retire",
        article=locked,
        actor=actor,
        channel=channel,
        from_state=before,
        to_state=ArticleStatus.RETIRED,
        reason=reason,
    )
    return _refresh(article, locked)
