"""Who may do what in the 12345 hotline's configuration and knowledge base.

- system admins (and superusers) keep the taxonomy and the deadline rules, and review
  knowledge articles (publish or send back; never their own edit, see
  yimen.hotline.knowledge);
- hotline agents write articles and submit them for review;
- everyone who answers from the knowledge base searches it: agents, unit handlers,
  reviewers and supervisors see the published articles in force; agents and reviewers also
  see the drafts and those awaiting review (and an expired article, to renew it); retired
  articles stay visible to reviewers only.

Work orders:
- agents are the center: they see every order and register, answer, dispatch, review the
  replies, call back and decide the units' requests;
- unit handlers see the orders dispatched to their department at any time (lead or
  co-handler, also after it moved on) and act for it while it holds the order;
- supervisors see every order (a supervisor limited to a district, that district's) and
  issue supervision orders and cards;
- a citizen sees the orders filed from their account and gives the callback verdict online.
Units never learn who the caller of a confidential order is; everyone but the center and
the caller sees the phone masked.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from yimen.org.choices import Role
from yimen.org.roles import active_memberships, departments_for, has_role, is_system_admin

from .choices import Actor, ArticleStatus, AssignmentRole


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


# --- work orders ------------------------------------------------------------------------------


def is_supervisor(user) -> bool:
    return has_role(user, Role.SUPERVISOR)


def handler_units(user) -> set[int]:
    """The departments the user handles orders for."""
    return departments_for(user, Role.UNIT_HANDLER)


def is_handler(user) -> bool:
    """A unit handler (for some department)."""
    return bool(handler_units(user))


def sees_order_list(user) -> bool:
    """Staff who work with orders: the center, the units, supervisors and system admins
    (a citizen's own orders are on their own page)."""
    return bool(is_agent(user) or is_supervisor(user) or is_handler(user) or is_system_admin(user))


def may_register(user) -> bool:
    return is_agent(user)


def _supervised_districts(user) -> set[int] | None:
    """The district ids a supervisor is limited to; None when one of their supervisor roles
    is not limited (or the region is the whole city)."""
    regions = [m.region for m in active_memberships(user) if m.role == Role.SUPERVISOR]
    if not regions or any(r is None or r.parent_id is None for r in regions):
        return None
    return {r.pk for r in regions}


def actors(user, order) -> set[str]:
    """Who `user` is for `order`, in the workflow's terms (yimen.hotline.workflow)."""
    found: set[str] = set()
    if not getattr(user, "is_authenticated", False):
        return found
    if is_agent(user):
        found.add(Actor.AGENT)
    if is_supervisor(user) and _in_district(user, order):
        found.add(Actor.SUPERVISOR)
    if order.caller_user_id is not None and order.caller_user_id == user.pk:
        found.add(Actor.CALLER)
    units = handler_units(user)
    if units:
        held = [a for a in order.assignments.all() if a.unit_id in units]
        if held:
            found.add(Actor.UNIT)
        if order.lead_unit_id in units:
            found.add(Actor.LEAD)
        if any(a.is_active and a.role == AssignmentRole.CO for a in held):
            found.add(Actor.CO)
    return found


def _in_district(user, order) -> bool:
    districts = _supervised_districts(user)
    return districts is None or order.district_id in districts


def visible_orders(user, qs: QuerySet) -> QuerySet:
    """The orders of `qs` the user may see."""
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if is_agent(user) or is_system_admin(user):
        return qs
    seen = Q(caller_user=user)
    if is_supervisor(user):
        districts = _supervised_districts(user)
        if districts is None:
            return qs
        seen |= Q(district__in=districts)
    if units := handler_units(user):
        seen |= Q(pk__in=_assigned_to(units))
    return qs.filter(seen)


def _assigned_to(units):
    from .models import Assignment

    return Assignment.objects.filter(unit__in=units).values("order_id")


def may_see_caller(user, order) -> bool:
    """Whether the caller's name shows: not to the units of a confidential order."""
    if order.confidential:
        return is_agent(user) or is_system_admin(user) or _is_caller(user, order)
    return True


def _is_caller(user, order) -> bool:
    # An order taken on the phone has no caller account: None is nobody's (not anonymous's).
    return order.caller_user_id is not None and order.caller_user_id == user.pk


def sees_full_phone(user, order) -> bool:
    """The center calls back; the caller knows their own number. Everyone else sees it masked."""
    return is_agent(user) or (order.caller_user_id is not None and order.caller_user_id == user.pk)


def sees_internal(user, order) -> bool:
    """Dispatch notes, co-handlers' opinions, requests, cards and the audit trail are for
    staff, not for the caller."""
    return bool(actors(user, order) - {Actor.CALLER}) or is_system_admin(user)


def may_see_statistics(user) -> bool:
    """The city's figures: the center, system admins and supervisors of the whole city (one
    limited to a district sees that district's orders, not the city's figures)."""
    if is_agent(user) or is_system_admin(user):
        return True
    return is_supervisor(user) and _supervised_districts(user) is None
