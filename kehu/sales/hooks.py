"""What sales documents plug into the customer and pool modules (kehu/core/registry.py)."""

from __future__ import annotations

from kehu.core.registry import (
    PortraitTab,
    funnel_stages,
    log_visibility,
    register_delete_guard,
    register_portrait_tab,
    return_exemptions,
)
from kehu.org.authz import can

from .models import Opportunity, OpportunityStatus
from .selectors import opportunity_list


@register_delete_guard("customers.customer", many=True)
def customers_with_opportunities(customers) -> dict[int, str]:
    """有商机的客户不能删除: one query for any number of customers."""
    with_opportunities = (
        Opportunity.objects.filter(customer__in=customers.values("pk"))
        .order_by()
        .values_list("customer_id", flat=True)
        .distinct()
    )
    return dict.fromkeys(with_opportunities, "该客户有商机，不能删除")


def open_opportunity_exemption(customers) -> set[int]:
    """有进行中商机的客户不回收: customers with an open 商机, where their pool says so."""
    from kehu.pool.rules import kept_by_pool_switch

    with_open = set(
        Opportunity.objects.filter(
            customer__in=customers, status=OpportunityStatus.OPEN
        ).values_list("customer_id", flat=True)
    )
    return kept_by_pool_switch(with_open, "exempt_open_opportunity")


return_exemptions.append(open_opportunity_exemption)
log_visibility["sales.opportunity"] = lambda user: opportunity_list(user=user)


def portrait_opportunities(request, customer, ctx) -> str:
    """客户商机: the 商机 list's own table, without the customer column (read-only, without
    its actions, on a pool customer)."""
    from django.template.loader import render_to_string

    from kehu.core.pagination import paginate_table

    from .tables import OpportunityTable

    table = OpportunityTable(
        ctx.rows.order_by("-updated_at", "-id"),
        exclude=("customer", *(("actions",) if ctx.read_only else ())),
        orderable=False,
        empty_text="暂无商机",
    )
    paginate_table(request, table, per_page=10)
    return render_to_string(
        "sales/htmx/portrait_opportunities.html",
        {
            "customer": customer,
            "table": table,
            "can_add": not ctx.read_only
            and ctx.can_manage
            and can(request.user, "add", Opportunity(customer=customer)),
        },
        request=request,
    )


def _opportunity_rows(user, customer, in_pool: bool):
    if in_pool:
        from kehu.pool.selectors import pool_customer_rows

        return pool_customer_rows(
            Opportunity.objects.select_related("customer", "creator"), user=user, customer=customer
        )
    return opportunity_list(user=user, customer_id=customer.pk)


register_portrait_tab(
    PortraitTab(
        key="opportunities",
        label="客户商机",
        order=10,
        permission="sales.view_opportunity",
        rows=_opportunity_rows,
        render=portrait_opportunities,
    )
)


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


# --- 报价单, 合同, 回款, 回款计划 -----------------------------------------------------------------

from kehu.core.registry import attachment_visibility, todo_counters, todo_lists  # noqa: E402
from kehu.documents.types import registry as document_types  # noqa: E402
from kehu.documents.views import document_portrait_tab  # noqa: E402

from . import documents  # noqa: E402, F401  (registers the four declarations)

for _decl in sorted(document_types.values(), key=lambda d: d.tab_order):
    if _decl.model._meta.app_label != "sales":
        continue
    register_portrait_tab(document_portrait_tab(_decl))  # 客户画像, by its declaration

    def _visible(user, _decl=_decl):
        from kehu.documents.selectors import document_list

        return document_list(_decl, user=user)

    log_visibility[_decl.model._meta.label_lower] = _visible
    attachment_visibility[_decl.model._meta.label_lower] = _visible


