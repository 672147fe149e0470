"""Writes of the hotline's configuration: the category taxonomy and the deadline rules.
(Knowledge articles are written by yimen.hotline.knowledge.)

Each function checks that the actor may keep the configuration (system admins; `actor=None`
is the system itself: the demo loader, a command), validates the whole record into field
errors before touching the database, opens one transaction and appends one audit event
(`hotline.category.*`, `hotline.deadline.set`).

Default deadlines (DEFAULT_DEADLINES, used when a type × urgency has no row):
- very urgent: sign within 2 hours, reply within 12, close within 24 (wall-clock hours);
- urgent: 4 / 24 / 48 hours;
- normal complaints, requests for help, reports and suggestions: 1 / 5 / 15 working days
  (the usual 12345 rule: sign the next working day, a first reply within a working week,
  closed within three);
- normal consultations and praise: 1 / 3 / 5 working days (an answer, not a case to work).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yimen.common import audit, writes
from yimen.common.choices import Channel
from yimen.org.choices import Role
from yimen.org.roles import has_role

from . import permissions
from .choices import DeadlineUnit, OrderType, Urgency
from .models import MAX_LEVEL, Category, DeadlineRule

CATEGORY_FIELDS = ("code", "name", "parent", "default_unit", "order", "is_active")
DEADLINE_FIELDS = ("unit", "sign_limit", "reply_limit", "close_limit")

_HOURS, _WORKDAYS = DeadlineUnit.HOURS, DeadlineUnit.WORKDAYS
_CASEWORK = (_WORKDAYS, 1, 5, 15)
_ANSWER = (_WORKDAYS, 1, 3, 5)
# (order type, urgency) → (unit, sign, reply, close)
DEFAULT_DEADLINES: dict[tuple[str, str], tuple[str, int, int, int]] = {
    **{(t, Urgency.VERY_URGENT): (_HOURS, 2, 12, 24) for t in OrderType.values},
    **{(t, Urgency.URGENT): (_HOURS, 4, 24, 48) for t in OrderType.values},
    **{(t, Urgency.NORMAL): _CASEWORK for t in OrderType.values},
    (OrderType.CONSULTATION, Urgency.NORMAL): _ANSWER,
    (OrderType.PRAISE, Urgency.NORMAL): _ANSWER,
}


# --- shared steps ------------------------------------------------------------------------------


def _check_actor(actor) -> None:
    if actor is not None and not permissions.may_edit_taxonomy(actor):
        raise PermissionDenied(_("Only system admins keep the hotline's configuration."))


def _channel(actor, channel: str | None) -> str:
    if channel:
        return channel
    return Channel.SYSTEM if actor is None else Channel.ADMIN


def _record(*, action: str, obj, actor, channel: str, **extra) -> None:
    role = Role.SYSTEM_ADMIN if actor is not None and has_role(actor, Role.SYSTEM_ADMIN) else ""
    audit.record(action=action, obj=obj, actor=actor, role=role, channel=channel, **extra)


def _raise(errors: dict[str, Any]) -> None:
    if errors:
        raise ValidationError(errors)


# --- the taxonomy ------------------------------------------------------------------------------


def subtree_ids(category: Category) -> list[int]:
    """Ids of the category's descendants (the taxonomy has three levels: two queries at most)."""
    ids, frontier = [], [category.pk]
    for _depth in range(MAX_LEVEL):
        frontier = list(Category.objects.filter(parent__in=frontier).values_list("pk", flat=True))
        if not frontier:
            break
        ids += frontier
    return ids


def _subtree_depth(category: Category) -> int:
    """How many levels hang below the category (0 for a leaf)."""
    depth, frontier = 0, [category.pk]
    while frontier := list(
        Category.objects.filter(parent__in=frontier).values_list("pk", flat=True)
    ):
        depth += 1
    return depth


def category_errors(
    *,
    category: Category | None = None,
    code: str,
    name: str,
    parent: Category | None,
    default_unit=None,
    is_active: bool = True,
) -> dict[str, Any]:
    """The rules of the taxonomy that the model alone cannot check, as field errors ({} when
    the record fits). `category` is the existing row (None for a new one). Used by the
    services and by the admin's form, so both refuse the same input."""
    errors: dict[str, Any] = {}
    existing = category is not None and category.pk is not None
    if existing:
        stored = Category.objects.filter(pk=category.pk).values_list("code", flat=True).first()
        if stored is not None and code != stored:
            errors["code"] = _(
                "A category's code does not change: orders and the Open311 service list "
                "refer to it."
            )
    elif code and Category.objects.filter(code=code).exists():
        errors["code"] = _("A category with this code exists already.")
    if parent is not None:
        if existing and parent.pk == category.pk:
            errors["parent"] = _("A category cannot be its own parent.")
        elif existing and parent.pk in subtree_ids(category):
            errors["parent"] = _("A category cannot move under one of its own subcategories.")
        else:
            depth = _subtree_depth(category) if existing else 0
            if parent.level + 1 + depth > MAX_LEVEL:
                errors["parent"] = (
                    _("The taxonomy has three levels at most.")
                    if not depth
                    else _(
                        "The taxonomy has three levels at most: with its subcategories this "
                        "category does not fit there."
                    )
                )
            elif is_active and not parent.is_active:
                errors["parent"] = _("The parent category is inactive: activate it first.")
    name = (name or "").strip()
    if name and "parent" not in errors:
        siblings = Category.objects.filter(
            Q(parent__isnull=True) if parent is None else Q(parent=parent), name=name
        )
        if existing:
            siblings = siblings.exclude(pk=category.pk)
        if siblings.exists():
            errors["name"] = _("Another category at this place has this name.")
    if default_unit is not None and not default_unit.is_active and is_active:
        errors["default_unit"] = _("This department is inactive.")
    return errors


