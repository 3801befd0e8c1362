"""Writes on the organisation: users, departments, roles. Each writes the change log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from kehu.audit.models import Action
from kehu.audit.services import record_change, snapshot
from kehu.core.errors import ApplicationError
from kehu.core.services import validated_save

from .models import Department, Role, User
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
