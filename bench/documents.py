"""Sales document benchmarks (issue 11): the customer list sorted by 待收款金额, approving a 合同
and a 回款, and ``reconcile_receivables`` over every customer.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kehu_bench \\
        .venv/bin/python bench/documents.py [--reps 30] [--warmup 3] [--approvals 50]
        [--reconcile-reps 3] [--no-http] [--port 0] [--keep] [--explain]

Run ``manage.py seed_bench --customers N`` on that database first (it writes N contracts and N
payments by default, see bench/README.md).

Cases:

- ``list sort=-receivable_total``: ``GET /customers/?sort=-receivable_total`` (20 rows, tab 全部)
  as ``admin``, ``manager1`` and the salesperson owning the most customers, in process through
  Django's test ``Client`` (``--warmup`` then ``--reps`` runs) and over HTTP through gunicorn
  (the Procfile's 2 workers × 4 threads, DEBUG off, static files collected to a temporary
  directory; a keep-alive connection with the session cookie of a ``force_login``);
- ``approve contract`` / ``approve payment``: ``--approvals`` times, a fresh 合同 on a random
  customer with an owner (as the owner: ``document_save`` then ``submit``, not timed), then
  ``approval.approve`` by the approver of its flow (the owner's department leader) timed; then a
  回款 on it (as the owner, not timed) approved by 财务 (finance1) timed. Both post to the ledger
  in the same transaction. With HTTP, the same again through
  ``POST /api/v1/contracts/<id>/approve`` and ``/api/v1/payments/<id>/approve`` (Bearer tokens);
- ``reconcile_receivables``: ``call_command("reconcile_receivables")`` ``--reconcile-reps`` times:
  the set-based recomputation of every customer's receivables from all contracts and payments;
  the drift count must be 0.

Afterwards the documents the run created are deleted (with their approval records, issued
numbers, change-log rows and API tokens) and the touched customers' receivables recomputed by
the ledger (``drifts`` + ``fix``), so the data set is as it was; ``--keep`` leaves them.

Columns as in ``customer_list.py``: ``q`` queries per run, ``p50``/``p95`` wall time,
``sql50``/``sql95`` summed query time (``connection.execute_wrapper``; in-process only),
``x sql`` = p50 / sql50, ``cpu50`` CPU time of this process (in-process only).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import logging
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")

import django  # noqa: E402

django.setup()
logging.getLogger("axes").setLevel(logging.WARNING)  # force_login chatter

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Max  # noqa: E402
from django.test import Client  # noqa: E402

from kehu.customers.models import Customer  # noqa: E402
from kehu.documents import approval  # noqa: E402
from kehu.documents.models import ApprovalRecord, IssuedNumber  # noqa: E402
from kehu.documents.services import document_save  # noqa: E402
from kehu.documents.types import registry  # noqa: E402
from kehu.ledger import services as ledger  # noqa: E402
from kehu.org.auth import issue_token  # noqa: E402
from kehu.org.models import ApiToken, User  # noqa: E402
from kehu.sales.models import Contract, Payment  # noqa: E402

TARGETS = {"sorted": 80.0}  # SPEC §12.1: the list sorted by 待收款金额 desc, p95 ≤ 80 ms
KINDS = ["vehicle", "parts", "used_vehicle", "lease"]


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
    label: str
    user: str
    target: float | None = None
    totals: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    sql: list[float] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    last_queries: list = field(default_factory=list)

    @staticmethod
    def p(values, q) -> float:
        if not values:
            return float("nan")
        if len(values) == 1:
            return values[0] * 1000
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000

    def add(self, elapsed: float, cpu: float | None = None, timer: SqlTimer | None = None):
        self.totals.append(elapsed)
        if cpu is not None:
            self.cpu.append(cpu)
        if timer is not None:
            self.sql.append(sum(q[2] for q in timer.queries))
            self.counts.append(len(timer.queries))
            self.last_queries = timer.queries


def timed(result: Result | None, fn):
    """Run ``fn`` once, adding its wall, CPU and SQL time to ``result`` (None: warm-up)."""
    timer = SqlTimer()
    with connection.execute_wrapper(timer):
        start, cpu_start = time.perf_counter(), time.process_time()
        value = fn()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    if result is not None:
        result.add(elapsed, cpu, timer)
    return value


# ---------------------------------------------------------------------------------------------
# The database and the users


def database_info() -> list[str]:
    lines = [
        f"database: {connection.vendor} {connection.settings_dict.get('NAME')}",
        f"customers: {Customer.objects.count():,} ({Customer.objects.filter(status='won').count():,}"
        f" 已成交), contracts: {Contract.objects.count():,}, payments: {Payment.objects.count():,}, "
        f"users: {User.objects.count():,}",
    ]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            lines.append(f"PostgreSQL {cursor.fetchone()[0]}")
    return lines


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


# ---------------------------------------------------------------------------------------------
# gunicorn


class Server:
    """gunicorn as the Procfile runs it, on this database, DEBUG off, for the HTTP cases."""

    def __init__(self, port: int, workers: int, threads: int):
        self.port, self.workers, self.threads = port, workers, threads
        self.proc: subprocess.Popen | None = None
        self.static = tempfile.mkdtemp(prefix="kehu-bench-static-")

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DEBUG": "0",
            # The bench process signs the sessions it creates with its own key: the same here.
            "SECRET_KEY": settings.SECRET_KEY,
            "KEHU_STATIC_ROOT": self.static,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": os.environ.get("DATABASE_URL", ""),
        }

    def start(self) -> None:
        started = time.perf_counter()
        if not self.port:
            with socket.socket() as probe:  # a free port, so no other server answers for ours
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise SystemExit(f"port {self.port} is in use: pick another with --port")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=self.env(),
            check=True,
        )
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.proc = subprocess.Popen(
            [
                str(gunicorn),
                "kehu.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--log-level",
                "warning",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=self.env(),
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", settings.LOGIN_URL)
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                time.sleep(0.3)
        else:
            self.stop()
            raise SystemExit("gunicorn did not answer within 60 s")
        print(
            f"gunicorn on 127.0.0.1:{self.port} ({self.workers} workers × {self.threads} threads, "
            f"DEBUG off), ready in {time.perf_counter() - started:.1f} s"
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.static, ignore_errors=True)

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)


def http_call(conn, method: str, path: str, headers: dict[str, str], expect: int = 200) -> bytes:
    conn.request(method, path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    if response.status != expect:
        raise SystemExit(f"{method} {path} → {response.status}: {body[:300]!r}")
    return body


def session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


# ---------------------------------------------------------------------------------------------
# (a) the customer list sorted by 待收款金额


def list_cases(users, reps: int, warmup: int, server: Server | None) -> list[Result]:
    url = "/customers/?sort=-receivable_total"
    results = []
    for user in users:
        client = Client()
        client.force_login(user)

        def get(client=client):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"GET {url} → {response.status_code}")

        result = Result("list sort=-receivable_total", user.username, TARGETS["sorted"])
        for _ in range(warmup):
            get()
        for _ in range(reps):
            timed(result, get)
        results.append(result)
        # The share of every page's 待我审批 badge (通知代办) in it: the documents waiting for
        # this user's approval (kehu.documents.approval.pending_for), read on every page.
        badge = Result("  of which 待我审批 (pending_for)", user.username)
        fresh = User.objects.get(pk=user.pk)
        for i in range(warmup + reps):
            timed(badge if i >= warmup else None, lambda u=fresh: approval.pending_for(u))
        results.append(badge)
        if server is None:
            continue
        conn = server.connection()
        headers = {"Cookie": session_cookie(user), "Host": f"127.0.0.1:{server.port}"}
        result = Result("… over HTTP (gunicorn)", user.username, TARGETS["sorted"])
        for _ in range(warmup):
            http_call(conn, "GET", url, headers)
        for _ in range(reps):
            start = time.perf_counter()
            http_call(conn, "GET", url, headers)
            result.add(time.perf_counter() - start)
        conn.close()
        results.append(result)
    return results


# ---------------------------------------------------------------------------------------------
# (b) approving a contract and a payment


class Approvals:
    """Fresh documents on random customers, approved by their flow's approver; remembers what it
    created so :meth:`cleanup` can remove it."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.contract, self.payment = registry["contract"], registry["payment"]
        self.finance = (
            User.objects.filter(roles__code="finance", is_active=True).order_by("id").first()
        )
        if self.finance is None:
            raise SystemExit("no 财务 user (finance1): run manage.py seed_bench first")
        self.max_id = Customer.objects.aggregate(m=Max("id"))["m"] or 0
        self.contracts: list[int] = []
        self.payments: list[int] = []
        self.customers: set[int] = set()
        self.tokens: dict[int, str] = {}
        self.token_ids: list[int] = []

    def pick(self):
        """A random customer with an active owner whose contracts someone approves."""
        for _ in range(1000):
            pk = self.rng.randint(1, self.max_id)
            customer = (
                Customer.objects.filter(pk__gte=pk, owner__isnull=False, owner__is_active=True)
                .select_related("owner__department")
                .order_by("pk")
                .first()
            )
            if customer is None:
                continue
            leader = approval.leader_for(customer.owner)
            if leader is not None:
                return customer, customer.owner, User.objects.get(pk=leader.pk)
        raise SystemExit("no customer whose owner has a department leader")

    def draft_contract(self):
        customer, owner, leader = self.pick()
        kind = self.rng.choice(KINDS)
        amount = Decimal(self.rng.randint(500_00, 300_000_00)).scaleb(-2)
        doc = document_save(
            self.contract,
            actor=owner,
            instance=None,
            data={"customer": customer, "name": "压测合同", "kind": kind, "amount": amount},
        )
        self.contracts.append(doc.pk)
        self.customers.add(customer.pk)
        doc = approval.submit(self.contract, actor=owner, doc=doc)
        return doc, owner, leader

    def draft_payment(self, contract, owner):
        amount = (contract.amount * Decimal(self.rng.choice(("0.3", "0.5", "1")))).quantize(
            Decimal("0.01")
        )
        doc = document_save(
            self.payment,
            actor=owner,
            instance=None,
            data={"contract": contract.pk, "amount": amount},
        )
        self.payments.append(doc.pk)
        return approval.submit(self.payment, actor=owner, doc=doc)

    def token(self, user: User) -> str:
        if user.pk not in self.tokens:
            self.tokens[user.pk] = issue_token(user, name="bench/documents.py")
            self.token_ids.append(
                ApiToken.objects.filter(user=user).order_by("-id").values_list("id", flat=True)[0]
            )
        return self.tokens[user.pk]

    def run(self, reps: int, warmup: int, server: Server | None) -> list[Result]:
        results = [
            Result("approve contract (approval.approve)", "leader"),
            Result("approve payment (approval.approve)", "finance1"),
        ]
        for i in range(warmup + reps):
            keep = i >= warmup
            contract, owner, leader = self.draft_contract()
            contract = timed(
                results[0] if keep else None,
                lambda c=contract, u=leader: approval.approve(self.contract, actor=u, doc=c),
            )
            payment = self.draft_payment(contract, owner)
            timed(
                results[1] if keep else None,
                lambda p=payment: approval.approve(self.payment, actor=self.finance, doc=p),
            )
        if server is None:
            return results
        over_http = [
            Result("approve contract (HTTP API)", "leader"),
            Result("approve payment (HTTP API)", "finance1"),
        ]
        conn = server.connection()
        for i in range(warmup + reps):
            keep = i >= warmup
            contract, owner, leader = self.draft_contract()
            self.post(
                conn,
                server,
                f"/api/v1/contracts/{contract.pk}/approve",
                leader,
                over_http[0] if keep else None,
            )
            contract.refresh_from_db()
            payment = self.draft_payment(contract, owner)
            self.post(
                conn,
                server,
                f"/api/v1/payments/{payment.pk}/approve",
                self.finance,
                over_http[1] if keep else None,
            )
        conn.close()
        return results + over_http

    def post(self, conn, server: Server, path: str, user: User, result: Result | None) -> None:
        headers = {
            "Authorization": f"Bearer {self.token(user)}",
            "Content-Type": "application/json",
            "Host": f"127.0.0.1:{server.port}",
        }
        start = time.perf_counter()
        http_call(conn, "POST", path, headers)
        if result is not None:
            result.add(time.perf_counter() - start)

    def check(self) -> None:
        """Every document approved, and the ledger agrees with them."""
        for model, ids in ((Contract, self.contracts), (Payment, self.payments)):
            left = model.objects.filter(pk__in=ids).exclude(approval_status="approved").count()
            if left:
                raise SystemExit(f"{left} {model.__name__} not approved")
        found = ledger.drifts(customer_ids=sorted(self.customers))
        print(
            f"approvals: {len(self.contracts)} contracts and {len(self.payments)} payments "
            f"approved on {len(self.customers)} customers; ledger drift on them: {len(found)}"
        )

    def cleanup(self, audit_from: int) -> None:
        """Remove what the run created and let the ledger recompute the touched customers."""
        numbers = list(
            Contract.objects.filter(pk__in=self.contracts).values_list("number", flat=True)
        ) + list(Payment.objects.filter(pk__in=self.payments).values_list("number", flat=True))
        for key, ids in (("payment", self.payments), ("contract", self.contracts)):
            ApprovalRecord.objects.filter(doc_type=key, document_id__in=ids).delete()
        Payment.objects.filter(pk__in=self.payments).delete()
        Contract.objects.filter(pk__in=self.contracts).delete()
        IssuedNumber.objects.filter(number__in=numbers).delete()
        ApiToken.objects.filter(pk__in=self.token_ids).delete()
        logs = 0
        with connection.cursor() as cursor:
            for label, ids in (
                ("sales.contract", self.contracts),
                ("sales.payment", self.payments),
            ):
                for start in range(0, len(ids), 500):
                    chunk = ids[start : start + 500]
                    # The change log is append-only for the application; the benchmark removes
                    # its own rows from the bench database with plain SQL.
                    cursor.execute(
                        "DELETE FROM audit_changelog WHERE id > %s AND object_type = %s "
                        f"AND object_id IN ({', '.join(['%s'] * len(chunk))})",
                        [audit_from, label, *chunk],
                    )
                    logs += cursor.rowcount
        fixed = ledger.fix(ledger.drifts(customer_ids=sorted(self.customers)))
        print(
            f"cleanup: {len(self.contracts)} contracts, {len(self.payments)} payments, "
            f"{logs} change-log rows removed; {fixed} customers' receivables recomputed"
        )


