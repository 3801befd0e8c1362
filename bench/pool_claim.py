"""Pool claim benchmarks (SPEC §12.1): claim 1 customer ≤ 20 ms; batch claim of 100 ≤ 200 ms.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kehu_bench \\
        .venv/bin/python bench/pool_claim.py [--reps 50] [--batch-reps 10] [--threads 8]
        [--seconds 5] [--user bsales001]

Run ``manage.py seed_bench --customers N`` on that database first (see bench/README.md).

Cases, each through ``kehu.pool.services.claim_customers`` as a salesperson (scope self; by
default the first bench salesperson allowed to claim), on pool customers whose previous owner is
none of the users involved:

- ``claim 1``: one id per call, ``--reps`` calls after ``--warmup``;
- ``claim 100``: a batch of ``--batch`` ids per call, ``--batch-reps`` calls after one warm-up;
- ``threads``: ``--threads`` threads, each its own salesperson and database connection, each
  claiming its own customers one per call for ``--seconds``: claims/s and the latency of a claim
  under that load;
- ``contended``: the same threads all claim the same ``--batch`` customers (each in its own
  order): every customer must be won exactly once, the others told 已被他人领取;
- ``release 100``: ``release_customers`` of what was claimed, by its owner, in batches of 100.

Afterwards every touched customer gets its saved owner/pool fields back (release sets a new
previous owner, pooled_at and pool), and the CustomerClaim and change-log rows the run wrote are
deleted, so the data set stays as it was. Pool limits (拥有上限, 每日领取上限, cooldown) are off in
the seeded data; the script prints the default pool's settings.

Columns as in ``customer_list.py``: ``q`` queries per call, ``p50``/``p95`` wall time, ``sql50``
summed query time, ``x sql`` = p50 / sql50, ``cpu50`` CPU time of this process.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from kehu.customers.models import Customer  # noqa: E402
from kehu.org.models import User  # noqa: E402
from kehu.pool.models import CustomerClaim, Pool  # noqa: E402
from kehu.pool.services import claim_customers, release_customers  # noqa: E402

TARGETS = {"claim 1": 20.0, "claim 100": 200.0}
RESTORED_FIELDS = [
    "owner",
    "previous_owner",
    "pooled_at",
    "claimed_at",
    "pool",
    "is_locked",
    "pool_return_at",
    "pool_return_rule",
    "version",
]


class SqlTimer:
    def __init__(self):
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.count += 1


class Case:
    def __init__(self, label: str, user: str):
        self.label, self.user = label, user
        self.totals: list[float] = []
        self.cpu: list[float] = []
        self.sql: list[float] = []
        self.counts: list[int] = []
        self.refused = 0

    def run(self, fn, *, expect: int):
        timer = SqlTimer()
        with connection.execute_wrapper(timer):
            start, cpu_start = time.perf_counter(), time.process_time()
            result = fn()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        self.totals.append(elapsed)
        self.cpu.append(cpu)
        self.sql.append(timer.seconds)
        self.counts.append(timer.count)
        if len(result.done) != expect:
            self.refused += expect - len(result.done)
            print(f"  {self.label}: {len(result.done)}/{expect} done, refused {result.refused[:2]}")
        return result


def pct(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def salespeople(first: str | None, count: int) -> list[User]:
    qs = User.objects.filter(is_active=True, roles__code="salesperson").order_by("username")
    users = [u for u in qs.distinct() if not u.is_admin and u.has_perm("customers.claim_customer")]
    if first:
        chosen = [u for u in users if u.username == first]
        if not chosen:
            raise SystemExit(f"{first}: no such active salesperson allowed to claim")
        users = chosen + [u for u in users if u.username != first]
    else:  # the bench salespeople first (bsales001…), the demo ones after
        users.sort(key=lambda u: (not u.username.startswith("bsales"), u.username))
    if len(users) < count:
        raise SystemExit(f"need {count} salespeople, found {len(users)}: run seed_bench first")
    return users[:count]


def snapshot(ids: list[int]) -> list[Customer]:
    return list(Customer.objects.filter(pk__in=ids).only("id", *RESTORED_FIELDS))


def restore(saved: list[Customer], claims_from: int, audit_from: int) -> None:
    ids = [c.pk for c in saved]
    Customer.objects.bulk_update(saved, RESTORED_FIELDS, batch_size=1000)
    claims = CustomerClaim.objects.filter(pk__gt=claims_from, customer_id__in=ids).delete()[0]
    # The change log is append-only for the application; the benchmark removes its own rows
    # from the bench database with plain SQL.
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM audit_changelog WHERE id > %s AND object_type = 'customers.customer' "
            "AND object_id = ANY(%s)",
            [audit_from, ids],
        )
        logs = cursor.rowcount
    still = Customer.objects.filter(pk__in=ids, owner__isnull=False).count()
    print(
        f"\nrestored {len(saved):,} customers (owner/pool fields as before; {still} still owned), "
        f"removed {claims:,} claim rows and {logs:,} change-log rows"
    )


def thread_claims(user: User, ids: list[int], deadline_box: list, barrier, out: dict) -> None:
    latencies: list[float] = []
    won = 0
    try:
        barrier.wait()
        deadline = deadline_box[0]
        for pk in ids:
            if time.perf_counter() >= deadline:
                break
            start = time.perf_counter()
            result = claim_customers(actor=user, ids=[pk])
            latencies.append(time.perf_counter() - start)
            won += len(result.done)
        out[user.pk] = {"latencies": latencies, "won": won, "exhausted": len(latencies) == len(ids)}
    finally:
        connection.close()


def contended(user: User, ids: list[int], seed: int, barrier, out: dict) -> None:
    order = ids[:]
    random.Random(seed).shuffle(order)
    try:
        barrier.wait()
        start = time.perf_counter()
        result = claim_customers(actor=user, ids=order)
        out[user.pk] = {
            "done": result.done,
            "refused": [r["reason"] for r in result.refused],
            "seconds": time.perf_counter() - start,
        }
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=50, help="single claims measured")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--batch-reps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--per-thread", type=int, default=1500, help="customers set aside per thread"
    )
    parser.add_argument("--user", help="the salesperson (default: the first bench salesperson)")
    parser.add_argument("--no-contended", dest="contended", action="store_false")
    parser.add_argument("--debug", action="store_true", help="keep DEBUG on (default: off)")
    args = parser.parse_args()
    if not args.debug:
        settings.DEBUG = False

    print(f"database: {connection.vendor} {connection.settings_dict.get('NAME')}")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    users = salespeople(args.user, max(1, args.threads))
    user = users[0]
    for pool in Pool.objects.order_by("id"):
        print(
            f"pool {pool.name}: max_owned={pool.max_owned} daily_claim_limit="
            f"{pool.daily_claim_limit} reclaim_cooldown_days={pool.reclaim_cooldown_days} "
            f"no_followup_days={pool.no_followup_days} not_won_days={pool.not_won_days}"
        )

    single_n = args.warmup + args.reps
    batch_n = (1 + args.batch_reps) * args.batch
    contended_n = args.batch if args.contended and args.threads > 1 else 0
    available = list(
        Customer.objects.filter(owner__isnull=True)
        .exclude(previous_owner__in=users)
        .order_by("id")
        .values_list("id", flat=True)
    )
    need_fixed = single_n + batch_n + contended_n
    per_thread = min(args.per_thread, max(0, len(available) - need_fixed) // max(1, args.threads))
    if len(available) < need_fixed + args.threads * 10:
        raise SystemExit(f"only {len(available):,} pool customers: seed more (seed_bench)")
    random.Random(1).shuffle(available)
    it = iter(available)
    singles = [next(it) for _ in range(single_n)]
    batches = [[next(it) for _ in range(args.batch)] for _ in range(1 + args.batch_reps)]
    fought = [next(it) for _ in range(contended_n)]
    per_user = {u.pk: [next(it) for _ in range(per_thread)] for u in users}
    touched = singles + [pk for b in batches for pk in b] + fought
    touched += [pk for ids in per_user.values() for pk in ids]
    print(
        f"salesperson {user.username} ({user.display_name}), scope {user.data_scope}; "
        f"{len(available):,} pool customers available, {len(touched):,} set aside"
    )

    from kehu.audit.models import ChangeLog

    claims_from = CustomerClaim.objects.order_by("-id").values_list("id", flat=True).first() or 0
    audit_from = ChangeLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    saved = snapshot(touched)
    cases: list[Case] = []
    try:
        # --- claim 1
        case = Case("claim 1", user.username)
        for n, pk in enumerate(singles):
            if n == args.warmup:
                case = Case("claim 1", user.username)
            case.run(lambda pk=pk: claim_customers(actor=user, ids=[pk]), expect=1)
        cases.append(case)

        # --- claim 100
        case = Case(f"claim {args.batch}", user.username)
        for n, ids in enumerate(batches):
            if n == 1:
                case = Case(f"claim {args.batch}", user.username)
            case.run(lambda ids=ids: claim_customers(actor=user, ids=ids), expect=len(ids))
        cases.append(case)

        # --- K threads, distinct customers
        thread_out: dict[int, dict] = {}
        wall = 0.0
        if args.threads > 0 and per_thread:
            barrier = threading.Barrier(args.threads + 1)
            box = [0.0]
            workers = [
                threading.Thread(
                    target=thread_claims, args=(u, per_user[u.pk], box, barrier, thread_out)
                )
                for u in users
            ]
            for w in workers:
                w.start()
            box[0] = time.perf_counter() + args.seconds
            start = time.perf_counter()
            barrier.wait()
            for w in workers:
                w.join()
            wall = time.perf_counter() - start

        # --- contended: everybody wants the same customers
        fight_out: dict[int, dict] = {}
        if contended_n:
            barrier = threading.Barrier(args.threads)
            workers = [
                threading.Thread(target=contended, args=(u, fought, n, barrier, fight_out))
                for n, u in enumerate(users)
            ]
            for w in workers:
                w.start()
            for w in workers:
                w.join()

        # --- release what was claimed, by its owner, 100 at a time
        owned: dict[int, list[int]] = {}
        for pk, owner_id in Customer.objects.filter(
            pk__in=touched, owner__isnull=False
        ).values_list("id", "owner_id"):
            owned.setdefault(owner_id, []).append(pk)
        owners = {u.pk: u for u in User.objects.filter(pk__in=owned)}
        release = Case("release 100", user.username)
        for owner_id, ids in owned.items():
            for start in range(0, len(ids), 100):
                chunk = ids[start : start + 100]
                release.run(
                    lambda o=owners[owner_id], c=chunk: release_customers(actor=o, ids=c),
                    expect=len(chunk),
                )
        cases.append(release)
    finally:
        restore(saved, claims_from, audit_from)

    print_table(cases)
    if thread_out:
        latencies = [t for r in thread_out.values() for t in r["latencies"]]
        won = sum(r["won"] for r in thread_out.values())
        exhausted = sum(1 for r in thread_out.values() if r["exhausted"])
        print(
            f"\nthreads: {args.threads} salespeople claiming their own customers one by one for "
            f"{args.seconds:.0f} s: {won:,} claims in {wall:.2f} s = {won / wall:,.0f} claims/s; "
            f"latency p50 {pct(latencies, 50):.1f} ms, p95 {pct(latencies, 95):.1f} ms"
            + (
                f" ({exhausted} threads ran out of customers: raise --per-thread)"
                if exhausted
                else ""
            )
        )
    if fight_out:
        winners: dict[int, int] = {}
        for r in fight_out.values():
            for pk in r["done"]:
                winners[pk] = winners.get(pk, 0) + 1
        refused = [reason for r in fight_out.values() for reason in r["refused"]]
        reasons = sorted(set(refused))
        slowest = max(r["seconds"] for r in fight_out.values())
        ok = len(winners) == len(fought) and all(v == 1 for v in winners.values())
        print(
            f"contended: {args.threads} threads × the same {len(fought)} customers: "
            f"{len(winners)} won (each exactly once: {'yes' if ok else 'NO'}), "
            f"{len(refused):,} refused {reasons}; slowest thread {slowest:.2f} s"
        )
    print(
        "load average at end: {:.2f} {:.2f} {:.2f} (figures are noisy when it is above the core "
        "count)".format(*os.getloadavg())
    )


def print_table(cases: list[Case]) -> None:
    header = (
        f"{'case':<14} {'user':<10} {'n':>4} {'q':>5} {'p50':>8} {'p95':>8} {'sql50':>8} "
        f"{'x sql':>6} {'cpu50':>8} {'target':>6}  ok"
    )
    print("\nms per call; q = queries per call (max); p50/p95 wall; sql50 = summed query time\n")
    print(header)
    print("-" * len(header))
    for c in cases:
        p50, p95, s50 = pct(c.totals, 50), pct(c.totals, 95), pct(c.sql, 50)
        target = TARGETS.get(c.label)
        ok = "" if target is None else ("yes" if p95 <= target else "NO")
        print(
            f"{c.label:<14} {c.user:<10} {len(c.totals):>4} {max(c.counts or [0]):>5} "
            f"{p50:>8.1f} {p95:>8.1f} {s50:>8.1f} {p50 / s50 if s50 else 0:>6.1f} "
            f"{pct(c.cpu, 50):>8.1f} {target or 0:>6.0f}  {ok}"
            + (f"  ({c.refused} refused)" if c.refused else "")
        )


if __name__ == "__main__":
    main()
