"""What sales documents plug into the customer and pool modules (kehu/core/registry.py)."""

from __future__ import annotations

from kehu.core.registry import (
    funnel_stages,
    log_visibility,
    portrait_tabs,
    register_delete_guard,
    return_exemptions,
)
from kehu.org.authz import can

from .models import Opportunity, OpportunityStatus
from .selectors import opportunity_list


@register_delete_guard("customers.customer")
def customer_has_opportunities(customer) -> str | None:
    if Opportunity.objects.filter(customer_id=customer.pk).exists():
        return "该客户有商机，不能删除"
    return None


def open_opportunity_exemption(customers) -> set[int]:
    """有进行中商机的客户不回收: customers with an open 商机, where their pool says so."""
    from kehu.customers.models import Customer
    from kehu.pool.rules import pool_for_department

    with_open = set(
        Opportunity.objects.filter(
            customer__in=customers, status=OpportunityStatus.OPEN
        ).values_list("customer_id", flat=True)
    )
    kept: set[int] = set()
    for customer in Customer.objects.filter(pk__in=with_open).select_related("owner"):
        department = customer.owner.department_id if customer.owner else None
        if pool_for_department(department).exempt_open_opportunity:
            kept.add(customer.pk)
    return kept


return_exemptions.append(open_opportunity_exemption)
log_visibility["sales.opportunity"] = lambda user: opportunity_list(user=user)


def portrait_opportunities(request, customer, can_manage: bool) -> str:
    """客户商机: the 商机 list's own table, without the customer column."""
    from django.template.loader import render_to_string
    from django_tables2 import RequestConfig

    from .tables import OpportunityTable

    table = OpportunityTable(
        opportunity_list(user=request.user, customer_id=customer.pk),
        exclude=("customer",),
        orderable=False,
        empty_text="暂无商机",
    )
    RequestConfig(request, paginate=False).configure(table)
    return render_to_string(
        "sales/htmx/portrait_opportunities.html",
        {
            "customer": customer,
            "table": table,
            "can_add": can_manage and can(request.user, "add", Opportunity(customer=customer)),
        },
        request=request,
    )


portrait_tabs["opportunities"] = ("客户商机", "sales.view_opportunity", portrait_opportunities)


def _funnel_leads(user) -> int | None:
    if not user.has_perm("sales.view_lead"):
        return None
    from .models import LeadStatus
    from .selectors import lead_list

    return lead_list(user=user, tab="mine").filter(status=LeadStatus.FOLLOWING).count()


def _funnel_opportunities(user) -> int | None:
    if not user.has_perm("sales.view_opportunity"):
        return None
    return (
        opportunity_list(user=user)
        .filter(customer__owner_id=user.pk, status=OpportunityStatus.OPEN)
        .count()
    )


funnel_stages.append((10, "跟进中线索", _funnel_leads))
funnel_stages.append((30, "进行中商机", _funnel_opportunities))
