from __future__ import annotations

from django.db.models import Case, Q, QuerySet, Value, When

from kehu.core.errors import NotFound
from kehu.org.authz import restrict

from .models import DictEntry, DictKind, Product, ProductCategory


def dict_entries(*, kind: str | None = None, active_only: bool = False) -> QuerySet[DictEntry]:
    qs = DictEntry.objects.all()
    if kind is not None:
        if kind not in DictKind.values:
            raise NotFound(f"未知的字典类型：{kind}", code="unknown_dict_kind")
        qs = qs.filter(kind=kind)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("kind", "sort", "id")


# --- 产品 (products) ----------------------------------------------------------------------------


# 整车, 配件, 二手车, 租赁: the categories in their declared order, not their codes' order.
CATEGORY_ORDER = Case(
    *(When(category=code, then=Value(i)) for i, code in enumerate(ProductCategory.values)),
    default=Value(len(ProductCategory.values)),
)


def product_search(queryset: QuerySet[Product], q: str | None) -> QuerySet[Product]:
    """Every word of ``q`` in the name, brand or spec: "叉车 CPCD" finds 3吨柴油叉车 CPCD30."""
    for word in (q or "").split():
        queryset = queryset.filter(
            Q(name__icontains=word) | Q(brand__icontains=word) | Q(spec__icontains=word)
        )
    return queryset


def product_list(
    user,
    *,
    q: str | None = None,
    category: str | None = None,
    active: bool | None = None,
) -> QuerySet[Product]:
    """The products ``user`` may read (SPEC §13): every product with ``basics.view_product``,
    none without it. Products are settings rows — no data scope."""
    qs = product_search(restrict(Product.objects.all(), user), q)
    if category:
        qs = qs.filter(category=category)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs.order_by(CATEGORY_ORDER, "name", "spec", "id")


def product_get(user, pk: int) -> Product:
    product = product_list(user).filter(pk=pk).first()
    if product is None:
        raise NotFound("产品不存在或无权查看")
    return product


def product_picker(user, q: str | None = None, *, limit: int = 50) -> list[Product]:
    """What a line item's 产品 picker offers: enabled products only, at most ``limit``."""
    return list(product_list(user, q=q, active=True)[:limit])
