"""Pool rules (SPEC §3) — the one place limits, countdowns and automatic returns are decided."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from kehu.core import memo
from kehu.core.errors import ApplicationError
from kehu.core.registry import return_exemptions

from .models import CustomerClaim, Pool


def default_pool() -> Pool:
    pool = _directory()[2]
    if pool is None:
        pool, _ = Pool.objects.get_or_create(name="客户公海", defaults={"is_default": True})
        memo.clear()
    return pool


def _directory() -> tuple[dict[int, int | None], dict[int, Pool], Pool | None]:
    """``(department parents, {department id: its pool}, the default pool)``, once per request."""

    def load() -> tuple[dict[int, int | None], dict[int, Pool], Pool | None]:
        from kehu.org.models import Department

        parents: dict[int, int | None] = dict(Department.objects.values_list("id", "parent_id"))
        by_dept: dict[int, Pool] = {}
        default: Pool | None = None
        for pool in Pool.objects.prefetch_related("departments"):
            if pool.is_default and default is None:
                default = pool
            for dept in pool.departments.all():
                by_dept.setdefault(dept.pk, pool)
        return parents, by_dept, default

    return memo.memoized("pool_directory", load)


def pool_for_department(department_id: int | None) -> Pool:
    """The pool whose member departments hold ``department_id`` (nearest ancestor wins)."""
    if department_id is None:
        return default_pool()
    parents, by_dept, _default = _directory()
    current: int | None = department_id
    seen: set[int] = set()
    while current is not None and current not in seen:
        if current in by_dept:
            return by_dept[current]
        seen.add(current)
        current = parents.get(current)
    return default_pool()


def into_pool(owner, now: datetime) -> dict:
    """The field values of a customer entering the pool from ``owner`` (SPEC §3): no owner, the
    previous owner kept, the owner's department's pool, no lock and no countdown. Release,
    automatic return and departure handover all apply these."""
    from django.db.models import F

    return {
        "owner": None,
        "previous_owner": owner,
        "pooled_at": now,
        "pool": pool_for_department(owner.department_id if owner else None),
        "is_locked": False,
        "pool_return_at": None,
        "pool_return_rule": "",
        "version": F("version") + 1,
    }


SHARES_ENDED = "负责人变更，结束分享"


def end_shares(*, actor, customers: dict[int, str]) -> list:
    """An owner change ends the customer's shares (SPEC §1): whom to share with was the old
    owner's choice, and the new owner could neither see nor revoke it.

    ``customers`` maps the customers changing owner to their names. Their CustomerShare rows go
    in one DELETE (after one SELECT: at most three queries whatever the batch); the answer is one
    unsaved change-log row per customer that had shares (``shared_with`` before → ``[]``), for
    the caller's ``record_changes``. Call it inside the transaction that changes the owner."""
    from kehu.audit.models import Action
    from kehu.audit.services import change_entry
    from kehu.customers.models import CustomerShare

    if not customers:
        return []
    shared: dict[int, list[int]] = {}
    rows = (
        CustomerShare.objects.filter(customer_id__in=list(customers))
        .order_by("customer_id", "user_id")
        .values_list("customer_id", "user_id")
    )
    for customer_id, user_id in rows:
        shared.setdefault(customer_id, []).append(user_id)
    if not shared:
        return []
    CustomerShare.objects.filter(customer_id__in=list(shared)).delete()
    memo.clear()  # a bulk delete may skip the per-row signals that clear the memoised shares
    return [
        change_entry(
            actor=actor,
            action=Action.SHARE,
            object_type="customers.customer",
            object_id=pk,
            object_repr=customers[pk],
            before={"shared_with": user_ids},
            after={"shared_with": []},
            message=SHARES_ENDED,
        )
        for pk, user_ids in shared.items()
    ]


def pool_for_user(user) -> Pool:
    return pool_for_department(getattr(user, "department_id", None))


def visible_pools(user) -> QuerySet[Pool]:
    """Pools a user may browse: the default pool, and the pools of the user's departments."""
    if user.is_admin:
        return Pool.objects.all()
    from kehu.org.models import Department
    from kehu.org.scope import descendants_of

    mine = pool_for_user(user)
    led = descendants_of(Department.objects.filter(leader=user).values_list("id", flat=True))
    # A leader also browses the pools of the departments below them.
    return Pool.objects.filter(
        Q(is_default=True) | Q(pk=mine.pk) | Q(departments__in=led)
    ).distinct()


