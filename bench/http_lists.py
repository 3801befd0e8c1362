"""Every list as users meet it: over HTTP through gunicorn as in the Procfile (SPEC §12.1, §13).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kehu_bench \\
        .venv/bin/python bench/http_lists.py [--reps 20] [--warmup 2] [--concurrency 8]
        [--duration 20] [--only pool] [--no-throughput] [--explain]

Starts ``gunicorn kehu.wsgi:application --workers 2 --threads 4`` (the Procfile's web line, DEBUG
off) on a free local port, logs in like a browser (login form, CSRF, session cookie) and like an
API client (``POST /api/v1/auth/token``, ``Authorization: Bearer``), then times every case:
each web page beside its API twin, one keep-alive client at a time (``p50``/``p95`` of
``--reps`` runs after ``--warmup``), next to the same request's raw SQL (``sql50``: its SELECTs,
captured once in-process with ``connection.execute_wrapper`` and replayed on a plain cursor —
what the database alone costs; writes such as the session's or 查重's log row are not
replayed). Then ``--concurrency`` users (threads, each its own session or token) loop over the
list cases for ``--duration`` seconds: requests/s and latency under load.

The load average is printed at start and end: on a 2-core machine shared with other work, the
wall times measure the neighbours too. The 查重 quota is lifted for the server it starts
(``KEHU_DUPLICATE_CHECK_PER_MINUTE``/``_PER_DAY``), or it would answer 429 after 30 checks.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
os.environ.setdefault("SECRET_KEY", "bench-http-lists")  # DEBUG off, as in production
os.environ.setdefault("KEHU_DUPLICATE_CHECK_PER_MINUTE", "1000000")
os.environ.setdefault("KEHU_DUPLICATE_CHECK_PER_DAY", "100000000")
# collectstatic's output for the server (production's manifest storage), outside the checkout.
os.environ.setdefault("KEHU_STATIC_ROOT", "/tmp/kehu-bench-static")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from kehu.customers.models import Customer  # noqa: E402
from kehu.org.auth import issue_token  # noqa: E402
from kehu.org.models import User  # noqa: E402

PASSWORD = "demo1234"
# The throughput mix: the customer list (tabs, sort, deep page, keywords) and the pool.
MIX = ("customers", "keyword", "pool")
TARGETS = {"list": 50, "sorted": 80, "keyword": 80, "deep": 80, "pool": 50, "dedupe": 30}


@dataclass
class Case:
    name: str
    user: str
    web: str | None  # path of the page (GET), or None
    api: str | None  # path of the API twin (GET), or None
    target: int | None = None
    api_post: dict | None = None  # the API twin is a POST with this JSON body


@dataclass
class Result:
    times: list[float] = field(default_factory=list)
    status: set[int] = field(default_factory=set)

    def p(self, q: float) -> float:
        if not self.times:
            return float("nan")
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, threads: int) -> subprocess.Popen:
    """The Procfile's web process (access log off: it would only measure the terminal)."""
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "kehu.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--timeout",
        "120",
    ]
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True
    )
    server = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), start_new_session=True)
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v1/me", timeout=30)
            return server
        except requests.ConnectionError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def web_session(base: str, username: str) -> requests.Session:
    """A browser's session: the login form with its CSRF token."""
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise SystemExit(f"login of {username} failed: {answer.status_code}")
    return session


def api_session(base: str, username: str) -> requests.Session:
    session = requests.Session()
    answer = session.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": PASSWORD}
    )
    if answer.status_code != 200:
        raise SystemExit(f"token of {username} failed: {answer.status_code} {answer.text[:200]}")
    session.headers["Authorization"] = f"Bearer {answer.json()['token']}"
    return session


def request(session: requests.Session, base: str, case: Case, kind: str) -> tuple[float, int]:
    start = time.perf_counter()
    if kind == "api" and case.api_post is not None:
        answer = session.post(base + case.api, json=case.api_post)
    else:
        answer = session.get(base + (case.web if kind == "web" else case.api))
    _ = answer.content
    return (time.perf_counter() - start) * 1000, answer.status_code


