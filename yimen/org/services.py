"""Writes of the organisation app: the structure (regions, departments, categories, halls,
windows) and the roles staff hold in it.

Every function opens its own transaction, validates the whole record before touching the
database (so bad input is a field error, never an IntegrityError or a half-written row) and
appends one audit event. Updates take a mapping of the fields to change, and refuse fields
they do not know, so a caller cannot slip past the rules of this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from yimen.common import audit, writes
from yimen.common.identifiers import normalize_uscc

from .choices import Role
from .models import Department, Hall, Membership, Region, Window, WindowCategory
from .roles import HALL_ROLES, has_role, scope_errors

REGION_FIELDS = ("code", "name", "level", "parent")
DEPARTMENT_FIELDS = ("name", "short_name", "uscc", "region", "parent", "phone", "is_active")
WINDOW_CATEGORY_FIELDS = ("code", "name", "queue_prefix", "order", "is_active")
HALL_FIELDS = ("name", "region", "address", "phone", "opening_hours", "is_active")
WINDOW_FIELDS = ("number", "categories", "is_active")


# --- shared steps ----------------------------------------------------------------------------


def _actor_role(actor) -> str:
    """The role an actor of this module acts in, for the audit row ("" for a superuser)."""
    return Role.SYSTEM_ADMIN if actor is not None and has_role(actor, Role.SYSTEM_ADMIN) else ""


def _record(*, action: str, obj: models.Model, actor, channel: str, **extra) -> None:
    audit.record(
        action=action, obj=obj, actor=actor, role=_actor_role(actor), channel=channel, **extra
    )


def _update(
    obj: models.Model,
    *,
    data: Mapping[str, Any],
    allowed: Iterable[str],
    actor,
    channel: str,
    action: str,
) -> dict[str, list]:
    """Apply `data` to `obj`, validate with the model, save the changed
    columns, set changed many-to-many fields and audit the difference. Returns the changes;
    on a refusal `obj` is left as it was."""
    writes.check_fields(data, allowed)
    changes: dict[str, list] = {}
    m2m: dict[str, list] = {}
    for name, new in data.items():
        old = writes.field_value(obj, name)
        if obj._meta.get_field(name).many_to_many:
            new_ids = sorted({o.pk for o in new})
            if new_ids != old:
                m2m[name] = list(new)
                changes[name] = [old, new_ids]
            continue
        setattr(obj, name, new)
        if writes.field_value(obj, name) != old:
            changes[name] = [old, writes.field_value(obj, name)]
    if not changes:
        return changes
    extra = {}
    for name, values in m2m.items():
        if not values and not obj._meta.get_field(name).blank:
            extra[name] = _("Choose at least one.")
    columns = [name for name in changes if name not in m2m]
    try:
        writes.validate(obj, extra=extra)
        if columns:
            writes.save(obj, update_fields=columns)
    except ValidationError:
        # Refused: the caller's object goes back to what the database holds.
        if columns:
            obj.refresh_from_db(fields=columns)
        raise
    for name, values in m2m.items():
        getattr(obj, name).set(values)
    _record(action=action, obj=obj, actor=actor, channel=channel, payload={"changes": changes})
    return changes


def _created_payload(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {"fields": {name: writes.field_value(obj, name) for name in fields}}


def _create(obj: models.Model, *, fields: Iterable[str], action: str, actor, channel: str):
    """Validate, save and audit a new row; returns it."""
    writes.validate(obj)
    writes.save(obj)
    _record(
        action=action, obj=obj, actor=actor, channel=channel, payload=_created_payload(obj, fields)
    )
    return obj


# --- regions ---------------------------------------------------------------------------------


@transaction.atomic
def region_create(
    *, code: str, name: str, level: int, parent: Region | None = None, created_by, channel: str
) -> Region:
    region = Region(code=code.strip(), name=name.strip(), level=level, parent=parent)
    return _create(
        region, fields=REGION_FIELDS, action="org.region.create", actor=created_by, channel=channel
    )


@transaction.atomic
def region_update(*, region: Region, data: Mapping[str, Any], updated_by, channel: str) -> Region:
    """Change any of REGION_FIELDS."""
    _update(
        region,
        data=data,
        allowed=REGION_FIELDS,
        actor=updated_by,
        channel=channel,
        action="org.region.update",
    )
    return region


# --- departments -----------------------------------------------------------------------------


@transaction.atomic
def department_create(
    *,
    name: str,
    uscc: str,
    region: Region,
    short_name: str = "",
    parent: Department | None = None,
    phone: str = "",
    is_active: bool = True,
    created_by,
    channel: str,
) -> Department:
    department = Department(
        name=name.strip(),
        short_name=short_name.strip(),
        uscc=normalize_uscc(uscc),
        region=region,
        parent=parent,
        phone=phone.strip(),
        is_active=is_active,
    )
    return _create(
        department,
        fields=DEPARTMENT_FIELDS,
        action="org.department.create",
        actor=created_by,
        channel=channel,
    )


@transaction.atomic
def department_update(
    *, department: Department, data: Mapping[str, Any], updated_by, channel: str
) -> Department:
    """Change any of DEPARTMENT_FIELDS; the credit code is normalised as on creation."""
    data = dict(data)
    if "uscc" in data:
        data["uscc"] = normalize_uscc(data["uscc"])
    _update(
        department,
        data=data,
        allowed=DEPARTMENT_FIELDS,
        actor=updated_by,
        channel=channel,
        action="org.department.update",
    )
    return department


# --- window categories -----------------------------------------------------------------------


@transaction.atomic
def window_category_create(
    *,
    code: str,
    name: str,
    queue_prefix: str,
    order: int = 0,
    is_active: bool = True,
    created_by,
    channel: str,
) -> WindowCategory:
    category = WindowCategory(
        code=code.strip(),
        name=name.strip(),
        queue_prefix=queue_prefix.strip().upper(),
        order=order,
        is_active=is_active,
    )
    return _create(
        category,
        fields=WINDOW_CATEGORY_FIELDS,
        action="org.window_category.create",
        actor=created_by,
        channel=channel,
    )


@transaction.atomic
def window_category_update(
    *, category: WindowCategory, data: Mapping[str, Any], updated_by, channel: str
) -> WindowCategory:
    """Change any of WINDOW_CATEGORY_FIELDS; ticket letters are kept upper-case."""
    data = dict(data)
    if "queue_prefix" in data:
        data["queue_prefix"] = data["queue_prefix"].strip().upper()
    _update(
        category,
        data=data,
        allowed=WINDOW_CATEGORY_FIELDS,
        actor=updated_by,
        channel=channel,
        action="org.window_category.update",
    )
    return category


# --- halls and windows -----------------------------------------------------------------------


@transaction.atomic
def hall_create(
    *,
    name: str,
    region: Region,
    address: str = "",
    phone: str = "",
    opening_hours: str = "",
    is_active: bool = True,
    created_by,
    channel: str,
) -> Hall:
    hall = Hall(
        name=name.strip(),
        region=region,
        address=address.strip(),
        phone=phone.strip(),
        opening_hours=opening_hours.strip(),
        is_active=is_active,
    )
    return _create(
        hall, fields=HALL_FIELDS, action="org.hall.create", actor=created_by, channel=channel
    )


@transaction.atomic
def hall_update(*, hall: Hall, data: Mapping[str, Any], updated_by, channel: str) -> Hall:
    """Change any of HALL_FIELDS."""
    _update(
        hall,
        data=data,
        allowed=HALL_FIELDS,
        actor=updated_by,
        channel=channel,
        action="org.hall.update",
    )
    return hall


@transaction.atomic
def window_create(
    *,
    hall: Hall,
    number: str,
    categories: Iterable[WindowCategory],
    is_active: bool = True,
    created_by,
    channel: str,
) -> Window:
    """A window serves at least one category: the queue needs to know what to call it for."""
    categories = list(categories)
    window = Window(hall=hall, number=number.strip(), is_active=is_active)
    writes.validate(
        window, extra={} if categories else {"categories": _("Choose at least one category.")}
    )
    writes.save(window)
    window.categories.set(categories)
    _record(
        action="org.window.create",
        obj=window,
        actor=created_by,
        channel=channel,
        payload=_created_payload(window, ("hall", *WINDOW_FIELDS)),
    )
    return window


@transaction.atomic
def window_update(*, window: Window, data: Mapping[str, Any], updated_by, channel: str) -> Window:
    """Change any of WINDOW_FIELDS. A window does not move to another hall: the clerks
    assigned to it work in its hall, so a moved window is a new window."""
    data = dict(data)
    if data.pop("hall", window.hall) != window.hall:
        raise ValidationError(
            {"hall": _("A window cannot move to another hall: create a new window there.")}
        )
    _update(
        window,
        data=data,
        allowed=WINDOW_FIELDS,
        actor=updated_by,
        channel=channel,
        action="org.window.update",
    )
    return window


# --- memberships -----------------------------------------------------------------------------


def _scope_payload(membership: Membership) -> dict[str, Any]:
    return {
        "user": membership.user_id,
        "role": membership.role,
        "department": membership.department_id,
        "hall": membership.hall_id,
        "window": membership.window_id,
        "region": membership.region_id,
        "categories": writes.field_value(membership, "categories"),
    }


def membership_errors(
    *,
    user,
    role: str,
    department: Department | None = None,
    hall: Hall | None = None,
    window: Window | None = None,
    categories: Iterable[WindowCategory] = (),
    region: Region | None = None,
    exclude_pk: int | None = None,
) -> dict[str, list[str]]:
    """Field errors of a membership with this scope ({} when it may be granted).

    Covers what a form cannot see on its own: the role's scope rules, categories (a
    many-to-many, so outside the model's clean) and an identical active membership.
    `exclude_pk` leaves a membership being edited out of the duplicate check.
    """
    errors: dict[str, list[str]] = {}

    def add(field: str, message) -> None:
        errors.setdefault(field, []).append(message)

    if role not in Role.values:
        add("role", _("Choose one of the roles."))
        return errors
    if not user.is_active:
        add("user", _("This account is disabled."))
    for field, message in scope_errors(
        role=role, department=department, hall=hall, window=window, region=region
    ).items():
        add(field, message)
    category_ids = {c.pk for c in categories}
    if category_ids and role not in HALL_ROLES:
        add("categories", _("Only window clerks are limited to window categories."))
    if errors:
        return errors
    same_scope = Membership.objects.filter(
        user=user,
        role=role,
        department=department,
        hall=hall,
        window=window,
        region=region,
        is_active=True,
    ).prefetch_related("categories")
    if exclude_pk is not None:
        same_scope = same_scope.exclude(pk=exclude_pk)
    if any({c.pk for c in m.categories.all()} == category_ids for m in same_scope):
        add("role", _("This user already holds this role in this scope."))
    return errors


def _forget_cached_roles(user) -> None:
    """roles.active_memberships caches on the user object; a grant or revoke on the same
    object (a user editing their own roles) must not leave it stale."""
    user.__dict__.pop("_yimen_memberships", None)


@transaction.atomic
def membership_grant(
    *,
    user,
    role: str,
    department: Department | None = None,
    hall: Hall | None = None,
    window: Window | None = None,
    categories: Iterable[WindowCategory] = (),
    region: Region | None = None,
    granted_by,
    channel: str,
) -> Membership:
    """Give `user` the role in the scope; refuses a scope that does not fit the role and an
    identical active membership."""
    # Lock the user's row first: two concurrent grants of the same role would otherwise both
    # pass the duplicate check.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    categories = list(categories)
    scope = dict(department=department, hall=hall, window=window, region=region)
    if errors := membership_errors(user=user, role=role, categories=categories, **scope):
        raise ValidationError(errors)
    membership = Membership(user=user, role=role, **scope)
    writes.validate(membership)
    writes.save(membership)
    membership.categories.set(categories)
    _record(
        action="org.membership.grant",
        obj=membership,
        actor=granted_by,
        channel=channel,
        to_state="active",
        payload=_scope_payload(membership),
    )
    _forget_cached_roles(user)
    return membership


@transaction.atomic
def membership_revoke(
    *, membership: Membership, revoked_by, reason: str = "", channel: str
) -> Membership:
    """End a membership. The row stays (inactive) as the record of who held what; revoking
    the last system administrator is refused unless a superuser remains to appoint one."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if not locked.is_active:
        raise ValidationError(_("This membership is already revoked."), code="revoked")
    if locked.role == Role.SYSTEM_ADMIN:
        # Locking every active admin row serialises two admins revoking each other.
        admins = Membership.objects.select_for_update().filter(
            role=Role.SYSTEM_ADMIN, is_active=True, user__is_active=True
        )
        others = [m for m in admins if m.pk != locked.pk]
        superusers = get_user_model().objects.filter(is_superuser=True, is_active=True)
        if not others and not superusers.exists():
            raise ValidationError(
                _("This is the last system administrator: appoint another one first."),
                code="last_admin",
            )
    locked.is_active = False
    writes.save(locked, update_fields=["is_active"])
    membership.is_active = False
    _record(
        action="org.membership.revoke",
        obj=locked,
        actor=revoked_by,
        channel=channel,
        from_state="active",
        to_state="revoked",
        reason=reason,
        payload=_scope_payload(locked),
    )
    _forget_cached_roles(membership.user)
    return locked
