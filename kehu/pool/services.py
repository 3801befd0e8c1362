"""Ownership operations (SPEC §3): release to the pool, claim, transfer, lock, move, auto-return.

Each writes the change log with who, the previous and new owner and the pool.
"""

from __future__ import annotations

import functools
import random
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from kehu.audit.models import Action
from kehu.audit.services import change_entry, record_change, record_changes
from kehu.core import memo
from kehu.core.errors import ApplicationError, Forbidden, NotFound
from kehu.core.services import BatchResult, run_batch
from kehu.customers.models import Customer
from kehu.customers.selectors import visible_customers
from kehu.org.authz import authorize, can, has_permission
from kehu.org.models import User
from kehu.org.selectors import with_can_own_customers

from . import rules
from .allocation import allocate
from .models import CustomerClaim, Pool

ALREADY_CLAIMED = "已被他人领取"
NOT_VISIBLE = "客户不存在或无权查看"


def _owner_name(user) -> str | None:
    return user.display_name if user else None


def _log_entry(actor, customer, action, before_owner, after_owner, pool=None, message=""):
    return change_entry(
        actor=actor,
        action=action,
        obj=customer,
        before={"owner": _owner_name(before_owner)},
        after={"owner": _owner_name(after_owner), **({"pool": pool.name} if pool else {})},
        message=message,
    )


def release_customers(*, actor: User, ids: list[int], reason: str = "") -> BatchResult:
    """放入公海: owner becomes empty, previous owner kept; the owner, someone whose scope covers
    the owner, or an admin may do it. The customer goes to its owner's department's pool.

    The customers' shares end (:func:`rules.end_shares`: they were the old owner's choice).

    One pass for the whole batch: the visible customers are read and locked in one query, then
    updated with one UPDATE per previous owner (their pool and ``previous_owner`` differ), their
    shares ended in one DELETE and everything logged in one INSERT."""
    reason = (reason or "").strip()[:200]
    message = f"放入公海：{reason}" if reason else "放入公海"
    now = timezone.now()
    wanted = list(dict.fromkeys(ids))
    reasons: dict[int, str] = {}
    with memo.scope(), transaction.atomic():
        locked = (
            visible_customers(actor).filter(pk__in=wanted).select_related("owner").order_by("pk")
        )
        if connection.features.has_select_for_update_of:
            locked = locked.select_for_update(of=("self",))
        else:
            locked = locked.select_for_update()
        found = {c.pk: c for c in locked}
        by_owner: dict[int | None, list[int]] = {}
        for pk in wanted:
            customer = found.get(pk)
            if customer is None:
                reasons[pk] = NOT_VISIBLE
            elif not can(actor, "release", customer):
                reasons[pk] = (
                    "只有负责人、其上级或管理员可以将客户放入公海"
                    if has_permission(actor, "release", customer)
                    else "没有放入公海的权限"
                )
            else:
                by_owner.setdefault(customer.owner_id, []).append(pk)
        entries = []
        for pks in by_owner.values():
            owner = found[pks[0]].owner
            fields = rules.into_pool(owner, now)
            Customer.objects.filter(pk__in=pks).update(**fields)
            entries += [
                _log_entry(actor, found[pk], Action.TO_POOL, owner, None, fields["pool"], message)
                for pk in pks
            ]
        entries += rules.end_shares(
            actor=actor,
            customers={pk: found[pk].name for pks in by_owner.values() for pk in pks},
        )
        record_changes(entries)
    result = BatchResult(done=[pk for pk in wanted if pk not in reasons])
    for pk in wanted:
        if pk in reasons:
            result.refuse(pk, reasons[pk], name=_known_name(found, pk, reasons[pk]))
    return result


def _claimed_reason(actor: User, customer: Customer) -> str:
    """Why a private customer cannot be claimed, revealing nothing the claimer could not know:
    one that has been in a pool the claimer browses was public, so 已被他人领取 tells nothing
    new; one that never was answers like a missing id (no existence oracle)."""
    if customer.owner_id == actor.pk:
        return "已是您的客户"
    return ALREADY_CLAIMED if customer.pooled_at is not None else NOT_VISIBLE


