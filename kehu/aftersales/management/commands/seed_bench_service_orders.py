"""Add N repair and maintenance orders to a benchmark database (issue 12, SPEC §12.1: 500,000
service orders next to 1,000,000 customers) — after ``seed_bench``.

    manage.py seed_bench_service_orders --orders 500000 [--technicians 20] [--seed 1]

Half 维修订单, half 保养订单, on random customers that have an owner, in every state (待派工 10 %,
维修中 10 %, 待验收 10 %, 待支付 20 %, 已完成 45 %, 已取消 5 %), created over two years, dispatched
to ``btech01…`` (售后 technicians whose role sees every customer, as an after-sales team does;
password demo1234). Every 已完成 order gets its approved 回款; the customers' 维修订单 / 保养订单
receivables and 状态 are then raised by what the orders bill, in one set-based UPDATE, so
``reconcile_receivables`` finds no drift. bulk_create in batches; ends with ``VACUUM ANALYZE``
of the tables it wrote (PostgreSQL).
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

STATES = [
    ("awaiting_dispatch", 10),
    ("in_progress", 10),
    ("awaiting_acceptance", 10),
    ("awaiting_payment", 20),
    ("completed", 45),
    ("cancelled", 5),
]
REASONS = ["坏了", "液压系统漏油", "刹车失灵", "轮胎鼓包", "电瓶不充电", "异响", "转向沉重"]
MAINTENANCE = ["季度保养", "250小时保养", "500小时保养", "常规保养", "年度保养"]


class Command(BaseCommand):
    help = "Add service orders (维修/保养订单) to a benchmark database (after seed_bench)."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, required=True)
        parser.add_argument("--technicians", type=int, default=20)
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **opts):
        from kehu.aftersales.models import MaintenanceOrder, RepairOrder
        from kehu.customers.models import Customer

        rng = random.Random(opts["seed"])
        started = time.perf_counter()
        technicians = self._technicians(opts["technicians"])
        ids = list(
            Customer.objects.filter(owner__isnull=False).order_by().values_list("pk", flat=True)
        )
        if not ids:
            raise SystemExit("no customers with an owner: run seed_bench first")
        start = (
            max(RepairOrder.objects.count(), MaintenanceOrder.objects.count()) * 2 + 1
        )  # numbers continue when run again
        from django.db.models import Max

        self.after = {
            m: m.objects.aggregate(m=Max("pk"))["m"] or 0 for m in (RepairOrder, MaintenanceOrder)
        }  # only this run's orders raise the receivables
        now = timezone.now()
        total, batch = opts["orders"], opts["batch_size"]
        states = [s for s, weight in STATES for _ in range(weight)]
        for offset in range(0, total, batch):
            count = min(batch, total - offset)
            with transaction.atomic():
                self._batch(rng, ids, technicians, states, start + offset, count, now)
            done = offset + count
            if done % (batch * 10) == 0 or done == total:
                self.stdout.write(f"  {done:,} orders ({time.perf_counter() - started:.0f} s)")
        self._raise_receivables()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in ("repairorder", "maintenanceorder"):
                    cursor.execute(f"VACUUM ANALYZE aftersales_{model}")
                cursor.execute("VACUUM ANALYZE sales_payment")
                cursor.execute("VACUUM ANALYZE customers_customer")
        self.stdout.write(f"{total:,} service orders in {time.perf_counter() - started:.0f} s")

    def _technicians(self, n: int) -> list:
        from django.contrib.auth.models import Permission

        from kehu.org.demo import DEMO_PASSWORD
        from kehu.org.models import DataScope, Role, User
        from kehu.org.roles import BUILTIN_ROLES

        role, created = Role.objects.get_or_create(
            code="bench_aftersales",
            defaults={"name": "售后（全部客户）", "data_scope": DataScope.ALL},
        )
        if created:
            wanted = BUILTIN_ROLES["after_sales"]["perms"]
            perms = [
                p
                for p in Permission.objects.select_related("content_type")
                if f"{p.content_type.app_label}.{p.codename}" in wanted
            ]
            role.permissions.add(*perms)
        users = []
        for i in range(1, n + 1):
            user, made = User.objects.get_or_create(
                username=f"btech{i:02d}", defaults={"name": f"技术员{i:02d}"}
            )
            if made:
                user.set_password(DEMO_PASSWORD)
                user.save()
                user.roles.add(role)
            users.append(user)
        return users

    def _batch(self, rng, ids, technicians, states, first: int, count: int, now) -> None:
        from kehu.aftersales.models import MaintenanceOrder, RepairOrder
        from kehu.sales.models import Payment

        orders: dict[type, list] = {RepairOrder: [], MaintenanceOrder: []}
        for n in range(first, first + count):
            model = RepairOrder if n % 2 else MaintenanceOrder
            prefix = "WX" if model is RepairOrder else "BY"
            status = rng.choice(states)
            created = now - timedelta(minutes=rng.randint(60, 730 * 24 * 60))
            amount = Decimal(rng.choice([0, 75, 110, 120, 160, 380, 1250, 12438]))
            order = model(
                number=f"{prefix}B{n:010d}",
                customer_id=rng.choice(ids),
                contact_name="联系人",
                contact_phone=f"139{rng.randint(0, 99_999_999):08d}",
                address="福建省厦门市湖里区",
                reason=rng.choice(REASONS if model is RepairOrder else MAINTENANCE),
                service_mode=rng.choice(["onsite", "in_store"]),
                service_at=created,
                amount=amount,
                status=status,
                creator=None,
            )
            if status != "awaiting_dispatch":
                order.assignee = rng.choice(technicians)
                order.dispatched_at = created + timedelta(hours=1)
            if status in ("awaiting_acceptance", "awaiting_payment", "completed"):
                order.finished_at = created + timedelta(hours=4)
            if status in ("awaiting_payment", "completed"):
                order.billed_at = created + timedelta(hours=5)
            if status == "completed":
                order.completed_at = created + timedelta(days=3)
            if status == "cancelled":
                order.cancelled_at, order.cancel_reason = created + timedelta(hours=2), "客户取消"
            orders[model].append(order)
        payments = []
        for model, rows in orders.items():
            made = model.objects.bulk_create(rows)
            # auto_now_add wrote "now": put the orders back in their time
            for order in made:
                order.created_at = order.updated_at = order.service_at
            model.objects.bulk_update(made, ["created_at", "updated_at"])
            field = "repair_order" if model is RepairOrder else "maintenance_order"
            kind = "repair" if model is RepairOrder else "maintenance"
            for order in made:
                if order.status == "completed" and order.amount > 0:
                    payments.append(
                        Payment(
                            number=f"HKS{order.number[2:]}",
                            customer_id=order.customer_id,
                            **{field: order},
                            kind=kind,
                            amount=order.amount,
                            paid_at=order.completed_at.date(),
                            approval_status="approved",
                            approved_at=order.completed_at,
                        )
                    )
        Payment.objects.bulk_create(payments)

    def _raise_receivables(self) -> None:
        """What the new orders bill and their payments pay, added to the customers (one UPDATE
        per kind): 待支付 orders stay receivable, 已完成 ones are paid; billed > 0 → 已成交."""
        from django.db.models import DecimalField, F, OuterRef, Q, Subquery, Sum, Value
        from django.db.models.functions import Coalesce

        from kehu.aftersales.models import MaintenanceOrder, RepairOrder
        from kehu.customers.models import Customer

        for model, kind in ((RepairOrder, "repair"), (MaintenanceOrder, "maintenance")):
            open_sum = (
                model.objects.filter(
                    customer_id=OuterRef("pk"), status="awaiting_payment", pk__gt=self.after[model]
                )
                .order_by()
                .values("customer_id")
                .annotate(s=Sum("amount"))
                .values("s")
            )
            billed = model.objects.filter(
                status__in=("awaiting_payment", "completed"), amount__gt=0, pk__gt=self.after[model]
            )
            started = time.perf_counter()
            with transaction.atomic():
                Customer.objects.filter(
                    pk__in=billed.filter(status="awaiting_payment").values("customer_id")
                ).update(
                    **{
                        f"receivable_{kind}": F(f"receivable_{kind}")
                        + Coalesce(
                            Subquery(open_sum),
                            Value(Decimal("0.00")),
                            output_field=DecimalField(max_digits=14, decimal_places=2),
                        )
                    }
                )
                Customer.objects.filter(pk__in=billed.values("customer_id")).filter(
                    ~Q(status="won")
                ).update(status="won")
            self.stdout.write(
                f"  receivables of {kind} raised ({time.perf_counter() - started:.0f} s)"
            )