def browsed_q(user, *, pool_id: int | None = None) -> Q:
    """The pool customers ``user`` browses, as a condition on ``Customer`` (with
    ``owner IS NULL`` beside it): the pools of :func:`visible_pools` (narrowed to ``pool_id``),
    and a customer without a pool is in the default pool, which everybody browses — the rule of
    :func:`browses` for one customer. Browsing every pool, there is no condition at all: the
    planner then never intersects a keyword search's rows with the whole pool's."""
    pools = visible_pools(user)
    if pool_id:
        pools = pools.filter(pk=pool_id)
    ids = memo.memoized(
        ("pool_list_pools", user.pk, pool_id), lambda: list(pools.values_list("pk", flat=True))
    )
    if pool_id:
        return Q(pool_id__in=ids)
    every = memo.memoized(("pool_ids",), lambda: set(Pool.objects.values_list("pk", flat=True)))
    if set(ids) >= every:
        return Q()
    return Q(pool_id__in=ids) | Q(pool__isnull=True)


def browses(user) -> Callable[[Any], bool]:
    """``browses(user)(customer)``: is the pool customer in a pool ``user`` may browse? A customer
    without a pool belongs to the default pool. The pools are read once; claim, transfer and the
    pool customer's page ask this for each customer."""
    ids = set(visible_pools(user).values_list("pk", flat=True))
    default_pk = default_pool().pk
    return lambda customer: (customer.pool_id or default_pk) in ids


def owned_count(user) -> int:
    """What counts against ``user``'s 拥有上限 (its own pool's rule on won customers)."""
    return owned_counts([user])[user.pk]


