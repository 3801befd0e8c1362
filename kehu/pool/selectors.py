"""The pool list: every ownerless customer of the pools a user may browse, always masked."""

from __future__ import annotations

from django.db.models import QuerySet

from kehu.customers.models import Customer

from .rules import visible_pools


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


def pool_customer_get(*, user, pk: int) -> Customer | None:
    return pool_customer_list(user=user).filter(pk=pk).first()