# ---------------------------------------------------------------------------- raw SQL
class Capture:
    def __init__(self):
        self.statements: list[tuple[str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("SELECT") and not many:
            self.statements.append((sql, params))
        return execute(sql, params, many, context)


def sql_time(case: Case, kind: str, reps: int) -> tuple[float, int]:
    """p50 of the summed time of the request's SELECTs replayed on a plain cursor, and their
    number. Replayed in one transaction, so a ``SET LOCAL`` the request made for one query
    (``set_config(…, true)``: core.pagination.walked_ids) applies to it as it did."""
    user = User.objects.get(username=case.user)
    client = Client(HTTP_HOST="127.0.0.1")
    headers = {}
    if kind == "web":
        client.force_login(user)
    else:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {issue_token(user, name='bench')}"
    capture = Capture()
    with connection.execute_wrapper(capture):
        if kind == "api" and case.api_post is not None:
            client.post(case.api, data=case.api_post, content_type="application/json", **headers)
        else:
            client.get(case.web if kind == "web" else case.api, **headers)
    statements = [
        (sql, params)
        for sql, params in capture.statements
        if "django_session" not in sql and "org_apitoken" not in sql.lower()
    ]
    runs = []
    with transaction.atomic(), connection.cursor() as cursor:
        for _ in range(reps):
            start = time.perf_counter()
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()
            runs.append((time.perf_counter() - start) * 1000)
    return statistics.median(runs), len(statements)


# ---------------------------------------------------------------------------- cases
def cases(args) -> list[Case]:
    q = lambda word: quote(word)  # noqa: E731
    rng = random.Random(15)
    sample = Customer.objects.filter(owner__isnull=False).order_by("-id")[rng.randint(0, 500)]
    rare = sample.name  # one company's whole name: a handful of rows
    phone7 = sample.contact_phone.replace("-", "")[-7:]
    code = (
        Customer.objects.exclude(credit_code="")
        .order_by("id")
        .values_list("credit_code", flat=True)
        .first()
        or "91350200"
    )[4:12]
    m, s = "manager1", args.user
    keywords = [
        ("rare name", rare),
        ("common 有限公司", "有限公司"),
        ("2-char 叉车", "叉车"),
        ("2-char common 物流", "物流"),
        ("4-char 厦门恒通", "厦门恒通"),
        ("phone 7 digits", phone7),
        ("phone 4 digits", phone7[-4:]),
        ("credit code part", code),
        ("Latin Linde", "linde"),
    ]
    out = [
        Case("floor /api/v1/me", s, None, "/api/v1/me"),
        Case(
            "customers tab=all (manager1)",
            m,
            "/customers/?tab=all",
            "/api/v1/customers?tab=all",
            50,
        ),
        Case("customers tab=mine", s, "/customers/?tab=mine", "/api/v1/customers?tab=mine", 50),
        Case(
            "customers tab=all sort 待收款 desc",
            m,
            "/customers/?tab=all&sort=-receivable_total",
            "/api/v1/customers?tab=all&ordering=-receivable_total",
            80,
        ),
        Case(
            "customers tab=all page 500",
            m,
            "/customers/?tab=all&page=500",
            "/api/v1/customers?tab=all&page=500",
            80,
        ),
    ]
    for label, word in keywords:
        out.append(
            Case(
                f"keyword {label}",
                m,
                f"/customers/?tab=all&q={q(word)}",
                f"/api/v1/customers?tab=all&q={q(word)}",
                80,
            )
        )
    out += [
        Case("pool list", s, "/pool/", "/api/v1/pool/customers", 50),
        Case(
            "pool keyword 2-char 叉车",
            s,
            f"/pool/?q={q('叉车')}",
            f"/api/v1/pool/customers?q={q('叉车')}",
            50,
        ),
        Case(
            "pool keyword rare", s, f"/pool/?q={q(rare)}", f"/api/v1/pool/customers?q={q(rare)}", 50
        ),
        Case("pool page 500", s, "/pool/?page=500", "/api/v1/pool/customers?page=500", 80),
        Case("contacts", m, "/contacts/", "/api/v1/contacts", 50),
        Case("follow-ups", m, "/followups/", "/api/v1/followups", 50),
        Case("leads", m, "/leads/", "/api/v1/leads", 50),
        Case("商机", m, "/opportunities/", "/api/v1/opportunities", 50),
        Case("contracts", m, "/contracts/", "/api/v1/contracts", 50),
        Case("change log", "admin", "/audit/", "/api/v1/audit", 50),
    ]
    for name in ("厦门叉车", "有限公司", "物流", "叉车", "厦门", rare):
        out.append(
            Case(
                f"查重 name {name}",
                s,
                f"/customers/duplicate-check/?{urlencode({'name': name})}",
                "/api/v1/customers/duplicate-check",
                30,
                api_post={"name": name},
            )
        )
    out.append(
        Case(
            "查重 phone",
            s,
            f"/customers/duplicate-check/?{urlencode({'phone': sample.contact_phone})}",
            "/api/v1/customers/duplicate-check",
            30,
            api_post={"phone": sample.contact_phone},
        )
    )
    if args.only:
        wanted = args.only.split(",")
        out = [c for c in out if any(w in c.name for w in wanted)]
    return out


def throughput(base, cases_, users, concurrency, duration) -> None:
    """``concurrency`` users, half browsers and half API clients, each looping over the customer
    and pool list cases (``MIX``, a random one each time) for ``duration`` seconds."""
    pool = [c for c in cases_ if c.target and not c.api_post and c.name.startswith(MIX)]
    sessions = []
    for i in range(concurrency):
        username = users[i % len(users)]
        kind = "web" if i % 2 == 0 else "api"
        session = web_session(base, username) if kind == "web" else api_session(base, username)
        sessions.append((session, kind, username))
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + duration

    def run(session, kind, username):
        rng = random.Random(username + kind)
        mine = [c for c in pool if c.user == username or c.user == "manager1"]
        while time.perf_counter() < stop:
            case = rng.choice(mine)
            if (case.web if kind == "web" else case.api) is None:
                continue
            elapsed, status = request(session, base, case, kind)
            with lock:
                times.append(elapsed)
                if status != 200:
                    errors[0] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=s) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * (len(times) - 1)))]  # noqa: E731
    print(
        f"\nthroughput, {concurrency} concurrent users ({concurrency // 2} browsers, "
        f"{concurrency - concurrency // 2} API clients) over {wall:.0f} s: "
        f"{len(times) / wall:.1f} requests/s, p50 {p(0.5):.0f} ms, p95 {p(0.95):.0f} ms, "
        f"non-200: {errors[0]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--user", default="sales1")
    parser.add_argument("--only", default="", help="cases whose name contains one of these (a,b)")
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--sql-reps", type=int, default=5)
    args = parser.parse_args()

    print(
        f"database {connection.settings_dict['NAME']} on {connection.vendor}: "
        f"{Customer.objects.count():,} customers; load average at start: {load()}"
    )
    all_cases = cases(args)
    port = free_port()
    server = start_server(port, args.workers, args.threads)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(args.workers * 2):  # every worker has imported everything
            requests.get(f"{base}/api/v1/me", timeout=60)
        users = sorted({c.user for c in all_cases})
        sessions = {("web", u): web_session(base, u) for u in users}
        sessions.update({("api", u): api_session(base, u) for u in users})
        print(
            f"gunicorn --workers {args.workers} --threads {args.threads}; {args.reps} runs per "
            f"case after {args.warmup} warm-up runs; times in ms\n"
        )
        header = "| case | web p50 / p95 | web sql50 (q) | API p50 / p95 | API sql50 (q) | target |"
        print(header)
        print("|---|---|---|---|---|---|")
        for case in all_cases:
            cells = []
            for kind in ("web", "api"):
                path = case.web if kind == "web" else case.api
                if path is None:
                    cells += ["", ""]
                    continue
                result = Result()
                session = sessions[(kind, case.user)]
                for i in range(args.warmup + args.reps):
                    elapsed, status = request(session, base, case, kind)
                    result.status.add(status)
                    if i >= args.warmup:
                        result.times.append(elapsed)
                sql50, n = sql_time(case, kind, args.sql_reps)
                bad = "" if result.status == {200} else f" status {sorted(result.status)}"
                cells += [f"{result.p(0.5):.0f} / {result.p(0.95):.0f}{bad}", f"{sql50:.1f} ({n})"]
            target = f"{case.target}" if case.target else ""
            print(f"| {case.name} | {' | '.join(cells)} | {target} |", flush=True)
        if not args.no_throughput:
            throughput(base, all_cases, ["manager1", args.user], args.concurrency, args.duration)
    finally:
        stop_server(server)
    print(f"\nload average at end: {load()}")


if __name__ == "__main__":
    main()
