"""Which documents a user sees: those of the customers they see (SPEC §1: a document follows
its customer), emptied without the type's view permission."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kehu.core.errors import NotFound
from kehu.customers.selectors import visible_customers
from kehu.org.authz import restrict

from .types import DocumentType

# 我的: documents of my customers; 下属: of my subordinates' customers (as the customer list).
TABS = {"all": "全部", "mine": "我的", "subordinates": "下属"}


def document_list(
    decl: DocumentType, *, user, customer_id: int | None = None, q: str = "", tab: str = "all"
) -> QuerySet:
    qs = restrict(decl.base_queryset(), user).filter(
        customer__in=visible_customers(user).values("pk")
    )
    if tab == "mine":
        qs = qs.filter(customer__owner_id=user.pk)
    elif tab == "subordinates":
        from kehu.org.scope import subordinates_of

        qs = qs.filter(
            customer__owner_id__in=list(subordinates_of(user).values_list("id", flat=True))
        )
    elif tab in dict(decl.extra_tabs):
        qs = decl.filter_tab(qs, tab=tab, user=user)
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    q = (q or "").strip()
    if q:
        cond = Q()
        for path in decl.search_fields:
            cond |= Q(**{f"{path}__icontains": q})
        qs = qs.filter(cond)
    return qs


def document_check(decl: DocumentType, *, user, pk: int) -> None:
    """``NotFound`` unless ``user`` sees document ``pk`` — the visibility of :func:`document_get`
    without reading the row (an action that locks and reads it itself)."""
    if not document_list(decl, user=user).filter(pk=pk).exists():
        raise NotFound(f"{decl.label}不存在或无权查看")


def document_get(decl: DocumentType, *, user, pk: int):
    doc = decl.one(document_list(decl, user=user)).filter(pk=pk).first()
    if doc is None:
        raise NotFound(f"{decl.label}不存在或无权查看")
    return doc
