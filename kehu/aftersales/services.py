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
