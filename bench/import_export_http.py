"""Customer import and export of 100,000 rows over HTTP, as users meet them (SPEC §12.1): import
end to end ≤ 60 s with the worker's peak memory ≤ 400 MB, export ≤ 30 s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kehu_bench \\
        .venv/bin/python bench/import_export_http.py [--rows 100000] [--users 10]
        [--phases import,export] [--export-q 叉车,物流] [--keep]

Generates a unique .xlsx (``import_export.RowMaker``; not timed), starts the Procfile's gunicorn
(``http_lists.start_server``) and ``manage.py qcluster`` (scheduler off: the overdue hourly 公海
rules would rewrite the seeded data), uploads with an admin API token (10 ``bsales…``, even,
skip), polls every 0.5 s to the preview, confirms, polls to the end, sampling every 0.2 s the RSS
of the worker's process tree; then exports ``?q=<run prefix>`` (and ``--export-q``) from
``/customers/export/`` (browser session) and ``/api/v1/customers/export`` (token) and counts the
rows. Whatever the run created is removed at the end (``import_export.cleanup``) unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import requests

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from django.conf import settings  # noqa: E402  (lazy: read at django.setup())
from django.db import connection  # noqa: E402

# http_lists before import_export: it sets SECRET_KEY (DEBUG off), the 查重 quota and
# KEHU_STATIC_ROOT, then calls django.setup(); import_export's django.setup() is then a no-op.
from http_lists import api_session, free_port, start_server, stop_server, web_session  # noqa: E402
from import_export import (  # noqa: E402
    TARGETS,
    RowMaker,
    cleanup,
    import_targets,
    write_xlsx,
)

ROOT = BENCH.parent
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
POLL_S = 0.5
SAMPLE_S = 0.2
# The Procfile's worker line (`manage.py qcluster`) with django-q's scheduler switched off.
WORKER_BOOT = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
import django
django.setup()
from django_q.conf import Conf
Conf.SCHEDULER = False
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "qcluster"])
"""


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------------------------------------
# Memory of a process tree (no psutil in the venv: /proc)


def descendants(root: int) -> list[int]:
    """``root`` and every process below it (parents read from /proc/<pid>/stat)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out = [root]
    for pid in out:
        out.extend(children.get(pid, []))
    return out


def proc_memory(pid: int) -> tuple[int, int, int, str] | None:
    """(RSS, peak RSS ``VmHWM``, PSS) in KB and a short name, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        pss = 0
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        pss = int(line.split()[1])
                        break
        except OSError:
            pass
    except OSError:
        return None
    kb = lambda key: int(fields.get(key, "0 kB").split()[0])  # noqa: E731
    return kb("VmRSS"), kb("VmHWM"), pss, cmdline


class TreeSampler(threading.Thread):
    """Samples the RSS of a process tree every ``SAMPLE_S``; ``reset()`` opens a window,
    ``peaks()`` reads its maxima (one process, the sum over the tree, PSS sum, VmHWM)."""

    def __init__(self, root: int, label: str):
        super().__init__(daemon=True)
        self.root, self.label = root, label
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.reset()

    def name_of(self, pid: int, cmdline: str) -> str:
        if pid == self.root:
            return f"{self.label} main"
        if "kehu.imports.sandbox" in cmdline:
            return "import sandbox child"
        if "qcluster" in cmdline or "gunicorn" in cmdline:
            return f"{self.label} fork"
        return cmdline[:40]

    def reset(self) -> None:
        with self.lock:
            self.window = {
                "samples": 0,
                "procs_max": 0,
                "first_sum_rss_mb": None,
                "peak_sum_rss_mb": 0.0,
                "peak_sum_pss_mb": 0.0,
                "peak_single_rss_mb": 0.0,
                "peak_single_name": "",
                "peak_hwm_mb": 0.0,
                "peak_hwm_name": "",
            }

    def sample(self) -> None:
        pids = descendants(self.root)
        rows = [(pid, m) for pid in pids if (m := proc_memory(pid)) is not None]
        if not rows:
            return
        total = sum(m[0] for _pid, m in rows) / 1024
        pss = sum(m[2] for _pid, m in rows) / 1024
        pid, top = max(rows, key=lambda r: r[1][0])
        hpid, htop = max(rows, key=lambda r: r[1][1])
        with self.lock:
            w = self.window
            w["samples"] += 1
            w["procs_max"] = max(w["procs_max"], len(rows))
            if w["first_sum_rss_mb"] is None:
                w["first_sum_rss_mb"] = total
            w["peak_sum_rss_mb"] = max(w["peak_sum_rss_mb"], total)
            w["peak_sum_pss_mb"] = max(w["peak_sum_pss_mb"], pss)
            if top[0] / 1024 > w["peak_single_rss_mb"]:
                w["peak_single_rss_mb"] = top[0] / 1024
                w["peak_single_name"] = f"{self.name_of(pid, top[3])} (pid {pid})"
            if htop[1] / 1024 > w["peak_hwm_mb"]:
                w["peak_hwm_mb"] = htop[1] / 1024
                w["peak_hwm_name"] = f"{self.name_of(hpid, htop[3])} (pid {hpid})"

    def peaks(self) -> dict:
        with self.lock:
            return dict(self.window)

    def run(self) -> None:
        while not self.halt.is_set():
            started = time.perf_counter()
            self.sample()
            self.halt.wait(max(0.0, SAMPLE_S - (time.perf_counter() - started)))

    def stop(self) -> None:
        self.halt.set()
        self.join(5)


