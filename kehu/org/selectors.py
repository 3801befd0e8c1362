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