@transaction.atomic
def category_create(
    *,
    actor,
    name: str,
    code: str,
    parent: Category | None = None,
    default_unit=None,
    order: int = 0,
    channel: str | None = None,
) -> Category:
    """A new active category under `parent` (None: a top-level one)."""
    _check_actor(actor)
    code, name = (code or "").strip(), (name or "").strip()
    _raise(category_errors(code=code, name=name, parent=parent, default_unit=default_unit))
    category = Category(
        code=code, name=name, parent=parent, default_unit=default_unit, order=order or 0
    )
    writes.validate(category)
    writes.save(category)
    _record(
        action="hotline.category.create",
        obj=category,
        actor=actor,
        channel=_channel(actor, channel),
        to_state="active",
        payload={"fields": {f: writes.field_value(category, f) for f in CATEGORY_FIELDS}},
    )
    return category


@transaction.atomic
def category_update(
    *, category: Category, actor, channel: str | None = None, **fields: Any
) -> Category:
    """Change any of CATEGORY_FIELDS but the code. Moving a category moves its subtree (the
    levels below are recomputed; the whole must stay within three levels); deactivating it
    deactivates its subtree (category_deactivate); activating needs an active parent."""
    _check_actor(actor)
    writes.check_fields(fields, CATEGORY_FIELDS)
    channel = _channel(actor, channel)
    locked = Category.objects.select_for_update().get(pk=category.pk)
    if fields.get("is_active") is False and locked.is_active:
        rest = {k: v for k, v in fields.items() if k != "is_active"}
        if rest:
            category_update(category=locked, actor=actor, channel=channel, **rest)
        category_deactivate(category=locked, actor=actor, channel=channel)
        category.__dict__.update(Category.objects.get(pk=category.pk).__dict__)
        return category
    for key in ("code", "name"):
        if key in fields:
            fields[key] = (fields[key] or "").strip()
    new = {f: fields.get(f, getattr(locked, f)) for f in CATEGORY_FIELDS}
    _raise(
        category_errors(
            category=locked,
            code=new["code"],
            name=new["name"],
            parent=new["parent"],
            default_unit=new["default_unit"],
            is_active=new["is_active"],
        )
    )
    changes: dict[str, list] = {}
    for name, value in fields.items():
        old = writes.field_value(locked, name)
        setattr(locked, name, value)
        if writes.field_value(locked, name) != old:
            changes[name] = [old, writes.field_value(locked, name)]
    if not changes:
        return category
    old_level = locked.level
    writes.validate(locked)  # computes the level from the parent
    columns = [*changes, "level"] if locked.level != old_level else list(changes)
    writes.save(locked, update_fields=columns)
    if "parent" in changes and locked.level != old_level:
        _relevel_children(locked)
    _record(
        action="hotline.category.update",
        obj=locked,
        actor=actor,
        channel=channel,
        payload={"changes": changes},
    )
    category.__dict__.update(locked.__dict__)
    return category


def _relevel_children(category: Category) -> None:
    for child in Category.objects.filter(parent=category):
        child.level = category.level + 1
        child.save(update_fields=["level"])
        _relevel_children(child)


@transaction.atomic
def category_deactivate(*, category: Category, actor, channel: str | None = None) -> Category:
    """Deactivate the category and every category below it: no new order is filed there.
    Its past orders keep it."""
    _check_actor(actor)
    locked = Category.objects.select_for_update().get(pk=category.pk)
    below = subtree_ids(locked)
    affected = list(
        Category.objects.filter(pk__in=[locked.pk, *below], is_active=True)
        .order_by("level", "code")
        .values_list("code", flat=True)
    )
    if not affected:
        return category
    Category.objects.filter(pk__in=[locked.pk, *below]).update(is_active=False)
    _record(
        action="hotline.category.deactivate",
        obj=locked,
        actor=actor,
        channel=_channel(actor, channel),
        from_state="active" if locked.is_active else "inactive",
        to_state="inactive",
        payload={"codes": affected},
    )
    category.is_active = False
    return category


