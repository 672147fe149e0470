"""Writes of the accounts app: registering applicants and verifying who they are."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yimen.common import audit
from yimen.common.choices import Channel
from yimen.common.identifiers import normalize_citizen_id, normalize_uscc

from .choices import ApplicantKind, IdentityLevel
from .models import Applicant, User


def _identifier_taken_error(kind: str) -> ValidationError:
    if kind == ApplicantKind.PERSON:
        return ValidationError({"id_number": _("An applicant with this ID number exists.")})
    return ValidationError({"uscc": _("An applicant with this credit code exists.")})


def applicant_register(
    *,
    kind: str,
    name: str,
    id_number: str = "",
    uscc: str = "",
    phone: str = "",
    legal_representative: str = "",
    user: User | None = None,
    registered_by: User | None = None,
    channel: str = Channel.WINDOW,
) -> Applicant:
    """Register an applicant (a walk-in at a window, or the profile of an online account).

    Identifiers are normalised (spaces removed, a lower-case x upper-cased) and validated;
    an identifier that is already registered is a field error, never a second record.
    """
    applicant = Applicant(
        kind=kind,
        name=(name or "").strip(),
        id_number=normalize_citizen_id(id_number) or None,
        uscc=normalize_uscc(uscc) or None,
        phone=(phone or "").strip(),
        legal_representative=(legal_representative or "").strip(),
        user=user,
        identity_level=IdentityLevel.REGISTERED,
    )
    applicant.full_clean()
    try:
        with transaction.atomic():
            applicant.save()
            audit.record(
                action="applicant.register",
                obj=applicant,
                actor=registered_by or user,
                channel=channel,
                to_state=f"L{applicant.identity_level}",
                payload={"kind": kind},
            )
    except IntegrityError as exc:  # two clerks registering the same walk-in at once
        raise _identifier_taken_error(kind) from exc
    return applicant


def person_account_register(
    *, username: str, password: str, name: str, id_number: str, phone: str
) -> User:
    """Online self-registration of a natural person: a login plus an L1 applicant profile."""
    with transaction.atomic():
        user = User(username=username.strip(), full_name=name.strip(), phone=phone.strip())
        user.full_clean(exclude=["password"])
        validate_password(password, user)
        user.set_password(password)
        user.save()
        applicant_register(
            kind=ApplicantKind.PERSON,
            name=name,
            id_number=id_number,
            phone=phone,
            user=user,
            registered_by=user,
            channel=Channel.ONLINE,
        )
    return user


def applicant_verify_in_person(*, applicant: Applicant, clerk: User, channel=Channel.WINDOW):
    """A window clerk has seen the applicant's ID card: raise them to L3 (audited)."""
    with transaction.atomic():
        locked = Applicant.objects.select_for_update().get(pk=applicant.pk)
        if locked.identity_level == IdentityLevel.IN_PERSON:
            raise ValidationError(_("This applicant is already verified in person."))
        before = locked.identity_level
        locked.identity_level = IdentityLevel.IN_PERSON
        locked.verified_at = timezone.now()
        locked.verified_by = clerk
        locked.save(update_fields=["identity_level", "verified_at", "verified_by"])
        audit.record(
            action="applicant.verify_in_person",
            obj=locked,
            actor=clerk,
            channel=channel,
            from_state=f"L{before}",
            to_state=f"L{locked.identity_level}",
        )
    return locked


def record_password_change(*, user: User, channel: str = Channel.ONLINE) -> None:
    audit.record(action="user.password_change", obj=user, actor=user, channel=channel)


def staff_account_create(
    *,
    username: str,
    full_name: str,
    password: str,
    is_superuser: bool = False,
    created_by: User | None = None,
    channel: str = Channel.ADMIN,
) -> User:
    """A staff login. Roles are granted separately (yimen.org.services.membership_grant)."""
    with transaction.atomic():
        user = User(
            username=username,
            full_name=full_name,
            is_staff=is_superuser,
            is_superuser=is_superuser,
        )
        user.full_clean(exclude=["password"])
        user.set_password(password)
        user.save()
        audit.record(
            action="user.create",
            obj=user,
            actor=created_by,
            channel=channel,
            payload={"username": username, "superuser": is_superuser},
        )
    return user
