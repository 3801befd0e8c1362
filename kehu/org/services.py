"""Writes on the organisation: users, departments, roles. Each writes the change log."""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from kehu.audit.models import Action
from kehu.audit.services import record_change, snapshot
from kehu.core.errors import ApplicationError, NotFound
from kehu.core.services import validated_save

from .authz import authorize
from .models import ApiToken, Department, Role, User, token_expiry
from .scope import descendants_of

USER_FIELDS = ("username", "name", "mobile", "email", "department", "is_active")


@transaction.atomic
def user_save(*, actor: User, instance: User | None, data: dict[str, Any]) -> User:
    """Create or update an employee; a new one needs a password (validated by Django's rules)."""
    user = instance or User()
    before = snapshot(user) if instance else None
    for field in USER_FIELDS:
        if field in data:
            setattr(user, field, data[field])
    password = data.get("password") or ""
    if instance is None and not password:
        raise ApplicationError("请设置初始密码", errors={"password": ["新员工必须设置初始密码"]})
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ApplicationError(
                "密码不符合要求", errors={"password": list(exc.messages)}
            ) from exc
        user.set_password(password)
    validated_save(user, exclude=["password"])
    if "roles" in data:
        user.roles.set(data["roles"])
    record_change(
        actor=actor,
        action=Action.UPDATE if instance else Action.CREATE,
        obj=user,
        before=before,
        after=snapshot(user, [f for f in USER_FIELDS])
        | {"roles": sorted(r.pk for r in user.roles.all())},
    )
    return user


@transaction.atomic
def department_save(
    *, actor: User, instance: Department | None, data: dict[str, Any]
) -> Department:
    """Create or update a department; its parent may not be itself or one of its descendants."""
    dept = instance or Department()
    before = snapshot(dept) if instance else None
    parent = data.get("parent", dept.parent)
    if instance is not None and parent is not None and parent.pk in descendants_of([instance.pk]):
        raise ApplicationError(
            "上级部门不能是本部门或其下属部门",
            errors={"parent": ["上级部门不能是本部门或其下属部门"]},
        )
    for field in ("name", "parent", "leader", "sort"):
        if field in data:
            setattr(dept, field, data[field])
    dept.name = (dept.name or "").strip()
    validated_save(dept)
    record_change(
        actor=actor,
        action=Action.UPDATE if instance else Action.CREATE,
        obj=dept,
        before=before,
        after=snapshot(dept),
    )
    return dept


@transaction.atomic
def department_delete(*, actor: User, instance: Department) -> None:
    """A department with members or sub-departments cannot be deleted."""
    if instance.members.exists():
        raise ApplicationError("该部门下还有员工，不能删除", code="in_use")
    if instance.children.exists():
        raise ApplicationError("该部门下还有子部门，不能删除", code="in_use")
    before = snapshot(instance)
    record_change(actor=actor, action=Action.DELETE, obj=instance, before=before)
    instance.delete()


@transaction.atomic
def role_save(*, actor: User, instance: Role | None, data: dict[str, Any]) -> Role:
    role = instance or Role()
    before = snapshot(role) if instance else None
    builtin_code = instance.code if instance is not None and instance.is_builtin else None
    if builtin_code is not None and data.get("code", builtin_code) != builtin_code:
        # The built-in roles are found by their code (roles.sync_builtin_roles).
        message = "内置角色的代码不能修改"
        raise ApplicationError(message, errors={"code": [message]})
    for field in ("name", "code", "data_scope", "is_admin", "remark"):
        if field in data:
            setattr(role, field, data[field])
    if builtin_code == "admin":
        role.is_admin = True  # the admin role always keeps every permission
    validated_save(role)
    if "permissions" in data:
        role.permissions.set(data["permissions"])
    record_change(
        actor=actor,
        action=Action.UPDATE if instance else Action.CREATE,
        obj=role,
        before=before,
        after=snapshot(role) | {"permissions": sorted(p.pk for p in role.permissions.all())},
    )
    return role


