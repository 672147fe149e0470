"""Writes of the cases module: submitting a case and every step of the workflow.

Each step runs the same sequence in one transaction (`_step`): lock the case row, look the
action up in the workflow (a stale page or a double click is refused with the state the
case is now in), check that the actor may perform it, check the input, change the case and
its clocks, issue its document, save with `update_fields`, and append one audit event.
Two clerks accepting one case at once: the second waits for the lock, then finds the case
accepted and is told so.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimen.catalog.choices import LimitUnit, OnlineDepth, Requirement, Target, VersionStatus
from yimen.catalog.models import ItemVersion, Material
from yimen.common import audit, clocks, counters, workdays
from yimen.common.choices import Channel
from yimen.common.prefetch import remember
from yimen.common.ratings import checked_rating
from yimen.hall.choices import TicketStatus
from yimen.joint.models import JointCase
from yimen.licences import selectors as licence_selectors
from yimen.licences import services as licences
from yimen.org.choices import Role
from yimen.org.roles import window_categories_for

from . import documents, permissions, selectors, workflow
from .choices import (
    CaseStatus,
    ClockPurpose,
    DeliveryMethod,
    DocumentKind,
    MaterialState,
    PauseKind,
    Performer,
)
from .models import Case, CaseCounter, CaseMaterial

ACCEPTANCE_LIMIT = 5  # working days (行政许可法 Art. 32)
DELIVERY_LIMIT = 10  # working days (Art. 44)
STATUTORY_EXTENSION = 10  # working days a head may add (Art. 42)


# --- numbers ----------------------------------------------------------------------------------


def next_number(region, *, day: dt.date | None = None) -> str:
    """The next case number of a region's day, e.g. 440604-20261123-00017: gap-free and
    unique under concurrency."""
    day = day or timezone.localdate()
    prefix = region.code[:6]
    last = counters.bump(CaseCounter, region_prefix=prefix, day=day)
    return f"{prefix}-{day:%Y%m%d}-{last:05d}"


# --- materials --------------------------------------------------------------------------------


@dataclass
class Upload:
    """A file given for one material of the guide: a new file, or (`reused`) the file of an
    earlier case of the same applicant picked again. A reused file is checked to be the
    applicant's own, of the same material type and still valid
    (selectors.reusable_materials); its stored file is shared, not copied."""

    material: Material
    file: Any = None  # a Django UploadedFile or File
    reused: CaseMaterial | None = None
    # (name, size, sha256) once checked: storing it does not read the file a second time.
    checked: tuple[str, int, str] | None = field(default=None, init=False, repr=False)


_MAGIC = {
    "pdf": (b"%PDF",),
    "png": (b"\x89PNG",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "ofd": (b"PK\x03\x04",),  # OFD is a zip package
}


def _checked_upload(upload: Upload) -> tuple[str, int, str]:
    """(name, size, sha256) of an acceptable file; ValidationError otherwise."""
    if upload.checked is None:
        upload.checked = checked_file(upload.file)
    return upload.checked


def checked_file(file) -> tuple[str, int, str]:
    """(name, size, sha256) of an acceptable uploaded file: an allowed type that really is
    of that type, not empty, not too large; ValidationError otherwise."""
    name = getattr(file, "name", "") or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = [t.lower() for t in settings.YIMEN_UPLOAD_TYPES]
    if extension not in allowed:
        raise ValidationError(
            _("“%(name)s”: only these file types are taken: %(types)s.")
            % {"name": name, "types": ", ".join(allowed)}
        )
    limit = settings.YIMEN_UPLOAD_MAX_MB * 1024 * 1024
    digest, size, head = hashlib.sha256(), 0, b""
    file.seek(0)
    for chunk in iter(lambda: file.read(64 * 1024), b""):
        head = head or chunk[:8]
        size += len(chunk)
        if size > limit:
            raise ValidationError(
                _("“%(name)s” is larger than %(mb)d MB.")
                % {"name": name, "mb": settings.YIMEN_UPLOAD_MAX_MB}
            )
        digest.update(chunk)
    file.seek(0)
    if size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name})
    if not any(head.startswith(m) for m in _MAGIC.get(extension, (b"",))):
        raise ValidationError(
            _("“%(name)s” is not really a %(type)s file.") % {"name": name, "type": extension}
        )
    return name, size, digest.hexdigest()


def _checked_reuse(upload: Upload, applicant, reusable: dict[int, CaseMaterial]) -> None:
    """A reused file: one of `reusable` (the applicant's still valid files, by row id) of
    the material's type; ValidationError otherwise. `upload.reused` becomes that loaded row."""
    picked = reusable.get(upload.reused.pk)
    if picked is None:
        mine = CaseMaterial.objects.filter(pk=upload.reused.pk, case__applicant=applicant)
        if applicant is None or not mine.exists():
            raise ValidationError(_("This is not a file of yours from an earlier case."))
        raise ValidationError(
            _("That earlier file can no longer be used: upload the material again.")
        )
    if picked.material.material_type_id != upload.material.material_type_id:
        raise ValidationError(_("That earlier file is of another kind of material."))
    upload.reused = picked
    upload.checked = (picked.file_name, picked.size, picked.sha256)


def _check_uploads(version: ItemVersion, uploads: Sequence[Upload], applicant) -> dict[str, list]:
    """Errors by upload (`materials.<index>`): a material the guide does not ask for, a
    file that is not acceptable, a reused file that may not be reused."""
    errors: dict[str, list] = {}
    own = {m.pk for m in version.materials.all()}
    reusable = None
    for index, upload in enumerate(uploads):
        if upload.material.pk not in own:
            errors[f"materials.{index}"] = [_("This material is not asked for by the guide.")]
            continue
        try:
            if upload.reused is not None:
                if reusable is None:  # read once, and only when something is reused
                    found = selectors.reusable_materials(applicant=applicant) if applicant else []
                    reusable = {r.row.pk: r.row for r in found}
                _checked_reuse(upload, applicant, reusable)
            elif upload.file is None:
                raise ValidationError(_("Give a file or pick an earlier one."))
            else:
                _checked_upload(upload)
        except ValidationError as exc:
            errors[f"materials.{index}"] = exc.messages
    return errors


def _store_uploads(case: Case, uploads: Sequence[Upload], actor) -> list[CaseMaterial]:
    rows = []
    for upload in uploads:
        name, size, sha256 = _checked_upload(upload)
        row = CaseMaterial(
            case=case,
            material=upload.material,
            state=MaterialState.PROVIDED,
            file_name=name,
            size=size,
            sha256=sha256,
            reused_from=upload.reused,
            updated_by=actor,
        )
        if upload.reused is not None:
            row.file = upload.reused.file.name  # the stored file is shared, not copied
        else:
            row.file.save(name, upload.file, save=False)
        rows.append(row)
    return CaseMaterial.objects.bulk_create(rows)


def _licence_rows(case: Case, version: ItemVersion, given: set[int], actor) -> list[CaseMaterial]:
    """零提交: each material of the guide that nothing was given for and that a valid licence
    of the applicant stands for (用证清单) is recorded as provided by that licence."""
    wanted = {m.material_type_id: m for m in version.materials.all() if m.pk not in given}
    if not wanted:
        return []
    found = licence_selectors.replacing(case.applicant, set(wanted))
    return CaseMaterial.objects.bulk_create(
        CaseMaterial(
            case=case,
            material=wanted[type_id],
            state=MaterialState.PROVIDED,
            licence=licence,
            updated_by=actor,
        )
        for type_id, licence in found.items()
    )


def missing_required(case: Case) -> list[Material]:
    """The required materials of the guide that the case has no file or original of."""
    provided = {
        m.material_id
        for m in case.materials.all()
        if m.state in (MaterialState.PROVIDED, MaterialState.SUPPLIED)
    }
    return [
        m
        for m in case.item_version.materials.all()
        if m.requirement == Requirement.REQUIRED and m.pk not in provided
    ]


# --- the form ---------------------------------------------------------------------------------


def form_for(version: ItemVersion, data: Mapping[str, Any] | None = None) -> forms.Form:
    """The application form of a guide, built from its dictionary fields."""
    fields = {
        ff.field.key: ff.field.formfield(required=ff.required) for ff in version.form_fields.all()
    }
    return type("ApplicationForm", (forms.Form,), fields)(data=data)


def _clean_form(version: ItemVersion, data: Mapping[str, Any]) -> tuple[dict, dict[str, list]]:
    form = form_for(version, data)
    if not form.is_valid():
        return {}, {f"form.{key}": messages for key, messages in form.errors.items()}
    cleaned = {
        key: (str(value) if isinstance(value, Decimal | dt.date) else value)
        for key, value in form.cleaned_data.items()
    }
    return cleaned, {}


# --- submitting -------------------------------------------------------------------------------


# The role an audit row names for each performer (an applicant acts as themselves).
AUDIT_ROLE = {
    Performer.CLERK: Role.WINDOW_CLERK,
    Performer.REVIEWER: Role.REVIEWER,
    Performer.HEAD: Role.DEPARTMENT_HEAD,
    Performer.APPLICANT: "",
    Performer.SYSTEM: "",
}


def _record(case: Case, *, action: str, actor, channel: str, acting=(), from_state="", **extra):
    roles = [
        AUDIT_ROLE[p] for p in (Performer.HEAD, Performer.REVIEWER, Performer.CLERK) if p in acting
    ]
    return audit.record(
        action=f"case.{action}",
        obj=case,
        actor=actor,
        role=roles[0] if roles else "",
        channel=channel,
        from_state=from_state,
        to_state=case.status,
        **extra,
    )


def _require_submitter(*, applicant, version: ItemVersion, submitted_by, channel: str) -> None:
    """At a window, a clerk of the item's window category submits for anyone; elsewhere
    applicants submit for themselves."""
    if channel == Channel.WINDOW:
        allowed = version.window_category_id in window_categories_for(submitted_by)
    else:
        allowed = applicant.user_id is not None and applicant.user_id == submitted_by.pk
    if not allowed:
        raise PermissionDenied(_("You may not apply for this applicant here."))


def case_submit(
    *,
    applicant,
    version: ItemVersion,
    submitted_by,
    channel: str,
    form_data: Mapping[str, Any],
    uploads: Sequence[Upload] = (),
    originals: Sequence[Material] = (),
    idempotency_key: str = "",
    key_checked: bool = False,
    ticket=None,
) -> Case:
    """A new case of `applicant` for the guide `version`. Online, an item with online
    pre-review waits for it; every other item counts as received at once (the acceptance
    clock starts). At the window the clerk received the materials in person: `originals`
    are those whose original the clerk saw, with a scan among `uploads` or without one. A
    second submission with the same idempotency key returns the first case (`key_checked`:
    the caller has just looked the key up and found none). `ticket`: the queue ticket the
    clerk is serving, which the case records as its nodes 1–2.

    零提交: a material of the guide that no upload, reused file or original is given for,
    and whose type a valid licence of the applicant stands for (用证清单), is recorded as
    provided by that licence, without a file. An upload may instead pick the file of an
    earlier case of the applicant (`Upload.reused`): the new row shares its stored file.
    The submit's audit event lists both (`licences`, `reused`).

    A new case carries what was written with it — its materials, its receipt (prefetched)
    and its audit events (`written_events`) — so that it can be shown without reading it
    back."""
    _require_submitter(
        applicant=applicant, version=version, submitted_by=submitted_by, channel=channel
    )
    key = (idempotency_key or "").strip()[:64]
    if (
        key
        and not key_checked
        and (done := Case.objects.filter(submitted_by=submitted_by, idempotency_key=key).first())
    ):
        return done
    errors: dict[str, list] = {}
    if version.status != VersionStatus.PUBLISHED:
        errors["item"] = [_("This guide is not in force: apply under the current one.")]
    elif not Target(version.target).serves(applicant.kind):
        errors["applicant"] = [_("This item is not for this kind of applicant.")]
    elif channel != Channel.WINDOW and version.online_depth == OnlineDepth.OFFLINE:
        errors["channel"] = [_("This item is applied for at a window only.")]
    cleaned, form_errors = _clean_form(version, form_data)
    errors.update(form_errors)
    errors.update(_check_uploads(version, uploads, applicant))
    if originals and channel != Channel.WINDOW:
        errors["originals"] = [_("Originals are seen at a window only.")]
    elif originals and not {m.pk for m in originals} <= {m.pk for m in version.materials.all()}:
        errors["originals"] = [_("This material is not asked for by the guide.")]
    if ticket is not None and not (
        channel == Channel.WINDOW
        and ticket.served_by_id == submitted_by.pk
        and ticket.status == TicketStatus.SERVING
        and ticket.applicant_id in (None, applicant.pk)
    ):
        errors["ticket"] = [_("This ticket is not being served at your window.")]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return _create_case(
                applicant=applicant,
                version=version,
                submitted_by=submitted_by,
                channel=channel,
                form_data=cleaned,
                uploads=uploads,
                originals=originals,
                key=key,
                ticket=ticket,
            )
    except IntegrityError:
        # The same key won a race a moment ago: that case is the answer.
        if key and (
            done := Case.objects.filter(submitted_by=submitted_by, idempotency_key=key).first()
        ):
            return done
        raise


def _create_case(
    *, applicant, version, submitted_by, channel, form_data, uploads, originals, key, ticket
) -> Case:
    now = timezone.now()
    item = version.item
    prereview = channel != Channel.WINDOW and version.online_depth == OnlineDepth.ONLINE_PREREVIEW
    case = Case.objects.create(
        number=next_number(item.region),
        item_version=version,
        department=item.department,
        window_category_id=version.window_category_id,
        region=item.region,
        applicant=applicant,
        channel=channel,
        status=CaseStatus.SUBMITTED if prereview else CaseStatus.RECEIVED,
        form_data=form_data,
        submitted_by=submitted_by,
        idempotency_key=key,
        ticket=ticket,
        submitted_at=now,
        received_at=None if prereview else now,
    )
    rows = _store_uploads(case, uploads, submitted_by)
    given = {u.material.pk for u in uploads} | {m.pk for m in originals}
    rows += _licence_rows(case, version, given, submitted_by)
    # What the case has is known: the receipt and the response need not read it back.
    remember(case, "documents", [])
    if not originals:
        rows.sort(key=lambda row: (row.material.order, row.pk))
        remember(case, "materials", rows)
    _record_originals(case, originals, submitted_by)
    if case.status == CaseStatus.RECEIVED:
        _mark_received(case, now, submitted_by)
        case.save(update_fields=["acceptance_clock"])
    acting = [Performer.CLERK] if channel == Channel.WINDOW else [Performer.APPLICANT]
    payload = {"ticket": ticket.number, "ticket_id": ticket.pk} if ticket is not None else {}
    payload.update(_reuse_payload(rows))
    event = _record(
        case,
        action="submit",
        actor=submitted_by,
        channel=channel,
        acting=acting,
        payload=payload or None,
    )
    case.written_events = [event]
    return case


def _reuse_payload(rows: Sequence[CaseMaterial]) -> dict[str, list]:
    """What the submit's audit event says of 零提交 and reuse: the materials a licence stood
    for (with its identifier) and those whose earlier file was picked (with its case)."""
    payload: dict[str, list] = {}
    for row in rows:
        if row.licence is not None:
            payload.setdefault("licences", []).append(
                {"material": row.material.display_name, "licence": row.licence.identifier}
            )
        elif row.reused_from is not None:
            payload.setdefault("reused", []).append(
                {"material": row.material.display_name, "from_case": row.reused_from.case.number,
                 "from_material": row.reused_from.pk}
            )  # fmt: skip
    return payload


def _record_originals(case: Case, originals: Sequence[Material], actor) -> None:
    """Originals seen at the window: a scan of one is marked so, the rest are recorded as
    provided without a file."""
    seen = {m.pk: m for m in originals}
    if not seen:
        return
    case.materials.filter(material__in=seen).update(original_seen=True)
    scanned = set(case.materials.values_list("material_id", flat=True))
    CaseMaterial.objects.bulk_create(
        CaseMaterial(case=case, material=m, state=MaterialState.PROVIDED, original_seen=True,
                     updated_by=actor)
        for pk, m in seen.items()
        if pk not in scanned
    )  # fmt: skip


def _mark_received(case: Case, now: dt.datetime, actor) -> None:
    case.received_at = now
    case.acceptance_clock = clocks.clock_start(
        purpose=ClockPurpose.ACCEPTANCE,
        subject=case,
        unit=LimitUnit.WORKDAYS,
        limit=ACCEPTANCE_LIMIT,
        started_at=now,
    )
    # A clock just started has neither pauses nor extensions.
    remember(case.acceptance_clock, "pauses", [])
    remember(case.acceptance_clock, "extensions", [])
    documents.issue(case=case, kind=DocumentKind.RECEIPT, actor=actor)


# --- the shared step --------------------------------------------------------------------------


def _require_performer(case: Case, action: str, actor) -> None:
    """Who may act is told before what is wrong with the input (checked again under the
    lock by _step)."""
    if not permissions.performers(actor, case) & workflow.TRANSITIONS[action].performers:
        raise PermissionDenied(_("You may not do this on this case."))


def _joint_services():
    # The joint application drives its cases and hears of their steps; it imports this
    # module, so it is looked up when needed.
    from yimen.joint import services

    return services


@contextmanager
def _step(
    case: Case, action: str, *, actor, channel: str, reason: str = "", by_theme: bool = False
):
    """Lock, look up, check; yields the locked case to change; then saves and audits.
    The body returns the changed field names through `step.fields` and may add `payload`.

    A child case of a joint application locks its application first (the order every
    write of an application takes); a step its department takes is then reported to the
    application, which may issue every result together (多证同发). `by_theme`: the
    application itself takes the step (one delivery, one withdrawal, 多证同发)."""
    with transaction.atomic():
        if case.joint_id is not None:
            JointCase.objects.select_for_update().filter(pk=case.joint_id).first()
        locked = (
            Case.objects.select_for_update()
            .select_related("applicant", "item_version", "department")
            .get(pk=case.pk)
        )
        found = workflow.transition(action, locked.status)
        _require_scope(found, locked, by_theme)
        everything = permissions.performers(actor, locked)
        acting = everything & found.performers
        if not acting:
            raise PermissionDenied(_("You may not do this on this case."))
        if Performer.HEAD in everything and Performer.REVIEWER in acting:
            acting |= {Performer.HEAD}  # a head acting on a step is recorded as the head
        if found.needs_reason and not (reason or "").strip():
            raise ValidationError({"reason": _("Give the reason: the applicant is told it.")})
        state = _StepState(locked, locked.status)
        yield state
        if locked.status not in found.targets:
            raise AssertionError(f"{action} led to {locked.status}")
        fields = {"status", *state.fields}
        locked.save(update_fields=sorted(fields))
        _record(
            locked,
            action=action,
            actor=actor,
            channel=channel,
            acting=acting,
            from_state=state.from_state,
            reason=(reason or "").strip(),
            payload=state.payload,
        )
        if locked.joint_id is not None and not by_theme:
            _joint_services().child_stepped(
                case=locked, action=action, actor=actor, payload=state.payload
            )
        case.__dict__.update(locked.__dict__)


def _require_scope(found: workflow.Transition, case: Case, by_theme: bool) -> None:
    """A step its joint application takes for all its cases is not taken on one of them,
    and a step of a joint application's case is not taken on a case of its own."""
    if case.joint_id is None:
        allowed = found.single and not by_theme
    else:
        allowed = found.child == workflow.ON_CHILD or (
            found.child == workflow.BY_THEME and by_theme
        )
    if not allowed:
        raise ValidationError(
            {"status": _("This is done on the joint application, not on one of its cases.")
             if case.joint_id else _("This is done on a case of a joint application only.")}
        )  # fmt: skip


@dataclass
class _StepState:
    case: Case
    from_state: str
    fields: set[str] = field(default_factory=set)
    payload: dict = field(default_factory=dict)

    def set(self, **values) -> None:
        for name, value in values.items():
            setattr(self.case, name, value)
            self.fields.add(name)


# --- pre-review and receipt -------------------------------------------------------------------


def prereview_pass(*, case: Case, actor, channel: str = Channel.WINDOW) -> Case:
    """The electronic copies are in order: the applicant brings the originals once."""
    with _step(case, "prereview_pass", actor=actor, channel=channel) as step:
        step.set(status=CaseStatus.PREREVIEWED)
    return case


def receive(*, case: Case, actor, channel: str = Channel.WINDOW) -> Case:
    """The originals are at the window: the acceptance clock starts."""
    with _step(case, "receive", actor=actor, channel=channel) as step:
        now = timezone.now()
        step.set(status=CaseStatus.RECEIVED)
        _mark_received(step.case, now, actor)
        step.fields |= {"received_at", "acceptance_clock"}
        # A licence (零提交) has no original to bring.
        step.case.materials.filter(state=MaterialState.PROVIDED, licence=None).update(
            original_seen=True
        )
    return case


# --- acceptance -------------------------------------------------------------------------------


def _start_decision(step: _StepState, *, accepted_at: dt.datetime, actor) -> None:
    case = step.case
    version = case.item_version
    # The acceptance clock stops now; a deemed acceptance still dates from the receipt.
    # (The case of a joint application has none: its application was accepted.)
    if case.acceptance_clock is not None:
        clocks.clock_stop(clock=case.acceptance_clock)
    steps = list(version.review_steps.all())
    step.set(
        status=CaseStatus.IN_REVIEW,
        accepted_at=accepted_at,
        accepted_by=actor,
        review_step=0 if steps else None,
        decision_clock=clocks.clock_start(
            purpose=ClockPurpose.DECISION,
            subject=case,
            unit=version.promised_unit,
            limit=version.promised_limit or 0,
            started_at=accepted_at,
        ),
    )


def accept(*, case: Case, actor, channel: str = Channel.WINDOW) -> Case:
    """Accept: every required material is here. The decision clock starts."""
    with _step(case, "accept", actor=actor, channel=channel) as step:
        if missing := missing_required(step.case):
            raise ValidationError(
                {"materials": [_("Missing: %(name)s.") % {"name": m.display_name} for m in missing]}
            )
        _start_decision(step, accepted_at=timezone.now(), actor=actor)
        documents.issue(case=step.case, kind=DocumentKind.ACCEPTANCE, actor=actor)
    return case


def accept_tolerant(*, case: Case, actor, channel: str = Channel.WINDOW) -> Case:
    """容缺受理: accept while only tolerable materials are missing, on the applicant's signed
    commitment to supply each within its guide's deadline. Review goes on; the result is
    not produced until they arrive."""
    with _step(case, "accept_tolerant", actor=actor, channel=channel) as step:
        missing = missing_required(step.case)
        if not missing:
            raise ValidationError(
                {"materials": [_("Nothing is missing: accept the case normally.")]}
            )
        if core := [m for m in missing if not m.tolerable]:
            raise ValidationError(
                {
                    "materials": [
                        _("%(name)s cannot be supplied later.") % {"name": m.display_name}
                        for m in core
                    ]
                }
            )
        now = timezone.now()
        _start_decision(step, accepted_at=now, actor=actor)
        promised = []
        for material in missing:
            due = workdays.add_workdays(timezone.localdate(now), material.tolerance_days).date
            CaseMaterial.objects.create(
                case=step.case,
                material=material,
                state=MaterialState.TOLERATED,
                supply_by=due,
                note=material.tolerance_method,
                updated_by=actor,
            )
            promised.append({"material": material.display_name, "supply_by": due.isoformat(),
                             "how": material.tolerance_method})  # fmt: skip
        step.payload["tolerated"] = promised
        documents.issue(
            case=step.case,
            kind=DocumentKind.TOLERANCE,
            actor=actor,
            details={"materials": promised},
        )
        documents.issue(case=step.case, kind=DocumentKind.ACCEPTANCE, actor=actor)
    return case


def refuse(*, case: Case, actor, reason: str, channel: str = Channel.WINDOW) -> Case:
    """Do not accept (不予受理), with the reason and the applicant's remedies."""
    with _step(case, "refuse", actor=actor, channel=channel, reason=reason) as step:
        now = timezone.now()
        clocks.clock_stop(clock=step.case.acceptance_clock, at=now)
        step.set(status=CaseStatus.NOT_ACCEPTED, closed_at=now, close_reason=reason.strip())
        documents.issue(
            case=step.case,
            kind=DocumentKind.NON_ACCEPTANCE,
            actor=actor,
            details={"reason": reason.strip()},
        )
    return case


def request_correction(
    *, case: Case, actor, items: Sequence[Mapping[str, str]], channel: str = Channel.WINDOW
) -> Case:
    """One-time notice of everything to correct (一次性告知): each item names a material of
    the guide (or none, for the form) and what is wrong. The acceptance clock pauses."""
    _require_performer(case, "request_correction", actor)
    if not items or not all((i.get("problem") or "").strip() for i in items):
        raise ValidationError({"items": _("List every material to correct, with its problem.")})
    reason = "；".join(f"{i.get('material', '')}：{i['problem'].strip()}" for i in items)
    with _step(case, "request_correction", actor=actor, channel=channel, reason=reason) as step:
        if step.case.acceptance_clock is not None:
            clocks.clock_pause(
                clock=step.case.acceptance_clock, kind=PauseKind.CORRECTION, reason=reason
            )
        step.set(status=CaseStatus.CORRECTION)
        listed = [
            {"material": i.get("material", ""), "problem": i["problem"].strip()} for i in items
        ]
        step.payload["items"] = listed
        documents.issue(
            case=step.case, kind=DocumentKind.CORRECTION, actor=actor, details={"items": listed}
        )
    return case


def resubmit(
    *, case: Case, actor, uploads: Sequence[Upload] = (), channel: str = Channel.ONLINE
) -> Case:
    """The corrected materials: back to receipt (the acceptance clock resumes) or, before
    receipt, back to pre-review."""
    _require_performer(case, "resubmit", actor)
    if errors := _check_uploads(case.item_version, uploads, case.applicant):
        raise ValidationError(errors)
    with _step(case, "resubmit", actor=actor, channel=channel) as step:
        _store_uploads(step.case, uploads, actor)
        if step.case.acceptance_clock is not None:
            clocks.clock_resume(clock=step.case.acceptance_clock)
            step.set(status=CaseStatus.RECEIVED)
        else:
            step.set(status=CaseStatus.SUBMITTED)
    return case


def deem_accepted(*, case: Case, now: dt.datetime | None = None) -> Case:
    """No decision within 5 working days of receipt: accepted from the day of receipt."""
    with _step(case, "deem_accepted", actor=None, channel=Channel.SYSTEM) as step:
        # Checked under the lock: a correction may have paused the clock meanwhile.
        if not acceptance_overdue(step.case, now=now):
            raise ValidationError({"status": _("The acceptance period has not run out.")})
        _start_decision(step, accepted_at=step.case.received_at, actor=None)
        step.set(deemed_accepted=True)
        documents.issue(
            case=step.case, kind=DocumentKind.ACCEPTANCE, actor=None, details={"deemed": True}
        )
    return case


def acceptance_overdue(case: Case, *, now: dt.datetime | None = None) -> bool:
    clock = case.acceptance_clock
    return bool(
        case.status == CaseStatus.RECEIVED
        and clock is not None
        and clock.due_at is not None
        and (now or timezone.now()) > clock.due_at
    )


def deem_overdue_acceptances(*, now: dt.datetime | None = None) -> int:
    """The periodic sweep of the 5-day rule. Returns how many cases it accepted."""
    now = now or timezone.now()
    count = 0
    for case in list(selectors.acceptances_due(now=now)):
        try:
            deem_accepted(case=case, now=now)
            count += 1
        except ValidationError:
            continue  # decided, or paused for corrections, meanwhile
    return count


# --- review -----------------------------------------------------------------------------------


def review_pass(*, case: Case, actor, opinion: str = "", channel: str = Channel.ADMIN) -> Case:
    """The current step agrees; the next step takes over (the last step decides instead)."""
    with _step(case, "review_pass", actor=actor, channel=channel, reason=opinion) as step:
        steps = list(step.case.item_version.review_steps.all())
        if step.case.review_step is None or step.case.review_step + 1 >= len(steps):
            raise ValidationError({"status": _("This is the last step: grant or refuse.")})
        step.set(status=CaseStatus.IN_REVIEW, review_step=step.case.review_step + 1)
        step.payload["step"] = steps[step.case.review_step].name
    return case


def send_back(*, case: Case, actor, reason: str, channel: str = Channel.ADMIN) -> Case:
    with _step(case, "send_back", actor=actor, channel=channel, reason=reason) as step:
        if not step.case.review_step:
            raise ValidationError({"status": _("The first step has no step before it.")})
        step.set(status=CaseStatus.IN_REVIEW, review_step=step.case.review_step - 1)
    return case


def suspend(*, case: Case, actor, kind: str, reason: str, channel: str = Channel.ADMIN) -> Case:
    """A special procedure (特别程序, Art. 45): the decision clock pauses; the applicant is
    told in writing."""
    _require_performer(case, "suspend", actor)
    if kind not in PauseKind.values or kind == PauseKind.CORRECTION:
        raise ValidationError({"kind": _("Choose the kind of special procedure.")})
    with _step(case, "suspend", actor=actor, channel=channel, reason=reason) as step:
        clocks.clock_pause(clock=step.case.decision_clock, kind=kind, reason=reason.strip())
        step.set(status=CaseStatus.SUSPENDED)
        step.payload["kind"] = kind
        documents.issue(
            case=step.case,
            kind=DocumentKind.SPECIAL_PROCEDURE,
            actor=actor,
            details={"reason": reason.strip()},
        )
    return case


def resume(*, case: Case, actor, channel: str = Channel.ADMIN) -> Case:
    with _step(case, "resume", actor=actor, channel=channel) as step:
        clocks.clock_resume(clock=step.case.decision_clock)
        step.set(status=CaseStatus.IN_REVIEW)
    return case


def extend(
    *, case: Case, actor, reason: str, days: int = STATUTORY_EXTENSION, channel: str = Channel.ADMIN
) -> Case:
    """延期: the department head adds working days with a written reason. The promised limit
    plus every extension may not pass the statutory limit plus its 10-day extension."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValidationError({"days": _("Extend by a whole number of days, at least 1.")})
    with _step(case, "extend", actor=actor, channel=channel, reason=reason) as step:
        version = step.case.item_version
        clock = step.case.decision_clock
        granted = sum(e.amount for e in clock.extensions.all())
        cap = (version.statutory_limit or 0) + STATUTORY_EXTENSION
        if version.statutory_unit == clock.unit and clock.limit + granted + days > cap:
            raise ValidationError(
                {"days": _("At most %(n)d more days: the statutory limit caps the extension.")
                 % {"n": max(cap - clock.limit - granted, 0)}}
            )  # fmt: skip
        clocks.clock_extend(clock=clock, amount=days, reason=reason.strip(), approved_by=actor)
        step.payload["days"] = days
        documents.issue(
            case=step.case,
            kind=DocumentKind.EXTENSION,
            actor=actor,
            details={"days": days, "reason": reason.strip()},
        )
    return case


# --- the cases of a joint application (主题联办) -------------------------------------------------


def _shared_rows(case: Case, shared: Mapping[int, Any], actor) -> list[CaseMaterial]:
    """The case's materials from its application's one material set (`shared`: by material
    type id, rows with file, file_name, size, sha256, original_seen, licence and perhaps a
    note): each material of the guide whose type the set holds shares its stored file, its
    original seen, its licence, or the note of where it comes from."""
    rows = []
    for material in case.item_version.materials.all():
        given = shared.get(material.material_type_id)
        if given is None:
            continue
        rows.append(
            CaseMaterial(
                case=case,
                material=material,
                state=MaterialState.PROVIDED,
                file=given.file.name if given.file else "",
                file_name=given.file_name,
                size=given.size,
                sha256=given.sha256,
                original_seen=given.original_seen,
                licence=given.licence,
                note=getattr(given, "note", ""),
                updated_by=actor,
            )
        )
    return CaseMaterial.objects.bulk_create(rows)


def open_joint_child(
    *,
    joint,
    version: ItemVersion,
    shared: Mapping[int, Any],
    actor,
    accepted_at: dt.datetime,
    channel: str = Channel.WINDOW,
) -> Case:
    """One case of a joint application the window has just accepted (inside its
    transaction): the item's department reviews it along the item's own chain, on the
    item's own clock from the application's acceptance. Its form holds the merged form's
    values its guide asks for; its materials share the application's one set."""
    item = version.item
    keys = {form_field.field.key for form_field in version.form_fields.all()}
    case = Case.objects.create(
        number=next_number(item.region),
        item_version=version,
        department=item.department,
        window_category_id=joint.window_category_id,  # the window that accepted it
        region=item.region,
        applicant=joint.applicant,
        channel=joint.channel,
        status=CaseStatus.RECEIVED,
        form_data={key: value for key, value in joint.form_data.items() if key in keys},
        submitted_by=joint.submitted_by,
        submitted_at=joint.submitted_at,
        received_at=joint.submitted_at,
        joint=joint,
    )
    given = {row.material_id for row in _shared_rows(case, shared, actor)}
    # Deemed accepted with materials missing: the department sees what it may ask for.
    CaseMaterial.objects.bulk_create(
        CaseMaterial(case=case, material=m, state=MaterialState.MISSING, updated_by=actor)
        for m in version.materials.all()
        if m.requirement == Requirement.REQUIRED and m.pk not in given
    )
    step = _StepState(case, case.status)
    _start_decision(step, accepted_at=accepted_at, actor=actor)
    deemed = actor is None  # the application was deemed accepted (Art. 32)
    if deemed:
        step.set(deemed_accepted=True)
    case.save(update_fields=sorted(step.fields))
    _record(
        case,
        action="deem_accepted" if deemed else "accept",
        actor=actor,
        channel=Channel.SYSTEM if deemed else channel,
        acting=[] if deemed else [Performer.CLERK],
        payload={"joint": joint.number},
    )
    return case


def ask_correction(
    *, case: Case, actor, items: Sequence[Mapping[str, Any]], channel: str = Channel.ADMIN
) -> Case:
    """联审补正: the department reviewing its case of a joint application lists what to
    correct, each item naming a material of its guide (`material`: its id, empty for the
    form) and the problem. The decision clock pauses; the application sends every
    department's requests to the applicant in one notice and brings the case back to
    review with the corrected materials."""
    _require_performer(case, "ask_correction", actor)
    materials = {str(m.pk): m for m in case.item_version.materials.all()}
    listed, errors = [], []
    for item in items or ():
        problem = str(item.get("problem") or "").strip()
        key = str(item.get("material") or "")
        if not problem:
            errors.append(_("Say what is wrong with each material listed."))
        elif key and key not in materials:
            errors.append(_("This material is not asked for by the guide."))
        else:
            material = materials.get(key)
            listed.append({
                "material": material.display_name if material else "",
                "material_type": material.material_type_id if material else None,
                "problem": problem,
            })  # fmt: skip
    if errors or not listed:
        raise ValidationError({"items": errors or [_("List what is to be corrected.")]})
    reason = "；".join(f"{i['material']}：{i['problem']}" for i in listed)
    with _step(case, "ask_correction", actor=actor, channel=channel, reason=reason) as step:
        clocks.clock_pause(clock=step.case.decision_clock, kind=PauseKind.CORRECTION, reason=reason)
        step.set(status=CaseStatus.CORRECTION)
        step.payload["items"] = listed
    return case


def correction_answered(
    *,
    case: Case,
    actor,
    shared: Mapping[int, Any],
    form_data: Mapping[str, Any] | None = None,
    channel: str = Channel.ONLINE,
) -> Case:
    """The joint application's corrected materials (`shared`, by material type id) and form
    values reach its case: they replace the earlier ones, and review goes on (the decision
    clock resumes)."""
    with _step(case, "correction_answered", actor=actor, channel=channel, by_theme=True) as step:
        child = step.case
        renewed = [m.pk for m in child.item_version.materials.all()
                   if m.material_type_id in shared]  # fmt: skip
        child.materials.filter(material__in=renewed, state=MaterialState.PROVIDED).update(
            state=MaterialState.DEFECTIVE, updated_by=actor, updated_at=timezone.now()
        )
        _shared_rows(child, shared, actor)
        if form_data:
            keys = {f.field.key for f in child.item_version.form_fields.all()}
            step.set(form_data={**child.form_data,
                                **{k: v for k, v in form_data.items() if k in keys}})  # fmt: skip
        clocks.clock_resume(clock=child.decision_clock)
        step.set(status=CaseStatus.IN_REVIEW)
    return case


# --- decision, fees, result, delivery ---------------------------------------------------------


def _require_last_step(case: Case) -> None:
    steps = list(case.item_version.review_steps.all())
    if steps and case.review_step is not None and case.review_step + 1 < len(steps):
        raise ValidationError({"status": _("Only the last step of the chain decides.")})


def _decide(step: _StepState, status: str, reason: str, actor) -> None:
    now = timezone.now()
    clocks.clock_stop(clock=step.case.decision_clock, at=now)
    step.set(
        status=status,
        decided_at=now,
        granted=status == CaseStatus.APPROVED,
        decision_reason=(reason or "").strip(),
        review_step=None,
    )
    # A joint application's results go out together: their delivery time starts then.
    if step.case.joint_id is None:
        step.set(delivery_clock=_delivery_clock(step.case, now))


def _delivery_clock(case: Case, at: dt.datetime):
    return clocks.clock_start(
        purpose=ClockPurpose.DELIVERY,
        subject=case,
        unit=LimitUnit.WORKDAYS,
        limit=DELIVERY_LIMIT,
        started_at=at,
    )


def start_joint_delivery(*, case: Case, at: dt.datetime) -> None:
    """多证同发: the decided case of a joint application is issued with all the others, in
    the application's settling step (which writes its audit event); the 10 working days to
    deliver (Art. 44) start now."""
    case.delivery_clock = _delivery_clock(case, at)
    case.save(update_fields=["delivery_clock"])


def approve(*, case: Case, actor, reason: str = "", fee: Decimal | None = None,
            channel: str = Channel.ADMIN) -> Case:  # fmt: skip
    """准予: the last step grants; the fee is set where the guide charges."""
    with _step(case, "approve", actor=actor, channel=channel, reason=reason) as step:
        _require_last_step(step.case)
        version = step.case.item_version
        if not version.is_free:
            amount = fee if fee is not None else version.fee_amount
            if amount is None or amount < 0:
                raise ValidationError({"fee": _("This item charges: state the fee.")})
            step.set(fee_amount=amount)
        _decide(step, CaseStatus.APPROVED, reason, actor)
        documents.issue(
            case=step.case,
            kind=DocumentKind.APPROVAL,
            actor=actor,
            details={"reason": (reason or "").strip(), "fee": step.case.fee_amount},
        )
    return case


def deny(*, case: Case, actor, reason: str, channel: str = Channel.ADMIN) -> Case:
    """不予: the last step refuses, with the reasons and the remedies."""
    with _step(case, "deny", actor=actor, channel=channel, reason=reason) as step:
        _require_last_step(step.case)
        _decide(step, CaseStatus.DENIED, reason, actor)
        documents.issue(
            case=step.case,
            kind=DocumentKind.DENIAL,
            actor=actor,
            details={"reason": reason.strip()},
        )
    return case


def record_fee(*, case: Case, actor, channel: str = Channel.WINDOW) -> Case:
    with _step(case, "record_fee", actor=actor, channel=channel) as step:
        if step.case.fee_amount is None:
            raise ValidationError({"fee": _("This case has no fee to pay.")})
        if step.case.fee_paid_at is not None:
            raise ValidationError({"fee": _("The fee is already paid.")})
        step.set(status=CaseStatus.APPROVED, fee_paid_at=timezone.now())
    return case


def supply_tolerated(
    *, case: Case, actor, uploads: Sequence[Upload] = (), materials: Iterable[Material] = (),
    channel: str = Channel.WINDOW,
) -> Case:  # fmt: skip
    """Materials promised under 容缺受理 arrive (as files, or as originals seen at the window)."""
    if errors := _check_uploads(case.item_version, uploads, case.applicant):
        raise ValidationError(errors)
    materials = list(materials)
    with _step(case, "supply_tolerated", actor=actor, channel=channel) as step:
        if materials and Performer.CLERK not in permissions.performers(actor, step.case):
            raise PermissionDenied(_("Only the window records originals it has seen."))
        arrived = {u.material.pk for u in uploads} | {m.pk for m in materials}
        pending = step.case.materials.filter(state=MaterialState.TOLERATED, material__in=arrived)
        if not pending.exists():
            raise ValidationError({"materials": _("None of these materials is awaited.")})
        _store_uploads(step.case, uploads, actor)
        names = [str(m) for m in pending]
        pending.update(state=MaterialState.SUPPLIED, updated_by=actor, updated_at=timezone.now())
        step.payload["supplied"] = names
    return case


def tolerated_pending(case: Case) -> list[CaseMaterial]:
    return list(case.materials.filter(state=MaterialState.TOLERATED))


def produce(*, case: Case, actor, channel: str = Channel.ADMIN, by_theme: bool = False) -> Case:
    """制证: the result is made. Not before a charged fee is paid, nor before materials
    promised under 容缺受理 arrive."""
    with _step(case, "produce", actor=actor, channel=channel, by_theme=by_theme) as step:
        if step.case.fee_amount and step.case.fee_paid_at is None:
            raise ValidationError({"fee": _("The fee is not paid yet.")})
        if tolerated_pending(step.case):
            raise ValidationError(
                {"materials": _("Materials promised under tolerated acceptance have not arrived.")}
            )
        # The e-licences the item issues (电子证照), signed by the issuing department.
        licences.issue_for_case(case=step.case, actor=actor)
        step.set(status=CaseStatus.READY)
    return case


def deliver(
    *,
    case: Case,
    actor,
    method: str,
    tracking_number: str = "",
    originals_checked: bool = False,
    channel: str = Channel.WINDOW,
    by_theme: bool = False,
) -> Case:
    """送达: at the window (the applicant signs the proof of service), by post with a tracking
    number, or electronically. An item handled with 原件核验 hands a granted result over at
    the window only, once the clerk has checked the originals of the materials sent online."""
    _require_performer(case, "deliver", actor)
    if method not in DeliveryMethod.values:
        raise ValidationError({"method": _("Choose how the result is delivered.")})
    if method == DeliveryMethod.POST and not tracking_number.strip():
        raise ValidationError({"tracking_number": _("Give the post's tracking number.")})
    check = case.status == CaseStatus.READY and (
        case.item_version.online_depth == OnlineDepth.ORIGINAL_CHECK
    )
    if check and method != DeliveryMethod.WINDOW:
        raise ValidationError(
            {"method": _("The originals are checked at pickup: deliver at the window.")}
        )
    if check and not originals_checked:
        raise ValidationError(
            {"originals_checked": _("Check the originals against the files sent online first.")}
        )
    with _step(case, "deliver", actor=actor, channel=channel, by_theme=by_theme) as step:
        now = timezone.now()
        if check:
            step.case.materials.exclude(file="").update(original_seen=True)
            step.payload["originals_checked"] = True
        if step.case.delivery_clock is not None:  # a joint case refused before the issue
            clocks.clock_stop(clock=step.case.delivery_clock, at=now)
        step.set(
            status=CaseStatus.DELIVERED,
            delivery_method=method,
            tracking_number=tracking_number.strip(),
            delivered_at=now,
        )
        documents.issue(
            case=step.case,
            kind=DocumentKind.SERVICE_RECEIPT,
            actor=actor,
            details={"tracking_number": tracking_number.strip()},
        )
    return case


def evaluate(
    *, case: Case, actor, rating: int, comment: str = "", channel: str = Channel.ONLINE
) -> Case:
    """好差评: five levels; the two lowest need a reason. One rating per case."""
    _require_performer(case, "evaluate", actor)
    rating, comment = checked_rating(rating, comment)
    with _step(case, "evaluate", actor=actor, channel=channel, reason=comment) as step:
        if step.case.rating is not None:
            raise ValidationError({"rating": _("This case has been rated already.")})
        step.set(rating=rating, rating_comment=comment)
        step.payload["rating"] = rating
    return case


def archive(*, case: Case, actor=None, channel: str = Channel.SYSTEM) -> Case:
    with _step(case, "archive", actor=actor, channel=channel) as step:
        step.set(status=CaseStatus.ARCHIVED, closed_at=timezone.now())
    return case


# --- ending early -----------------------------------------------------------------------------


def withdraw(
    *, case: Case, actor, reason: str, channel: str = Channel.ONLINE, by_theme: bool = False
) -> Case:
    """The applicant withdraws before the decision."""
    with _step(
        case, "withdraw", actor=actor, channel=channel, reason=reason, by_theme=by_theme
    ) as step:
        now = timezone.now()
        clocks.clock_stop_running(
            step.case.acceptance_clock, step.case.decision_clock, step.case.delivery_clock, at=now
        )
        step.set(status=CaseStatus.WITHDRAWN, closed_at=now, close_reason=reason.strip())
    return case


def terminate(
    *, case: Case, actor, reason: str, channel: str = Channel.ADMIN, by_theme: bool = False
) -> Case:
    """终止办理 (e.g. an overdue commitment, the applicant's death or dissolution; a
    refusal of another item of a joint application whose theme says one stops all)."""
    with _step(
        case, "terminate", actor=actor, channel=channel, reason=reason, by_theme=by_theme
    ) as step:
        now = timezone.now()
        clocks.clock_stop_running(
            step.case.acceptance_clock, step.case.decision_clock, step.case.delivery_clock, at=now
        )
        step.set(status=CaseStatus.TERMINATED, closed_at=now, close_reason=reason.strip())
        documents.issue(
            case=step.case,
            kind=DocumentKind.TERMINATION,
            actor=actor,
            details={"reason": reason.strip()},
        )
    return case
