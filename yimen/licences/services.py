"""Writes of the licences module: signing keys, issuing (from an approved case at 制证, or
registering a paper licence), revoking, replacing and the daily expiry. Every licence is
signed with SM2 by its issuer's key over `canonical(licence)`; every change is audited."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yimen.common import audit, counters, sm2
from yimen.common.choices import Channel
from yimen.common.errors import StateConflict
from yimen.common.identifiers import licence_identifier

from .choices import LicenceStatus
from .models import Licence, LicenceCounter, LicenceType, SigningKey

# --- what is signed -------------------------------------------------------------------------


def canonical(licence: Licence) -> bytes:
    """The signed bytes of a licence: its identity, holder, issuer, data and dates as JSON
    with sorted keys and no spaces. Changing any of them breaks the signature."""
    holder = licence.holder
    document = {
        "identifier": licence.identifier,
        "type": licence.licence_type.code,
        "holder": {
            "kind": holder.kind,
            "name": holder.name,
            "id": holder.id_number or holder.uscc,
        },
        "issuer": licence.issuer.uscc,
        "data": licence.data,
        "issued_on": licence.issued_on.isoformat(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "version": licence.version,
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def is_genuine(licence: Licence) -> bool:
    """Whether the stored signature matches the licence as it is stored now."""
    return sm2.verify(licence.signing_key.public_key, canonical(licence), licence.signature)


# --- keys -----------------------------------------------------------------------------------


def key_generate(*, department, actor=None) -> SigningKey:
    """A new SM2 key pair for the department; its previous key stays to verify what it
    signed, and signs no more."""
    pair = sm2.generate_keypair()
    with transaction.atomic():
        SigningKey.objects.filter(department=department, is_active=True).update(is_active=False)
        key = SigningKey.objects.create(
            department=department, public_key=pair.public_key, private_key=pair.private_key
        )
        audit.record(
            action="licence.key.generate",
            obj=key,
            actor=actor,
            channel=Channel.ADMIN,
            payload={"department": department.uscc, "public_key": key.public_key},
        )
    return key


def _key_of(department) -> SigningKey:
    key = SigningKey.objects.filter(department=department, is_active=True).first()
    if key is None:
        raise ValidationError(
            {
                "issuer": _(
                    "%(department)s has no signing key: a system administrator runs "
                    "`manage.py licences_keygen` first."
                )
                % {"department": department}
            }
        )
    return key


# --- issuing --------------------------------------------------------------------------------


def _valid_until(licence_type: LicenceType, issued_on: dt.date) -> dt.date | None:
    if not licence_type.validity_years:
        return None
    try:
        return issued_on.replace(year=issued_on.year + licence_type.validity_years)
    except ValueError:  # 29 February
        return issued_on.replace(year=issued_on.year + licence_type.validity_years, day=28)


def licence_issue(
    *,
    licence_type: LicenceType,
    holder,
    data: Mapping,
    issued_on: dt.date | None = None,
    case=None,
    actor=None,
    registered_by=None,
    channel: str = Channel.SYSTEM,
) -> Licence:
    """Issue and sign a licence of `licence_type` to `holder`."""
    if not licence_type.is_active:
        raise ValidationError({"licence_type": _("This licence type is no longer issued.")})
    if holder.kind != licence_type.holder_kind:
        raise ValidationError(
            {"holder": _("This licence is issued to a %(kind)s.")
             % {"kind": licence_type.get_holder_kind_display()}}
        )  # fmt: skip
    issued_on = issued_on or timezone.localdate()
    if issued_on > timezone.localdate():
        raise ValidationError({"issued_on": _("A licence cannot be issued in the future.")})
    issuer = licence_type.issuer
    with transaction.atomic():
        key = _key_of(issuer)
        serial = counters.bump(LicenceCounter, licence_type=licence_type, issuer=issuer)
        licence = Licence(
            licence_type=licence_type,
            holder=holder,
            issuer=issuer,
            serial=serial,
            data={k: data[k] for k in licence_type.fields if k in data},
            issued_on=issued_on,
            valid_until=_valid_until(licence_type, issued_on),
            case=case,
            registered_by=registered_by,
            signing_key=key,
        )
        _sign_and_save(licence, key)
        _record(
            licence,
            "licence.register" if registered_by is not None else "licence.issue",
            actor=actor or registered_by,
            channel=channel,
            to_state=licence.status,
            payload={"case": case.number if case is not None else None},
        )
    if expire_due(among=Licence.objects.filter(pk=licence.pk)):  # a paper one, ended already
        licence.refresh_from_db()
    return licence


def _sign_and_save(licence: Licence, key: SigningKey) -> None:
    licence.identifier = licence_identifier(
        type_code=licence.licence_type.code,
        issuer_uscc=licence.issuer.uscc,
        serial=licence.serial,
        version=licence.version,
    )
    licence.signature = sm2.sign(key.private_key, key.public_key, canonical(licence))
    licence.save()


def issue_for_case(*, case, actor=None) -> list[Licence]:
    """制证: the licences the case's item issues, to its applicant, with the data its form
    carries. Called by the cases module when an approved case's result is produced."""
    types = LicenceType.objects.filter(
        issuing_items=case.item_version.item_id,
        is_active=True,
        holder_kind=case.applicant.kind,
    ).select_related("issuer")
    return [
        licence_issue(
            licence_type=licence_type,
            holder=case.applicant,
            data=case.form_data or {},
            case=case,
            actor=actor,
        )
        for licence_type in types
    ]


