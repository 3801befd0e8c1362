"""Customer list, duplicate check and detail benchmarks (SPEC §12.1).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kehu_bench \\
        .venv/bin/python bench/customer_list.py [--reps 30] [--warmup 3] [--explain]

Run ``manage.py seed_bench --customers N`` on that database first (see bench/README.md).

Every case is run ``--warmup`` times, then ``--reps`` times; for each run the script records the
wall time of the whole request (Django's test ``Client``, so URL routing, middleware, session,
view, template rendering — everything but the network and the WSGI server), the number of
queries and their summed time (measured around each ``cursor.execute`` by
``connection.execute_wrapper``: round trip plus, on PostgreSQL, the transfer of the rows), so the
overhead of Python over SQL is visible as a ratio. ``--explain`` prints EXPLAIN (ANALYZE, BUFFERS)
of the slowest queries of each case (PostgreSQL).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")

import django  # noqa: E402

django.setup()
logging.getLogger("axes").setLevel(logging.WARNING)  # force_login chatter

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from kehu.customers.dedupe import find_duplicates  # noqa: E402
from kehu.customers.models import Contact, Customer  # noqa: E402
from kehu.customers.selectors import customer_list  # noqa: E402
from kehu.org.models import User  # noqa: E402

TARGETS = {"list": 50.0, "sorted": 80.0, "filtered": 80.0, "dedupe": 30.0, "detail": 80.0}


class SqlTimer:
    """``connection.execute_wrapper`` hook: every query with its params and duration."""

    def __init__(self):
        self.queries: list[tuple[str, object, float]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, params, time.perf_counter() - start))


@dataclass
class Result:
    kind: str
    label: str
    user: str
    totals: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    last_queries: list = field(default_factory=list)

    @staticmethod
    def p(values, q):
        if len(values) == 1:
            return values[0] * 1000
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000

    @property
    def target(self) -> float:
        return TARGETS[self.kind]


def measure(kind, label, user, fn, *, reps, warmup) -> Result:
    for _ in range(warmup):
        fn()
    result = Result(kind, label, user)
    for _ in range(reps):
        timer = SqlTimer()
        with connection.execute_wrapper(timer):
            start, cpu_start = time.perf_counter(), time.process_time()
            fn()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        result.totals.append(elapsed)
        result.cpu.append(cpu)
        result.sql.append(sum(q[2] for q in timer.queries))
        result.counts.append(len(timer.queries))
        result.last_queries = timer.queries
    return result


def page(client: Client, url: str):
    def fn():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} → {response.status_code}")
        return response

    return fn


def pick_users(extra: list[str]) -> list[User]:
    names = ["admin", "manager1", *extra]
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    missing = [n for n in names if n not in users]
    if missing:
        raise SystemExit(f"unknown users {missing}: run manage.py seed_bench first")
    chosen = [users[n] for n in names]
    if not extra:
        top = (
            User.objects.filter(roles__code="salesperson", is_active=True)
            .annotate(n=Count("owned_customers", distinct=True))
            .order_by("-n", "id")
            .first()
        )
        if top is not None:
            chosen.append(top)
    return chosen


def database_info() -> list[str]:
    lines = [
        f"database: {connection.vendor} {connection.settings_dict.get('NAME')}",
        f"customers: {Customer.objects.count():,}, contacts: {Contact.objects.count():,}, "
        f"users: {User.objects.count():,}",
    ]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
            cursor.execute("SHOW lc_ctype")
            ctype = cursor.fetchone()[0]
            cursor.execute("SELECT show_trgm('恒通物流')")
            trigrams = cursor.fetchone()[0]
        lines.append(
            f"PostgreSQL {version}, lc_ctype={ctype}, show_trgm('恒通物流') → "
            f"{len(trigrams)} trigrams {'(CJK trigram matching works)' if trigrams else '(NONE: CJK names are not indexed by pg_trgm!)'}"
        )
    return lines


def explain(result: Result, top: int = 2) -> None:
    if connection.vendor != "postgresql":
        return
    slowest = sorted(result.last_queries, key=lambda q: -q[2])[:top]
    for sql, params, duration in slowest:
        print(f"\n--- {result.label} [{result.user}] query {duration * 1000:.1f} ms:")
        print(sql[:600] + (" …" if len(sql) > 600 else ""))
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            for (line,) in cursor.fetchall():
                print("    " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--word", default="恒通", help="name substring for the filtered list")
    parser.add_argument("--user", action="append", default=[], help="extra username(s)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE slow queries")
    parser.add_argument("--debug", action="store_true", help="keep DEBUG on (default: off)")
    args = parser.parse_args()

    # Production-like: no debug cursors (query logging), no template debug info. The settings
    # module was imported with DEBUG on (no SECRET_KEY), which keeps plain static storage and
    # 'testserver' in ALLOWED_HOSTS; engines are built lazily, so this still applies to them.
    if not args.debug:
        settings.DEBUG = False

    for line in database_info():
        print(line)
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    reps, warmup = args.reps, args.warmup
    results: list[Result] = []
    users = pick_users(args.user)
    for user in users:
        client = Client()
        client.force_login(user)
        owned = Customer.objects.filter(owner=user).count()
        print(f"user {user.username}: scope {user.data_scope}, owns {owned:,} customers")
        tabs = ["all", "mine"] + (["subordinates"] if user.username == "manager1" else [])
        for tab in tabs:
            base = {"tab": tab}
            cases = [
                ("list", f"list tab={tab}", base),
                (
                    "sorted",
                    f"list tab={tab} sort=-receivable_total",
                    {**base, "sort": "-receivable_total"},
                ),
                ("filtered", f"list tab={tab} name={args.word}", {**base, "name": args.word}),
            ]
            for kind, label, query in cases:
                url = "/customers/?" + urlencode(query)
                results.append(
                    measure(kind, label, user.username, page(client, url), reps=reps, warmup=warmup)
                )
        target = (
            customer_list(user=user, tab="mine").order_by("-created_at", "-id").first()
            or customer_list(user=user, tab="all").order_by("-created_at", "-id").first()
        )
        if target is not None:
            url = f"/customers/{target.pk}/"
            results.append(
                measure(
                    "detail",
                    "detail /customers/<id>/",
                    user.username,
                    page(client, url),
                    reps=reps,
                    warmup=warmup,
                )
            )

    # Duplicate check: the same for every user (it searches all customers, shows public fields).
    sample = Customer.objects.filter(owner__isnull=False).order_by("id").first()
    secondary = Contact.objects.filter(is_primary=False).exclude(mobile="").order_by("id").first()
    if sample is not None:
        checks = [
            ("dedupe name (existing)", {"name": sample.name}),
            ("dedupe name (new)", {"name": "厦门新星叉车租赁有限公司"}),
            ("dedupe phone (customer)", {"phone": sample.contact_phone}),
            ("dedupe phone (contact)", {"phone": secondary.mobile if secondary else "13800000000"}),
            ("dedupe phone (new)", {"phone": "13312345678"}),
        ]
        for label, kwargs in checks:
            results.append(
                measure(
                    "dedupe",
                    f"{label}",
                    "-",
                    lambda kw=kwargs: find_duplicates(**kw),
                    reps=reps,
                    warmup=warmup,
                )
            )
        client = Client()
        client.force_login(users[-1])
        url = "/customers/duplicate-check/?" + urlencode(
            {"name": sample.name, "phone": sample.contact_phone}
        )
        results.append(
            measure(
                "dedupe",
                "dedupe page name+phone (HTTP)",
                users[-1].username,
                page(client, url),
                reps=reps,
                warmup=warmup,
            )
        )

    print_table(results, reps)
    print(
        "load average at end: {:.2f} {:.2f} {:.2f} (figures are noisy when it is above the core count)".format(
            *os.getloadavg()
        )
    )
    if args.explain:
        for result in results:
            explain(result)


def pad(text: str, width: int) -> str:
    """``ljust`` for a terminal: CJK characters take two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def print_table(results: list[Result], reps: int) -> None:
    header = (
        f"{'case':<44} {'user':<10} {'q':>3} {'p50':>7} {'p95':>7} {'sql50':>7} {'sql95':>7} "
        f"{'x sql':>6} {'cpu50':>7} {'target':>6}  ok"
    )
    print(
        f"\nms, {reps} runs each after warm-up; q = queries per run; p50/p95 = wall time of the "
        "request;\nsql50/sql95 = summed query time; x sql = p50 / sql50; cpu50 = CPU time of this "
        "Python\nprocess (excludes waiting for the database and for other processes)\n"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        p50, p95 = r.p(r.totals, 50), r.p(r.totals, 95)
        s50, s95 = r.p(r.sql, 50), r.p(r.sql, 95)
        c50 = r.p(r.cpu, 50)
        ratio = p50 / s50 if s50 else float("inf")
        ok = "yes" if p95 <= r.target else "NO"
        queries = max(r.counts) if r.counts else 0
        print(
            f"{pad(r.label, 44)} {r.user:<10} {queries:>3} {p50:>7.1f} {p95:>7.1f} {s50:>7.1f} "
            f"{s95:>7.1f} {ratio:>6.1f} {c50:>7.1f} {r.target:>6.0f}  {ok}"
        )


if __name__ == "__main__":
    main()