@transaction.atomic
def role_delete(*, actor: User, instance: Role) -> None:
    if instance.is_builtin:
        raise ApplicationError("内置角色不能删除", code="builtin")
    if instance.users.exists():
        raise ApplicationError("该角色仍有员工在使用，不能删除", code="in_use")
    record_change(actor=actor, action=Action.DELETE, obj=instance, before=snapshot(instance))
    instance.delete()


# --- API tokens (SPEC §10, §13; issue 10) ----------------------------------------------------
#
# A token is deleted when it is revoked: only live tokens are kept, so an unknown token and a
# revoked one answer the same 401 "令牌无效". An expired token stays until its user asks for a
# new one (it answers "令牌已过期，请重新获取" until then). Issuing a token is a sign-in and is not
# logged, like the login page; every revocation is (never with any part of the secret).

TOKEN_FIELDS = ("id", "user", "name", "created_at", "last_used_at", "expires_at")
TOKEN_NAME_MAX = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def token_name(name: str = "", user_agent: str = "") -> str:
    """The label a token is listed under: the name given, else the client's User-Agent, else
    "API" (control characters dropped, at most 100 characters)."""
    for candidate in (name, user_agent):
        cleaned = " ".join(_CONTROL.sub(" ", candidate or "").split())[:TOKEN_NAME_MAX]
        if cleaned:
            return cleaned
    return "API"


@transaction.atomic
def token_issue(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token of ``user`` (who has just proved the password): ``(row, raw token)``.

    Only the token's SHA-256 is stored; the raw token is returned once. The user's expired
    tokens are deleted on the way, so they cannot pile up."""
    ApiToken.objects.filter(user=user, expires_at__lte=timezone.now()).delete()
    raw = secrets.token_urlsafe(32)
    row = ApiToken.objects.create(
        user=user,
        key_hash=ApiToken.hash(raw),
        prefix=raw[:8],
        name=token_name(name),
        expires_at=token_expiry(),
    )
    return row, raw


@transaction.atomic
def token_revoke(*, actor: User, instance: ApiToken) -> None:
    """Revoke one of the actor's own tokens (我的令牌, DELETE /api/v1/auth/tokens/{id},
    POST /api/v1/auth/logout). Someone else's token answers 404, as a missing one would —
    administrators revoke a user's tokens with :func:`user_tokens_revoke`."""
    if not getattr(actor, "is_authenticated", False) or instance.user_id != actor.pk:
        raise NotFound()
    record_change(
        actor=actor,
        action=Action.DELETE,
        obj=instance,
        object_repr=instance.label,
        before=snapshot(instance, TOKEN_FIELDS),
        message=f"撤销 API 令牌：{instance.name}",
    )
    instance.delete()


def tokens_revoke_all(*, user: User, reason: str, actor: Any = "系统") -> int:
    """Revoke every token of ``user``; the change log says why. Returns how many there were.

    Called on the user's own sign-out (``user_logged_out``), on a password change and on
    deactivation (``kehu.org.signals``, whoever changed the password: the change itself was
    authorized by the form or service that made it), and by :func:`user_tokens_revoke`."""
    with transaction.atomic():
        ids = list(ApiToken.objects.filter(user=user).values_list("pk", flat=True))
        if not ids:
            return 0
        ApiToken.objects.filter(pk__in=ids).delete()
        record_change(
            actor=actor,
            action=Action.DELETE,
            object_type=ApiToken._meta.label_lower,
            object_repr=f"{user.display_name} 的 API 令牌",
            message=f"{reason}：撤销{user.display_name}的全部 API 令牌（{len(ids)}个）",
        )
        return len(ids)


@transaction.atomic
def user_tokens_revoke(*, actor: User, user: User) -> int:
    """An administrator (who may change employees) revokes every token of ``user``."""
    authorize(actor, "change", user)
    return tokens_revoke_all(user=user, reason="管理员撤销", actor=actor)
