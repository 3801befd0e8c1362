"""The pool: every ownerless customer of the pools a user may browse, always masked (SPEC §3).

A pool customer without a pool (``pool`` NULL, e.g. its pool was removed) belongs to the default
pool: its page opens and it can be claimed (``services.claim_customers``); the list shows only
customers that name a pool."""

from __future__ import annotations

from django.db.models import QuerySet

from kehu.core.errors import NotFound
from kehu.customers.models import Customer
from kehu.customers.selectors import with_portrait_data

from .rules import browses, visible_pools


def pool_customer_list(*, user, pool_id: int | None = None) -> QuerySet[Customer]:
    if not user.has_perm("customers.view_pool"):
        return Customer.objects.none()
    pools = visible_pools(user)
    if pool_id:
        pools = pools.filter(pk=pool_id)
    return (
        Customer.objects.filter(owner__isnull=True, pool__in=pools)
        .select_related("creator", "level", "industry", "previous_owner", "pool")
        .prefetch_related("tags")
    )


def pool_customer_get(*, user, pk: int) -> Customer:
    """One pool customer for its page (客户画像, masked): holding ``customers.view_pool`` and
    browsing its pool (a customer without a pool is in the default pool, which everybody with
    the permission browses). Anything else — a private customer, another pool, no permission —
    is the same 404 as a missing customer."""
    if not user.has_perm("customers.view_pool"):
        raise NotFound("客户不存在或无权查看")
    customer = with_portrait_data(Customer.objects.filter(owner__isnull=True, pk=pk)).first()
    if customer is None or not browses(user)(customer):
        raise NotFound("客户不存在或无权查看")
    return customer


def pool_customer_followups(*, user, customer: Customer):
    """跟进记录 of a pool customer ``user`` sees (through :func:`pool_customer_get`): its history,
    read-only, for whoever may read follow-ups."""
    from kehu.followups.models import FollowUp
    from kehu.org.authz import restrict

    return (
        restrict(FollowUp.objects.all(), user)
        .filter(customer_id=customer.pk, customer__owner__isnull=True)
        .select_related("customer", "type", "author", "contact", "opportunity")
    )


def pool_customer_log(*, user, customer: Customer, limit: int = 50) -> list:
    """日志 of a pool customer ``user`` sees (through :func:`pool_customer_get`), newest first,
    with the contact values masked for readers like every other log output (SPEC §3, §8)."""
    from kehu.audit.models import ChangeLog
    from kehu.audit.selectors import prepare_for_readers

    if not user.has_perm("customers.view_pool"):
        return []
    rows = (
        ChangeLog.objects.filter(object_type="customers.customer", object_id=customer.pk)
        .select_related("actor")
        .order_by("-id")[:limit]
    )
    return prepare_for_readers(rows)  # secrets stripped and contacts masked, as every reader


def customer_or_pool_get(*, user, pk: int) -> tuple[Customer, bool]:
    """``(customer, in_pool)`` for the portrait and ``GET /api/v1/customers/{id}``: a private
    customer the user sees, else a pool customer of a pool the user browses (SPEC §3: masked,
    read-only), else the one 404."""
    from kehu.customers.selectors import customer_get

    try:
        return customer_get(user=user, pk=pk), False
    except NotFound:
        return pool_customer_get(user=user, pk=pk), True
