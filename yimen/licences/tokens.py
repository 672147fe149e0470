"""Data-sharing tokens (共享令牌) of department systems: making and revoking them (audited), and
the DRF authentication that reads them.

A token is `ymn_` followed by 43 random URL-safe characters (256 bits). It is shown once, when
it is made; only its SHA-256 hash and its first 8 characters (to name it in lists and audit
rows) are kept. Neither the token nor its hash is ever written to the audit chain or a log.

A department system sends it as `Authorization: Token ymn_…`. The request is then anonymous
(`request.user` is the AnonymousUser) and `request.auth` is the AccessToken: what it may read is
decided by the token's department, never by a user's roles.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from yimen.accounts.selectors import applicant_by_identifier
from yimen.common import audit
from yimen.common.choices import Channel
from yimen.common.errors import StateConflict
from yimen.common.identifiers import citizen_id_error, normalize_citizen_id, uscc_error
from yimen.common.masking import mask_citizen_id

from . import selectors, services
from .choices import LicenceStatus
from .models import AccessToken, Licence

TOKEN_PREFIX = "ymn_"
PREFIX_LENGTH = 8  # the characters kept in clear: AccessToken.prefix
NAME_MAX_LENGTH = AccessToken._meta.get_field("name").max_length
# last_used_at is written at most this often per token: a busy system is not a write per call.
LAST_USED_EVERY = dt.timedelta(minutes=1)
# Longer than any token we make: nothing longer is hashed or looked up.
_MAX_LENGTH = 128


def hash_of(token: str) -> str:
    """The SHA-256 hex digest that is stored for a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_create(
    *, department, name: str, actor=None, channel=Channel.ADMIN
) -> tuple[AccessToken, str]:
    """A new token for a system of `department`: (the AccessToken, the token itself). The
    token is returned this once and stored nowhere."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Name the system that will use the token.")})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {
                "name": _("The system's name has at most %(count)d characters.")
                % {"count": NAME_MAX_LENGTH}
            }
        )
    if not department.is_active:
        raise ValidationError({"department": _("The department is no longer active.")})
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = AccessToken.objects.create(
            department=department,
            name=name,
            prefix=plain[:PREFIX_LENGTH],
            key_hash=hash_of(plain),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit.record(
            action="licence.token.create",
            obj=token,
            actor=actor,
            channel=channel,
            payload={"department": department.uscc, "name": name, "prefix": token.prefix},
        )
    return token, plain


def token_revoke(*, token: AccessToken, actor=None, channel=Channel.ADMIN) -> AccessToken:
    """The token stops working at once; it stays listed, with when it was revoked."""
    with transaction.atomic():
        locked = AccessToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            raise StateConflict({"token": _("This token was revoked already.")})
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit.record(
            action="licence.token.revoke",
            obj=locked,
            actor=actor,
            channel=channel,
            payload={
                "department": token.department.uscc,
                "name": locked.name,
                "prefix": locked.prefix,
            },
        )
    token.revoked_at = locked.revoked_at
    return token


def token_by_secret(plain: str) -> AccessToken | None:
    """The unrevoked token of an active department that `plain` is, or None."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > _MAX_LENGTH:
        return None
    return (
        AccessToken.objects.select_related("department")
        .filter(key_hash=hash_of(plain), revoked_at__isnull=True, department__is_active=True)
        .first()
    )


def note_use(token: AccessToken, *, now: dt.datetime | None = None) -> None:
    """Record that the token was used, unless that was done less than a minute ago."""
    now = now or timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return
    # The condition in the UPDATE keeps concurrent requests from writing it twice.
    AccessToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY)
    ).update(last_used_at=now)
    token.last_used_at = now


# --- what a token reads ---------------------------------------------------------------------

_DIGITS_ID = re.compile(r"[0-9]{17}[0-9X]")


def holder_identifier_error(value: str) -> str | None:
    """Why `value` is neither a citizen ID number nor a credit code, or None."""
    if len(value) != 18:
        return str(_("Give the holder's citizen ID number or unified social credit code."))
    if citizen_id_error(value) is None or uscc_error(value) is None:
        return None
    # Both refuse it: say why in the terms of the one it resembles.
    return str(citizen_id_error(value) if _DIGITS_ID.fullmatch(value) else uscc_error(value))


def shared_licences(*, token: AccessToken, identifier: str) -> list[Licence]:
    """共享查询: the valid, genuine licences of the holder whose ID number or credit code is
    `identifier`, of the licence types the token's department issues. An unknown holder has
    none, like a holder without such licences. Every query is audited (the identifier
    masked), a malformed one too; then it is refused with the reason."""
    value = normalize_citizen_id(identifier)
    department = token.department
    error = holder_identifier_error(value)
    found: list[Licence] = []
    withheld: list[str] = []
    if error is None:
        holder = applicant_by_identifier(identifier=value)
        if holder is not None:
            for licence in selectors.licences_of(holder).filter(
                status=LicenceStatus.VALID, licence_type__issuer=department
            ):
                # A record that no longer matches its signature is not handed out as valid.
                if services.is_genuine(licence):
                    found.append(licence)
                else:
                    withheld.append(licence.identifier)
    audit.record(
        action="licence.share.query",
        obj=token,
        channel=Channel.API,
        payload={
            "token": token.prefix,
            "department": department.uscc,
            "holder": mask_citizen_id(value[:32]),
            "malformed": error is not None,
            "licences": [licence.identifier for licence in found],
            "not_genuine": withheld,
        },
    )
    if error is not None:
        raise ValidationError({"identifier": error})
    return found


# --- authentication -------------------------------------------------------------------------


class DepartmentTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token ymn_…` of a department system. Without the header it passes
    (another class, or the permission, decides); a wrong, revoked or malformed token fails.

    It names no `WWW-Authenticate` challenge, so DRF answers a missing or bad token with 403,
    not 401: the data-sharing endpoints take nothing else, and there is nothing to log in to.
    """

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the header as “Authorization: Token <token>”.")
            )
        try:
            plain = header[1].decode("ascii")
        except UnicodeDecodeError:
            plain = ""
        token = token_by_secret(plain)
        if token is None:
            raise exceptions.AuthenticationFailed(_("This token is not valid (any more)."))
        note_use(token)
        return AnonymousUser(), token

    def authenticate_header(self, request):
        return None  # no challenge: 403 rather than 401
