from __future__ import annotations

from django.db.models import QuerySet

from kehu.core.errors import NotFound
from kehu.customers.selectors import visible_customers
from kehu.org.authz import restrict
from kehu.org.scope import subordinates_of, visible_q

from .models import Lead, Opportunity

TABS = {"all": "全部线索", "mine": "我的线索", "subordinates": "下属线索"}


def visible_leads(user) -> QuerySet[Lead]:
    return restrict(Lead.objects.filter(visible_q(user, owner_field="owner")), user)


def lead_list(*, user, tab: str = "all") -> QuerySet[Lead]:
    qs = visible_leads(user)
    if tab == "mine":
        qs = qs.filter(owner_id=user.pk)
    elif tab == "subordinates":
        qs = qs.filter(owner_id__in=list(subordinates_of(user).values_list("id", flat=True)))
    return qs.select_related("owner", "creator", "source", "customer")


def lead_get(*, user, pk: int) -> Lead:
    lead = lead_list(user=user).filter(pk=pk).first()
    if lead is None:
        raise NotFound("线索不存在或无权查看")
    return lead


def opportunity_list(*, user, customer_id: int | None = None) -> QuerySet[Opportunity]:
    """商机 of the customers the user sees (SPEC §1: a document follows its customer)."""
    qs = restrict(Opportunity.objects.all(), user).filter(
        customer__in=visible_customers(user).values("pk")
    )
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    return qs.select_related("customer", "customer__owner", "creator")


def opportunity_get(*, user, pk: int) -> Opportunity:
    opportunity = opportunity_list(user=user).filter(pk=pk).first()
    if opportunity is None:
        raise NotFound("商机不存在或无权查看")
    return opportunity
