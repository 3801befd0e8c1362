"""Reads on the organisation."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from .models import ApiToken, Department, Role, User


def user_list(*, active_only: bool = False) -> QuerySet[User]:
    qs = User.objects.select_related("department").prefetch_related("roles")
    return qs.filter(is_active=True) if active_only else qs


def token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's own API tokens, newest first (expired ones too, until they are purged)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def department_list() -> QuerySet[Department]:
    return Department.objects.select_related("parent", "leader").annotate(
        member_count=Count("members")
    )


def role_list() -> QuerySet[Role]:
    return Role.objects.annotate(user_count=Count("users"))


def department_tree_rows() -> list[dict]:
    """Departments as nested ``{id, name, parent_id, leader_id, children: [...]}`` dicts."""
    rows: dict[int, dict[str, Any]] = {
        d.pk: {
            "id": d.pk,
            "name": d.name,
            "parent_id": d.parent_id,
            "leader_id": d.leader_id,
            "children": [],
        }
        for d in Department.objects.order_by("sort", "id")
    }
    roots: list[dict[str, Any]] = []
    for row in rows.values():
        parent = rows.get(row["parent_id"]) if row["parent_id"] else None
        (parent["children"] if parent else roots).append(row)
    return roots


# Who can be given customers: holders of this permission through a role (业务员, 销售经理, or a
# custom role with it) — not 系统管理员, 财务 or 售后 by default (issue 14.4).
OWNS_CUSTOMERS = ("customers", "change_customer")


def customer_owner_candidates(*, actor: User | None = None) -> QuerySet[User]:
    """Active users who can own customers, within ``actor``'s data scope (everyone when the
    actor's scope is 全部 or no actor is given): the targets of 转移 and of an import's
    归属员工."""
    from .scope import scope_owner_ids

    app_label, codename = OWNS_CUSTOMERS
    holders = Role.objects.filter(
        permissions__content_type__app_label=app_label, permissions__codename=codename
    )
    qs = User.objects.filter(is_active=True, roles__in=holders).distinct()
    if actor is not None:
        ids = scope_owner_ids(actor)
        if ids is not None:
            qs = qs.filter(pk__in=ids)
    return qs.order_by("id")


def customer_share_candidates() -> QuerySet[User]:
    """Who a customer can be shared with (分享, read access): active colleagues who may view
    customers but do not already see every customer — 业务员, 销售经理, 售后 (whose own scope
    is themselves: sharing is how a salesperson hands a customer to the after-sales team), not
    系统管理员 or 财务 (scope 全部: a share would change nothing). Not narrowed to the actor's
    scope: a salesperson's scope is himself, and sharing reaches colleagues beyond it."""
    from .models import DataScope

    viewers = Role.objects.filter(
        permissions__content_type__app_label="customers",
        permissions__codename="view_customer",
    )
    sees_all = Role.objects.filter(data_scope=DataScope.ALL) | Role.objects.filter(is_admin=True)
    return (
        User.objects.filter(is_active=True, is_superuser=False, roles__in=viewers)
        .exclude(roles__in=sees_all)
        .distinct()
        .order_by("id")
    )


def with_can_own_customers(queryset: QuerySet[User]) -> QuerySet[User]:
    """``queryset`` annotated with ``can_own_customers`` (same rule, no extra query)."""
    from django.db.models import Exists, OuterRef

    app_label, codename = OWNS_CUSTOMERS
    holders = Role.objects.filter(
        users=OuterRef("pk"),
        permissions__content_type__app_label=app_label,
        permissions__codename=codename,
    )
    return queryset.annotate(can_own_customers=Exists(holders))
