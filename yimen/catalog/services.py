"""Writes of the catalogue: items and their versions, and the shared library.

An item's life: `item_create` makes the item and its first draft; `draft_update` edits the
draft (the guide and, when given, its whole material list, form and review chain);
`publish` checks the guide, archives the version in force and publishes the draft;
`draft_start` copies the latest version into a new draft; `archive` withdraws the item.
A published version never changes, so a case keeps the guide it was applied under.

Every function runs in one transaction, validates everything before it writes (errors are
keyed by field, `materials.2.condition` for a part) and appends one audit event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimen.common import audit, writes
from yimen.org.choices import Role
from yimen.org.roles import has_role

from . import quality, search
from .choices import VersionStatus
from .models import (
    FieldDefinition,
    FormField,
    ItemVersion,
    Material,
    MaterialType,
    ReviewStep,
    ServiceItem,
)

MATERIAL_FIELDS = (
    "material_type", "name", "originals", "copies", "electronic_accepted", "requirement",
    "condition", "tolerable", "tolerance_method", "tolerance_days", "note",
)  # fmt: skip
FORM_FIELD_FIELDS = ("field", "required")
REVIEW_STEP_FIELDS = ("name", "role")
MATERIAL_TYPE_FIELDS = (
    "code", "name", "description", "kind", "holder_kind", "template_file", "sample_file",
    "validity_days", "is_active",
)  # fmt: skip
FIELD_DEFINITION_FIELDS = (
    "key", "label", "datatype", "choices", "max_length", "min_value", "max_value", "pattern",
    "pattern_message", "help_text", "holder_kind", "is_active",
)  # fmt: skip

# The parts of a version, as (keyword of the services, model, fields it takes).
PARTS = {
    "materials": (Material, MATERIAL_FIELDS),
    "form_fields": (FormField, FORM_FIELD_FIELDS),
    "review_steps": (ReviewStep, REVIEW_STEP_FIELDS),
}


def _record(*, action: str, actor, channel: str, **event) -> None:
    role = (
        Role.CATALOGUE_ADMIN if actor is not None and has_role(actor, Role.CATALOGUE_ADMIN) else ""
    )
    audit.record(action=action, actor=actor, role=role, channel=channel, **event)


def _errors_under(prefix: str, exc: ValidationError) -> dict[str, list]:
    """A part's field errors, renamed `materials.2.condition`."""
    return {f"{prefix}.{field}": messages for field, messages in exc.message_dict.items()}


# --- derived data ------------------------------------------------------------------------------


def refresh_derived(version: ItemVersion) -> list[quality.Finding]:
    """Re-run the quality checker and re-index the words of one version; store both.
    Findings and words are derived data, so this may touch a published version too."""
    version = ItemVersion.objects.with_guide().get(pk=version.pk)
    findings = quality.check(version)
    version.findings = [f.as_json() for f in findings]
    version.search_text = search.index_text(
        version.name,
        version.keywords,
        version.item.department.name,
        version.item.department.short_name,
    )
    version.save(update_fields=["findings", "search_text"])
    return findings


# --- versions ------------------------------------------------------------------------------------


def _build_parts(version: ItemVersion, parts: Mapping[str, Sequence[Mapping[str, Any]] | None]):
    """Unsaved part rows for `version`, validated; raises every error at once."""
    built: dict[str, list[models.Model]] = {}
    errors: dict[str, list] = {}
    for keyword, rows in parts.items():
        if rows is None:
            continue
        model, allowed = PARTS[keyword]
        built[keyword] = []
        for index, row in enumerate(rows):
            writes.check_fields(row, allowed)
            obj = model(version=version, order=index + 1, **row)
            try:
                obj.full_clean(exclude=["version"])
            except ValidationError as exc:
                errors.update(_errors_under(f"{keyword}.{index}", exc))
            built[keyword].append(obj)
        if keyword in ("materials", "form_fields"):
            key = "material_type" if keyword == "materials" else "field"
            seen: set[int] = set()
            for index, obj in enumerate(built[keyword]):
                pk = getattr(obj, f"{key}_id")
                if pk in seen:
                    errors.setdefault(f"{keyword}.{index}.{key}", []).append(
                        _("This is already listed above.")
                    )
                seen.add(pk)
    if errors:
        raise ValidationError(errors)
    return built