def lock_users(user_ids) -> None:
    """Lock these users' rows until the transaction ends, in id order (two lockers of the same
    users cannot deadlock). Whatever gives customers to a user — claim, transfer, lock — takes
    it before counting what the user has (拥有上限, 每日领取上限, 锁定上限), so two operations
    cannot both pass on the same count. Take it before locking customers. SQLite has no row
    locks; its writers serialise anyway.

    FOR NO KEY UPDATE on PostgreSQL: lockers still serialise, but rows that merely reference the
    user (its customers, claims, log rows) are written by others without waiting."""
    from django.db import connection

    from kehu.org.models import User

    ids = sorted({pk for pk in user_ids if pk is not None})
    if not ids:
        return
    no_key = connection.features.has_select_for_no_key_update
    list(
        User.objects.select_for_update(no_key=no_key)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def owned_counts(users) -> dict[int, int]:
    """What counts against each user's 拥有上限, in one query: their private customers, the won
    ones only where their pool's rule counts them (``count_won_in_limit``)."""
    from django.db.models import Count

    from kehu.customers.models import Customer

    users = list(users)
    if not users:
        return {}
    rows = {
        row["owner_id"]: row
        for row in Customer.objects.filter(owner_id__in=[u.pk for u in users])
        .order_by()
        .values("owner_id")
        .annotate(total=Count("pk"), not_won=Count("pk", filter=~Q(status="won")))
    }
    counts = {}
    for user in users:
        row = rows.get(user.pk) or {"total": 0, "not_won": 0}
        counts[user.pk] = row["total"] if pool_for_user(user).count_won_in_limit else row["not_won"]
    return counts


def check_ownership_limit(user, adding: int = 1, *, owned: int | None = None) -> None:
    """拥有上限: refuse when ``user`` would own more private customers than allowed.
    ``owned`` is the user's current count when the caller has it already."""
    pool = pool_for_user(user)
    if not pool.max_owned:
        return
    if owned is None:
        owned = owned_count(user)
    if owned + adding > pool.max_owned:
        raise ApplicationError(
            f"超过拥有上限：{user.display_name}最多可拥有{pool.max_owned}个客户", code="owner_limit"
        )


def claims_today(user, now: datetime | None = None) -> int:
    """How many customers ``user`` has claimed since midnight (Asia/Shanghai)."""
    start = timezone.localtime(now or timezone.now()).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return CustomerClaim.objects.filter(user=user, claimed_at__gte=start).count()


def check_claim_allowed(
    user,
    customer,
    *,
    now: datetime | None = None,
    claimed_today: int = 0,
    done_today: Callable[[], int] | None = None,
) -> None:
    """每日领取上限 and the previous owner's cooldown (原负责人N天内不可领取).

    ``claimed_today`` counts claims of the same batch not stored yet; ``done_today`` gives the
    stored ones (a batch passes a cached :func:`claims_today`, read once)."""
    now = now or timezone.now()
    pool = customer.pool or default_pool()
    if pool.daily_claim_limit:
        stored = done_today() if done_today is not None else claims_today(user, now)
        done = stored + claimed_today
        if done >= pool.daily_claim_limit:
            raise ApplicationError(
                f"今日领取已达上限（{pool.daily_claim_limit}个）", code="daily_limit"
            )
    if (
        pool.reclaim_cooldown_days
        and customer.previous_owner_id == user.pk
        and customer.pooled_at
        and now - customer.pooled_at < timedelta(days=pool.reclaim_cooldown_days)
    ):
        raise ApplicationError(f"原负责人{pool.reclaim_cooldown_days}天内不可领取", code="cooldown")


def days_for(customer, pool: Pool) -> int:
    if customer.level_id and str(customer.level_id) in (pool.level_days or {}):
        return int(pool.level_days[str(customer.level_id)])
    return pool.no_followup_days


def return_due_at(customer, pool: Pool | None = None) -> tuple[datetime | None, str]:
    """When a private customer returns to the pool, and the rule behind it ("" when never)."""
    if customer.owner_id is None or customer.is_locked:
        return None, ""
    pool = pool or pool_for_department(getattr(customer.owner, "department_id", None))
    if pool.exempt_won and customer.status == "won":
        return None, ""
    candidates: list[tuple[datetime, str]] = []
    days = days_for(customer, pool)
    if days:
        anchor = max(
            d for d in (customer.last_followup_at, customer.claimed_at, customer.created_at) if d
        )
        candidates.append((anchor + timedelta(days=days), f"{days}天未跟进"))
    if pool.not_won_days and customer.status != "won":
        anchor = customer.claimed_at or customer.created_at
        candidates.append(
            (anchor + timedelta(days=pool.not_won_days), f"{pool.not_won_days}天未成交")
        )
    if not candidates:
        return None, ""
    return min(candidates)


def refresh_return_due(customer_ids) -> None:
    """Store each customer's next return time (sortable 距回收天数); customers a registered
    exemption keeps (an open 商机, …) have none, so the countdown never promises a return that
    the automatic run would skip."""
    from kehu.customers.models import Customer

    pools: dict[int | None, Pool] = {}
    changed = []
    customers = list(Customer.objects.filter(pk__in=list(customer_ids)).select_related("owner"))
    dues = {}
    for customer in customers:
        dept = customer.owner.department_id if customer.owner is not None else None
        if dept not in pools:
            pools[dept] = pool_for_department(dept)
        dues[customer.pk] = return_due_at(customer, pools[dept])
    # Exemptions matter only to customers that would return (not to one just 已成交).
    returning = [pk for pk, (due, _rule) in dues.items() if due is not None]
    exempt = (
        exempt_ids(Customer.objects.filter(pk__in=returning))
        if return_exemptions and returning
        else set()
    )
    for customer in customers:
        due, rule = (None, "") if customer.pk in exempt else dues[customer.pk]
        if (customer.pool_return_at, customer.pool_return_rule) != (due, rule):
            customer.pool_return_at, customer.pool_return_rule = due, rule
            changed.append(customer)
    if changed:
        Customer.objects.bulk_update(
            changed, ["pool_return_at", "pool_return_rule"], batch_size=500
        )


def days_left(due: datetime | None, now: datetime | None = None) -> int | None:
    if due is None:
        return None
    now = now or timezone.now()
    return (timezone.localtime(due).date() - timezone.localtime(now).date()).days


def kept_by_pool_switch(customer_ids, switch: str) -> set[int]:
    """Of ``customer_ids``, those whose owner's pool (公海规则) has the exemption ``switch`` on
    (e.g. ``exempt_open_opportunity``): the second half of every registered exemption."""
    from kehu.customers.models import Customer

    pools: dict[int | None, Pool] = {}
    kept: set[int] = set()
    for customer in Customer.objects.filter(pk__in=customer_ids).select_related("owner"):
        department = customer.owner.department_id if customer.owner else None
        if department not in pools:
            pools[department] = pool_for_department(department)
        if getattr(pools[department], switch):
            kept.add(customer.pk)
    return kept


def exempt_ids(queryset) -> set[int]:
    """Customers that registered exemptions keep (open opportunities, open service orders)."""
    ids: set[int] = set()
    for exemption in return_exemptions:
        ids.update(exemption(queryset))
    return ids
