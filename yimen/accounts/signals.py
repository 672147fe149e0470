"""Security events of the login itself go to the audit chain."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from yimen.common import audit
from yimen.common.choices import Channel
from yimen.common.masking import mask_text


def _address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


@receiver(user_logged_in, dispatch_uid="yimen.audit.login")
def _logged_in(sender, request, user, **kwargs):
    audit.record(
        action="user.login",
        obj=user,
        actor=user,
        channel=Channel.ONLINE,
        payload={"address": _address(request)},
    )


@receiver(user_logged_out, dispatch_uid="yimen.audit.logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit.record(action="user.logout", obj=user, actor=user, channel=Channel.ONLINE)


@receiver(user_login_failed, dispatch_uid="yimen.audit.login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    # The username may be an ID number or a phone number typed into the wrong box: mask it.
    audit.record(
        action="user.login_failed",
        object_type="accounts.user",
        object_id=mask_text(str(credentials.get("username", "")))[:64],
        channel=Channel.ONLINE,
        payload={"address": _address(request)},
    )
