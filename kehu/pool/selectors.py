"""The pool: every ownerless customer of the pools a user may browse, always masked (SPEC §3).

A pool customer without a pool (``pool`` NULL, e.g. its pool was removed) belongs to the default
pool: its page opens, it can be claimed (``services.claim_customers``) and the list shows it
(not when the list is narrowed to one named pool)."""

from __future__ import annotations

from django.db.models import QuerySet

from kehu.core.errors import NotFound
from kehu.customers.models import Customer
from kehu.customers.selectors import with_portrait_data

from .rules import browsed_q, browses


def pool_customer_list(*, user, pool_id: int | None = None) -> QuerySet[Customer]:
    if not user.has_perm("customers.view_pool"):
        return Customer.objects.none()
    in_pools = browsed_q(user, pool_id=pool_id)
    qs = (
        Customer.objects.filter(in_pools, owner__isnull=True)
        .select_related("creator", "level", "industry", "source", "previous_owner", "pool")
        .prefetch_related("tags")
    )
    # The default order walks the pool's own indexes (cust_pool_list_cover_idx, …) when a
    # keyword matches many (core.pagination.walked_ids).
    qs.query.kehu_walk_orders = POOL_WALK_ORDERS  # type: ignore[attr-defined]
    return qs


POOL_WALK_ORDERS = frozenset({("-pooled_at", "-id"), ("pooled_at", "id")})


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


def pool_customer_log_rows(*, user, customer: Customer) -> QuerySet:
    """日志 of a pool customer ``user`` sees (through :func:`pool_customer_get`): a queryset
    whose rows are prepared for readers as they are fetched, like ``changelog_list``'s — secrets
    stripped, contact values masked (SPEC §3, §8), field labels and display values
    (``e.object_label``, ``e.lines``: ``kehu.audit.display``)."""
    from kehu.audit.models import ChangeLog
    from kehu.audit.selectors import ReaderIterable

    if not user.has_perm("customers.view_pool"):
        return ChangeLog.objects.none()
    qs = ChangeLog.objects.select_related("actor").filter(
        object_type="customers.customer", object_id=customer.pk
    )
    qs._iterable_class = ReaderIterable
    return qs


def pool_customer_log(*, user, customer: Customer, limit: int = 50) -> list:
    """The newest ``limit`` rows of :func:`pool_customer_log_rows`, newest first."""
    return list(pool_customer_log_rows(user=user, customer=customer).order_by("-id")[:limit])


def customer_or_pool_get(*, user, pk: int) -> tuple[Customer, bool]:
    """``(customer, in_pool)`` for the portrait and ``GET /api/v1/customers/{id}``: a private
    customer the user sees, else a pool customer of a pool the user browses (SPEC §3: masked,
    read-only), else the one 404."""
    from kehu.customers.selectors import customer_get

    try:
        return customer_get(user=user, pk=pk), False
    except NotFound:
        return pool_customer_get(user=user, pk=pk), True


def pool_customer_rows(queryset: QuerySet, *, user, customer: Customer) -> QuerySet:
    """Rows of an app's ``queryset`` (商机, documents …) that belong to a pool customer ``user``
    sees (through :func:`pool_customer_get`): read-only on its portrait, for holders of the
    rows' view permission (``restrict``); the caller masks contact data (SPEC §3)."""
    from kehu.org.authz import restrict

    return restrict(queryset, user).filter(customer_id=customer.pk, customer__owner__isnull=True)


def pool_customer_documents(decl, *, user, customer: Customer) -> QuerySet:
    """One document type's rows of a pool customer (its 客户画像 tab, read-only)."""
    return pool_customer_rows(decl.base_queryset(), user=user, customer=customer)
