"""What the after-sales documents derive: a vehicle's counts and maintenance dates (SPEC §6.2).

A vehicle's 保养次数, 售后次数, 上次保养时间 and 上次售后时间 are recomputed from its orders
that were done and accepted (待支付 or 已完成) whenever one of them changes state, in the same
transaction (:mod:`kehu.aftersales.flow`); 下次保养时间 = 上次保养时间 + 保养周期. Nothing else
writes these columns, so they cannot drift from the orders.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db.models import Count, Max
from django.utils import timezone

from .models import DONE_STATUSES, MaintenanceOrder, RepairOrder, Vehicle


def _done(model, vehicle_ids: list[int]) -> dict[int, dict]:
    rows = (
        model.objects.filter(vehicle_id__in=vehicle_ids, status__in=DONE_STATUSES)
        .order_by()
        .values("vehicle_id")
        .annotate(n=Count("pk"), last=Max("finished_at"))
    )
    return {r["vehicle_id"]: r for r in rows}


def _day(moment):
    return timezone.localdate(moment) if moment is not None else None


def refresh_vehicles(vehicle_ids: Iterable[int | None]) -> None:
    """Recompute the figures of these vehicles from their orders (call inside the order's
    transaction; the vehicle rows are locked first, in id order)."""
    ids = sorted({pk for pk in vehicle_ids if pk is not None})
    if not ids:
        return
    vehicles = list(Vehicle.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    maintenance, repair = _done(MaintenanceOrder, ids), _done(RepairOrder, ids)
    for vehicle in vehicles:
        m, r = maintenance.get(vehicle.pk, {}), repair.get(vehicle.pk, {})
        last_maintenance = _day(m.get("last"))
        last_service = max(
            (d for d in (last_maintenance, _day(r.get("last"))) if d is not None), default=None
        )
        updates = {
            "maintenance_count": m.get("n", 0),
            "service_count": m.get("n", 0) + r.get("n", 0),
            "last_maintenance_at": last_maintenance,
            "last_service_at": last_service,
        }
        if last_maintenance is not None:
            updates["next_maintenance_at"] = last_maintenance + timedelta(
                days=vehicle.maintenance_interval_days
            )
        if any(getattr(vehicle, k) != v for k, v in updates.items()):
            Vehicle.objects.filter(pk=vehicle.pk).update(**updates, updated_at=timezone.now())


# --- what a billed service order has been paid: 回款 and 挂账订单 against it ------------------

# 未申请, 待审批 and 审批通过: what is already promised against the order's amount.
COUNTED_STATES = ("draft", "pending", "approved")


def order_paid(order, *, states=COUNTED_STATES):
    """回款 and 挂账订单 against ``order`` (a repair or maintenance order) in ``states``."""
    from decimal import Decimal

    from django.db.models import Sum

    field = "repair_order" if isinstance(order, RepairOrder) else "maintenance_order"
    total = Decimal("0.00")
    from kehu.sales.models import Payment

    from .models import OnAccountOrder

    for model in (Payment, OnAccountOrder):
        total += (
            model.objects.filter(**{field: order}, approval_status__in=states).aggregate(
                s=Sum("amount")
            )["s"]
            or 0
        )
    return total


def order_unpaid(order):
    """What may still be registered against ``order``: its amount minus what is promised."""
    from decimal import Decimal

    return max(order.amount - order_paid(order), Decimal("0.00"))


def lock_order(model, pk):
    """The service order's row, locked: payments and on-account orders against it queue here,
    so their sum is checked one at a time (never above the order's amount)."""
    return model.objects.select_for_update(of=("self",)).select_related("customer").get(pk=pk)


# --- 生成车辆: one vehicle per unit of an approved 整车/租赁 contract's vehicle lines ------------

VEHICLE_CONTRACT_KINDS = ("vehicle", "lease")
VEHICLE_PRODUCT_CATEGORIES = ("vehicle", "used_vehicle", "lease")
MAX_UNITS = 200


def contract_vehicle_units(contract) -> list[dict]:
    """The units of ``contract`` without a vehicle yet, in line order: ``{"item", "n", "name",
    "spec"}`` — a line of quantity 3 gives 叉车-1 … 叉车-3 (fewer if some exist already). Lines
    of parts (a product of another category) give none."""
    from django.db.models import Count

    units: list[dict] = []
    if contract.kind not in VEHICLE_CONTRACT_KINDS:
        return units
    items = (
        contract.items.select_related("product")
        .annotate(made=Count("vehicles"))
        .order_by("position", "id")
    )
    for item in items:
        if item.product_id and item.product.category not in VEHICLE_PRODUCT_CATEGORIES:
            continue
        quantity = int(item.quantity) if item.quantity == item.quantity.to_integral() else 0
        for n in range(item.made + 1, min(quantity, MAX_UNITS) + 1):
            units.append(
                {
                    "item": item,
                    "n": n,
                    "name": f"{item.name}-{n}" if quantity > 1 else item.name,
                    "spec": item.spec,
                }
            )
    return units[:MAX_UNITS]


def vehicles_from_contract(*, actor, contract, units: list[dict] | None = None) -> list:
    """Create the vehicles of ``contract`` (approved, 整车/租赁, visible to ``actor``) in one
    transaction: ``units`` lists ``{"item_id", "serial_number"}`` — one vehicle each, at most the
    line's units without a vehicle — or None for every such unit. Each vehicle goes through the
    vehicle's own save service (numbers, log); refused input changes nothing."""
    from django.db import transaction

    from kehu.basics.models import DictEntry, DictKind
    from kehu.core.errors import ApplicationError
    from kehu.documents.services import document_save
    from kehu.documents.types import registry
    from kehu.sales.models import Contract

    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
        if contract.approval_status != "approved" or contract.kind not in VEHICLE_CONTRACT_KINDS:
            raise ApplicationError(
                f"合同「{contract.number}」不是审批通过的整车或租赁合同，不能生成车辆",
                code="wrong_state",
                status=409,
            )
        open_units = contract_vehicle_units(contract)
        if not open_units:
            raise ApplicationError(
                f"合同「{contract.number}」的车辆已全部生成", code="nothing_left", status=409
            )
        by_item: dict[int, list[dict]] = {}
        for unit in open_units:
            by_item.setdefault(unit["item"].pk, []).append(unit)
        chosen: list[tuple[dict, str]] = []
        if units is None:
            chosen = [(u, "") for u in open_units]
        else:
            if not isinstance(units, list) or not units:
                raise ApplicationError(
                    "请至少选择一台车辆", errors={"units": ["请至少选择一台车辆"]}
                )
            errors: dict[str, list[str]] = {}
            for i, row in enumerate(units):
                row = row if isinstance(row, dict) else {}
                raw = str(row.get("item_id"))
                pk = int(raw) if raw.isdigit() and len(raw) < 19 else None
                left = by_item.get(pk) if pk is not None else None
                serial = str(row.get("serial_number") or "").strip()
                if left is None:
                    errors[f"units[{i}].item_id"] = [
                        "不是该合同的车辆明细，或该明细的车辆已全部生成"
                    ]
                elif not left:
                    errors[f"units[{i}].item_id"] = ["超出该明细的数量"]
                elif len(serial) > 50:
                    errors[f"units[{i}].serial_number"] = ["出厂编号不能超过50个字符"]
                else:
                    chosen.append((left.pop(0), serial))
            if errors:
                raise ApplicationError("输入有误，请检查后重试", errors=errors)
        brands = {
            e.name: e.pk
            for e in DictEntry.objects.filter(kind=DictKind.VEHICLE_BRAND, is_active=True)
        }
        made = []
        for unit, serial in chosen:
            item = unit["item"]
            brand = brands.get(item.product.brand) if item.product_id else None
            vehicle = document_save(
                registry["vehicle"],
                actor=actor,
                instance=None,
                data={
                    "customer": contract.customer_id,
                    "name": unit["name"][:100],
                    "spec": (unit["spec"] or "")[:50],
                    "serial_number": serial,
                    "brand": brand,
                    "contract": contract.pk,
                },
            )
            Vehicle.objects.filter(pk=vehicle.pk).update(contract_item=item)
            made.append(vehicle)
        return made


def payable_order(actor, key: str, value, *, doing: str):
    """The service order a 回款 or 挂账订单 names (``key`` repair_order / maintenance_order):
    visible to ``actor``, its row locked, awaiting payment (待支付) — else a Chinese error on
    that field. ``doing`` ends the state refusal: "登记回款", "挂账"."""
    from kehu.core.errors import ApplicationError, FieldError
    from kehu.documents.fields import visible_document

    from .models import ServiceStatus

    model, label = (
        (RepairOrder, "维修订单") if key == "repair_order" else (MaintenanceOrder, "保养订单")
    )
    try:
        order = visible_document(model, actor, value, label)
    except FieldError as exc:
        raise ApplicationError(str(exc), errors={key: [str(exc)]}) from exc
    order = lock_order(model, order.pk)
    if order.status != ServiceStatus.AWAITING_PAYMENT:
        message = (
            f"{label}「{order.number}」状态为「{order.get_status_display()}」，"
            f"验收后（待支付）才能{doing}"
        )
        raise ApplicationError(message, errors={key: [message]})
    return order