def _apply(obj: models.Model, data: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, list]:
    """Set the fields of `data` on `obj`; returns {field: [old, new]} for the audit row."""
    writes.check_fields(data, allowed)
    changes = {}
    for name, new in data.items():
        old = writes.field_value(obj, name)
        setattr(obj, name, new)
        if writes.field_value(obj, name) != old:
            changes[name] = [old, writes.field_value(obj, name)]
    return changes


def _apply_guide(version: ItemVersion, guide: Mapping[str, Any]) -> dict[str, list]:
    return _apply(version, guide, ItemVersion.GUIDE_FIELDS)


def _replace_parts(version: ItemVersion, built: Mapping[str, list[models.Model]]) -> None:
    for keyword, rows in built.items():
        getattr(version, keyword).all().delete()
        model = PARTS[keyword][0]
        for row in rows:
            row.version = version
        model.objects.bulk_create(rows)


def _lock_draft(version: ItemVersion) -> ItemVersion:
    locked = (
        ItemVersion.objects.select_for_update()
        .select_related("item__department")
        .get(pk=version.pk)
    )
    if not locked.is_draft:
        raise ValidationError(
            {
                "status": _("Only a draft can be changed: this version is %(status)s.")
                % {"status": locked.get_status_display()}
            }
        )
    return locked