# --- deadline rules ----------------------------------------------------------------------------


def _limit(value, field: str, errors: dict) -> int | None:
    if value is None or value == "":
        errors[field] = _("This field is required.")
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[field] = _("Enter a whole number.")
        return None
    if isinstance(value, float) and not value.is_integer():
        errors[field] = _("Enter a whole number.")
        return None
    if number < 1:
        errors[field] = _("At least 1.")
        return None
    if number > 999:
        errors[field] = _("At most 999.")
        return None
    return number


def deadline_errors(
    *, order_type, urgency, unit, sign_limit, reply_limit, close_limit
) -> tuple[dict[str, Any], tuple[int | None, int | None, int | None]]:
    """Field errors of a deadline rule ({} when it fits) and its limits as numbers."""
    errors: dict[str, Any] = {}
    if order_type not in OrderType.values:
        errors["order_type"] = _("Choose a type of order.")
    if urgency not in Urgency.values:
        errors["urgency"] = _("Choose an urgency.")
    if unit not in DeadlineUnit.values:
        errors["unit"] = _("Choose hours or working days.")
    sign = _limit(sign_limit, "sign_limit", errors)
    reply = _limit(reply_limit, "reply_limit", errors)
    close = _limit(close_limit, "close_limit", errors)
    if sign is not None and reply is not None and reply < sign:
        errors["reply_limit"] = _("Replying cannot be due before signing for the order.")
    if reply is not None and close is not None and close < reply:
        errors["close_limit"] = _("Closing cannot be due before replying.")
    return errors, (sign, reply, close)


@transaction.atomic
def deadline_rule_set(
    *,
    actor,
    order_type: str,
    urgency: str,
    unit: str,
    sign_limit: int,
    reply_limit: int,
    close_limit: int,
    channel: str | None = None,
) -> DeadlineRule:
    """Create or change the rule of one type × urgency. The limits count from the dispatch:
    sign ≤ reply ≤ close."""
    _check_actor(actor)
    errors, (sign, reply, close) = deadline_errors(
        order_type=order_type,
        urgency=urgency,
        unit=unit,
        sign_limit=sign_limit,
        reply_limit=reply_limit,
        close_limit=close_limit,
    )
    _raise(errors)
    new = {"unit": unit, "sign_limit": sign, "reply_limit": reply, "close_limit": close}
    rule = (
        DeadlineRule.objects.select_for_update()
        .filter(order_type=order_type, urgency=urgency)
        .first()
    )
    if rule is None:
        rule = DeadlineRule(order_type=order_type, urgency=urgency, **new)
        before = None
    else:
        before = {f: getattr(rule, f) for f in DEADLINE_FIELDS}
        if before == new:
            return rule
        for name, value in new.items():
            setattr(rule, name, value)
    writes.validate(rule)
    writes.save(rule, update_fields=None if before is None else list(DEADLINE_FIELDS))
    _record(
        action="hotline.deadline.set",
        obj=rule,
        actor=actor,
        channel=_channel(actor, channel),
        from_state=_rule_text(before) if before else "",
        to_state=_rule_text(new),
        payload={"order_type": order_type, "urgency": urgency, "before": before, "after": new},
    )
    return rule


def _rule_text(values: dict) -> str:
    return "{sign_limit}/{reply_limit}/{close_limit} {unit}".format(**values)


def default_rule(order_type: str, urgency: str) -> DeadlineRule:
    """The default rule of a type × urgency, unsaved."""
    unit, sign, reply, close = DEFAULT_DEADLINES[(order_type, urgency)]
    return DeadlineRule(
        order_type=order_type,
        urgency=urgency,
        unit=unit,
        sign_limit=sign,
        reply_limit=reply,
        close_limit=close,
    )


def deadline_for(order_type: str, urgency: str) -> DeadlineRule:
    """The rule in force for an order: its row, else the default (unsaved, pk None)."""
    if (order_type, urgency) not in DEFAULT_DEADLINES:
        raise ValueError(f"unknown order type or urgency: {order_type!r}, {urgency!r}")
    rule = DeadlineRule.objects.filter(order_type=order_type, urgency=urgency).first()
    return rule or default_rule(order_type, urgency)


def ensure_default_deadlines(actor=None, *, channel: str | None = None) -> int:
    """Give every type × urgency without a row its default rule; returns how many rows were
    created."""
    existing = set(DeadlineRule.objects.values_list("order_type", "urgency"))
    created = 0
    for (order_type, urgency), (unit, sign, reply, close) in DEFAULT_DEADLINES.items():
        if (order_type, urgency) in existing:
            continue
        deadline_rule_set(
            actor=actor,
            order_type=order_type,
            urgency=urgency,
            unit=unit,
            sign_limit=sign,
            reply_limit=reply,
            close_limit=close,
            channel=channel,
        )
        created += 1
    return created
