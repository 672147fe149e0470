"""Who may do what in the 12345 hotline's configuration and knowledge base.

- system admins (and superusers) keep the taxonomy and the deadline rules, and review
  knowledge articles (publish or send back; never their own edit, see
  yimen.hotline.knowledge);
- hotline agents write articles and submit them for review;
- everyone who answers from the knowledge base searches it: agents, unit handlers,
  reviewers and supervisors see the published articles in force; agents and reviewers also
  see the drafts and those awaiting review (and an expired article, to renew it); retired
  articles stay visible to reviewers only.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from yimen.org.choices import Role
from yimen.org.roles import has_role, is_system_admin

from .choices import ArticleStatus


def is_agent(user) -> bool:
    return has_role(user, Role.HOTLINE_AGENT)


def is_knowledge_reviewer(user) -> bool:
    return is_system_admin(user)


def may_edit_taxonomy(user) -> bool:
    """The categories and the deadline rules are configuration: system admins keep them."""
    return is_system_admin(user)


def may_search(user) -> bool:
    """Whether the user may read the knowledge base at all."""
    return bool(
        is_agent(user)
        or is_knowledge_reviewer(user)
        or has_role(user, Role.UNIT_HANDLER, Role.SUPERVISOR)
    )


def may_edit_article(user, article) -> bool:
    """Agents and reviewers edit any article that is not retired (a published one is edited
    as a new version, which goes back to review)."""
    if article.status == ArticleStatus.RETIRED:
        return False
    return is_agent(user) or is_knowledge_reviewer(user)


def may_review_article(user, article) -> bool:
    """Reviewers publish or send back an article awaiting review (the rule that they never
    review their own edit is the knowledge service's)."""
    return article.status == ArticleStatus.PENDING and is_knowledge_reviewer(user)


def in_force(today: dt.date | None = None) -> Q:
    """Published and not expired on `today`."""
    today = today or timezone.localdate()
    return Q(status=ArticleStatus.PUBLISHED) & (
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )


def visible_articles(user, qs: QuerySet, *, today: dt.date | None = None) -> QuerySet:
    """The articles of `qs` the user may see."""
    if not (user and getattr(user, "is_authenticated", False)) or not may_search(user):
        return qs.none()
    if is_knowledge_reviewer(user):
        return qs
    if is_agent(user):
        return qs.exclude(status=ArticleStatus.RETIRED)
    return qs.filter(in_force(today))
