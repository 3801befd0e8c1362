"""首页 per role (issue 13 point 5, issue 14 point 18): the figures each user works from.

Every figure is read through the selectors (the one visibility rule) with set-based queries —
a constant number whatever the data — and carries the URL of the list it counts, with the
filters in the query string, so that the list shows the same number.

Which sections a user gets follows what the user may do, not the role's name:

- 我的 (who may add customers: 业务员, 销售经理, 系统管理员): 今日待跟进 and 已逾期, 回款计划到期,
  待收款 by kind over the customers the user owns, 我的商机 by state;
- 团队 (who leads a department: 销售经理): the same per member — the user and the subordinates
  (``scope.subordinates_of``) — with the team's totals, each member's figures linking to the
  lists filtered by 负责人;
- 待我审批 (who approves a document type): per type, the documents waiting on the user;
- 应收账龄 (who approves 回款: 财务): open receivables by age (``kehu/ledger/ageing.py``);
- 售后 (technicians: who changes service orders): 我的工单 by state and vehicles due for
  maintenance.

商机 states (进行中 / 已成交 / 输单) exclude one another, so they are drawn as bars: a funnel is only
honest where each stage contains the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from kehu.core.money import money_display

ZERO = Decimal("0.00")
LIST_ROWS = 8


def overdue_text(when: datetime, now: datetime | None = None) -> str:
    """How late a follow-up is, the way people say it: "已逾期 20 小时" under a day, then
    "逾期 1 天", "逾期 12 天" (whole days, rounded down); "已逾期 5 分钟" under an hour."""
    now = now or timezone.now()
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 3600:
        return f"已逾期 {max(1, seconds // 60)} 分钟"
    if seconds < 86400:
        return f"已逾期 {seconds // 3600} 小时"
    return f"逾期 {seconds // 86400} 天"


def link(url_name: str, **params) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return reverse(url_name) + (f"?{query}" if query else "")


@dataclass
class Figure:
    label: str
    value: object
    url: str
    testid: str = ""
    amount: Decimal | None = None
    tone: str = ""

    @property
    def amount_display(self) -> str:
        return money_display(self.amount) if self.amount is not None else ""


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def _day_bounds(now: datetime) -> tuple[datetime, datetime]:
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def _receivable_aggregates(prefix: str = "") -> dict:
    from kehu.customers.models import RECEIVABLE_KINDS

    aggregates: dict = {}
    for kind in RECEIVABLE_KINDS:
        column = f"receivable_{kind}"
        aggregates[f"{prefix}sum_{kind}"] = Coalesce(Sum(column), ZERO)
        aggregates[f"{prefix}n_{kind}"] = Count("pk", filter=~Q(**{column: 0}))
    aggregates[f"{prefix}sum_total"] = Coalesce(Sum("receivable_total"), ZERO)
    aggregates[f"{prefix}n_total"] = Count("pk", filter=~Q(receivable_total=0))
    return aggregates


def _followup_aggregates(now: datetime) -> dict:
    start, end = _day_bounds(now)
    return {
        "n_customers": Count("pk"),
        "n_today": Count("pk", filter=Q(next_followup_at__gte=start, next_followup_at__lt=end)),
        "n_overdue": Count("pk", filter=Q(next_followup_at__lt=start)),
    }


def _receivable_figures(row: dict, base: dict) -> list[Figure]:
    from kehu.customers.models import RECEIVABLE_KINDS

    figures = [
        Figure(
            "待收款合计",
            row["n_total"],
            link("customer_list", **base, has_receivable="true"),
            "receivable-total",
            row["sum_total"],
        )
    ]
    for kind, label in RECEIVABLE_KINDS.items():
        figures.append(
            Figure(
                str(label).removesuffix("订单"),
                row[f"n_{kind}"],
                link("customer_list", **base, receivable_kind=kind),
                f"receivable-{kind}",
                row[f"sum_{kind}"],
            )
        )
    return figures


def _opportunity_states() -> list[tuple[str, str]]:
    from kehu.sales.models import OpportunityStatus

    return [(value, str(label)) for value, label in OpportunityStatus.choices]


def my_section(user, now: datetime) -> Section | None:
    from kehu.customers.selectors import customer_list

    if not user.has_perm("customers.add_customer"):
        return None
    today = timezone.localtime(now).date()
    start, end = _day_bounds(now)
    mine = customer_list(user=user, tab="mine")
    row = mine.order_by().aggregate(**_followup_aggregates(now), **_receivable_aggregates())
    section = Section("mine", "我的工作")
    followups = [
        Figure(
            "今日待跟进",
            row["n_today"],
            link(
                "customer_list",
                tab="mine",
                next_followup_from=today.isoformat(),
                next_followup_to=today.isoformat(),
            ),
            "mine-today",
        ),
        Figure(
            "跟进已逾期",
            row["n_overdue"],
            link(
                "customer_list",
                tab="mine",
                next_followup_to=(today - timedelta(days=1)).isoformat(),
            ),
            "mine-overdue",
            tone="danger",
        ),
    ]
    if user.has_perm("sales.view_paymentplan"):
        from kehu.sales.hooks import plans_due

        followups.append(
            Figure(
                "回款计划到期",
                plans_due(user).count(),
                link("paymentplan_list", tab="mine", due="due"),
                "mine-plans-due",
                tone="warning",
            )
        )
    section.figures = followups
    section.extra["receivables"] = _receivable_figures(row, {"tab": "mine"})
    section.extra["today"] = [
        (c, "")
        for c in mine.filter(next_followup_at__gte=start, next_followup_at__lt=end)
        .select_related(None)
        .prefetch_related(None)
        .only("pk", "name", "next_followup_at")
        .order_by("next_followup_at", "pk")[:LIST_ROWS]
    ]
    section.extra["overdue"] = [
        (c, overdue_text(c.next_followup_at or now, now))
        for c in mine.filter(next_followup_at__lt=start)
        .select_related(None)
        .prefetch_related(None)
        .only("pk", "name", "next_followup_at")
        .order_by("-next_followup_at", "-pk")[:LIST_ROWS]
    ]
    if user.has_perm("sales.view_opportunity"):
        from kehu.sales.selectors import opportunity_list

        counts = dict(
            opportunity_list(user=user)
            .filter(customer__owner_id=user.pk)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        section.extra["opportunities"] = [
            Figure(
                label,
                counts.get(value, 0),
                link("opportunity_list", owner=user.pk, status=value),
                f"mine-opportunity-{value}",
            )
            for value, label in _opportunity_states()
        ]
    return section


def team_section(user, now: datetime) -> Section | None:
    """The manager's team: the user and the subordinates, one row each, plus the totals of
    everything the user sees (the lists' 全部 tab)."""
    from kehu.customers.selectors import customer_list
    from kehu.org.scope import subordinates_of

    if not user.has_perm("customers.view_customer"):
        return None
    subordinates = list(
        subordinates_of(user).select_related("department").order_by("department_id", "id")
    )
    if not subordinates:
        return None
    today = timezone.localtime(now).date()
    members = [user, *subordinates]
    grouped: dict[int | None, dict[str, Any]] = {
        row["owner_id"]: dict(row)
        for row in customer_list(user=user, tab="all")
        .order_by()
        .values("owner_id")
        .annotate(**_followup_aggregates(now), **_receivable_aggregates())
    }
    keys = ["n_customers", "n_today", "n_overdue"]
    from kehu.customers.models import RECEIVABLE_KINDS

    money_keys = [f"sum_{k}" for k in RECEIVABLE_KINDS] + ["sum_total"]
    count_keys = [f"n_{k}" for k in RECEIVABLE_KINDS] + ["n_total"]
    total: dict[str, Any] = {k: 0 for k in keys + count_keys} | {k: ZERO for k in money_keys}
    for row in grouped.values():
        for k in total:
            total[k] += row[k]
    opportunities: dict[tuple[int | None, str], int] = {}
    states = _opportunity_states()
    show_opportunities = user.has_perm("sales.view_opportunity")
    if show_opportunities:
        from kehu.sales.selectors import opportunity_list

        for owner_id, status, n in (
            opportunity_list(user=user)
            .order_by()
            .values_list("customer__owner_id", "status")
            .annotate(n=Count("pk"))
        ):
            opportunities[(owner_id, status)] = n
    next_day = {"next_followup_from": today.isoformat(), "next_followup_to": today.isoformat()}
    overdue = {"next_followup_to": (today - timedelta(days=1)).isoformat()}

    def figures_for(row: dict, base: dict, opportunity_base: dict, owner_id, tag: str) -> dict:
        cells: dict[str, Any] = {
            "customers": Figure(
                "客户", row["n_customers"], link("customer_list", **base), f"team-{tag}-customers"
            ),
            "today": Figure(
                "今日待跟进",
                row["n_today"],
                link("customer_list", **base, **next_day),
                f"team-{tag}-today",
            ),
            "overdue": Figure(
                "跟进已逾期",
                row["n_overdue"],
                link("customer_list", **base, **overdue),
                f"team-{tag}-overdue",
            ),
            "receivable": Figure(
                "待收款",
                row["n_total"],
                link("customer_list", **base, has_receivable="true"),
                f"team-{tag}-receivable",
                amount=row["sum_total"],
            ),
            "opportunities": [],
        }
        for value, label in states if show_opportunities else []:
            if owner_id is None:
                n = sum(v for (_o, s), v in opportunities.items() if s == value)
            else:
                n = opportunities.get((owner_id, value), 0)
            cells["opportunities"].append(
                Figure(
                    f"商机{label}",
                    n,
                    link("opportunity_list", **opportunity_base, status=value),
                    f"team-{tag}-opportunity-{value}",
                )
            )
        return cells

    empty: dict[str, Any] = {k: 0 for k in keys + count_keys} | {k: ZERO for k in money_keys}
    rows = []
    for member in members:
        row = grouped.get(member.pk, empty)
        rows.append(
            {
                "member": member,
                "is_me": member.pk == user.pk,
                "cells": figures_for(
                    row, {"owner": member.pk}, {"owner": member.pk}, member.pk, str(member.pk)
                ),
            }
        )
    section = Section("team", "团队")
    section.extra["rows"] = rows
    section.extra["total"] = figures_for(total, {"tab": "all"}, {}, None, "total")
    section.extra["states"] = states if show_opportunities else []
    section.extra["receivables"] = _receivable_figures(total, {"tab": "all"})
    section.extra["chart"] = {
        "members": [m.display_name for m in members],
        "series": [
            {"name": label, "data": [opportunities.get((m.pk, value), 0) for m in members]}
            for value, label in (states if show_opportunities else [])
        ],
        "receivable": [str(grouped.get(m.pk, empty)["sum_total"]) for m in members],
    }
    return section


def approvals_section(user) -> Section | None:
    from kehu.documents.approval import pending_querysets

    found: list[tuple[Any, Any]] = [
        (decl, qs)
        for decl, qs in pending_querysets(user)
        if user.has_perm(f"{decl.model._meta.app_label}.view_{decl.model._meta.model_name}")
    ]  # a type whose list the user cannot open is not a figure to show
    if not found:
        return None
    section = Section("approvals", "待我审批")
    section.figures = [
        Figure(
            decl.label,
            qs.count(),
            link(f"{decl.url_name}_list", awaiting_me="true"),
            f"approvals-{decl.key}",
            tone="warning",
        )
        for decl, qs in found
    ]
    return section


def ageing_section(user, now: datetime) -> Section | None:
    """应收账龄 for who approves 回款 (财务), over the documents the user sees."""
    from kehu.documents.selectors import document_list
    from kehu.documents.types import registry
    from kehu.ledger import ageing
    from kehu.org.authz import permission_for

    payment = registry.get("payment")
    if payment is None or not user.has_perm(permission_for(payment.model, "approve")):
        return None
    today = timezone.localtime(now).date()
    sources: list[tuple[Any, dict]] = []
    for key in ("contract", "repairorder", "maintenanceorder"):
        decl = registry.get(key)
        if decl is None or not user.has_perm(
            f"{decl.model._meta.app_label}.view_{decl.model._meta.model_name}"
        ):
            continue
        qs = document_list(decl, user=user)
        open_qs = ageing.open_contracts(qs) if key == "contract" else ageing.open_service_orders(qs)
        sources.append((decl, ageing.summary(open_qs, today)))
    if not sources:
        return None
    rows: list[dict[str, Any]] = []
    for bucket in ageing.BUCKETS:
        cells = [
            Figure(
                decl.label,
                summary[bucket.key]["count"],
                link(f"{decl.url_name}_list", ageing=bucket.key),
                f"ageing-{decl.key}-{bucket.key}",
                summary[bucket.key]["amount"],
            )
            for decl, summary in sources
        ]
        amount = sum((c.amount or ZERO for c in cells), ZERO)
        rows.append(
            {
                "bucket": bucket,
                "cells": cells,
                "amount": amount,
                "amount_display": money_display(amount),
            }
        )
    section = Section("ageing", "应收账龄")
    section.extra = {
        "columns": [decl.label for decl, _ in sources],
        "rows": rows,
        "definition": ageing.DEFINITION,
        "chart": {
            "buckets": [r["bucket"].label for r in rows],
            "amounts": [str(r["amount"]) for r in rows],
        },
    }
    return section


def aftersales_section(user, now: datetime) -> Section | None:
    """售后: the orders dispatched to the technician by state, and maintenance due."""
    from kehu.aftersales.filters import MAINTENANCE_DUE_DAYS
    from kehu.aftersales.models import MAINTENANCE_STATUS_CHOICES, ServiceStatus
    from kehu.documents.selectors import document_list
    from kehu.documents.types import registry

    if getattr(user, "is_admin", False):
        return None
    section = Section("aftersales", "售后")
    orders = []
    for key in ("repairorder", "maintenanceorder"):
        decl = registry[key]
        if not user.has_perm(f"aftersales.change_{key}"):
            continue
        counts = dict(
            document_list(decl, user=user, tab="assigned")
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
        )
        labels = (
            dict(MAINTENANCE_STATUS_CHOICES)
            if key == "maintenanceorder"
            else dict(ServiceStatus.choices)
        )
        orders.append(
            {
                "label": decl.label,
                "figures": [
                    Figure(
                        str(labels.get(value, label)),
                        counts.get(value, 0),
                        link(f"{decl.url_name}_list", tab="assigned", status=value),
                        f"orders-{key}-{value}",
                    )
                    for value, label in ServiceStatus.choices
                ],
            }
        )
    if not orders:
        return None
    section.extra["orders"] = orders
    vehicle = registry["vehicle"]
    if user.has_perm("aftersales.view_vehicle"):
        today = timezone.localtime(now).date()
        row = (
            document_list(vehicle, user=user)
            .order_by()
            .aggregate(
                due=Count(
                    "pk",
                    filter=Q(
                        next_maintenance_at__gte=today,
                        next_maintenance_at__lte=today + timedelta(days=MAINTENANCE_DUE_DAYS),
                    ),
                ),
                overdue=Count("pk", filter=Q(next_maintenance_at__lt=today)),
            )
        )
        section.figures = [
            Figure(
                f"{MAINTENANCE_DUE_DAYS}天内需保养",
                row["due"],
                link("vehicle_list", maintenance="due"),
                "maintenance-due",
                tone="warning",
            ),
            Figure(
                "保养已逾期",
                row["overdue"],
                link("vehicle_list", maintenance="overdue"),
                "maintenance-overdue",
                tone="danger",
            ),
        ]
    return section


def dashboard(user, now: datetime | None = None) -> dict:
    """The 首页's sections for ``user`` (None where the user has no such work)."""
    now = now or timezone.now()
    return {
        "mine": my_section(user, now),
        "team": team_section(user, now),
        "approvals": approvals_section(user),
        "ageing": ageing_section(user, now),
        "aftersales": aftersales_section(user, now),
    }
