"""客户画像 benchmarks (issue 13, SPEC §12.1): the portrait page, each of its tabs, 同比增幅 and
the portrait API, for ONE customer with 1,000 documents of each kind on a database with
1,000,000 customers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kehu_bench \\
        .venv/bin/python bench/portrait.py [--reps 30] [--warmup 3] [--docs 1000]
        [--no-http] [--port 0] [--explain] [--seed-only]

Run ``manage.py seed_bench`` (and ``seed_bench_service_orders``) on that database first.

The customer: 压测画像客户有限公司, owned by ``bsales001`` (created through
``customer_create`` the first time). The script gives it, idempotently (only what is missing
is added), ``--docs`` rows of each kind: 联系人, 跟进记录, 报价单, 合同 (97 % approved over the
last two years, 2 % voided), 回款 (approved, on those contracts, at most what each bills),
回款计划, 车辆, 维修订单 and 保养订单 (every state; 验收 spread over two years) and 挂账订单
(approved ones pay 已完成 orders). Rows are bulk-inserted, then the ledger recomputes the
customer's receivables and 状态 from its documents (``ledger.drifts`` + ``ledger.fix``, what
``manage.py reconcile_receivables --fix`` does) and 最后跟进 / 下次跟进 follow its follow-ups
(``refresh_followup_times``): ``reconcile_receivables`` finds no drift afterwards.

Cases (target: page p95 ≤ 80 ms, 同比增幅 ≤ 100 ms):

- ``portrait /customers/<id>/``: the page (header, summary, tab bar with every tab's count, the
  first tab drawn) as ``admin``, ``manager1`` and the owner, in process through Django's test
  ``Client`` (queries, SQL time, CPU) and over HTTP through gunicorn; ``of which 通知代办
  badge``: the count every full page shows in its header (``context_processors.todo_count``,
  the same for any page), measured alone;
- ``tab <key>``: each tab's fragment ``/customers/<id>/tabs/<key>/`` (first page, 10 rows);
- ``同比增幅 /customers/<id>/yoy/`` (this year to date vs the same days last year) and
  ``GET /api/v1/customers/{id}/yoy``, ``GET /api/v1/customers/{id}/portrait`` (Bearer token,
  in process and over HTTP).

Columns as in ``documents.py``. ``--explain`` prints EXPLAIN ANALYZE of the page's three
slowest queries.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from documents import (  # noqa: E402, I001  (sets Django up first)
    Result,
    Server,
    database_info,
    http_call,
    print_table,
    session_cookie,
    timed,
)
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from kehu.aftersales.models import (  # noqa: E402
    MaintenanceOrder,
    OnAccountOrder,
    RepairOrder,
    Vehicle,
)
from kehu.basics.models import DictEntry, DictKind  # noqa: E402
from kehu.core.context_processors import todo_count  # noqa: E402
from kehu.customers.models import Contact, Customer  # noqa: E402
from kehu.customers.tabs import visible_tabs  # noqa: E402
from kehu.followups.models import FollowUp  # noqa: E402
from kehu.followups.services import refresh_followup_times  # noqa: E402
from kehu.ledger import services as ledger  # noqa: E402
from kehu.org.auth import issue_token  # noqa: E402
from kehu.org.models import ApiToken, User  # noqa: E402
from kehu.sales.models import Contract, Payment, PaymentPlan, Quote  # noqa: E402

NAME = "压测画像客户有限公司"
OWNER = "bsales001"
TARGETS = {"page": 80.0, "yoy": 100.0}
TOKEN_NAME = "bench/portrait.py"
KINDS = ["vehicle", "parts", "used_vehicle", "lease"]
SERVICE_STATES = [
    ("awaiting_dispatch", 10),
    ("in_progress", 10),
    ("awaiting_acceptance", 10),
    ("awaiting_payment", 20),
    ("completed", 45),
    ("cancelled", 5),
]


# ---------------------------------------------------------------------------------------------
# The customer and its documents


def the_customer() -> Customer:
    customer = Customer.objects.filter(name=NAME).order_by("pk").first()
    if customer is not None:
        return customer
    from kehu.customers.services import customer_create

    owner = User.objects.get(username=OWNER)
    admin = User.objects.get(username="admin")
    customer = customer_create(
        actor=admin,
        owner=owner,
        data={
            "name": NAME,
            "contact_name": "画像联系人",
            "contact_phone": "13905920000",
            "address": "福建省厦门市湖里区枋湖北二路1号",
        },
        confirm_duplicates=True,
    )
    print(f"created {NAME} (id {customer.pk}, owner {OWNER})")
    return customer


def _spread(rng: random.Random, now, days: int = 730):
    return now - timedelta(minutes=rng.randint(60, days * 24 * 60))


def _missing(qs, n: int) -> int:
    return max(0, n - qs.count())


def _backdate(model, rows, field: str = "created_at") -> None:
    """auto_now_add wrote "now": put the rows back in their time (``rows``: (obj, moment))."""
    for obj, moment in rows:
        obj.created_at = moment
        if hasattr(obj, "updated_at"):
            obj.updated_at = moment
    fields = ["created_at", *(["updated_at"] if hasattr(model, "updated_at") else [])]
    model.objects.bulk_update([obj for obj, _ in rows], fields, batch_size=500)


@transaction.atomic
def seed(customer: Customer, n: int, rng: random.Random) -> dict[str, int]:
    """Up to ``n`` rows of each kind for ``customer`` (only what is missing); bulk inserts."""
    now = timezone.now()
    owner = customer.owner
    pk = customer.pk
    added: dict[str, int] = {}
    stores = list(DictEntry.objects.filter(kind=DictKind.STORE).values_list("pk", flat=True))
    brands = list(
        DictEntry.objects.filter(kind=DictKind.VEHICLE_BRAND).values_list("pk", flat=True)
    )

    k = _missing(Contact.objects.filter(customer_id=pk), n)
    Contact.objects.bulk_create(
        Contact(
            customer_id=pk,
            name=f"联系人{i:04d}",
            mobile=f"137{pk % 10000:04d}{i:04d}",
            position="采购",
        )
        for i in range(k)
    )
    added["联系人"] = k

    k = _missing(FollowUp.objects.filter(customer_id=pk), n)
    rows = []
    for i in range(k):
        at = _spread(rng, now)
        rows.append(
            FollowUp(
                customer_id=pk,
                content=f"电话回访，第{i + 1}次，客户关注叉车保养与配件价格。",
                followed_at=at,
                next_followup_at=at + timedelta(days=rng.randint(3, 30)),
                author=owner,
            )
        )
    FollowUp.objects.bulk_create(rows)
    added["跟进记录"] = k

    def number(prefix: str, i: int) -> str:
        return f"{prefix}P{pk:08d}{i:05d}"

    k = _missing(Quote.objects.filter(customer_id=pk), n)
    start = Quote.objects.filter(customer_id=pk).count()
    made = Quote.objects.bulk_create(
        Quote(
            number=number("BJ", start + i),
            customer_id=pk,
            amount=Decimal(rng.randint(5, 300) * 1000),
            quoter=owner,
            creator=owner,
            quoted_at=_spread(rng, now),
        )
        for i in range(k)
    )
    _backdate(Quote, [(q, q.quoted_at) for q in made])
    added["报价单"] = k

    k = _missing(Contract.objects.filter(customer_id=pk), n)
    start = Contract.objects.filter(customer_id=pk).count()
    contracts = []
    for i in range(k):
        created = _spread(rng, now)
        roll = rng.random()
        status = "approved" if roll < 0.97 else ("void" if roll < 0.99 else "draft")
        contracts.append(
            Contract(
                number=number("HT", start + i),
                customer_id=pk,
                name=f"叉车采购合同{start + i + 1}",
                kind=rng.choice(KINDS),
                amount=Decimal(rng.randint(10, 500) * 1000),
                signer=owner,
                creator=owner,
                signed_at=created,
                approval_status=status,
                submitted_at=created if status != "draft" else None,
                approved_at=created + timedelta(hours=2) if status != "draft" else None,
                voided_at=created + timedelta(days=1) if status == "void" else None,
                void_reason="录错" if status == "void" else "",
            )
        )
    made = Contract.objects.bulk_create(contracts)
    _backdate(Contract, [(c, c.signed_at) for c in made])
    added["合同"] = k

    approved = list(
        Contract.objects.filter(customer_id=pk, approval_status="approved").order_by("pk")
    )
    if approved:
        k = _missing(PaymentPlan.objects.filter(customer_id=pk), n)
        start = PaymentPlan.objects.filter(customer_id=pk).count()
        plans = []
        for i in range(k):
            contract = approved[i % len(approved)]
            plans.append(
                PaymentPlan(
                    number=number("JH", start + i),
                    customer_id=pk,
                    contract=contract,
                    instalment=1 + i // len(approved),
                    amount=(contract.amount / 4).quantize(Decimal("0.01")),
                    due_at=(contract.approved_at + timedelta(days=30 * (1 + i % 6))).date(),
                    creator=owner,
                )
            )
        made = PaymentPlan.objects.bulk_create(plans)
        _backdate(PaymentPlan, [(p, p.contract.approved_at) for p in made])
        added["回款计划"] = k

        # 回款: a contract's payments are instalments of at most half its amount, so none
        # ever pays more than it bills.
        k = _missing(Payment.objects.filter(customer_id=pk, contract__isnull=False), n)
        start = Payment.objects.filter(customer_id=pk).count()
        payments = []
        for i in range(k):
            contract = approved[i % len(approved)]
            paid_at = contract.approved_at + timedelta(days=rng.randint(1, 60))
            payments.append(
                Payment(
                    number=number("HK", start + i),
                    customer_id=pk,
                    contract=contract,
                    kind=contract.kind,
                    amount=(contract.amount / 10).quantize(Decimal("0.01")),
                    paid_at=paid_at.date(),
                    approval_status="approved",
                    submitted_at=paid_at,
                    approved_at=paid_at,
                    creator=owner,
                )
            )
        made = Payment.objects.bulk_create(payments)
        _backdate(Payment, [(p, p.approved_at) for p in made])
        added["回款"] = k

    k = _missing(Vehicle.objects.filter(customer_id=pk), n)
    start = Vehicle.objects.filter(customer_id=pk).count()
    made = Vehicle.objects.bulk_create(
        Vehicle(
            number=number("CL", start + i),
            customer_id=pk,
            name=f"XT系列叉车-{start + i + 1}",
            brand_id=rng.choice(brands) if brands else None,
            spec="3吨",
            serial_number=f"SN{pk:07d}{start + i:05d}",
            contact_name="画像联系人",
            contact_phone="13905920000",
            creator=owner,
        )
        for i in range(k)
    )
    _backdate(Vehicle, [(v, _spread(rng, now)) for v in made])
    added["车辆"] = k

    states = [s for s, weight in SERVICE_STATES for _ in range(weight)]
    technicians = list(User.objects.filter(username__startswith="btech").order_by("pk")[:5])
    for model, prefix, label in (
        (RepairOrder, "WX", "维修订单"),
        (MaintenanceOrder, "BY", "保养订单"),
    ):
        k = _missing(model.objects.filter(customer_id=pk), n)
        start = model.objects.filter(customer_id=pk).count()
        orders = []
        for i in range(k):
            created = _spread(rng, now)
            status = rng.choice(states)
            order = model(
                number=number(prefix, start + i),
                customer_id=pk,
                contact_name="画像联系人",
                contact_phone="13905920000",
                address="福建省厦门市湖里区",
                reason="液压系统漏油" if model is RepairOrder else "500小时保养",
                service_mode=rng.choice(["onsite", "in_store"]),
                service_at=created,
                amount=Decimal(rng.choice([75, 110, 160, 380, 1250, 12438])),
                status=status,
                creator=owner,
            )
            if status != "awaiting_dispatch" and technicians:
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
            orders.append(order)
        made = model.objects.bulk_create(orders)
        _backdate(model, [(o, o.service_at) for o in made])
        added[label] = k

    # 挂账订单: every 已完成 order without one is paid by an approved 挂账订单 of its amount
    # (up to n), then 挂账中 ones on 待支付 orders (they pay nothing yet).
    k = _missing(OnAccountOrder.objects.filter(customer_id=pk), n)
    taken_r = set(
        OnAccountOrder.objects.filter(customer_id=pk).values_list("repair_order_id", flat=True)
    )
    taken_m = set(
        OnAccountOrder.objects.filter(customer_id=pk).values_list("maintenance_order_id", flat=True)
    )
    candidates = []
    for status in ("completed", "awaiting_payment"):
        for model, field, kind, taken in (
            (RepairOrder, "repair_order", "repair", taken_r),
            (MaintenanceOrder, "maintenance_order", "maintenance", taken_m),
        ):
            for order in model.objects.filter(customer_id=pk, status=status).order_by("pk"):
                if order.pk not in taken:
                    candidates.append((order, field, kind, status))
    rows = []
    for order, field, kind, status in candidates[:k]:
        paid = status == "completed"
        rows.append(
            OnAccountOrder(
                number=order.number.replace("WX", "GZ", 1).replace("BY", "GZ", 1)
                + ("R" if kind == "repair" else "M"),
                customer_id=pk,
                **{field: order},
                kind=kind,
                store_id=rng.choice(stores) if stores else None,
                amount=order.amount,
                approval_status="approved" if paid else "draft",
                submitted_at=order.completed_at if paid else None,
                approved_at=order.completed_at if paid else None,
                creator=owner,
            )
        )
    made = OnAccountOrder.objects.bulk_create(rows)
    _backdate(OnAccountOrder, [(o, o.service_order.billed_at) for o in made])
    added["挂账订单"] = len(rows)

    # The ledger recomputes the customer's receivables and 状态 from the rows just written.
    fixed = ledger.fix(ledger.drifts([pk]))
    refresh_followup_times(pk)
    added["(ledger fixed)"] = fixed
    return added


def counts(customer: Customer) -> dict[str, int]:
    pk = customer.pk
    return {
        "联系人": Contact.objects.filter(customer_id=pk).count(),
        "跟进记录": FollowUp.objects.filter(customer_id=pk).count(),
        "报价单": Quote.objects.filter(customer_id=pk).count(),
        "合同": Contract.objects.filter(customer_id=pk).count(),
        "回款": Payment.objects.filter(customer_id=pk).count(),
        "回款计划": PaymentPlan.objects.filter(customer_id=pk).count(),
        "车辆": Vehicle.objects.filter(customer_id=pk).count(),
        "维修订单": RepairOrder.objects.filter(customer_id=pk).count(),
        "保养订单": MaintenanceOrder.objects.filter(customer_id=pk).count(),
        "挂账订单": OnAccountOrder.objects.filter(customer_id=pk).count(),
    }


# ---------------------------------------------------------------------------------------------
# Measuring


def in_process(label, user, url, reps, warmup, target, headers=None) -> Result:
    client = Client()
    client.force_login(user)
    headers = headers or {}

    def get():
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} → {response.status_code}: {response.content[:300]!r}")

    result = Result(label, user.username, target)
    for _ in range(warmup):
        get()
    for _ in range(reps):
        timed(result, get)
    return result


def over_http(label, user, server, url, headers, reps, warmup, target) -> Result:
    conn = server.connection()
    result = Result(label, user.username, target)
    for _ in range(warmup):
        http_call(conn, "GET", url, headers)
    for _ in range(reps):
        start = time.perf_counter()
        http_call(conn, "GET", url, headers)
        result.add(time.perf_counter() - start)
    conn.close()
    return result


def explain(result: Result, top: int = 3) -> None:
    slow = sorted(result.last_queries, key=lambda q: -q[2])[:top]
    for sql, params, seconds in slow:
        print(f"\n-- {seconds * 1000:.1f} ms: {sql[:300]}")
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            for (line,) in cursor.fetchall():
                print(f"   {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--docs", type=int, default=1000, help="rows of each kind")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seed-only", action="store_true", help="add the rows, measure nothing")
    parser.add_argument("--no-tabs", action="store_true", help="skip the per-tab cases")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    settings.DEBUG = False
    for line in database_info():
        print(line)
    if connection.vendor != "postgresql":
        print("(not PostgreSQL: the figures say nothing about the targets)")

    customer = the_customer()
    started = time.perf_counter()
    added = seed(customer, args.docs, random.Random(args.seed))
    if any(added.values()):
        print(f"added {added} in {time.perf_counter() - started:.1f} s")
    customer.refresh_from_db()
    print(f"{NAME} (id {customer.pk}): {counts(customer)}")
    print(f"  receivables drift: {len(ledger.drifts([customer.pk]))}")
    if args.seed_only:
        return

    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    users = [User.objects.get(username=n) for n in ("admin", "manager1")] + [customer.owner]
    base = f"/customers/{customer.pk}/"
    server = None if args.no_http else Server(args.port, args.workers, args.threads)
    results: list[Result] = []
    tokens = []
    try:
        if server is not None:
            server.start()
        for user in users:
            page = in_process(
                "portrait /customers/<id>/", user, base, args.reps, args.warmup, TARGETS["page"]
            )
            results.append(page)
            # The share of the 通知代办 badge (every page's, not the portrait's): its count.
            badge = Result("  of which 通知代办 badge (todo_count)", user.username)
            for i in range(args.warmup + args.reps):
                fresh = User.objects.get(pk=user.pk)
                timed(badge if i >= args.warmup else None, lambda u=fresh: todo_count(u))
            results.append(badge)
            if args.explain and user.username == "admin":
                explain(page)
            if server is not None:
                headers = {"Cookie": session_cookie(user), "Host": f"127.0.0.1:{server.port}"}
                results.append(
                    over_http(
                        "… over HTTP (gunicorn)",
                        user,
                        server,
                        base,
                        headers,
                        args.reps,
                        args.warmup,
                        TARGETS["page"],
                    )
                )
        admin, owner = users[0], users[-1]
        for user in (admin, owner) if not args.no_tabs else ():
            for tab in visible_tabs(user, in_pool=False):
                results.append(
                    in_process(
                        f"tab {tab.key} ({tab.label})",
                        user,
                        f"{base}tabs/{tab.key}/",
                        args.reps,
                        args.warmup,
                        TARGETS["page"],
                        headers={"HX-Request": "true"},
                    )
                )
        for user in (admin, owner):
            results.append(
                in_process(
                    "同比增幅 /customers/<id>/yoy/",
                    user,
                    f"{base}yoy/",
                    args.reps,
                    args.warmup,
                    TARGETS["yoy"],
                )
            )
            token = issue_token(user, name=TOKEN_NAME)
            tokens.append(user)
            bearer = {"Authorization": f"Bearer {token}"}
            for label, path, target in (
                ("API GET …/yoy", f"/api/v1/customers/{customer.pk}/yoy", TARGETS["yoy"]),
                (
                    "API GET …/portrait",
                    f"/api/v1/customers/{customer.pk}/portrait",
                    TARGETS["page"],
                ),
            ):
                results.append(
                    in_process(label, user, path, args.reps, args.warmup, target, headers=bearer)
                )
                if server is not None:
                    headers = {**bearer, "Host": f"127.0.0.1:{server.port}"}
                    results.append(
                        over_http(
                            "… over HTTP (gunicorn)",
                            user,
                            server,
                            path,
                            headers,
                            args.reps,
                            args.warmup,
                            target,
                        )
                    )
    finally:
        if server is not None:
            server.stop()
        ApiToken.objects.filter(user__in=tokens, name=TOKEN_NAME).delete()
    print_table(results)
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
