"""The ONE visibility rule of SPEC §1, and the one "subordinates of" function.

Every list, detail, search, export, API, portrait tab, duplicate check and dashboard that shows
owned records asks this module which owners a user may see. Nothing else filters by owner.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q, QuerySet

from kehu.core import memo

from .models import DataScope, Department, User


def department_tree() -> dict[int | None, list[int]]:
    """``{parent_id: [child ids]}`` for the whole (small) department table, in one query."""

    def compute() -> dict[int | None, list[int]]:
        children: dict[int | None, list[int]] = defaultdict(list)
        for dept_id, parent_id in Department.objects.values_list("id", "parent_id"):
            children[parent_id].append(dept_id)
        return children

    return memo.memoized("department_tree", compute)


def descendants_of(department_ids: Iterable[int], *, include_self: bool = True) -> set[int]:
    """All departments below the given ones (the given ones too when ``include_self``)."""
    tree = department_tree()
    start = list(department_ids)
    found: set[int] = set(start) if include_self else set()
    stack = list(start)
    while stack:
        for child in tree.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def subordinates_of(user: User) -> QuerySet[User]:
    """Active users in departments the user leads and all their descendants, the user excluded."""
    led = list(Department.objects.filter(leader=user).values_list("id", flat=True))
    if not led:
        return User.objects.none()
    return User.objects.filter(is_active=True, department_id__in=descendants_of(led)).exclude(
        pk=user.pk
    )


def scope_owner_ids(user: User) -> set[int] | None:
    """Ids of the users whose records ``user`` may see by data scope; ``None`` means everyone.

    The user is always included. Departments the user leads widen nothing by themselves: the
    role's data scope decides (SPEC §1), but subordinates are always within scope of a leader
    whose scope is ``dept_and_below`` (its "下属部门" are also the departments it leads, even
    outside its own department, so the subordinates tab never hides a subordinate's records).
    """
    cached = getattr(user, "_scope_owner_ids_cache", None)
    if cached is not None:  # one computation per request (the user object lives that long)
        return None if cached == "all" else set(cached)
    ids = _compute_scope_owner_ids(user)
    setattr(user, "_scope_owner_ids_cache", "all" if ids is None else frozenset(ids))  # noqa: B010
    return ids


def _compute_scope_owner_ids(user: User) -> set[int] | None:
    scope = user.data_scope
    if scope == DataScope.ALL:
        return None
    ids = {user.pk}
    if scope == DataScope.SELF:
        return ids
    if scope == DataScope.DEPT:
        departments = {user.department_id} if user.department_id is not None else set()
    else:
        roots = [user.department_id] if user.department_id is not None else []
        roots += Department.objects.filter(leader=user).values_list("id", flat=True)
        departments = descendants_of(roots)
    if departments:
        ids.update(User.objects.filter(department_id__in=departments).values_list("id", flat=True))
    return ids


def visible_q(
    user: User, *, owner_field: str = "owner", shared_ids=None, owners: Iterable[int] | None = None
) -> Q:
    """The visibility rule as a ``Q`` over a model with an owner (SPEC §1).

    A record is visible when it has an owner and that owner is the user or within the user's
    data scope, or when its id is in ``shared_ids`` (ids shared with the user). Ownerless (pool)
    records are never matched here: the pool has its own selector.

    ``owners`` narrows the answer to records owned by those users (我的客户, 下属客户): the
    intersection is worked out here, so the database gets one plain ``owner IN (…)`` it can
    plan well instead of the rule and the tab's filter on top of each other.
    """
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    owner_ids = scope_owner_ids(user)
    wanted = None if owners is None else set(owners)
    shared = []
    if shared_ids is not None:
        shared = [next(iter(row.values())) if isinstance(row, dict) else row for row in shared_ids]
    if owner_ids is None:
        # Everything private is visible: shares add nothing (and would cost an OR).
        if wanted is None:
            return Q(**{f"{owner_field}__isnull": False})
        return Q(**{f"{owner_field}_id__anyof": sorted(wanted)})
    in_scope = owner_ids if wanted is None else owner_ids & wanted
    # one array parameter however many owners (kehu/core/lookups.py)
    q = Q(**{f"{owner_field}_id__anyof": sorted(in_scope)})
    if shared and (wanted is None or wanted - owner_ids):
        # A literal id list (shares are few) keeps the OR index-friendly.
        owned = (
            Q(**{f"{owner_field}__isnull": False})
            if wanted is None
            else Q(**{f"{owner_field}_id__anyof": sorted(wanted - owner_ids)})
        )
        q |= Q(pk__anyof=shared) & owned
    return q


def restrict(queryset: QuerySet, user: User, **kwargs) -> QuerySet:
    """``queryset`` limited to what ``user`` may see (see :func:`visible_q`)."""
    return queryset.filter(visible_q(user, **kwargs))


def can_manage_owner(user: User, owner_id: int | None) -> bool:
    """May ``user`` act for records owned by ``owner_id`` (owner, scope over owner, or admin)."""
    if user.is_admin:
        return True
    if owner_id is None:
        return False
    owner_ids = scope_owner_ids(user)
    return owner_ids is None or owner_id in owner_ids
