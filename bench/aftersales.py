"""After-sales benchmarks (issue 12): the 维修订单 list and a service order's transition on a
database with 1,000,000 customers and 500,000 service orders (SPEC §12.1 sizes).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kehu_bench \\
        .venv/bin/python bench/aftersales.py [--reps 30] [--warmup 3] [--transitions 50]
        [--no-http] [--port 0]

Seed first: ``manage.py seed_bench --customers 1000000`` then
``manage.py seed_bench_service_orders --orders 500000`` (technicians btech01…, see its help).

Cases (targets of issue 12: list p95 ≤ 50 ms, a transition ≤ 30 ms):

- ``list``: ``GET /repair-orders/`` (20 rows, newest first) as ``admin``, as the technician
  ``btech01`` on the 我的工单 tab (``?tab=assigned``), and filtered by 待支付
  (``?status=awaiting_payment``) — in process through Django's test ``Client`` and over HTTP
  through gunicorn (the Procfile's workers × threads, DEBUG off, a keep-alive connection with
  the session cookie); the API twin ``GET /api/v1/repair-orders`` (Bearer token) over HTTP;
- ``transition``: ``--transitions`` random orders 待派工 taken through 派工 (to a technician),
  完工 and 验收 (which bills the customer's 维修订单 receivable through the ledger), each step
  timed (``flow.transition``), then over HTTP ``POST /api/v1/repair-orders/{id}/transition``.

The orders moved stay moved (their ledger postings are real, so the data stays consistent);
run ``seed_bench_service_orders`` again for more orders 待派工.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
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
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from kehu.aftersales import flow  # noqa: E402
from kehu.aftersales.models import MaintenanceOrder, RepairOrder  # noqa: E402
from kehu.documents.types import registry  # noqa: E402
from kehu.org.auth import issue_token  # noqa: E402
from kehu.org.models import ApiToken, User  # noqa: E402

TARGETS = {"list": 50.0, "transition": 30.0}
REPAIR = registry["repairorder"]
LISTS = [
    ("list /repair-orders/", "admin", "/repair-orders/"),
    ("list 我的工单 (tab=assigned)", "btech01", "/repair-orders/?tab=assigned"),
    ("list 待支付 (status filter)", "admin", "/repair-orders/?status=awaiting_payment"),
]


def list_cases(reps: int, warmup: int, server: Server | None) -> list[Result]:
    results = []
    for label, username, url in LISTS:
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)

        def get(client=client, url=url):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"GET {url} → {response.status_code}")

        result = Result(label, username, TARGETS["list"])
        for _ in range(warmup):
            get()
        for _ in range(reps):
            timed(result, get)
        results.append(result)
        if server is None:
            continue
        headers = {"Cookie": session_cookie(user), "Host": f"127.0.0.1:{server.port}"}
        results.append(
            http_result("… over HTTP (gunicorn)", username, server, url, headers, reps, warmup)
        )
    if server is not None:
        admin = User.objects.get(username="admin")
        token = issue_token(admin, name="bench/aftersales.py")
        headers = {"Authorization": f"Bearer {token}", "Host": f"127.0.0.1:{server.port}"}
        url = "/api/v1/repair-orders?page_size=20"
        results.append(
            http_result(
                "API GET /api/v1/repair-orders", "admin", server, url, headers, reps, warmup
            )
        )
        ApiToken.objects.filter(user=admin, name="bench/aftersales.py").delete()
    return results


def http_result(label, username, server, url, headers, reps, warmup) -> Result:
    conn = server.connection()
    result = Result(label, username, TARGETS["list"])
    for _ in range(warmup):
        http_call(conn, "GET", url, headers)
    for _ in range(reps):
        start = time.perf_counter()
        http_call(conn, "GET", url, headers)
        result.add(time.perf_counter() - start)
    conn.close()
    return result


def waiting_orders(rng: random.Random, n: int) -> list[RepairOrder]:
    ids = list(
        RepairOrder.objects.filter(status="awaiting_dispatch", assignee__isnull=True)
        .order_by("-id")
        .values_list("pk", flat=True)[: n * 20]
    )
    if len(ids) < n:
        raise SystemExit("not enough 维修订单 待派工: run seed_bench_service_orders (again)")
    return list(RepairOrder.objects.filter(pk__in=rng.sample(ids, n)).order_by("pk"))


def transition_cases(rng, n: int, warmup: int, server: Server | None) -> list[Result]:
    technician = User.objects.get(username="btech01")
    steps = [("in_progress", "派工"), ("awaiting_acceptance", "完工"), ("awaiting_payment", "验收")]
    results = {
        to: Result(f"transition {label} (flow)", "btech01", TARGETS["transition"])
        for to, label in steps
    }
    for i, order in enumerate(waiting_orders(rng, n + warmup)):
        for to, _label in steps:
            order = timed(
                results[to] if i >= warmup else None,
                lambda o=order, to=to: flow.transition(REPAIR, actor=technician, order=o, to=to),
            )
    found = list(results.values())
    if server is None:
        return found
    token = issue_token(technician, name="bench/aftersales.py")
    headers = {
        "Authorization": f"Bearer {token}",
        "Host": f"127.0.0.1:{server.port}",
        "Content-Type": "application/json",
    }
    http = {
        to: Result(f"… {label} over HTTP (API)", "btech01", TARGETS["transition"])
        for to, label in steps
    }
    conn = server.connection()
    for i, order in enumerate(waiting_orders(rng, n + warmup)):
        for to, _label in steps:
            body = json.dumps({"to": to})
            start = time.perf_counter()
            conn.request(
                "POST", f"/api/v1/repair-orders/{order.pk}/transition", body=body, headers=headers
            )
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"transition {order.pk} → {to}: {response.status}")
            if i >= warmup:
                http[to].add(time.perf_counter() - start)
    conn.close()
    ApiToken.objects.filter(user=technician, name="bench/aftersales.py").delete()
    return found + list(http.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--transitions", type=int, default=50)
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    settings.DEBUG = False
    for line in database_info():
        print(line)
    print(
        f"service orders: {RepairOrder.objects.count():,} 维修订单 + "
        f"{MaintenanceOrder.objects.count():,} 保养订单"
    )
    if connection.vendor != "postgresql":
        print("(not PostgreSQL: the figures say nothing about the targets)")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    server = None if args.no_http else Server(args.port, args.workers, args.threads)
    results: list[Result] = []
    try:
        if server is not None:
            server.start()
        results += list_cases(args.reps, args.warmup, server)
        results += transition_cases(random.Random(args.seed), args.transitions, 3, server)
    finally:
        if server is not None:
            server.stop()
    print_table(results)
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
