"""Demo after-sales data (SPEC §11): 测试客户A有限公司 gets vehicles from its 整车 contract,
repair and maintenance orders in every state and 挂账订单 in every state, like the seed's 客户车辆 /
维修记录 / 保养记录 / 挂账订单列表. An order 已完成 was paid: by a 回款 (its owner registers it,
财务 approves) or by a 挂账订单 (voucher uploaded, 财务 approves).

Everything goes through the real services (document_save, flow.transition), so the ledger
(维修订单 / 保养订单 receivables) and the vehicles' counts are what the orders say, and
reconcile_receivables finds nothing to fix. Idempotent: a customer that has vehicles already is
left alone. The customer is shared with service1 — the 售后 role's data scope is 仅本人, so the
after-sales staff see the customers shared with them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

D, P, A, W, C, X = (
    "awaiting_dispatch",
    "in_progress",
    "awaiting_acceptance",
    "awaiting_payment",
    "completed",
    "cancelled",
)
PATH = {D: [], P: [P], A: [P, A], W: [P, A, W], C: [P, A, W]}
# How an order is paid: "payment" (回款) or "onaccount" (挂账订单, 已付款) for the 已完成 ones; the
# 待支付 ones get a 挂账订单 挂账中 / 支付审批 (and a cancelled one before it).
HK, GZ = "payment", "onaccount"

# name, brand, spec, serial number, interval (days), last annual inspection
VEHICLES = [
    ("XT系列叉车-1", "杭州叉车 (HC)", "3吨", "HC30-2507-0113", 90, date(2025, 8, 1)),
    ("XT系列叉车-2", "未知", "2.5吨", "", 90, None),
    ("测试车辆H", "合力叉车", "3吨", "HL-CPCD30-8841", 60, date(2025, 11, 20)),
]

# The seed's 维修记录 (day, vehicle index or None, contact "A"/"小A", reason, mode, amount or
# line items, state, who accepts) — every state of the flow.
REPAIRS = [
    (date(2026, 3, 21), None, "小A", "坏了", "onsite", "160.00", D, None),
    (date(2026, 3, 13), 0, "A", "液压系统漏油", "onsite", "1.00", P, None),
    (
        date(2026, 3, 12),
        0,
        "A",
        "坏了",
        "onsite",
        [("工时费", "1", "80.00", "0"), ("液压油管", "1", "30.00", "0")],
        A,
        None,
    ),
    (date(2026, 2, 3), 2, "A", "坏了", "onsite", "120.00", (W, "挂账中"), "sales1"),
    (date(2026, 1, 15), 1, "A", "刹车失灵", "in_store", "75.00", (C, HK), "service1"),
    (date(2025, 12, 23), 2, "A", "轮胎鼓包", "onsite", "110.00", (C, GZ), "sales1"),
    (date(2025, 11, 26), None, "小A", "客户自行修好", "onsite", "12438.00", X, None),
]
# The seed's 保养记录; a day given as a number is that many days before today (so that the
# vehicles' 保养剩余天数 show one maintenance due soon, one later and one overdue).
MAINTENANCES = [
    (date(2026, 3, 20), None, "A", "常规保养", "onsite", "0.00", D, None),
    (date(2026, 3, 3), 1, "小A", "250小时保养", "onsite", "110.00", P, None),
    (
        date(2026, 2, 15),
        2,
        "A",
        "500小时保养",
        "in_store",
        [("机油滤芯", "1", "60.00", "0"), ("保养工时", "1", "100.00", "0")],
        A,
        None,
    ),
    (-20, 0, "A", "季度保养", "onsite", "160.00", (W, "支付审批"), "service1"),
    (-50, 2, "A", "季度保养", "onsite", "110.00", (C, HK), "service1"),
    (date(2025, 10, 10), 1, "小A", "季度保养", "in_store", "0.10", (C, GZ), "sales1"),
    (date(2025, 10, 11), 0, "A", "重复下单", "onsite", "1.00", X, None),
]


def _at(day: date, hour: int = 10) -> datetime:
    """``day`` at that local time, never in the future (the flow's times follow)."""
    moment = timezone.make_aware(datetime.combine(day, time(hour, 0)))
    return min(moment, timezone.now() - timedelta(days=2))


def seed(users) -> None:
    from kehu.customers.models import Customer

    sample = Customer.objects.filter(name="测试客户A有限公司").first()
    if sample is None or sample.owner is None or "service1" not in users:
        return
    from .models import Vehicle

    if Vehicle.objects.filter(customer=sample).exists():
        return
    _share_with_service(sample, users)
    vehicles = _vehicles(sample, users)
    for key, rows in (("repairorder", REPAIRS), ("maintenanceorder", MAINTENANCES)):
        for row in rows:
            _order(key, sample, vehicles, users, *row)
    from django.db import transaction

    from .services import refresh_vehicles

    with transaction.atomic():  # it locks the vehicles' rows (callers may run in autocommit)
        refresh_vehicles([v.pk for v in vehicles])  # after the backdating below


def _share_with_service(customer, users) -> None:
    from kehu.customers.services import customer_share

    shared = list(customer.shares.values_list("user_id", flat=True))
    if users["service1"].pk not in shared:
        customer_share(
            actor=customer.owner, customer=customer, user_ids=[*shared, users["service1"].pk]
        )


def _vehicles(customer, users) -> list:
    from kehu.basics.models import DictEntry, DictKind
    from kehu.documents.services import document_save
    from kehu.documents.types import registry
    from kehu.sales.models import Contract

    brands = {e.name: e.pk for e in DictEntry.objects.filter(kind=DictKind.VEHICLE_BRAND)}
    contract = (
        Contract.objects.filter(customer=customer, kind="vehicle", approval_status="approved")
        .order_by("-signed_at", "-id")
        .first()
    )
    made = []
    for name, brand, spec, serial, interval, inspected in VEHICLES:
        vehicle = document_save(
            registry["vehicle"],
            actor=users["service1"],
            instance=None,
            data={
                "customer": customer.pk,
                "name": name,
                "brand": brands.get(brand),
                "spec": spec,
                "serial_number": serial,
                "contract": contract.pk if contract else None,
                "maintenance_interval_days": interval,
                "last_inspection_at": inspected,
                "inspection_due_at": inspected.replace(year=inspected.year + 1)
                if inspected
                else None,
            },
        )
        type(vehicle).objects.filter(pk=vehicle.pk).update(
            created_at=_at(date(2025, 7, 28), 17), updated_at=_at(date(2025, 7, 28), 17)
        )
        made.append(vehicle)
    return made


def _order(
    key, customer, vehicles, users, day, vehicle, contact, reason, mode, amount, state, acceptor
):
    from kehu.documents.services import document_save
    from kehu.documents.types import registry

    from . import flow

    decl = registry[key]
    if isinstance(day, int):
        day = timezone.localdate() + timedelta(days=day)
    moment = _at(day, 9)
    second = customer.contacts.exclude(name=customer.contact_name).first()
    who = second if contact == "小A" and second is not None else None
    data = {
        "customer": customer.pk,
        "vehicle": vehicles[vehicle].pk if vehicle is not None else None,
        "contact": who.pk if who else None,
        "reason": reason,
        "service_mode": mode,
        "service_at": moment,
    }
    if isinstance(amount, str):
        data["amount"] = amount
    else:
        data["items"] = [
            {"name": n, "quantity": q, "unit_price": p, "discount": d} for n, q, p, d in amount
        ]
    service = users["service1"]
    state, paid_by = state if isinstance(state, tuple) else (state, None)
    order = document_save(decl, actor=service, instance=None, data=data)
    targets = [X] if state == X else PATH[state]
    for to in targets:
        actor = users[acceptor] if to == W and acceptor else service
        order = flow.transition(
            decl, actor=actor, order=order, to=to, reason="客户取消" if to == X else ""
        )
    if paid_by:
        _pay(order, paid_by, users, moment)
        order.refresh_from_db()
    # the order looks done when it happened, not today
    stamps = {"created_at": moment - timedelta(minutes=20), "updated_at": moment}
    for n, field in enumerate(("dispatched_at", "finished_at", "billed_at", "completed_at")):
        if getattr(order, field):
            stamps[field] = moment + timedelta(hours=1 + 3 * n)
            stamps["updated_at"] = stamps[field]
    if order.cancelled_at:
        stamps["cancelled_at"] = stamps["updated_at"] = moment + timedelta(hours=2)
    type(order).objects.filter(pk=order.pk).update(**stamps)
    return order


def _pay(order, how: str, users, moment) -> None:
    """Pay ``order`` (待支付) as the seed's tables show: a 回款 or a 挂账订单 approved by 财务
    (已完成 follows), or a 挂账订单 left 挂账中 / 支付审批 (with a cancelled one before it)."""
    from django.core.files.base import ContentFile

    from kehu.basics.models import DictEntry, DictKind
    from kehu.core.attachments import attach_files
    from kehu.documents import approval
    from kehu.documents.services import document_save
    from kehu.documents.types import registry

    from .documents import cancel_on_account

    field = "repair_order" if order._meta.model_name == "repairorder" else "maintenance_order"
    owner, finance = order.customer.owner, users.get("finance1")
    if how == HK:
        decl, data, actor = registry["payment"], {field: order.pk, "amount": order.amount}, owner
    else:
        store = DictEntry.objects.filter(kind=DictKind.STORE).order_by("sort", "id").first()
        decl, actor = registry["onaccount"], users["service1"]
        data = {field: order.pk, "store": store.pk if store else None}
    if how == "挂账中":  # a first one cancelled (wrong amount), then the one standing
        wrong = document_save(decl, actor=actor, instance=None, data={**data, "amount": "75.00"})
        cancel_on_account(actor=actor, doc=wrong, reason="金额填错，重新挂账")
    doc = document_save(decl, actor=actor, instance=None, data=data)
    if how in (GZ, "支付审批"):
        voucher = ContentFile(b"demo voucher", name=f"{doc.number}-付款凭证.pdf")
        attach_files(actor=actor, obj=doc, files=[voucher])
    if how in (HK, GZ, "支付审批"):
        approval.submit(decl, actor=actor, doc=doc)
    if how in (HK, GZ) and finance is not None:
        approval.approve(decl, actor=finance, doc=doc)
    type(doc).objects.filter(pk=doc.pk).update(
        created_at=moment + timedelta(hours=12), updated_at=moment + timedelta(hours=13)
    )
