"""Who may do what — the ONE authorization rule (SPEC §1).

Scope (:mod:`kehu.org.scope`) decides *which rows* a user sees; a permission decides *what may
be done* with them. Every service calls :func:`authorize` before it writes, so the page, the API,
import, jobs and later documents cannot forget it; views and API routes ask :func:`can` /
:func:`permission_for` only to hide buttons and answer early.

Actions: ``view``, ``add``, ``change``, ``delete`` and the customer actions ``share``,
``transfer``, ``release``, ``claim``, ``import``, ``export``, ``lock``, ``merge``, plus
``approve``/``void`` (作废) for documents. An action on a model needs the permission ``<app>.<action>_<model>``
(:data:`PERMISSION_ALIASES` names the few that share one). An action on an *object* also needs
the object to be the actor's to manage — its owner (or, for contacts, follow-ups and documents,
its customer's owner) is the actor or within the actor's data scope — except ``view`` (the
visibility rule decides) and ``add``/``claim``/``import``/``export``/``approve`` (which say
nothing about an existing owner). A data scope of "all" therefore makes a role read-only unless
it also holds the change permissions: finance sees every customer and changes none.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import QuerySet

from kehu.core.errors import Forbidden

from .scope import can_manage_owner

ACTION_LABELS = {
    "view": "查看",
    "add": "新增",
    "change": "编辑",
    "delete": "删除",
    "share": "分享",
    "transfer": "转移",
    "release": "放入公海",
    "claim": "领取",
    "import": "导入",
    "export": "导出",
    "lock": "锁定",
    "merge": "合并",
    "approve": "审批",
    "void": "作废",
    "restore": "恢复",  # 回收站 (kehu.recyclebin): recyclebin.restore_recycleentry
}

# (model label, action) → the permission that grants it, where it is not <app>.<action>_<model>.
PERMISSION_ALIASES: dict[tuple[str, str], str] = {
    # 锁定 is a change of the customer (no separate permission in SPEC §1's roles).
    ("customers.customer", "lock"): "customers.change_customer",
}

# Actions that concern no owner: the permission alone decides. ``add`` on a model (class) is
# the permission alone too; ``add`` of an unsaved object that names its customer or lead
# (a contact, a follow-up, a 商机) also needs that customer or lead to be the actor's to manage.
OWNERLESS_ACTIONS = {"view", "claim", "import", "export", "approve", "void"}

# Actions granted per app for all its documents: ``sales.approve_document``, ``sales.void_document``.
DOCUMENT_ACTIONS = {"approve", "void"}


def _model_of(target: Any) -> type[models.Model]:
    return target if isinstance(target, type) else type(target)


def permission_for(model: type[models.Model] | models.Model, action: str) -> str:
    """The permission name an action on ``model`` needs, e.g. ``customers.change_contact``."""
    if action not in ACTION_LABELS:
        raise ValueError(f"unknown action {action!r}")
    opts = _model_of(model)._meta
    alias = PERMISSION_ALIASES.get((opts.label_lower, action))
    if alias:
        return alias
    if action in DOCUMENT_ACTIONS:
        return f"{opts.app_label}.{action}_document"
    return f"{opts.app_label}.{action}_{opts.model_name}"


def is_owned(obj: models.Model) -> bool:
    """Records of SPEC §1's data scope: they have an owner (a customer, a lead) or hang on a
    customer or lead (contacts, follow-ups, documents). Settings (users, departments, roles,
    dictionaries, pools) are not: for them the permission alone decides. Neither are records
    whose model says ``permission_decides = True`` — the after-sales documents (车辆, 维修订单,
    保养订单): the after-sales team serves every customer it sees (SPEC §13 "read-only customer
    data, full after-sales documents"), so on those rows (the selectors' visible ones) the
    permission decides."""
    if getattr(type(obj), "permission_decides", False):
        return False
    return any(
        hasattr(obj, "owner_id") if path == "owner" else getattr(type(obj), path, None) is not None
        for path in ("owner", "customer", "lead")
    )


def refusal_message(permission: str) -> str:
    """ "没有转移客户的权限" for ``customers.transfer_customer``: the Chinese refusal of a missing
    permission, for views that check one before any object is read."""
    from django.apps import apps

    app_label, _, codename = permission.partition(".")
    action, _, model_name = codename.partition("_")
    if action in ACTION_LABELS and model_name == "document":
        return f"没有{ACTION_LABELS[action]}单据的权限"
    if action in ACTION_LABELS:
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            model = None
        if model is not None:
            return f"没有{ACTION_LABELS[action]}{model._meta.verbose_name}的权限"
    return "没有权限执行此操作"


def owner_id_of(obj: models.Model) -> int | None:
    """The owner whose records ``obj`` belongs to: its own owner, else its customer's, else its
    lead's; ``None`` for pool customers and ownerless objects."""
    for path in ("owner_id", "customer", "lead"):
        if path == "owner_id" and hasattr(obj, "owner_id"):
            return obj.owner_id
        if path != "owner_id" and getattr(type(obj), path, None) is not None:
            parent = getattr(obj, path, None)
            if parent is not None:
                return owner_id_of(parent)
    return None


def has_permission(user, action: str, model: type[models.Model] | models.Model) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_admin or user.has_perm(permission_for(model, action))


def can(user, action: str, target: type[models.Model] | models.Model) -> bool:
    """May ``user`` do ``action`` on ``target`` (a model, or an object it already sees)."""
    if not has_permission(user, action, target):
        return False
    if isinstance(target, type) or action in OWNERLESS_ACTIONS or not is_owned(target):
        return True
    if action == "add" and target.pk is None and owner_id_of(target) is None:
        return _has_no_parent(target)
    return can_manage_owner(user, owner_id_of(target))


def _has_no_parent(obj: models.Model) -> bool:
    """A new object that hangs on nothing yet (a customer, a lead): the permission decides."""
    return not any(
        getattr(type(obj), path, None) is not None and getattr(obj, f"{path}_id", None)
        for path in ("customer", "lead")
    )


def restrict(queryset: QuerySet, user, action: str = "view") -> QuerySet:
    """``queryset`` emptied when ``user`` lacks the permission for ``action`` on its model.

    Selectors apply the visibility rule (which rows, :mod:`kehu.org.scope`) on top of this, so
    a list, an API list, an export and a picker all answer nothing to a role without the view
    permission — never a list its pages would refuse."""
    if not has_permission(user, action, queryset.model):
        return queryset.none()
    return queryset


def authorize(
    user, action: str, target: type[models.Model] | models.Model, *, message: str = ""
) -> None:
    """Raise :class:`Forbidden` (Chinese) unless ``user`` may do ``action`` on ``target``.

    Call it with an object the user already sees (the selectors answer 404 for the others), so
    a refusal never reveals a hidden object."""
    if can(user, action, target):
        return
    if message:
        raise Forbidden(message)
    model = _model_of(target)
    label = ACTION_LABELS[action]
    name = str(model._meta.verbose_name)
    if not has_permission(user, action, target):
        raise Forbidden(f"没有{label}{name}的权限")
    if hasattr(target, "owner_id"):
        raise Forbidden(f"只有负责人、其上级或管理员可以{label}该{name}")
    raise Forbidden(f"只有客户的负责人、其上级或管理员可以{label}{name}")