# --- life cycle -----------------------------------------------------------------------------


def _require_valid(licence: Licence) -> None:
    """The licence is valid today (the daily expiry may not have run yet)."""
    if licence.status != LicenceStatus.VALID:
        raise StateConflict(
            {"status": _("The licence is now “%(status)s”.")
             % {"status": licence.get_status_display()}}
        )  # fmt: skip
    if licence.valid_until is not None and licence.valid_until < timezone.localdate():
        raise StateConflict({"status": _("The licence has expired.")})


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason: the holder is told it.")})
    return reason


def licence_revoke(*, licence: Licence, actor, reason: str, channel=Channel.ADMIN) -> Licence:
    """注销/吊销: the licence stops being valid, with the reason."""
    reason = _require_reason(reason)
    with transaction.atomic():
        locked = Licence.objects.select_for_update().get(pk=licence.pk)
        _require_valid(locked)
        locked.status, locked.status_reason = LicenceStatus.REVOKED, reason
        locked.save(update_fields=["status", "status_reason"])
        _record(
            locked, "licence.revoke", actor=actor, channel=channel,
            from_state=LicenceStatus.VALID, to_state=locked.status, reason=reason,
        )  # fmt: skip
    licence.__dict__.update(locked.__dict__)
    return licence


def licence_replace(
    *, licence: Licence, actor, reason: str, data: Mapping | None = None, channel=Channel.ADMIN
) -> Licence:
    """换发: a new version of the licence (the same serial, the version + 1, new data if
    given) is issued and signed; the old one is marked replaced."""
    reason = _require_reason(reason)
    with transaction.atomic():
        old = (
            Licence.objects.select_for_update(of=("self",))
            .select_related("licence_type", "issuer", "holder")
            .get(pk=licence.pk)
        )
        _require_valid(old)
        if not is_genuine(old):  # re-signing would launder an altered record
            raise StateConflict(
                {"status": _("The licence no longer matches its signature: it is not re-issued.")}
            )
        key = _key_of(old.issuer)
        today = timezone.localdate()
        new = Licence(
            licence_type=old.licence_type,
            holder=old.holder,
            issuer=old.issuer,
            serial=old.serial,
            version=old.version + 1,
            data={**old.data, **{k: v for k, v in (data or {}).items()
                                 if k in old.licence_type.fields}},
            issued_on=today,
            valid_until=_valid_until(old.licence_type, today),
            case=old.case,
            previous=old,
            signing_key=key,
        )  # fmt: skip
        old.status, old.status_reason = LicenceStatus.REPLACED, reason
        old.save(update_fields=["status", "status_reason"])
        _sign_and_save(new, key)
        _record(
            old, "licence.replace", actor=actor, channel=channel,
            from_state=LicenceStatus.VALID, to_state=old.status, reason=reason,
            payload={"successor": new.identifier},
        )  # fmt: skip
        _record(
            new, "licence.issue", actor=actor, channel=channel, to_state=new.status,
            reason=reason, payload={"replaces": old.identifier},
        )  # fmt: skip
    licence.__dict__.update(old.__dict__)
    return new


def expire_due(*, today: dt.date | None = None, among=None) -> int:
    """Valid licences past their last day become expired: every one (the daily task), or
    those of `among` (a queryset, when they are read)."""
    today = today or timezone.localdate()
    done = 0
    due = (among if among is not None else Licence.objects).filter(
        status=LicenceStatus.VALID, valid_until__lt=today
    )
    for licence in due:
        with transaction.atomic():
            if Licence.objects.filter(pk=licence.pk, status=LicenceStatus.VALID).update(
                status=LicenceStatus.EXPIRED
            ):
                _record(
                    licence, "licence.expire", channel=Channel.SYSTEM,
                    from_state=LicenceStatus.VALID, to_state=LicenceStatus.EXPIRED,
                )  # fmt: skip
                done += 1
    return done


def _record(licence, action, *, actor=None, channel, from_state="", to_state="", reason="",
            payload=None) -> None:  # fmt: skip
    audit.record(
        action=action,
        obj=licence,
        actor=actor,
        channel=channel,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        payload=payload,
    )
