"""Failed logins go to the change log (SPEC §8)."""

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver


@receiver(user_login_failed)
def log_login_failure(sender, credentials, request=None, **kwargs):
    from kehu.audit.models import Action
    from kehu.audit.services import record_change

    username = str((credentials or {}).get("username", ""))[:150]
    record_change(
        actor=None,
        action=Action.LOGIN_FAILED,
        object_type="org.user",
        object_repr=username,
        message=f"登录失败：{username}",
    )
