"""Failed logins go to the change log (SPEC §8); API tokens die with the session and the
password (SPEC §13): signing out of the web UI, a password change (by any path: the 修改密码
page, an administrator's 编辑员工, ``set_password()`` + ``save()``, ``changepassword``) and a
deactivation revoke every API token of the user."""

from django.contrib.auth.signals import user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from .models import User


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


@receiver(user_logged_out, dispatch_uid="kehu.org.revoke_tokens_on_logout")
def revoke_tokens_on_logout(sender, request=None, user=None, **kwargs):
    if user is None or not getattr(user, "pk", None):
        return
    from .services import tokens_revoke_all

    tokens_revoke_all(user=user, reason="退出登录", actor=user)


def _token_revoke_reason(instance: User, update_fields) -> str:
    """Why saving ``instance`` ends its tokens ("" when it does not)."""
    if instance.pk is None or instance._state.adding:
        return ""
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return ""  # e.g. last_login on every sign-in: no extra query
    stored = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if stored is None:
        return ""
    if stored["password"] != instance.password:
        # check_password() re-hashes a correct password when the hasher's parameters changed
        # and saves only the password, with _password cleared: the same password, not a change.
        rehash = instance._password is None and update_fields is not None
        if not rehash or set(update_fields) != {"password"}:
            return "修改密码"
    if stored["is_active"] and not instance.is_active:
        return "停用账号"
    return ""


@receiver(pre_save, sender=User, dispatch_uid="kehu.org.password_change_check")
def note_password_change(sender, instance: User, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    instance._kehu_revoke_tokens = _token_revoke_reason(instance, update_fields)


@receiver(post_save, sender=User, dispatch_uid="kehu.org.revoke_tokens_on_password_change")
def revoke_tokens_on_password_change(sender, instance: User, raw=False, **kwargs):
    reason = getattr(instance, "_kehu_revoke_tokens", "")
    if raw or not reason:
        return
    instance._kehu_revoke_tokens = ""
    from .services import tokens_revoke_all

    tokens_revoke_all(user=instance, reason=reason)