# ---------------------------------------------------------------------------------------------
# (c) reconcile_receivables


def reconcile(reps: int, explain: bool) -> Result:
    result = Result("reconcile_receivables (all customers)", "-")
    drift_lines = 0
    for _ in range(reps):
        out = io.StringIO()

        def run(out=out):
            with contextlib.suppress(SystemExit):  # exit 1: drifts found (counted below)
                call_command("reconcile_receivables", stdout=out)

        timed(result, run)
        drift_lines = sum(1 for line in out.getvalue().splitlines() if line.startswith("客户「"))
    print(f"reconcile_receivables: {drift_lines} drifted customers (expected 0)")
    if explain and connection.vendor == "postgresql" and result.last_queries:
        sql, params, duration = max(result.last_queries, key=lambda q: q[2])
        print(f"\n--- reconcile query {duration * 1000:.0f} ms:")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            for (line,) in cursor.fetchall():
                print("    " + line)
    return result


# ---------------------------------------------------------------------------------------------
# Report


def pad(text: str, width: int) -> str:
    """``ljust`` for a terminal: CJK characters take two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def ms(values: list[float], q: int) -> str:
    return f"{Result.p(values, q):.1f}" if values else ""


def print_table(results: list[Result]) -> None:
    header = (
        f"{'case':<40} {'user':<10} {'n':>3} {'q':>3} {'p50':>8} {'p95':>8} {'sql50':>8} "
        f"{'sql95':>8} {'x sql':>6} {'cpu50':>8} {'target':>6}  ok"
    )
    print(
        "\nms; n = runs after warm-up; q = queries per run; p50/p95 = wall time (of the request, "
        "the service call or the command);\nsql50/sql95 = summed query time; x sql = p50 / sql50; "
        "cpu50 = CPU time of this Python process (in-process cases only)\n"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        p50, p95 = r.p(r.totals, 50), r.p(r.totals, 95)

        s50 = r.p(r.sql, 50) if r.sql else 0.0
        ratio = f"{p50 / s50:.1f}" if s50 else ""
        ok = "" if r.target is None else ("yes" if p95 <= r.target else "NO")
        target = "" if r.target is None else f"{r.target:.0f}"
        queries = max(r.counts) if r.counts else ""
        print(
            f"{pad(r.label, 40)} {r.user:<10} {len(r.totals):>3} {queries!s:>3} {p50:>8.1f} "
            f"{p95:>8.1f} {ms(r.sql, 50):>8} {ms(r.sql, 95):>8} {ratio:>6} {ms(r.cpu, 50):>8} "
            f"{target:>6}  {ok}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=30, help="runs per list case")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--approvals", type=int, default=50, help="approvals per document type")
    parser.add_argument("--reconcile-reps", type=int, default=3)
    parser.add_argument("--user", action="append", default=[], help="extra username(s)")
    parser.add_argument("--no-http", action="store_true", help="skip the gunicorn cases")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (0: a free one)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the approved documents")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE slow queries")
    parser.add_argument("--debug", action="store_true", help="keep DEBUG on (default: off)")
    args = parser.parse_args()
    if not args.debug:
        settings.DEBUG = False  # no query logging, as in production (see customer_list.py)

    for line in database_info():
        print(line)
    if connection.vendor != "postgresql":
        print("(not PostgreSQL: the figures say nothing about the SPEC §12.1 targets)")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    from kehu.audit.models import ChangeLog

    audit_from = ChangeLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    server = None if args.no_http else Server(args.port, args.workers, args.threads)
    results: list[Result] = []
    approvals = Approvals(random.Random(args.seed))
    try:
        if server is not None:
            server.start()
        users = pick_users(args.user)
        for user in users:
            owned = Customer.objects.filter(owner=user).count()
            print(f"user {user.username}: scope {user.data_scope}, owns {owned:,} customers")
        results += list_cases(users, args.reps, args.warmup, server)
        results += approvals.run(args.approvals, min(args.warmup, 3), server)
        approvals.check()
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            approvals.cleanup(audit_from)
    results.append(reconcile(args.reconcile_reps, args.explain))
    print_table(results)
    print(
        "load average at end: {:.2f} {:.2f} {:.2f} (figures are noisy when it is above the core "
        "count)".format(*os.getloadavg())
    )
    if args.explain and connection.vendor == "postgresql":
        for result in results:
            if result.last_queries and result.label.startswith("approve"):
                sql, params, duration = max(result.last_queries, key=lambda q: q[2])
                print(f"\n--- slowest query of {result.label}: {duration * 1000:.1f} ms")
                print(sql[:600])


if __name__ == "__main__":
    main()