@transaction.atomic
def item_create(
    *,
    department,
    implementation_code: str,
    guide: Mapping[str, Any],
    region=None,
    materials: Sequence[Mapping[str, Any]] = (),
    form_fields: Sequence[Mapping[str, Any]] = (),
    review_steps: Sequence[Mapping[str, Any]] = (),
    actor,
    channel: str,
) -> ItemVersion:
    """A new item with its first version, a draft. `region` defaults to the department's."""
    item = ServiceItem(
        implementation_code=implementation_code.strip().upper(),
        department=department,
        region=region or department.region,
    )
    version = ItemVersion(item=item, number=1, created_by=actor)
    _apply_guide(version, guide)
    errors: dict[str, list] = {}
    for obj, exclude in ((item, []), (version, ["item"])):
        try:
            obj.full_clean(exclude=exclude)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        built = _build_parts(
            version,
            {"materials": materials, "form_fields": form_fields, "review_steps": review_steps},
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    writes.save(item)
    version.item = item
    writes.save(version)
    _replace_parts(version, built)
    findings = refresh_derived(version)
    _record(
        action="catalog.item.create",
        obj=version,
        actor=actor,
        channel=channel,
        to_state=VersionStatus.DRAFT,
        payload={"item": item.implementation_code, "findings": [f.code for f in findings]},
    )
    version.refresh_from_db()
    return version


@transaction.atomic
def draft_update(
    *,
    version: ItemVersion,
    guide: Mapping[str, Any] | None = None,
    materials: Sequence[Mapping[str, Any]] | None = None,
    form_fields: Sequence[Mapping[str, Any]] | None = None,
    review_steps: Sequence[Mapping[str, Any]] | None = None,
    actor,
    channel: str,
) -> ItemVersion:
    """Change a draft. A part given (even empty) replaces the draft's list; None keeps it."""
    draft = _lock_draft(version)
    changes = _apply_guide(draft, guide or {})
    errors: dict[str, list] = {}
    try:
        draft.full_clean(exclude=["item"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    parts = {"materials": materials, "form_fields": form_fields, "review_steps": review_steps}
    try:
        built = _build_parts(draft, parts)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if changes:
        writes.save(draft, update_fields=list(changes))
    _replace_parts(draft, built)
    findings = refresh_derived(draft)
    _record(
        action="catalog.version.update",
        obj=draft,
        actor=actor,
        channel=channel,
        payload={
            "changes": changes,
            "replaced": sorted(built),
            "findings": [f.code for f in findings],
        },
    )
    draft.refresh_from_db()
    return draft


@transaction.atomic
def after_admin_edit(
    *,
    version: ItemVersion,
    actor,
    changes: Mapping[str, list],
    parts: Mapping[str, Mapping[str, int]],
) -> None:
    """The admin saves a draft and its inline parts through Django's forms (each row
    validated by the model); this re-checks the guide and audits the edit as the API's is:
    `changes` is {field: [old, new]}, `parts` {"materials": {"added": 1, "changed": 0,
    "deleted": 2}, ...} for the part lists that changed. An edit that changed nothing is
    not recorded."""
    if not changes and not parts:
        return
    findings = refresh_derived(version)
    _record(
        action="catalog.version.update",
        obj=version,
        actor=actor,
        channel="admin",
        payload={
            "changes": dict(changes),
            "parts": {name: dict(counts) for name, counts in parts.items()},
            "findings": [f.code for f in findings],
        },
    )


def _copy(version: ItemVersion, *, number: int, actor, change_note: str) -> ItemVersion:
    draft = ItemVersion(item=version.item, number=number, created_by=actor)
    for name in ItemVersion.GUIDE_FIELDS:
        setattr(draft, name, getattr(version, name))
    draft.change_note = change_note
    writes.save(draft)
    for keyword, (model, fields) in PARTS.items():
        model.objects.bulk_create(
            model(version=draft, order=part.order, **{f: getattr(part, f) for f in fields})
            for part in getattr(version, keyword).all()
        )
    return draft


@transaction.atomic
def draft_start(*, item: ServiceItem, actor, channel: str, change_note: str = "") -> ItemVersion:
    """A new draft copied from the item's latest version (the one in force, or the
    archived one when the item was withdrawn). Refused while a draft exists."""
    item = ServiceItem.objects.select_for_update().get(pk=item.pk)
    if item.versions.filter(status=VersionStatus.DRAFT).exists():
        raise ValidationError({"status": _("This item already has a draft: edit that one.")})
    latest = item.versions.order_by("-number").first()
    draft = _copy(latest, number=latest.number + 1, actor=actor, change_note=change_note)
    refresh_derived(draft)
    _record(
        action="catalog.version.start",
        obj=draft,
        actor=actor,
        channel=channel,
        to_state=VersionStatus.DRAFT,
        payload={"from_version": latest.number},
    )
    draft.refresh_from_db()
    return draft


@transaction.atomic
def draft_discard(*, version: ItemVersion, actor, channel: str) -> None:
    """Throw a draft away. The first version of an item takes the item with it."""
    draft = _lock_draft(version)
    item = draft.item
    object_type, object_id = audit.object_label(draft)
    only_version = not item.versions.exclude(pk=draft.pk).exists()
    if only_version and item.theme_items.exists():
        raise ValidationError(
            {"status": _("A theme lists this item: take it out of the theme first.")}
        )
    draft.delete()
    if only_version:
        item.delete()
    _record(
        action="catalog.version.discard",
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        channel=channel,
        from_state=VersionStatus.DRAFT,
        payload={"item": item.implementation_code, "item_deleted": only_version},
    )


@transaction.atomic
def publish(*, version: ItemVersion, actor, channel: str) -> ItemVersion:
    """Publish a draft whose guide passes every blocking rule; the version in force is
    archived in the same step, so an item never has two guides in force (or none between)."""
    ServiceItem.objects.select_for_update().get(pk=version.item_id)
    draft = _lock_draft(version)
    findings = refresh_derived(draft)
    if blocking := quality.blocking(findings):
        raise ValidationError(
            {
                "status": [
                    _("Publishing is refused: %(problem)s") % {"problem": f.message}
                    for f in blocking
                ]
            }
        )
    now = timezone.now()
    previous = ItemVersion.objects.filter(
        item_id=draft.item_id, status=VersionStatus.PUBLISHED
    ).first()
    if previous is not None:
        previous.status, previous.archived_at = VersionStatus.ARCHIVED, now
        previous.save(update_fields=["status", "archived_at"])
    draft.status, draft.published_at, draft.published_by = VersionStatus.PUBLISHED, now, actor
    draft.save(update_fields=["status", "published_at", "published_by"])
    _record(
        action="catalog.version.publish",
        obj=draft,
        actor=actor,
        channel=channel,
        from_state=VersionStatus.DRAFT,
        to_state=VersionStatus.PUBLISHED,
        payload={
            "archived_version": previous.number if previous else None,
            "warnings": [f.code for f in findings],
        },
    )
    draft.refresh_from_db()
    return draft


@transaction.atomic
def archive(*, version: ItemVersion, actor, channel: str, reason: str) -> ItemVersion:
    """Withdraw the version in force: the item is no longer offered (cases that pinned the
    version keep it)."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the item is withdrawn.")})
    # The item first, as publish() does: a withdrawal and a publication of the same item
    # take turns.
    ServiceItem.objects.select_for_update().get(pk=version.item_id)
    locked = ItemVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != VersionStatus.PUBLISHED:
        raise ValidationError({"status": _("Only the version in force can be withdrawn.")})
    locked.status, locked.archived_at = VersionStatus.ARCHIVED, timezone.now()
    locked.save(update_fields=["status", "archived_at"])
    _record(
        action="catalog.version.archive",
        obj=locked,
        actor=actor,
        channel=channel,
        from_state=VersionStatus.PUBLISHED,
        to_state=VersionStatus.ARCHIVED,
        reason=reason.strip(),
    )
    return locked


# --- the shared library --------------------------------------------------------------------------


@transaction.atomic
def library_create(model: type[MaterialType | FieldDefinition], *, actor, channel: str, **data):
    """A new material type or dictionary field."""
    allowed, action, _uses = LIBRARY[model]
    writes.check_fields(data, allowed)
    entry = model(**data)
    writes.validate(entry)
    writes.save(entry)
    _record(
        action=action.replace(".update", ".create"),
        obj=entry,
        actor=actor,
        channel=channel,
        payload={"fields": {name: str(writes.field_value(entry, name)) for name in data}},
    )
    return entry


def material_type_create(*, actor, channel: str, **data) -> MaterialType:
    return library_create(MaterialType, actor=actor, channel=channel, **data)


def field_definition_create(*, actor, channel: str, **data) -> FieldDefinition:
    return library_create(FieldDefinition, actor=actor, channel=channel, **data)


# Each kind of library row: the fields a service may set, its audit action, and the path from
# a version to the rows that use it.
LIBRARY = {
    MaterialType: (
        MATERIAL_TYPE_FIELDS,
        "catalog.material_type.update",
        "materials__material_type",
    ),
    FieldDefinition: (FIELD_DEFINITION_FIELDS, "catalog.field.update", "form_fields__field"),
}


def recheck_users(entry: MaterialType | FieldDefinition) -> int:
    """Re-check the live guides that use a library row: its kind, holder and downloads feed
    the quality rules. Returns how many were checked."""
    uses = LIBRARY[type(entry)][2]
    users = ItemVersion.objects.exclude(status=VersionStatus.ARCHIVED).filter(**{uses: entry})
    # One load of every guide using the row; only the findings depend on the library.
    versions = list(ItemVersion.objects.with_guide().filter(pk__in=users.values("pk")))
    for version in versions:
        version.findings = [f.as_json() for f in quality.check(version)]
    ItemVersion.objects.bulk_update(versions, ["findings"], batch_size=500)
    return len(versions)


@transaction.atomic
def library_update(
    *, entry: MaterialType | FieldDefinition, data: Mapping[str, Any], actor, channel: str
) -> dict[str, list]:
    """Change a material type or a dictionary field; the guides that use it are re-checked.
    Returns the changes ({} when nothing changed)."""
    allowed, action, _uses = LIBRARY[type(entry)]
    changes = _apply(entry, data, allowed)
    if not changes:
        return changes
    writes.validate(entry)
    writes.save(entry, update_fields=list(changes))
    _record(
        action=action,
        obj=entry,
        actor=actor,
        channel=channel,
        payload={"changes": {k: [str(old), str(new)] for k, (old, new) in changes.items()}},
    )
    recheck_users(entry)
    return changes
