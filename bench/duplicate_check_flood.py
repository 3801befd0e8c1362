"""查重 enumeration over HTTP (issue 9): one salesperson tries to recover a masked pool phone by
asking ``POST /api/v1/customers/duplicate-check`` for every candidate behind the mask.

Against a running server (``make run``, or gunicorn on the benchmark database)::

    .venv/bin/python bench/duplicate_check_flood.py --base http://127.0.0.1:8000 \\
        --user sales1 --requests 10000

It takes the first masked phone of the user's pool list (e.g. ``172****9100``), asks for the
candidates ``1720000 9100`` … in order, and prints how many were answered (200), refused (429),
which candidates named a customer (the recovered phone, if any), and the latency of each kind. With the
default limits (30 a minute, 300 a day) the 31st request on is refused; the refused ones cost
one small INSERT each (the log) and no search.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import time
from urllib.parse import urlsplit


def call(conn, method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = conn.getresponse()
    return response.status, json.loads(response.read() or b"null")


def p95(values):
    return sorted(values)[int(len(values) * 0.95) - 1] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="sales1")
    parser.add_argument("--password", default="demo1234")
    parser.add_argument("--requests", type=int, default=10000)
    args = parser.parse_args()

    url = urlsplit(args.base)
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
    status, answer = call(
        conn, "POST", "/api/v1/auth/token", {"username": args.user, "password": args.password}
    )
    if status != 200:
        raise SystemExit(f"login failed: {status} {answer}")
    token = answer["token"]
    status, pool = call(conn, "GET", "/api/v1/pool/customers?page_size=1", token=token)
    if status != 200 or not pool["items"]:
        raise SystemExit(f"no pool customer to aim at: {status} {pool}")
    masked = pool["items"][0]["contact_phone"]
    prefix, _, suffix = masked.partition("****")
    print(f"target: {pool['items'][0]['name']} {masked}; {args.requests} candidates")

    answered, refused, found = [], [], []
    started = time.perf_counter()
    for n in range(args.requests):
        phone = f"{prefix}{n % 10000:04d}{suffix}"
        t0 = time.perf_counter()
        status, body = call(
            conn, "POST", "/api/v1/customers/duplicate-check", {"phone": phone}, token=token
        )
        elapsed = (time.perf_counter() - t0) * 1000
        if status == 200:
            answered.append(elapsed)
            if body.get("matches"):
                found.append(phone)
        elif status == 429:
            refused.append(elapsed)
        else:
            raise SystemExit(f"unexpected answer {status}: {body}")
    total = time.perf_counter() - started
    print(f"answered (200): {len(answered)}")
    print(f"refused  (429): {len(refused)}")
    print(f"candidates that named a customer: {found or 'none'}")
    for label, values in (("answered", answered), ("refused", refused)):
        if values:
            print(
                f"{label:9s} latency ms: median {statistics.median(values):.1f}, "
                f"p95 {p95(values):.1f}"
            )
    print(f"total {total:.1f} s, {args.requests / total:.0f} requests/s")
    status, body = call(conn, "POST", "/api/v1/customers/duplicate-check", {"phone": phone}, token)
    print(f"last answer: {status} {body.get('detail', '')}")


if __name__ == "__main__":
    main()
