"""What the after-sales documents plug into the customer module (kehu/core/registry.py): the
客户画像 tabs 客户车辆 / 维修记录 / 保养记录, log and attachment visibility, the product delete
guard and the dashboard's 我的工单 card. (The customer's delete guard of kehu/sales/hooks.py
covers every registered document type, these included.)"""

from __future__ import annotations

from kehu.core.registry import (
    attachment_visibility,
    dashboard_cards,
    log_visibility,
    portrait_tabs,
    recyclable_models,
    register_delete_guard,
)
from kehu.documents.types import registry as document_types
from kehu.documents.views import portrait_tab

from . import documents  # noqa: F401  (registers the three declarations)
from .models import EDITABLE_STATUSES, ServiceStatus

KEYS = ("vehicle", "repairorder", "maintenanceorder")


def _tab(decl):
    render = portrait_tab(decl)

    def render_tab(request, customer, can_manage: bool) -> str:
        # The after-sales team adds vehicles and orders to customers it sees without managing
        # them (read-only customer data, full after-sales documents); never to a pool customer.
        return render(request, customer, can_manage or customer.owner_id is not None)

    return render_tab


for _key in KEYS:
    _decl = document_types[_key]
    _label = _decl.model._meta.label_lower
    portrait_tabs[_decl.tab_key] = (
        _decl.tab_label,
        f"aftersales.view_{_decl.model._meta.model_name}",
        _tab(_decl),
    )

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