# ---------------------------------------------------------------------------------------------
# The worker (Procfile: `worker: .venv/bin/python manage.py qcluster`)


def start_worker(log_path: str) -> subprocess.Popen:
    """qcluster in its own process group, with the server's environment; returns once the
    cluster logs that it runs (its log goes to ``log_path``)."""
    log = open(log_path, "wb")  # noqa: SIM115 (the child writes to it until stopped)
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER_BOOT],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"qcluster exited ({worker.returncode}):\n{tail(log_path)}")
        with open(log_path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        if " running." in text or "正在运行" in text:
            return worker
        time.sleep(0.2)
    stop_worker(worker)
    raise RuntimeError(f"qcluster did not start in 120 s:\n{tail(log_path)}")


def stop_worker(worker: subprocess.Popen) -> None:
    """SIGTERM to the group (django-q stops its processes), SIGKILL after 20 s."""
    if worker.poll() is not None:
        return
    try:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(5)
    except ProcessLookupError:
        pass


def tail(path: str, lines: int = 30) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return "".join(fh.readlines()[-lines:])
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------
# Import over HTTP


class RunFailed(Exception):
    pass


def poll_job(api, base, job_id, done, worker, what: str, timeout: float = 1800) -> tuple:
    """GET the job every ``POLL_S`` until ``done(job)``; returns (job, perf_counter when seen)."""
    started = time.perf_counter()
    tick = 0
    while True:
        answer = api.get(f"{base}/api/v1/customers/imports/{job_id}", timeout=60)
        seen = time.perf_counter()
        if answer.status_code != 200:
            raise RunFailed(f"{what}: GET job {answer.status_code} {answer.text[:300]}")
        job = answer.json()
        if done(job):
            return job, seen
        if worker.poll() is not None:
            raise RunFailed(f"{what}: qcluster exited ({worker.returncode})")
        if seen - started > timeout:
            raise RunFailed(
                f"{what}: not done after {timeout:.0f} s: {job['status']} {job['done']}"
            )
        tick += 1
        time.sleep(max(0.0, started + tick * POLL_S - time.perf_counter()))


def server_times(job_id: int) -> dict:
    """The worker's own clock: queue wait and duration of the two django-q tasks."""
    from django_q.models import Task

    from kehu.imports.models import ImportJob

    job = ImportJob.objects.get(pk=job_id)
    tasks = {t.name.rsplit("-", 1)[0]: t for t in Task.objects.filter(name__endswith=f"-{job_id}")}
    out = {}
    preview, run = tasks.get("run_preview"), tasks.get("run_import")
    if preview:
        out["preview_queue_s"] = (preview.started - job.created_at).total_seconds()
        out["preview_task_s"] = (preview.stopped - preview.started).total_seconds()
    if run and job.started_at:
        out["run_queue_s"] = (run.started - job.started_at).total_seconds()
        out["run_task_s"] = (run.stopped - run.started).total_seconds()
    if job.started_at and job.finished_at:
        out["started_to_finished_s"] = (job.finished_at - job.started_at).total_seconds()
    return out


def phase_import(args, base, api, worker, sampler, path, prefix, user_ids, state) -> dict:
    sampler.reset()
    time.sleep(1)  # a few samples of the idle worker
    idle = sampler.peaks()
    sampler.reset()
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        answer = api.post(
            f"{base}/api/v1/customers/imports",
            files={"file": (f"{prefix}.xlsx", fh, XLSX)},
            data={
                "target": "users",
                "user_ids": ",".join(map(str, user_ids)),
                "allocation": "even",
                "on_duplicate": "skip",
            },
            timeout=600,
        )
    t_uploaded = time.perf_counter()
    if answer.status_code != 201:
        raise RunFailed(f"upload: {answer.status_code} {answer.text[:500]}")
    job_id = state["job_id"] = answer.json()["id"]
    print(f"job #{job_id} uploaded in {t_uploaded - t0:.2f} s; checking…", flush=True)
    job, t_preview = poll_job(
        api, base, job_id, lambda j: j["preview_ready"], worker, "preview", args.timeout
    )
    if job["status"] != "preview":
        raise RunFailed(f"preview: {job['status']} {job['message']}")
    print(
        f"preview ready after {t_preview - t0:.1f} s: total {job['total']:,}, valid "
        f"{job['valid']:,}, invalid {job['invalid']:,}, duplicate {job['duplicate']:,}",
        flush=True,
    )
    preview = {k: job[k] for k in ("total", "valid", "invalid", "duplicate", "warnings")}
    preview["errors"] = job["preview_errors"][:3]
    t_confirm = time.perf_counter()
    answer = api.post(f"{base}/api/v1/customers/imports/{job_id}/confirm", timeout=60)
    t_confirmed = time.perf_counter()
    if answer.status_code != 200:
        raise RunFailed(f"confirm: {answer.status_code} {answer.text[:500]}")
    job, t_done = poll_job(
        api,
        base,
        job_id,
        lambda j: j["status"] in ("finished", "failed"),
        worker,
        "run",
        args.timeout,
    )
    peak = sampler.peaks()
    print(f"{job['status']} after {t_done - t_confirm:.1f} s {job['message']}", flush=True)
    return {
        "job_id": job_id,
        "status": job["status"],
        "message": job["message"],
        "upload_s": t_uploaded - t0,
        "upload_to_preview_s": t_preview - t0,
        "confirm_request_s": t_confirmed - t_confirm,
        "confirm_to_finished_s": t_done - t_confirm,
        "end_to_end_s": t_done - t0,
        "created": job["created"],
        "skipped": job["skipped"],
        "failed": job["failed"],
        "preview": preview,
        "server": server_times(job_id),
        "worker_idle_sum_rss_mb": idle["peak_sum_rss_mb"],
        "worker_idle_procs": idle["procs_max"],
        "worker": peak,
    }


# ---------------------------------------------------------------------------------------------
# Export over HTTP


def count_rows(path: str) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()


def export_one(session, url: str, word: str, tmpdir: str, sampler) -> dict:
    path = os.path.join(tmpdir, "export.xlsx")
    sampler.reset()
    t0 = time.perf_counter()
    with session.get(url, params={"q": word}, stream=True, timeout=900) as answer:
        ttfb = time.perf_counter() - t0
        size = 0
        with open(path, "wb") as fh:
            for chunk in answer.iter_content(1 << 20):
                fh.write(chunk)
                size += len(chunk)
    total = time.perf_counter() - t0
    result = {
        "status": answer.status_code,
        "ttfb_s": ttfb,
        "last_byte_s": total,
        "bytes": size,
        "web_peak": sampler.peaks(),
    }
    if answer.status_code != 200 or not answer.headers.get("Content-Type", "").startswith(XLSX):
        result["error"] = answer.content[:300].decode(errors="replace")
    else:
        lines = count_rows(path)
        result["lines"] = lines
        result["rows"] = lines - 1
    os.unlink(path)
    return result


def phase_export(args, base, web, api, sampler, words, expected, tmpdir) -> list[dict]:
    out = []
    for word in words:
        for via, session, url in (
            ("web", web, f"{base}/customers/export/"),
            ("api", api, f"{base}/api/v1/customers/export"),
        ):
            result = export_one(session, url, word, tmpdir, sampler)
            result.update(via=via, q=word, expected=expected.get(word))
            if result["expected"] is not None and "rows" in result:
                result["rows_ok"] = result["rows"] == result["expected"]
            out.append(result)
            print(
                f"export {via} q={word}: {result['status']}, {result.get('rows', '?')} rows, "
                f"{result['bytes'] / 2**20:.1f} MB, last byte {result['last_byte_s']:.2f} s",
                flush=True,
            )
    return out


# ---------------------------------------------------------------------------------------------
# Cleanup and report


def remove_tasks(job_id: int) -> int:
    """The django-q task results the worker stored for the job (run_preview-N, run_import-N)."""
    from django_q.models import Task

    names = [f"run_preview-{job_id}", f"run_import-{job_id}"]
    return Task.objects.filter(name__in=names).delete()[0]


def find_job(prefix: str) -> int | None:
    """The run's job when the upload answered no id (its file is named after the prefix)."""
    from kehu.imports.models import ImportJob

    return (
        ImportJob.objects.filter(original_name=f"{prefix}.xlsx")
        .values_list("pk", flat=True)
        .first()
    )


def forget_logins(sessions, access_from: int) -> None:
    """The run's logins, removed from the database directly (no change-log row; a web logout
    would also revoke every other token of admin): its API token, the sessions of both clients
    (the token endpoint opens one too) and axes' access log rows of admin since the start."""
    from axes.models import AccessLog
    from django.contrib.sessions.models import Session

    from kehu.org.models import ApiToken

    keys, tokens = [], 0
    for session in sessions:
        if session is None:
            continue
        keys.append(session.cookies.get(settings.SESSION_COOKIE_NAME, ""))
        auth = session.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            tokens += ApiToken.objects.filter(key_hash=ApiToken.hash(auth[7:])).delete()[0]
    gone = Session.objects.filter(session_key__in=[k for k in keys if k]).delete()[0]
    logs = AccessLog.objects.filter(id__gt=access_from, username="admin").delete()[0]
    print(f"cleanup: {tokens} API token, {gone} sessions, {logs} access-log rows of the logins")


def verdict(value: float, target: float, unit: str) -> str:
    return f"≤ {target:.0f} {unit}: {'yes' if value <= target else 'NO'}"


def report(figures: dict) -> None:
    rows = []
    imp = figures.get("import")
    if imp:
        w = imp["worker"]
        srv = imp["server"]
        rows += [
            ("import", "upload request", f"{imp['upload_s']:.2f} s", ""),
            ("", "upload start → preview ready", f"{imp['upload_to_preview_s']:.2f} s", ""),
            (
                "",
                "  worker: preview queue / task",
                f"{srv.get('preview_queue_s', 0):.2f} / {srv.get('preview_task_s', 0):.2f} s",
                "",
            ),
            ("", "confirm → finished", f"{imp['confirm_to_finished_s']:.2f} s", ""),
            (
                "",
                "  worker: run queue / task",
                f"{srv.get('run_queue_s', 0):.2f} / {srv.get('run_task_s', 0):.2f} s",
                "",
            ),
            (
                "",
                "end to end",
                f"{imp['end_to_end_s']:.2f} s",
                verdict(imp["end_to_end_s"], TARGETS["import_s"], "s"),
            ),
            (
                "",
                "rows/s end to end",
                f"{imp['created'] / imp['end_to_end_s']:,.0f}" if imp["end_to_end_s"] else "",
                "",
            ),
            (
                "",
                "status; created / skipped / failed",
                f"{imp['status']}; {imp['created']:,} / {imp['skipped']:,} / {imp['failed']:,}",
                "",
            ),
            (
                "",
                "worker tree RSS idle (processes)",
                f"{imp['worker_idle_sum_rss_mb']:.0f} MB ({imp['worker_idle_procs']})",
                "",
            ),
            (
                "",
                "worker peak RSS, one process",
                f"{w['peak_single_rss_mb']:.0f} MB {w['peak_single_name']}",
                verdict(w["peak_single_rss_mb"], TARGETS["import_mb"], "MB"),
            ),
            (
                "",
                "worker peak RSS, sum of the tree",
                f"{w['peak_sum_rss_mb']:.0f} MB (max {w['procs_max']} processes)",
                verdict(w["peak_sum_rss_mb"], TARGETS["import_mb"], "MB"),
            ),
            ("", "  PSS sum (shared pages once)", f"{w['peak_sum_pss_mb']:.0f} MB", ""),
            ("", "  VmHWM, one process", f"{w['peak_hwm_mb']:.0f} MB {w['peak_hwm_name']}", ""),
        ]
    for i, e in enumerate(figures.get("export", [])):
        rows_text = (
            f"{e['rows']:,} rows" + ("" if e.get("rows_ok", True) else f" (≠ {e['expected']:,})")
            if "rows" in e
            else f"HTTP {e['status']} {e.get('error', '')[:60]}"
        )
        rows.append(
            (
                "export" if i == 0 else "",
                f"{e['via']} q={e['q']}",
                f"{e['last_byte_s']:.2f} s (first byte {e['ttfb_s']:.2f}), "
                f"{e['bytes'] / 2**20:.1f} MB, {rows_text}, "
                f"gunicorn peak {e['web_peak']['peak_single_rss_mb']:.0f} MB",
                verdict(e["last_byte_s"], TARGETS["export_s"], "s"),
            )
        )
    if not rows:
        return
    print()
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip())


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=10, help="bench salespeople (bsales…)")
    parser.add_argument("--phases", default="import,export", help="import, export or both")
    parser.add_argument(
        "--export-q", default="", help="further keywords to export, comma-separated (e.g. 叉车)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the imported customers and job")
    parser.add_argument("--timeout", type=float, default=1800, help="per poll loop, seconds")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    if not phases or set(phases) - {"import", "export"}:
        raise SystemExit("--phases takes import, export or import,export")
    words = [w.strip() for w in args.export_q.replace("，", ",").split(",") if w.strip()]
    if phases == ["export"] and not words:
        raise SystemExit("--phases export alone needs --export-q (the run prefix matches nothing)")
    if connection.vendor != "postgresql":
        print("WARNING: not PostgreSQL — the figures say nothing about the targets")

    from axes.models import AccessLog
    from django.db.migrations.executor import MigrationExecutor

    from kehu.audit.models import ChangeLog
    from kehu.customers.models import Customer

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise SystemExit("unapplied migrations: run manage.py migrate on this database first")

    seed = args.seed if args.seed is not None else secrets.randbelow(10**6)
    prefix = f"压测{secrets.token_hex(3)}"
    figures: dict = {"rows": args.rows, "prefix": prefix, "seed": seed, "load_start": load()}
    print(
        f"database {connection.settings_dict['NAME']} on {connection.vendor}: "
        f"{Customer.objects.count():,} customers; run prefix {prefix!r}, seed {seed}; "
        f"load average at start: {load()}",
        flush=True,
    )
    _target, user_ids = import_targets(SimpleNamespace(target="users", users=args.users))
    audit_from = ChangeLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    access_from = AccessLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    tmpdir = tempfile.mkdtemp(prefix="kehu-bench-http-")
    path = os.path.join(tmpdir, "import.xlsx")
    worker_log = os.path.join(tmpdir, "worker.log")
    state: dict = {"job_id": None}
    server = worker = web = api = None
    samplers: list[TreeSampler] = []
    ok = False
    try:
        if "import" in phases:
            t0 = time.perf_counter()
            maker = RowMaker(prefix, seed)
            write_xlsx(path, maker, args.rows)
            figures["generate_s"] = time.perf_counter() - t0
            figures["file_mb"] = os.path.getsize(path) / 2**20
            print(
                f"generated {args.rows:,} rows → {figures['file_mb']:.1f} MB xlsx in "
                f"{figures['generate_s']:.1f} s (not measured)",
                flush=True,
            )
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(port, 2, 4)
        for _ in range(4):  # every gunicorn worker has imported everything
            requests.get(f"{base}/api/v1/me", timeout=60)
        web_sampler = TreeSampler(server.pid, "gunicorn")
        web_sampler.start()
        samplers.append(web_sampler)
        web = web_session(base, "admin")
        api = api_session(base, "admin")
        if "import" in phases:
            worker = start_worker(worker_log)
            worker_sampler = TreeSampler(worker.pid, "qcluster")
            worker_sampler.start()
            samplers.append(worker_sampler)
            print(f"gunicorn (pid {server.pid}) and qcluster (pid {worker.pid}) up", flush=True)
            figures["import"] = phase_import(
                args, base, api, worker, worker_sampler, path, prefix, user_ids, state
            )
        if "export" in phases:
            expected = {}
            if "import" in phases:
                words = [prefix, *words]
                expected[prefix] = figures["import"]["created"]
            figures["export"] = phase_export(
                args, base, web, api, web_sampler, words, expected, tmpdir
            )
        ok = True
    except RunFailed as exc:
        print(f"\nFAILED: {exc}")
        if worker is not None:
            print(f"--- qcluster log (last lines) ---\n{tail(worker_log)}")
    finally:
        for sampler in samplers:
            sampler.stop()
        if worker is not None:
            stop_worker(worker)
        if server is not None:
            stop_server(server)
        for name in ("import.xlsx", "export.xlsx", "worker.log"):
            if os.path.exists(os.path.join(tmpdir, name)):
                os.unlink(os.path.join(tmpdir, name))
        os.rmdir(tmpdir)
        job_id = state["job_id"] or ("import" in phases and find_job(prefix)) or None
        if args.keep:
            print(f"\n--keep: customers named {prefix}… and import job #{job_id} kept")
        elif "import" in phases:
            cleanup(prefix, job_id, audit_from)
            if job_id:
                print(f"cleanup: {remove_tasks(job_id)} django-q task results")
        forget_logins([web, api], access_from)
        figures["load_end"] = load()
        print(f"load average at end: {figures['load_end']}")
    if ok:
        report(figures)
        print("\n" + json.dumps(figures, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