@register_delete_guard("customers.customer", many=True)
def customers_with_documents(customers) -> dict[int, str]:
    """已产生待收款金额或有单据选择了客户则不可删除 (SPEC §2.2): one query per document type
    for any number of customers; a customer with several kinds is told the first kind."""
    reasons: dict[int, str] = {}
    for decl in document_types.values():
        referenced = (
            decl.model._default_manager.filter(customer__in=customers.values("pk"))
            .order_by()
            .values_list("customer_id", flat=True)
            .distinct()
        )
        for pk in referenced:
            reasons.setdefault(pk, f"该客户有{decl.label}，不能删除")
    return reasons


@register_delete_guard("basics.product")
def product_on_line_items(product) -> str | None:
    from .models import ContractItem, QuoteItem

    if (
        QuoteItem.objects.filter(product=product).exists()
        or ContractItem.objects.filter(product=product).exists()
    ):
        return "该产品已用于报价单或合同明细，不能删除；可改为停用"
    return None


def plans_due(user):
    """回款计划到期: unpaid plans of the user's own customers whose reminder day has come."""
    from django.utils import timezone

    from kehu.documents.selectors import document_list

    from .documents import due_plans

    decl = document_types["paymentplan"]
    return (
        due_plans(document_list(decl, user=user), timezone.localdate())
        .filter(customer__owner_id=user.pk)
        .order_by("due_at", "id")
    )


def documents_todo_count(user) -> int:
    """The badge's share of documents — 待我审批, 回款计划到期 and the reminders other apps
    register (``todo_querysets``) — in ONE query."""
    from kehu.core.registry import todo_querysets
    from kehu.documents.approval import pending_querysets

    parts = [qs.values("pk") for _decl, qs in pending_querysets(user)]
    if user.has_perm("sales.view_paymentplan"):
        parts.append(plans_due(user).values("pk"))
    for source in todo_querysets:  # other apps' reminders (保养到期, 年检到期)
        parts += [qs.values("pk") for qs in source(user)]
    if not parts:
        return 0
    from django.db import connection

    parts = [p.order_by() for p in parts]
    if connection.features.supports_slicing_ordering_in_compound:
        # The badge reads "99+" beyond 99: each part counts at most BADGE_CAP rows, so an
        # admin's thousands of pending documents cost no more than a salesperson's few.
        parts = [p[:BADGE_CAP] for p in parts]
    if len(parts) == 1:
        return parts[0].count()
    return parts[0].union(*parts[1:], all=True).count()


BADGE_CAP = 100


todo_counters.append(documents_todo_count)


def _approvals_list(user) -> list[dict]:
    from django.urls import reverse
    from django.utils import timezone

    from kehu.documents.approval import pending_for

    return [
        {
            "type": decl.key,
            "id": doc.pk,
            "number": doc.number,
            "label": f"{decl.label} {doc.number}",
            "detail": f"{doc.customer.name} · 金额 {doc.amount:,.2f} · 提交人 {doc.submitted_by or '—'}",
            "when": timezone.localtime(doc.submitted_at).strftime("%m-%d %H:%M")
            if doc.submitted_at
            else "",
            "url": reverse(f"{decl.url_name}_detail", args=[doc.pk]),
            "amount": f"{doc.amount:.2f}",
        }
        for decl, doc in pending_for(user)
    ]


def _plans_list(user) -> list[dict]:
    from django.urls import reverse
    from django.utils import timezone

    if not user.has_perm("sales.view_paymentplan"):
        return []
    today = timezone.localdate()
    return [
        {
            "id": plan.pk,
            "contract_id": plan.contract_id,
            "customer_id": plan.customer_id,
            "label": f"{plan.customer.name} · 第{plan.instalment}期",
            "detail": f"{plan.contract.name} · 本期 {plan.amount:,.2f}",
            "when": f"{plan.due_at:%Y-%m-%d} 到期",
            "due_at": plan.due_at.isoformat(),
            "amount": f"{plan.amount:.2f}",
            "overdue": plan.due_at < today,
            "url": reverse("paymentplan_detail", args=[plan.pk]),
        }
        for plan in plans_due(user).select_related("contract")[:200]
    ]


todo_lists["payment_plans_due"] = ("回款计划到期", _plans_list)
todo_lists["approvals"] = ("待我审批", _approvals_list)
