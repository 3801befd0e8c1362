"""批量删除 benchmark (issue 10, batch limits): 1,000 customer deletes ≤ 2 s on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helper_robust \\
        .venv/bin/python bench/batch_delete.py [--customers 1000] [--contacts 2] [--followups 2]
        [--refused 0] [--mode api|service] [--reps 3]

Works on any migrated database (the demo organisation is seeded when it is missing); no
``seed_bench`` needed. Each rep creates ``--customers`` fresh customers owned by sales1 (bulk
inserts: ``--contacts`` contacts and ``--followups`` follow-ups each, one tag, and for
``--refused`` of them a 商机, which the delete guard must refuse), then deletes them all as
admin and times it:

- ``api`` (default): ``POST /api/v1/customers/batch-delete`` through Django's test ``Client``
  (token auth, middleware, JSON), in requests of ``KEHU_BATCH_MAX_IDS`` (500) ids: 500 + 500;
- ``service``: ``customers_batch_delete`` with all the ids in one call (the limit raised for
  the run).

Printed per rep: wall time, queries and summed SQL time of the delete, done/refused counts.
Afterwards the run's customers, their recycle-bin entries, change-log rows and 商机 are removed,
so the database is as before.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from kehu.audit.models import ChangeLog  # noqa: E402
from kehu.basics.models import DictEntry, DictKind  # noqa: E402
from kehu.customers.dedupe import normalize_name  # noqa: E402
from kehu.customers.models import Contact, Customer  # noqa: E402
from kehu.customers.services import customers_batch_delete  # noqa: E402
from kehu.followups.models import FollowUp  # noqa: E402
from kehu.org.auth import issue_token  # noqa: E402
from kehu.org.models import User  # noqa: E402
from kehu.recyclebin.models import RecycleEntry  # noqa: E402
from kehu.sales.models import Opportunity  # noqa: E402

TARGET_SECONDS = 2.0


class SqlTimer:
    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.cpu = 0.0  # the app process's CPU time (the figure a busy machine does not blur)

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - start


def organisation() -> tuple[User, User]:
    if not User.objects.filter(username="sales1").exists():
        from kehu.org.demo import seed

        seed()
    return User.objects.get(username="admin"), User.objects.get(username="sales1")


def create_customers(owner: User, n: int, contacts: int, followups: int, refused: int, tag):
    stamp = time.strftime("%H%M%S")
    customers = []
    for i in range(n):
        name = f"批量删除基准{stamp}-{i:05d}有限公司"
        customers.append(
            Customer(
                name=name,
                name_normalized=normalize_name(name),
                contact_name="联系人",
                contact_phone=f"139{i:08d}",
                owner=owner,
                creator=owner,
            )
        )
    customers = Customer.objects.bulk_create(customers, batch_size=1000)
    Contact.objects.bulk_create(
        [
            Contact(
                customer=c,
                name="联系人" if k == 0 else f"联系人{k}",
                mobile=f"139{i:08d}",
                is_primary=k == 0,
            )
            for i, c in enumerate(customers)
            for k in range(contacts)
        ],
        batch_size=2000,
    )
    FollowUp.objects.bulk_create(
        [
            FollowUp(customer=c, content=f"第{k + 1}次电话沟通", author=owner)
            for c in customers
            for k in range(followups)
        ],
        batch_size=2000,
    )
    if tag is not None:
        through = Customer.tags.through
        through.objects.bulk_create(
            [through(customer_id=c.pk, dictentry_id=tag.pk) for c in customers], batch_size=2000
        )
    Opportunity.objects.bulk_create(
        [Opportunity(customer=c, name="基准商机", creator=owner) for c in customers[:refused]]
    )
    return [c.pk for c in customers]


def delete(mode: str, admin: User, ids: list[int]) -> tuple[float, SqlTimer, int, int]:
    timer = SqlTimer()
    timer.cpu = time.process_time()
    done = refused = 0
    if mode == "service":
        settings.KEHU_BATCH_MAX_IDS = max(len(ids), settings.KEHU_BATCH_MAX_IDS)
        with connection.execute_wrapper(timer):
            start = time.perf_counter()
            result = customers_batch_delete(actor=admin, ids=ids)
            wall = time.perf_counter() - start
        timer.cpu = time.process_time() - timer.cpu
        return wall, timer, len(result.done), len(result.refused)
    client = Client(headers={"Authorization": f"Bearer {issue_token(admin)}"})
    # Warm-up: the first request of a process imports the URLconf and every API router (~1 s),
    # which a running server has done long before.
    client.post("/api/v1/customers/batch-delete", {"ids": [2**62]}, content_type="application/json")
    size = settings.KEHU_BATCH_MAX_IDS
    timer.cpu = time.process_time()
    with connection.execute_wrapper(timer):
        start = time.perf_counter()
        for offset in range(0, len(ids), size):
            response = client.post(
                "/api/v1/customers/batch-delete",
                {"ids": ids[offset : offset + size]},
                content_type="application/json",
            )
            assert response.status_code == 200, response.content[:300]
            body = response.json()
            done += len(body["done"])
            refused += len(body["refused"])
        wall = time.perf_counter() - start
    timer.cpu = time.process_time() - timer.cpu
    return wall, timer, done, refused


def clean_up(ids: list[int], audit_from: int) -> None:
    Opportunity.objects.filter(customer_id__in=ids).delete()
    Customer.objects.filter(pk__in=ids).delete()
    RecycleEntry.objects.filter(object_type="customers.customer", object_id__in=ids).delete()
    # The change log is append-only for the application; the benchmark removes its own rows
    # with plain SQL (as bench/pool_claim.py does).
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            cursor.execute(
                "DELETE FROM audit_changelog WHERE id > %s AND object_type = 'customers.customer'"
                f" AND object_id IN ({', '.join(['%s'] * len(chunk))})",
                [audit_from, *chunk],
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--contacts", type=int, default=2)
    parser.add_argument("--followups", type=int, default=2)
    parser.add_argument("--refused", type=int, default=0, help="customers given a 商机")
    parser.add_argument("--mode", choices=["api", "service"], default="api")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    settings.DEBUG = False  # no query logging

    vendor = connection.vendor
    print(f"database: {vendor} {connection.settings_dict.get('NAME')}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    admin, sales1 = organisation()
    tag = DictEntry.objects.filter(kind=DictKind.TAG).first()
    walls = []
    for rep in range(1, args.reps + 1):
        audit_from = ChangeLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
        ids = create_customers(
            sales1, args.customers, args.contacts, args.followups, args.refused, tag
        )
        try:
            wall, timer, done, refused = delete(args.mode, admin, ids)
        finally:
            clean_up(ids, audit_from)
        walls.append(wall)
        print(
            f"rep {rep}: {args.mode} delete of {len(ids):,} customers "
            f"({args.contacts} contacts, {args.followups} follow-ups each): {wall:.2f} s, "
            f"{timer.count} queries, SQL {timer.seconds:.2f} s, app CPU {timer.cpu:.2f} s, "
            f"load {os.getloadavg()[0]:.1f}, done {done}, refused {refused}"
        )
    best, worst = min(walls), max(walls)
    verdict = "ok" if worst <= TARGET_SECONDS else "OVER TARGET"
    print(f"best {best:.2f} s, worst {worst:.2f} s (target ≤ {TARGET_SECONDS:.0f} s): {verdict}")


if __name__ == "__main__":
    main()
