"""Data-sharing tokens (yimen.licences.tokens): made and revoked with an audit row that never
holds the token, stored as a hash only, read by the DRF authentication (which refuses wrong,
revoked and malformed tokens and notes the use at most once a minute), and the
`licences_token` command.

The clock stands on Monday 2026-11-23 10:00 unless a test moves it."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from io import StringIO

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIRequestFactory

from yimen.common.errors import StateConflict
from yimen.common.models import AuditEvent
from yimen.licences import tokens
from yimen.licences.models import AccessToken

from ..accounts.factories import UserFactory
from ..org.factories import DepartmentFactory
from .factories import monday

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    return monday(monkeypatch)


@pytest.fixture
def department():
    return DepartmentFactory(name="市市场监督管理局")


@pytest.fixture
def admin_user():
    return UserFactory(username="tokenadmin")


def everything_stored() -> str:
    """Every row of every table, as `dumpdata` writes it."""
    out = StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


def authenticate(header: str | None):
    request = APIRequestFactory().get("/", **({"HTTP_AUTHORIZATION": header} if header else {}))
    return tokens.DepartmentTokenAuthentication().authenticate(request)


# --- making and revoking -------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_only_its_hash_is_kept(department, admin_user, caplog):
    # when a system administrator makes a token for a department's system
    with caplog.at_level(logging.DEBUG):
        token, plain = tokens.token_create(department=department, name="审批系统", actor=admin_user)
    # then the token is long and random, and named by its first 8 characters
    assert plain.startswith("ymn_") and len(plain) >= 40
    assert token.prefix == plain[:8]
    assert token.created_by == admin_user and token.name == "审批系统"
    # and the database holds its SHA-256, never the token itself, in any table
    stored = AccessToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(plain.encode()).hexdigest()
    everything = everything_stored()
    assert plain not in everything
    assert plain[8:] not in everything  # not even the part after the prefix
    assert stored.key_hash in everything
    # and it is audited without the token (or its hash), and nothing logged it
    event = AuditEvent.objects.get(action="licence.token.create")
    assert event.object_id == str(token.pk) and event.actor == admin_user
    assert event.payload == {"department": department.uscc, "name": "审批系统", "prefix": plain[:8]}
    assert plain not in caplog.text


def test_two_tokens_differ(department):
    _first, one = tokens.token_create(department=department, name="A")
    _second, two = tokens.token_create(department=department, name="A")
    assert one != two


@pytest.mark.parametrize(
    ("name", "field"),
    [("", "name"), ("   ", "name"), ("系" * 101, "name")],
)
def test_a_token_needs_a_system_name(department, name, field):
    with pytest.raises(ValidationError) as refused:
        tokens.token_create(department=department, name=name)
    assert field in refused.value.message_dict
    assert not AccessToken.objects.exists() and not AuditEvent.objects.exists()


def test_an_inactive_department_gets_no_token():
    closed = DepartmentFactory(is_active=False)
    with pytest.raises(ValidationError) as refused:
        tokens.token_create(department=closed, name="旧系统")
    assert "department" in refused.value.message_dict
    assert not AccessToken.objects.exists()


def test_revoking_stops_a_token_and_is_audited_once(department, admin_user, clock):
    token, plain = tokens.token_create(department=department, name="审批系统")
    # when it is revoked
    tokens.token_revoke(token=token, actor=admin_user)
    # then it is marked so, audited, and no longer authenticates
    token.refresh_from_db()
    assert token.revoked_at == clock.moment
    event = AuditEvent.objects.get(action="licence.token.revoke")
    assert event.actor == admin_user and event.payload["prefix"] == plain[:8]
    assert plain not in str(event.payload)
    with pytest.raises(AuthenticationFailed):
        authenticate(f"Token {plain}")
    # and revoking it again is a conflict that changes nothing
    with pytest.raises(StateConflict):
        tokens.token_revoke(token=token, actor=admin_user)
    assert AuditEvent.objects.filter(action="licence.token.revoke").count() == 1


# --- authentication --------------------------------------------------------------------------


def test_a_valid_token_authenticates_as_its_department_and_no_user(department, clock):
    token, plain = tokens.token_create(department=department, name="审批系统")
    user, auth = authenticate(f"Token {plain}")
    assert isinstance(user, AnonymousUser) and not user.is_authenticated
    assert auth == token and auth.department == department
    token.refresh_from_db()
    assert token.last_used_at == clock.moment


def test_the_use_is_noted_at_most_once_a_minute(department, clock, django_assert_num_queries):
    token, plain = tokens.token_create(department=department, name="审批系统")
    first = clock.moment
    authenticate(f"Token {plain}")
    # within the minute: the lookup only, no write
    clock.moment = first + dt.timedelta(seconds=59)
    with django_assert_num_queries(1):
        authenticate(f"Token {plain}")
    token.refresh_from_db()
    assert token.last_used_at == first
    # a minute later: noted again
    clock.moment = first + dt.timedelta(minutes=1, seconds=1)
    authenticate(f"Token {plain}")
    token.refresh_from_db()
    assert token.last_used_at == clock.moment


@pytest.mark.parametrize("header", [None, "Bearer abc", "Basic dXNlcjpwYXNz"])
def test_without_a_token_header_the_class_passes(header):
    assert authenticate(header) is None


@pytest.mark.parametrize(
    "header",
    [
        "Token",
        "Token a b",
        "Token ymn_wrong",
        "Token not-a-yimen-token",
        "Token ymn_" + "x" * 500,
        "token ymn_wrong",
    ],
)
def test_a_wrong_or_malformed_token_fails(department, header):
    tokens.token_create(department=department, name="审批系统")
    with pytest.raises(AuthenticationFailed):
        authenticate(header)


def test_a_token_of_an_inactive_department_fails(department):
    _token, plain = tokens.token_create(department=department, name="审批系统")
    department.is_active = False
    department.save(update_fields=["is_active"])
    with pytest.raises(AuthenticationFailed):
        authenticate(f"Token {plain}")


def test_the_authentication_names_no_challenge():
    # With no WWW-Authenticate challenge DRF answers 403, not 401.
    request = APIRequestFactory().get("/")
    assert tokens.DepartmentTokenAuthentication().authenticate_header(request) is None


# --- the command -----------------------------------------------------------------------------


def run(*args) -> str:
    out, err = StringIO(), StringIO()
    call_command("licences_token", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_the_command_prints_a_new_token_once(department, admin_user):
    output = run(department.uscc, "不动产登记系统", "--user", admin_user.username)
    token = AccessToken.objects.get()
    printed = [line for line in output.splitlines() if line.startswith("ymn_")]
    assert len(printed) == 1
    assert hashlib.sha256(printed[0].encode()).hexdigest() == token.key_hash
    assert token.department == department and token.name == "不动产登记系统"
    assert token.created_by == admin_user
    # a listing shows the prefix, never the token or its hash
    listing = run("--list")
    assert token.prefix in listing and "不动产登记系统" in listing
    assert printed[0] not in listing and token.key_hash not in listing


def test_the_command_refuses_an_unknown_department_or_a_missing_name(department):
    with pytest.raises(CommandError):
        run(DepartmentFactory.build().uscc, "系统")
    with pytest.raises(CommandError):
        run(department.uscc)
    with pytest.raises(CommandError):
        run(department.uscc, "  ")
    assert not AccessToken.objects.exists()


def test_the_command_revokes_by_prefix_or_by_the_whole_token(department):
    first, first_plain = tokens.token_create(department=department, name="一")
    second, second_plain = tokens.token_create(department=department, name="二")
    output = run("--revoke", first_plain[:8])
    assert first.prefix in output
    run("--revoke", second_plain)
    for token in (first, second):
        token.refresh_from_db()
        assert token.revoked_at is not None
    # a revoked or unknown prefix is refused
    with pytest.raises(CommandError):
        run("--revoke", first_plain[:8])
    with pytest.raises(CommandError):
        run("--revoke", "ymn_none")


def test_an_ambiguous_prefix_is_refused(department):
    first, plain = tokens.token_create(department=department, name="一")
    second, _ = tokens.token_create(department=department, name="二")
    AccessToken.objects.filter(pk=second.pk).update(prefix=first.prefix)  # 4 random characters
    with pytest.raises(CommandError) as refused:
        run("--revoke", first.prefix)
    assert "whole token" in str(refused.value)
    assert not AccessToken.objects.filter(revoked_at__isnull=False).exists()
    run("--revoke", plain)
    first.refresh_from_db()
    assert first.revoked_at is not None
