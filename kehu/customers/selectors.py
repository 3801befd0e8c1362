"""Customer reads, always through the visibility rule of ``kehu.org.scope``."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kehu.core import memo
from kehu.core.errors import ApplicationError, NotFound
from kehu.org.authz import restrict
from kehu.org.scope import scope_owner_ids, subordinates_of, visible_q

from .models import Contact, Customer, CustomerShare

TABS = {
    "all": "全部客户",
    "mine": "我的客户",
    "subordinates": "下属客户",
    "shared_by_me": "分享给他人",
    "shared_with_me": "他人分享",
}


def customer_visible_q(user, *, owners=None) -> Q:
    """SPEC §1: owner, owner within the user's data scope, or shared with the user; with
    ``owners``, only the visible customers those users own."""
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    return visible_q(user, owner_field="owner", shared_ids=_shared_ids(user), owners=owners)


def _shared_ids(user) -> list[int]:
    """Ids of the customers shared with ``user`` (none needed when the scope is 全部)."""
    if scope_owner_ids(user) is None:
        return []  # everything private is visible already
    return memo.memoized(
        ("customer_shares", user.pk),
        lambda: list(
            CustomerShare.objects.filter(user_id=user.pk).values_list("customer_id", flat=True)
        ),
    )


def visible_customers(user) -> QuerySet[Customer]:
    return restrict(Customer.objects.all(), user).filter(customer_visible_q(user))


FEW_OWNERS = 16


def _countable(qs: QuerySet[Customer], user) -> QuerySet[Customer]:
    """Tell the bounded count (``core.pagination.capped_count``) how to count ``qs`` in two
    index-friendly parts, when the rule is "owned within scope OR shared with me": counted
    whole, the OR made PostgreSQL skip 510,000 entries of the owner index for a salesperson
    with 33,000 customers (65 ms); counted as the union of the owned and the shared rows,
    each part is an index range (about 1 ms). The rows themselves are unchanged."""
    shared = _shared_ids(user)
    owners = scope_owner_ids(user)
    # a wide scope (a manager's 200 owners) counts well as it is: its rows fill the bound early
    if shared and owners is not None and len(owners) <= FEW_OWNERS:
        parts = (visible_q(user, owner_field="owner"), Q(pk__in=shared))
        qs.query.kehu_count_parts = parts  # type: ignore[attr-defined]
    return qs


# Orders a list page may walk on its indexes (core.pagination.walked_ids): 创建时间 (the default)
# and 待收款金额, each with or without the owner in front (cust_created_cover_idx, cust_owner_…).
WALK_ORDERS = frozenset(
    {
        ("-created_at", "-id"),
        ("created_at", "id"),
        ("-receivable_total", "-id"),
        ("receivable_total", "id"),
    }
)


def customer_list(*, user, tab: str = "all") -> QuerySet[Customer]:
    """The 客户列表 of one tab, ready for a table (a constant number of queries per page)."""
    qs = visible_customers(user)
    if tab == "mine":
        qs = restrict(Customer.objects.all(), user).filter(
            customer_visible_q(user, owners=[user.pk])
        )
    elif tab == "subordinates":
        subordinates = subordinates_of(user).values_list("id", flat=True)
        qs = restrict(Customer.objects.all(), user).filter(
            customer_visible_q(user, owners=subordinates)
        )
    elif tab == "shared_by_me":
        qs = qs.filter(
            pk__in=CustomerShare.objects.filter(shared_by_id=user.pk).values("customer_id")
        )
    elif tab == "shared_with_me":
        qs = qs.filter(pk__in=CustomerShare.objects.filter(user_id=user.pk).values("customer_id"))
    qs = (
        _countable(qs, user)
        .select_related("owner", "creator", "level", "industry", "source")
        .prefetch_related("tags")
    )
    qs.query.kehu_walk_orders = WALK_ORDERS  # type: ignore[attr-defined]
    return qs


def with_portrait_data(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """What the portrait and the API detail show of a customer, read with it (pool or not).

    Five relations are joined, the others read by their key (``prefetch_related``: one small
    query each, none when empty). PostgreSQL's planner searches join orders exponentially: the
    customer with all eleven relations joined took 7–20 ms to *plan* (0.1 ms to run), on every
    portrait page, tab and API call (bench/portrait.py). Not its contacts either: the header
    names the primary one from the customer's own columns, the 联系人 tab pages them."""
    return queryset.select_related(
        "owner", "creator", "level", "industry", "source"
    ).prefetch_related("tags", "referrer", "previous_owner", "province", "city", "district", "pool")


def customer_get(*, user, pk: int) -> Customer:
    """One visible customer; a hidden one is indistinguishable from a missing one."""
    customer = with_portrait_data(visible_customers(user)).filter(pk=pk).first()
    if customer is None:
        raise NotFound("客户不存在或无权查看")
    return customer


def shared_users(customer: Customer):
    return [s.user for s in customer.shares.select_related("user").order_by("id")]


def contact_list(*, user) -> QuerySet[Contact]:
    """Every contact of every customer the user may see (SPEC §5.3)."""
    return (
        restrict(Contact.objects.all(), user)
        .filter(customer__in=visible_customers(user).values("pk"))
        .select_related("customer", "customer__owner")
    )


def document_customer(*, user, customer) -> Customer:
    """The customer a new document (contact, 商机, …) is for: given as an id or an instance, it
    must be visible to ``user`` and not in the pool; else a Chinese error on ``customer``."""
    if customer is not None and not isinstance(customer, Customer):
        customer = visible_customers(user).filter(pk=customer).first()
    elif customer is not None and not visible_customers(user).filter(pk=customer.pk).exists():
        customer = None
    if customer is None:
        raise ApplicationError("请选择客户", errors={"customer": ["客户不存在或无权查看"]})
    return customer
