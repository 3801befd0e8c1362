"""What the after-sales documents plug into the customer module (kehu/core/registry.py): the
客户画像 tabs 客户车辆 / 维修记录 / 保养记录, log and attachment visibility, the product delete
guard and the dashboard's 我的工单 card. (The customer's delete guard of kehu/sales/hooks.py
covers every registered document type, these included.)"""

from __future__ import annotations

from dataclasses import replace

from kehu.core.registry import (
    attachment_visibility,
    dashboard_cards,
    log_visibility,
    recyclable_models,
    register_delete_guard,
    register_portrait_tab,
    return_exemptions,
    todo_lists,
    todo_querysets,
)
from kehu.documents.types import registry as document_types
from kehu.documents.views import document_portrait_tab, portrait_tab

from . import documents  # noqa: F401  (registers the three declarations)
from .models import EDITABLE_STATUSES, ServiceStatus

KEYS = ("vehicle", "repairorder", "maintenanceorder", "onaccount")


def _tab(decl):
    render = portrait_tab(decl)

    def render_tab(request, customer, ctx) -> str:
        # The after-sales team adds vehicles and orders to customers it sees without managing
        # them (read-only customer data, full after-sales documents); never to a pool customer.
        can_add = ctx.can_manage or customer.owner_id is not None
        return render(request, customer, replace(ctx, can_manage=can_add))

    return render_tab


for _key in KEYS:
    _decl = document_types[_key]
    _label = _decl.model._meta.label_lower
    register_portrait_tab(document_portrait_tab(_decl, render=_tab(_decl)))

    def _visible(user, _decl=_decl):
        from kehu.documents.selectors import document_list

        return document_list(_decl, user=user)

    log_visibility[_label] = _visible
    attachment_visibility[_label] = _visible
    recyclable_models.add(_label)  # document_delete sends them to the 回收站


@register_delete_guard("basics.product")
def product_on_service_items(product) -> str | None:
    from .models import MaintenanceOrderItem, RepairOrderItem

    if (
        RepairOrderItem.objects.filter(product=product).exists()
        or MaintenanceOrderItem.objects.filter(product=product).exists()
    ):
        return "该产品已用于维修或保养订单明细，不能删除；可改为停用"
    return None


OPEN_STATUSES = (*EDITABLE_STATUSES, ServiceStatus.AWAITING_PAYMENT)


def my_work_orders(user) -> dict | None:
    """我的工单: open repair and maintenance orders dispatched to the user (technicians)."""
    from django.urls import reverse

    from .models import MaintenanceOrder, RepairOrder

    perms = [
        p for p in ("repairorder", "maintenanceorder") if user.has_perm(f"aftersales.change_{p}")
    ]
    if not perms or user.is_admin:
        return None
    count = sum(
        model.objects.filter(assignee_id=user.pk, status__in=OPEN_STATUSES).count()
        for model, key in ((RepairOrder, "repairorder"), (MaintenanceOrder, "maintenanceorder"))
        if key in perms
    )
    return {
        "label": "我的工单",
        "value": count,
        "url": reverse(f"{perms[0]}_list") + "?tab=assigned",
        "icon": "ti-tool",
    }


dashboard_cards.append(my_work_orders)


# --- 通知代办: 保养到期 and 年检到期 (for the customer's owner and the after-sales team) ----------


def _reminded_vehicles(user):
    """Vehicles whose reminders ``user`` gets: the after-sales team (change permission) every
    vehicle it sees, anybody else the vehicles of the customers they own."""
    from kehu.documents.selectors import document_list

    if not user.has_perm("aftersales.view_vehicle"):
        return None
    vehicles = document_list(document_types["vehicle"], user=user)
    if not (user.is_admin or user.has_perm("aftersales.change_vehicle")):
        vehicles = vehicles.filter(customer__owner_id=user.pk)
    return vehicles


def maintenance_due(user, today=None):
    """保养到期: next maintenance within ``KEHU_MAINTENANCE_REMIND_DAYS`` (or overdue), no
    maintenance order open for the vehicle yet (once one is dispatched the reminder is done)."""
    from datetime import timedelta

    from django.conf import settings
    from django.db.models import Exists, OuterRef
    from django.utils import timezone

    from .models import MaintenanceOrder

    vehicles = _reminded_vehicles(user)
    if vehicles is None:
        return None
    today = today or timezone.localdate()
    until = today + timedelta(days=settings.KEHU_MAINTENANCE_REMIND_DAYS)
    open_order = MaintenanceOrder.objects.filter(
        vehicle_id=OuterRef("pk"), status__in=EDITABLE_STATUSES
    )
    return (
        vehicles.filter(next_maintenance_at__lte=until)
        .exclude(Exists(open_order))
        .order_by("next_maintenance_at", "id")
    )


def inspection_due(user, today=None):
    """年检到期: annual inspection due within ``KEHU_INSPECTION_REMIND_DAYS`` (or overdue)."""
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    vehicles = _reminded_vehicles(user)
    if vehicles is None:
        return None
    today = today or timezone.localdate()
    until = today + timedelta(days=settings.KEHU_INSPECTION_REMIND_DAYS)
    return vehicles.filter(inspection_due_at__lte=until).order_by("inspection_due_at", "id")


def _due_rows(queryset, field: str, what: str) -> list[dict]:
    from django.urls import reverse
    from django.utils import timezone

    if queryset is None:
        return []
    today = timezone.localdate()
    rows = []
    for vehicle in queryset.select_related("customer")[:200]:
        day = getattr(vehicle, field)
        days = (day - today).days
        when = (
            f"已逾期 {-days} 天" if days < 0 else ("今天到期" if days == 0 else f"{days} 天后到期")
        )
        rows.append(
            {
                "id": vehicle.pk,
                "customer_id": vehicle.customer_id,
                "label": f"{vehicle.customer.name} · {vehicle.name}",
                "detail": f"{what} {day:%Y-%m-%d}（{vehicle.number}）",
                "when": when,
                "due_at": day.isoformat(),
                "overdue": days < 0,
                "url": reverse("vehicle_detail", args=[vehicle.pk]),
            }
        )
    return rows


def _badge_querysets(user) -> list:
    return [qs for qs in (maintenance_due(user), inspection_due(user)) if qs is not None]


todo_lists["maintenance_due"] = (
    "保养到期",
    lambda user: _due_rows(maintenance_due(user), "next_maintenance_at", "下次保养"),
)
todo_lists["inspection_due"] = (
    "年检到期",
    lambda user: _due_rows(inspection_due(user), "inspection_due_at", "年检到期"),
)
todo_querysets.append(_badge_querysets)


def open_service_order_exemption(customers) -> set[int]:
    """有未完成售后订单的客户不回收: a customer with a repair or maintenance order still open
    (待派工 … 待支付) is being served — not returned to the pool automatically while it is,
    where its pool says so (公海规则)."""
    from kehu.pool.rules import kept_by_pool_switch

    from .models import MaintenanceOrder, RepairOrder

    found: set[int] = set()
    for model in (RepairOrder, MaintenanceOrder):
        found |= set(
            model.objects.filter(customer__in=customers, status__in=OPEN_STATUSES)
            .order_by()
            .values_list("customer_id", flat=True)
            .distinct()
        )
    return kept_by_pool_switch(found, "exempt_open_service_orders")


return_exemptions.append(open_service_order_exemption)