def claim_customers(*, actor: User, ids: list[int]) -> BatchResult:
    """领取: exactly one claimer wins a customer and the others are told 已被他人领取.

    One pass for the whole batch: lock the claimer's own row first, so that one user's parallel
    claims serialise and each counts what the previous ones stored (拥有上限, 每日领取上限 hold
    under concurrency; claims by different users do not wait for each other). Then read the
    customers, check visibility, limits and the cooldown per customer in memory, lock those
    still ownerless (``SELECT … FOR UPDATE WHERE owner IS NULL``: a claimer that waited for
    another's lock re-reads the row and no longer finds it free), give them to the claimer in
    one UPDATE, end any shares left on them and write the claim and change-log rows in one
    INSERT each. A constant number of queries whatever the batch size.
    """
    authorize(actor, "claim", Customer, message="没有领取公海客户的权限")
    wanted = list(dict.fromkeys(ids))
    reasons: dict[int, str] = {}
    taken: list[int] = []
    with memo.scope(), transaction.atomic():
        rules.lock_users([actor.pk])
        found = {c.pk: c for c in Customer.objects.filter(pk__in=wanted).select_related("pool")}
        browsable = rules.browses(actor)
        own_pool = rules.pool_for_user(actor)
        owned = rules.owned_count(actor) if own_pool.max_owned else 0
        now = timezone.now()
        stored = functools.cache(
            lambda: rules.claims_today(actor, now)
        )  # read once, if a limit asks
        candidates: list[int] = []
        for pk in wanted:
            customer = found.get(pk)
            if customer is None or not browsable(customer):
                reasons[pk] = NOT_VISIBLE
                continue
            if customer.owner_id is not None:
                reasons[pk] = _claimed_reason(actor, customer)
                continue
            try:
                rules.check_ownership_limit(actor, len(candidates) + 1, owned=owned)
                rules.check_claim_allowed(
                    actor, customer, now=now, claimed_today=len(candidates), done_today=stored
                )
            except ApplicationError as exc:
                reasons[pk] = exc.message
                continue
            candidates.append(pk)
        free = set(
            Customer.objects.select_for_update()
            .filter(pk__in=candidates, owner__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        taken = [pk for pk in candidates if pk in free]
        reasons.update((pk, ALREADY_CLAIMED) for pk in candidates if pk not in free)
        if taken:
            Customer.objects.filter(pk__in=taken, owner__isnull=True).update(
                owner=actor, claimed_at=now, version=F("version") + 1
            )
            CustomerClaim.objects.bulk_create(
                CustomerClaim(customer_id=pk, user=actor, pool=found[pk].pool) for pk in taken
            )
            rules.refresh_return_due(taken)
            # A pool customer has no shares left normally (release ends them); rows from before
            # that rule, or written meanwhile, must not outlive the new owner's claim.
            entries = rules.end_shares(actor=actor, customers={pk: found[pk].name for pk in taken})
            record_changes(
                [
                    _log_entry(actor, found[pk], Action.CLAIM, None, actor, found[pk].pool)
                    for pk in taken
                ]
                + entries
            )
    result = BatchResult(done=taken)
    for pk in wanted:
        if pk in reasons:
            result.refuse(pk, reasons[pk], name=_known_name(found, pk, reasons[pk]))
    return result


def transfer_customers(
    *,
    actor: User,
    ids: list[int],
    user_ids: list[int],
    allocation: str = "even",
    rng: random.Random | None = None,
) -> BatchResult:
    """转移 (SPEC §3, §4.3): give customers to one or more employees with the shared allocation.

    转移 needs the transfer permission (SPEC §13: a permission decides the action; 销售经理 and
    admins hold it, a role may be given it in 角色); a private customer must also be the actor's
    to manage (its owner, someone whose scope covers the owner, an admin), a pool customer in a
    pool the actor browses.
    Ownership limits are checked per target, under a lock of the targets' rows (taken in id
    order, before the customers', like a claim) so parallel transfers and claims cannot push a
    target past 拥有上限. The customers' shares end (they were the old owner's choice).

    One pass for the whole batch, like release and claim: targets locked and read, customers
    read and locked in one query, one UPDATE per target, shares ended in one DELETE, one log
    INSERT — a constant number of queries per batch (per target for the UPDATEs).
    """
    authorize(actor, "transfer", Customer)
    wanted = list(dict.fromkeys(user_ids or []))
    unique_ids = list(dict.fromkeys(ids))
    reasons: dict[int, str] = {}
    by_target: dict[int, list[int]] = {}
    with memo.scope(), transaction.atomic():
        rules.lock_users(wanted)
        targets = list(with_can_own_customers(User.objects.filter(pk__in=wanted, is_active=True)))
        if len(targets) != len(wanted):
            raise ApplicationError(
                "目标员工不存在或已停用",
                code="bad_target",
                errors={"user_ids": ["目标员工不存在或已停用"]},
            )
        # only users who can own customers (not 系统管理员 / 财务 / 售后 by default, issue 14.4)
        cannot = [t.display_name for t in targets if not getattr(t, "can_own_customers", False)]
        if cannot:
            message = f"{'、'.join(cannot)}不能负责客户（角色没有编辑客户的权限）"
            raise ApplicationError(message, code="bad_target", errors={"user_ids": [message]})
        targets.sort(key=lambda u: wanted.index(u.pk))
        plan = dict(
            zip(unique_ids, allocate(len(unique_ids), targets, allocation, rng), strict=True)
        )
        now = timezone.now()
        # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the owner join.
        locked = Customer.objects.filter(pk__in=unique_ids).select_related("owner", "pool")
        if connection.features.has_select_for_update_of:
            locked = locked.select_for_update(of=("self",))
        else:
            locked = locked.select_for_update()
        found = {c.pk: c for c in locked.order_by("pk")}
        private = [pk for pk, c in found.items() if c.owner_id is not None]
        visible = set(visible_customers(actor).filter(pk__in=private).values_list("pk", flat=True))
        pooled = any(c.owner_id is None for c in found.values())
        browsable = rules.browses(actor) if pooled else None
        limited = [t for t in targets if rules.pool_for_user(t).max_owned]
        owned = rules.owned_counts(limited)
        adding: dict[int, int] = {}
        for pk in unique_ids:
            customer, target = found.get(pk), plan[pk]
            try:
                if customer is None:
                    raise NotFound(NOT_VISIBLE)
                if customer.owner_id is None:
                    # A pool customer has no owner to manage: the permission (checked above)
                    # and the pool decide.
                    if browsable is None or not browsable(customer):
                        raise NotFound(NOT_VISIBLE)
                else:
                    if pk not in visible:
                        raise NotFound(NOT_VISIBLE)
                    authorize(actor, "transfer", customer)
                if customer.owner_id == target.pk:
                    raise ApplicationError(f"客户已属于{target.display_name}", code="same_owner")
                rules.check_ownership_limit(
                    target, adding.get(target.pk, 0) + 1, owned=owned.get(target.pk)
                )
            except ApplicationError as exc:
                reasons[pk] = exc.message
                continue
            adding[target.pk] = adding.get(target.pk, 0) + 1
            by_target.setdefault(target.pk, []).append(pk)
        done = [pk for pk in unique_ids if pk not in reasons]
        entries = []
        for target in targets:
            pks = by_target.get(target.pk)
            if not pks:
                continue
            # The SET expressions read the row as it was: the old owner becomes previous_owner
            # (a pool customer keeps its previous owner).
            Customer.objects.filter(pk__in=pks).update(
                owner=target,
                previous_owner=Coalesce(F("owner"), F("previous_owner")),
                claimed_at=now,
                is_locked=False,
                version=F("version") + 1,
            )
            for pk in pks:
                customer = found[pk]
                entries.append(
                    _log_entry(
                        actor,
                        customer,
                        Action.TRANSFER,
                        customer.owner,
                        target,
                        customer.pool if customer.owner_id is None else None,
                    )
                )
        if done:
            rules.refresh_return_due(done)
        # Last: its DELETE clears the memo (pools, departments) the steps above read.
        entries += rules.end_shares(actor=actor, customers={pk: found[pk].name for pk in done})
        record_changes(entries)
    result = BatchResult(done=done)
    result.notes = [
        f"{target.display_name} 接收 {len(by_target[target.pk])} 个客户"
        for target in targets
        if by_target.get(target.pk)
    ]
    for pk in unique_ids:
        if pk in reasons:
            result.refuse(pk, reasons[pk], name=_known_name(found, pk, reasons[pk]))
    return result


def _known_name(found: dict[int, Customer], pk: int, reason: str) -> str:
    """The refused customer's name for the result dialog, unless it was not visible."""
    return found[pk].name if pk in found and reason != NOT_VISIBLE else ""


@transaction.atomic
def set_locked(*, actor: User, customer_id: int, locked: bool) -> Customer:
    """锁定: a locked customer never returns automatically; each user may lock a limited number."""
    customer = visible_customers(actor).select_for_update().filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(NOT_VISIBLE)
    authorize(actor, "lock", customer)
    if locked and not customer.is_locked:
        rules.lock_users([customer.owner_id])  # the owner's lock limit, counted under a lock too
        pool = rules.pool_for_user(customer.owner)
        in_use = Customer.objects.filter(owner_id=customer.owner_id, is_locked=True).count()
        if pool.lock_limit == 0 or in_use >= pool.lock_limit:
            raise ApplicationError(f"锁定客户已达上限（{pool.lock_limit}个）", code="lock_limit")
    Customer.objects.filter(pk=customer_id).update(is_locked=locked)
    record_change(
        actor=actor,
        action=Action.UPDATE,
        obj=customer,
        before={"is_locked": customer.is_locked},
        after={"is_locked": locked},
    )
    rules.refresh_return_due([customer_id])
    customer.refresh_from_db()
    return customer


def move_to_pool(*, actor: User, ids: list[int], pool_id: int) -> BatchResult:
    """Move pool customers between pools (admins)."""
    if not actor.is_admin:
        raise Forbidden()
    pool = Pool.objects.filter(pk=pool_id).first()
    if pool is None:
        raise ApplicationError("公海不存在", errors={"pool_id": ["公海不存在"]})

    def move(pk: int) -> None:
        customer = Customer.objects.filter(pk=pk, owner__isnull=True).first()
        if customer is None:
            raise NotFound("客户不在公海中")
        Customer.objects.filter(pk=pk).update(pool=pool)
        record_change(
            actor=actor,
            action=Action.UPDATE,
            obj=customer,
            before={"pool": customer.pool_id},
            after={"pool": pool.pk},
        )

    return run_batch(ids, move)


def return_overdue_customers(*, now=None) -> dict[str, Any]:
    """The scheduled automatic return: idempotent (a returned customer has no due time left).
    Like a release, it ends the customer's shares."""
    now = now or timezone.now()
    due = Customer.objects.filter(owner__isnull=False, is_locked=False, pool_return_at__lte=now)
    exempt = rules.exempt_ids(due)
    returned = 0
    for customer in due.exclude(pk__in=exempt).select_related("owner").iterator():
        with transaction.atomic():
            # Re-check under lock: a follow-up may have moved the due time meanwhile.
            fresh = (
                Customer.objects.select_for_update()
                .filter(pk=customer.pk, owner__isnull=False)
                .select_related("owner")
                .first()
            )
            if fresh is None:
                continue
            rules.refresh_return_due([fresh.pk])
            fresh.refresh_from_db()
            if fresh.pool_return_at is None or fresh.pool_return_at > now or fresh.is_locked:
                continue
            owner = fresh.owner
            fields = rules.into_pool(owner, now)
            pool = fields["pool"]
            Customer.objects.filter(pk=fresh.pk).update(**fields)
            entry = _log_entry(
                "系统",
                fresh,
                Action.TO_POOL,
                owner,
                None,
                pool,
                f"自动回收：{fresh.pool_return_rule}",
            )
            record_changes(
                [entry, *rules.end_shares(actor="系统", customers={fresh.pk: fresh.name})]
            )
            returned += 1
    return {"returned": returned, "exempt": len(exempt)}


@transaction.atomic
def pool_save(*, actor: User, instance: Pool | None, data: dict[str, Any]) -> Pool:
    """Create a pool or change its rules; every customer's countdown follows the new rules."""
    from kehu.audit.services import snapshot
    from kehu.core.services import validated_save

    if not actor.is_admin:
        raise Forbidden()
    pool = instance or Pool()
    before = snapshot(pool) if instance else None
    level_days = data.get("level_days") or {}
    if not isinstance(level_days, dict) or not all(
        str(k).isdigit() and isinstance(v, int) and v >= 0 for k, v in level_days.items()
    ):
        raise ApplicationError(
            "按等级天数格式不正确",
            errors={"level_days": ['格式：{"等级ID": 天数}，天数为非负整数']},
        )
    for field, value in data.items():
        if field != "departments":
            setattr(pool, field, value)
    validated_save(pool)
    if "departments" in data:
        pool.departments.set(data["departments"])
    record_change(
        actor=actor,
        action=Action.UPDATE if instance else Action.CREATE,
        obj=pool,
        before=before,
        after=snapshot(pool),
    )
    transaction.on_commit(lambda: schedule_refresh_all())
    return pool


def schedule_refresh_all() -> None:
    """Recompute every private customer's countdown in the background worker."""
    from django_q.tasks import async_task

    async_task("kehu.pool.tasks.refresh_all_countdowns")
