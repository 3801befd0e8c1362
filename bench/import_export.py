"""Import and export benchmarks (SPEC §12.1): 100,000 valid rows (xlsx) end to end ≤ 60 s with
peak memory ≤ 400 MB; export 100,000 rows ≤ 30 s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kehu_bench \\
        .venv/bin/python bench/import_export.py [--rows 100000] [--baseline-rows 2000]
        [--target users|pool] [--phases export,baseline,import,export] [--what-if]
        [--profile] [--tracemalloc] [--keep] [--cleanup-only PREFIX [--job ID]]

Run ``manage.py seed_bench --customers N`` on that database first (see bench/README.md).

1. Generates an .xlsx of ``--rows`` valid, unique rows in the template's eleven columns: names
   start with a run-specific prefix (``压测<token>``) so none exists yet, mobiles are 19x numbers
   checked against every customer and contact phone in the database, every other row has a valid
   统一社会信用代码 (check digit by ``uscc_check_digit``) not used by any customer.
2. Each measured phase runs in its own child process, so its peak RSS (``ru_maxrss``) is its own
   and not the generator's or another phase's; by default, in this order:
   - ``export``: ``export_customers`` over the admin's visible list (``customer_list``, sorted as
     the export view sorts; pool customers are not in it), limited to ``--export-rows``, then the
     same rows again without the workbook (``export_rows`` only) to split the cost;
   - ``baseline``: ``--baseline-rows`` further rows of the same shape, one by one through
     ``find_duplicates`` (the 查重 a form does) and ``customer_create(confirm_duplicates=True)`` —
     the naive per-row path, extrapolated to ``--rows``. Run before the import: the 100,000
     imported names all share the run prefix, which makes the trigram 查重 of every later row
     pathologically slow (≈ 0.5 s a row);
   - ``import``: ``import_create`` (upload) and ``run_preview`` (the worker's check and preview)
     as admin, then the job is set running and ``run_import`` is called directly
     (``import_confirm`` would enqueue a django-q task);
   - ``export`` again: now 100,000 rows are visible (the imported ones come first).
   ``--what-if`` patches ``existing_duplicates`` in the child with the fix suggested in
   bench/README.md, to show what the import costs once it lands (application code is unchanged).
3. Removes what the run created (customers whose name starts with the prefix — contacts and tag
   links go by cascade —, the import job, its file and row errors, and the change-log rows the run
   wrote) unless ``--keep``.

Reported per phase: wall time, CPU time of the process, the number of queries and their summed
time (``connection.execute_wrapper``: round trip and transfer), rows/s, RSS before the phase and
peak RSS (``ru_maxrss``). ``--tracemalloc`` adds the peak of Python allocations (slower: the
times of that run are inflated). ``--profile`` runs cProfile (or pyinstrument when installed)
around the phase and prints the hotspots (times inflated too).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from kehu.customers.demo import BANKS, CITIES, GIVEN, PRODUCTS, SURNAMES, TRADES, WORDS  # noqa: E402
from kehu.customers.models import Contact, Customer  # noqa: E402
from kehu.customers.validation import USCC_CHARSET, uscc_check_digit  # noqa: E402
from kehu.imports.spreadsheets import TEMPLATE_COLUMNS  # noqa: E402
from kehu.org.models import User  # noqa: E402

TARGETS = {"import_s": 60.0, "import_mb": 400.0, "export_s": 30.0}
HEADERS = [h for h, *_ in TEMPLATE_COLUMNS]
FIELDS = [f for _h, f, *_ in TEMPLATE_COLUMNS]
MOBILE_PREFIXES = ("199", "191", "193", "195", "197")
USCC_SPACE = 31**9
USCC_STEP = 11_400_714_819_323  # coprime with 31: n → n·step mod 31⁹ is a bijection
DISTRICTS = ("350203", "350206", "310115", "440305", "330106", "320505", "370212", "510107")


# ---------------------------------------------------------------------------------------------
# Measuring


TABLE_RE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"')


class SqlTimer:
    """``connection.execute_wrapper`` hook: query count and summed duration, by statement kind
    (verb and first table)."""

    def __init__(self):
        self.count = 0
        self.seconds = 0.0
        self.kinds: dict[str, list] = {}

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - start
            self.seconds += took
            self.count += 1
            table = TABLE_RE.search(sql)
            kind = f"{sql.split(None, 1)[0]} {table.group(1) if table else '?'}"
            entry = self.kinds.setdefault(kind, [0, 0.0])
            entry[0] += 1
            entry[1] += took

    def top(self, n: int = 6) -> list[tuple[str, int, float]]:
        ranked = sorted(self.kinds.items(), key=lambda kv: -kv[1][1])[:n]
        return [(kind, count, seconds) for kind, (count, seconds) in ranked]


def rss_mb() -> float:
    """Current resident set size (VmRSS) in MB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


class Step:
    """Times one step: wall, CPU, queries, SQL time."""

    def __init__(self, name: str):
        self.name = name
        self.timer = SqlTimer()

    def __enter__(self):
        self._wrapper = connection.execute_wrapper(self.timer)
        self._wrapper.__enter__()
        self.start, self.cpu_start = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.start
        self.cpu = time.process_time() - self.cpu_start
        self._wrapper.__exit__(*exc)
        self.peak = peak_rss_mb()

    def as_dict(self) -> dict:
        return {
            "step": self.name,
            "wall_s": self.wall,
            "cpu_s": self.cpu,
            "queries": self.timer.count,
            "sql_s": self.timer.seconds,
            "peak_rss_mb": self.peak,
            "sql_top": self.timer.top(),
        }


class Profiler:
    """cProfile (or pyinstrument when installed) around a phase, hotspots printed to stderr."""

    def __init__(self, enabled: bool, label: str):
        self.enabled, self.label = enabled, label

    def __enter__(self):
        if not self.enabled:
            return self
        try:
            from pyinstrument import Profiler as Pyinstrument

            self.kind, self.prof = "pyinstrument", Pyinstrument(interval=0.001)
            self.prof.start()
        except ImportError:
            import cProfile

            self.kind, self.prof = "cprofile", cProfile.Profile()
            self.prof.enable()
        return self

    def __exit__(self, *exc):
        if not self.enabled:
            return
        out = sys.stderr
        print(f"\n===== profile: {self.label} ({self.kind}) =====", file=out)
        if self.kind == "pyinstrument":
            self.prof.stop()
            print(self.prof.output_text(unicode=True, color=False, show_all=False), file=out)
        else:
            import pstats

            self.prof.disable()
            stats = pstats.Stats(self.prof, stream=out).strip_dirs()
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(30)


# ---------------------------------------------------------------------------------------------
# Data


def existing_phones() -> set[str]:
    """Every customer and contact phone starting with one of the prefixes used."""
    found: set[str] = set()
    for prefix in MOBILE_PREFIXES:
        found.update(
            Customer.objects.filter(contact_phone__startswith=prefix).values_list(
                "contact_phone", flat=True
            )
        )
        found.update(
            Contact.objects.filter(mobile__startswith=prefix).values_list("mobile", flat=True)
        )
    return found


def existing_codes() -> set[str]:
    return set(Customer.objects.exclude(credit_code="").values_list("credit_code", flat=True))


def uscc(n: int, district: str) -> str:
    value = (n * USCC_STEP) % USCC_SPACE
    chars = []
    for _ in range(9):
        value, digit = divmod(value, 31)
        chars.append(USCC_CHARSET[digit])
    body = "91" + district + "".join(chars)
    return body + uscc_check_digit(body)


class RowMaker:
    """Valid, unique rows; row ``i`` is the same for a given prefix and seed."""

    def __init__(self, prefix: str, seed: int):
        self.prefix = prefix
        self.rng = random.Random(seed)
        self.taken_phones = existing_phones()
        self.taken_codes = existing_codes()
        self.mobile_prefix = self.rng.choice(MOBILE_PREFIXES)
        self.mobile_next = self.rng.randrange(0, 50_000_000)
        self.code_offset = self.rng.randrange(10**9, 10**12)
        self.skipped_phones = self.skipped_codes = 0

    def _mobile(self) -> str:
        while True:
            number = f"{self.mobile_prefix}{self.mobile_next:08d}"
            self.mobile_next += 1
            if number not in self.taken_phones:
                return number
            self.skipped_phones += 1

    def _code(self, i: int) -> str:
        n = self.code_offset + i
        while True:
            code = uscc(n, DISTRICTS[i % len(DISTRICTS)])
            if code not in self.taken_codes:
                return code
            self.skipped_codes += 1
            n += 10**13

    def row(self, i: int) -> list[str]:
        rng = self.rng
        city = rng.choice(CITIES)
        return [
            f"{self.prefix}{city}{rng.choice(WORDS)}{i:06d}{rng.choice(TRADES)}有限公司",
            rng.choice(SURNAMES) + rng.choice(GIVEN),
            self._code(i) if i % 2 == 0 else "",
            rng.choice(BANKS),
            "".join(rng.choices("0123456789", k=16)),
            rng.choice(PRODUCTS),
            rng.choice(PRODUCTS),
            rng.choice(SURNAMES) + rng.choice(GIVEN),
            self._mobile(),
            "压测数据" if i % 10 == 0 else "",
            f"{city}市{rng.choice(WORDS)}路{rng.randint(1, 999)}号",
        ]


def write_xlsx(path: str, maker: RowMaker, count: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("客户导入")
    ws.append(HEADERS)
    for i in range(count):
        ws.append(maker.row(i))
    wb.save(path)


# ---------------------------------------------------------------------------------------------
# Phases (each in a child process)


def import_targets(args) -> tuple[str, list[int]]:
    if args.target == "pool":
        return "pool", []
    ids = list(
        User.objects.filter(
            roles__code="salesperson", is_active=True, username__startswith="bsales"
        )
        .order_by("id")
        .values_list("id", flat=True)[: args.users]
    )
    if not ids:
        raise SystemExit("no bench salespeople (bsales…): run manage.py seed_bench first")
    return "users", ids


def phase_import(args) -> dict:
    from django.core.files.uploadedfile import UploadedFile

    from kehu.imports import services
    from kehu.imports.models import ImportJob, ImportStatus
    from kehu.imports.services import import_create, run_import, run_preview

    services._enqueue = lambda *args: None  # the phases call the worker's functions directly

    admin = User.objects.get(username="admin")
    target, user_ids = import_targets(args)
    rss_start = rss_mb()
    steps = []
    with open(args.file, "rb") as fh:
        upload = UploadedFile(
            file=fh, name="压测导入.xlsx", content_type="application/vnd.ms-excel", size=args.size
        )
        with Profiler(args.profile, "import_create (upload + preview)"), Step("preview") as step:
            job = import_create(
                actor=admin,
                upload=upload,
                target=target,
                user_ids=user_ids,
                allocation="even",
                on_duplicate="skip",
            )
            run_preview(job.pk)  # the worker's check and preview (a child process reads the file)
            job = ImportJob.objects.get(pk=job.pk)
    steps.append(step.as_dict())
    preview = {"total": job.total, "valid": job.valid, "invalid": job.invalid}
    preview["duplicate"] = job.duplicate
    preview["errors"] = job.preview_errors[:3]
    job.status = ImportStatus.RUNNING
    job.save(update_fields=["status"])
    with Profiler(args.profile, "run_import"), Step("run_import") as step:
        run_import(job.pk)
    steps.append(step.as_dict())
    job = ImportJob.objects.get(pk=job.pk)
    return {
        "job_id": job.pk,
        "status": job.status,
        "message": job.message,
        "created": job.created,
        "skipped": job.skipped,
        "failed": job.failed,
        "preview": preview,
        "steps": steps,
        "rss_start_mb": rss_start,
    }


def phase_baseline(args) -> dict:
    from kehu.core.errors import ApplicationError
    from kehu.customers.dedupe import find_duplicates
    from kehu.customers.services import customer_create

    admin = User.objects.get(username="admin")
    _target, user_ids = import_targets(args)
    owners = list(User.objects.filter(pk__in=user_ids).order_by("id")) or [None]
    maker = RowMaker(args.prefix, args.seed + 1)
    rows = [maker.row(args.rows + i) for i in range(args.baseline_rows)]
    rss_start = rss_mb()
    created, matched, refused = [], 0, []
    check_s = 0.0
    with Profiler(args.profile, "baseline customer_create"), Step("baseline") as step:
        for n, cells in enumerate(rows):
            data = dict(zip(FIELDS, cells, strict=True))
            t0 = time.perf_counter()
            if find_duplicates(
                name=data["name"], phone=data["contact_phone"], credit_code=data["credit_code"]
            ):
                matched += 1
            check_s += time.perf_counter() - t0
            try:
                customer = customer_create(
                    actor=admin,
                    data=data,
                    confirm_duplicates=True,
                    owner=owners[n % len(owners)] or None,
                )
            except ApplicationError as exc:
                refused.append(exc.message)
                continue
            created.append(customer.pk)
    return {
        "rows": len(rows),
        "created": len(created),
        "ids": created,
        "with_fuzzy_matches": matched,
        "refused": refused[:3],
        "check_s": check_s,
        "steps": [step.as_dict()],
        "rss_start_mb": rss_start,
    }


def phase_export(args) -> dict:
    from kehu.customers.selectors import customer_list
    from kehu.imports.export import export_customers

    admin = User.objects.get(username="admin")
    qs = customer_list(user=admin).order_by("-created_at", "-id")
    visible = qs.count()
    if args.export_rows and visible > args.export_rows:
        qs = qs[: args.export_rows]
    rss_start = rss_mb()
    with Profiler(args.profile, "export_customers"), Step("export") as step:
        path = export_customers(qs)
    size = os.path.getsize(path)
    os.unlink(path)
    steps = [step.as_dict()]
    if args.export_split:
        # The same rows without the workbook: what the query and the row building cost alone.
        from kehu.imports.export import export_rows
        from kehu.imports.spreadsheets import escape_formula

        rows = 0
        with Step("rows only") as step:
            for row in export_rows(qs):
                [escape_formula(v) for v in row]
                rows += 1
        steps.append(step.as_dict())
    else:
        rows = min(visible, args.export_rows or visible)
    return {
        "visible": visible,
        "rows": rows,
        "bytes": size,
        "steps": steps,
        "rss_start_mb": rss_start,
    }


def what_if_existing_duplicates(batch):
    """``kehu.imports.services.existing_duplicates`` with the fixes suggested in bench/README.md
    (``--what-if``): no default ordering (with ``ORDER BY created_at DESC`` the planner answers
    ``contact_phone IN (…1,000…)`` from the GIN trigram index, seconds per batch), the contacts'
    two columns queried apart (an OR of two IN lists is a sequential scan), and ``credit_code <>
    ''`` so the partial unique index applies (it cannot be proved from an IN list of > 100)."""
    from kehu.customers.models import Contact, Customer

    names = {c["keys"]["name"] for c in batch}
    phones = {c["keys"]["phone"] for c in batch}
    codes = {c["keys"]["credit_code"] for c in batch if "credit_code" in c["keys"]}
    customers = Customer.objects.order_by()
    contacts = Contact.objects.order_by()
    found_phones = set(
        customers.filter(contact_phone__in=phones).values_list("contact_phone", flat=True)
    )
    found_phones.update(contacts.filter(mobile__in=phones).values_list("mobile", flat=True))
    found_phones.update(contacts.filter(phone__in=phones).values_list("phone", flat=True))
    return {
        "name": set(
            customers.filter(name_normalized__in=names).values_list("name_normalized", flat=True)
        ),
        "phone": found_phones,
        "credit_code": set(
            customers.filter(credit_code__in=codes)
            .exclude(credit_code="")
            .values_list("credit_code", flat=True)
        )
        if codes
        else set(),
    }


PHASES = {"import": phase_import, "baseline": phase_baseline, "export": phase_export}


def child(args) -> None:
    if not args.debug:
        settings.DEBUG = False
    if args.what_if:
        from kehu.imports import services

        services.existing_duplicates = what_if_existing_duplicates
    tracing = args.tracemalloc
    if tracing:
        import tracemalloc

        tracemalloc.start()
    result = PHASES[args.child](args)
    if tracing:
        result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    result["peak_rss_mb"] = peak_rss_mb()
    print("RESULT " + json.dumps(result, ensure_ascii=False, default=str))


def run_child(phase: str, args, extra: list[str]) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", phase, *extra]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
        print(line)
    raise SystemExit(f"phase {phase} failed (exit {proc.returncode})")


# ---------------------------------------------------------------------------------------------
# Cleanup


def delete_audit(where: str, params: list) -> int:
    """The change log is append-only for the application; the benchmark removes its own rows
    from the bench database with plain SQL."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM audit_changelog WHERE {where}", params)
        return cursor.rowcount


def cleanup(prefix: str, job_id: int | None, audit_from: int) -> None:
    from kehu.imports.models import ImportJob

    ids = list(Customer.objects.filter(name__startswith=prefix).values_list("id", flat=True))
    logs = 0
    for start in range(0, len(ids), 10_000):
        chunk = ids[start : start + 10_000]
        logs += delete_audit(
            "id > %s AND object_type = 'customers.customer' AND object_id = ANY(%s)",
            [audit_from, chunk],
        )
    t0 = time.perf_counter()
    deleted, by_model = Customer.objects.filter(name__startswith=prefix).delete()
    took = time.perf_counter() - t0
    if job_id:
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is not None:
            job.file.delete(save=False)
            job.delete()
        logs += delete_audit(
            "id > %s AND object_type = 'imports.importjob' AND object_id = %s",
            [audit_from, job_id],
        )
    print(
        f"cleanup: {len(ids):,} customers removed ({deleted:,} rows with cascades, {took:.1f} s), "
        f"{logs:,} change-log rows"
    )
    vacuum_after_delete()


def vacuum_after_delete() -> None:
    """Leave the database as found: the rows removed are dead until VACUUM, which this
    machine's PostgreSQL runs only when asked (autovacuum off) — every later run would walk
    and extend the dead index entries of 100,000 customers more (the import slowed from 57 to
    72 s and the export from 25 to 34 s over six runs)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) customers_customer, customers_contact")
    print(f"cleanup: VACUUM (ANALYZE) of customers and contacts, {time.perf_counter() - t0:.1f} s")


# ---------------------------------------------------------------------------------------------
# Report


def fmt_step(s: dict, rows: int) -> str:
    rate = rows / s["wall_s"] if s["wall_s"] else 0
    top = "".join(
        f"\n      sql {kind:<36} {count:6,} q {seconds:8.2f} s"
        for kind, count, seconds in s["sql_top"]
    )
    return (
        f"  {s['step']:<11} {s['wall_s']:8.2f} s  cpu {s['cpu_s']:7.2f} s  "
        f"sql {s['sql_s']:6.2f} s in {s['queries']:,} queries  {rate:9,.0f} rows/s  "
        f"peak RSS so far {s['peak_rss_mb']:6.0f} MB{top}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=2_000)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--target", choices=["users", "pool"], default="users")
    parser.add_argument("--users", type=int, default=10, help="salespeople for --target users")
    parser.add_argument(
        "--phases",
        default="export,baseline,import,export",
        help="comma-separated, in order; the second export sees the imported customers too",
    )
    parser.add_argument(
        "--no-export-split",
        dest="export_split",
        action="store_false",
        help="skip the second pass that times the rows without the workbook",
    )
    parser.add_argument("--keep", action="store_true", help="keep the imported customers")
    parser.add_argument("--profile", action="store_true", help="cProfile/pyinstrument each phase")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    parser.add_argument("--debug", action="store_true", help="keep DEBUG on (default: off)")
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="import with the suggested existing_duplicates fix patched in (bench only)",
    )
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--cleanup-only",
        metavar="PREFIX",
        help="only remove the customers of an earlier run (with --job ID: its import job too)",
    )
    parser.add_argument("--job", type=int, help="import job id for --cleanup-only")
    # internal: child processes
    parser.add_argument("--child", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--prefix", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    if args.cleanup_only:
        if not args.cleanup_only.startswith("压测"):
            raise SystemExit("--cleanup-only takes a run prefix (压测…)")
        cleanup(args.cleanup_only, args.job, 0)
        return
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        raise SystemExit(
            f"{len(pending)} unapplied migrations ({pending[0][0]}…): run manage.py migrate "
            "on this database first (the cleanup's cascades need every table)"
        )
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise SystemExit(f"unknown phases: {sorted(unknown)}")
    if connection.vendor != "postgresql":
        print("WARNING: not PostgreSQL — the figures say nothing about the targets")
    seed = args.seed if args.seed is not None else secrets.randbelow(10**6)
    prefix = f"压测{secrets.token_hex(3)}"
    print(
        f"database: {connection.vendor} {connection.settings_dict.get('NAME')}, "
        f"customers {Customer.objects.count():,}, contacts {Contact.objects.count():,}"
    )
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(
        f"run prefix {prefix!r}, seed {seed}, target {args.target}"
        + (" — WHAT-IF: existing_duplicates patched (see README)" if args.what_if else "")
    )
    from kehu.audit.models import ChangeLog

    audit_from = ChangeLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    common = [
        "--prefix",
        prefix,
        "--seed",
        str(seed),
        "--rows",
        str(args.rows),
        "--baseline-rows",
        str(args.baseline_rows),
        "--export-rows",
        str(args.export_rows),
        "--target",
        args.target,
        "--users",
        str(args.users),
    ]
    common += ["--profile"] if args.profile else []
    common += ["--tracemalloc"] if args.tracemalloc else []
    common += ["--debug"] if args.debug else []
    common += ["--what-if"] if args.what_if else []
    common += [] if args.export_split else ["--no-export-split"]

    results: dict[str, dict] = {}
    job_id = None
    tmpdir = tempfile.mkdtemp(prefix="kehu-bench-")
    path = os.path.join(tmpdir, "import.xlsx")
    try:
        if "import" in phases:
            t0 = time.perf_counter()
            maker = RowMaker(prefix, seed)
            write_xlsx(path, maker, args.rows)
            size = os.path.getsize(path)
            print(
                f"generated {args.rows:,} rows → {size / 2**20:.1f} MB xlsx in "
                f"{time.perf_counter() - t0:.1f} s (phones skipped as taken: "
                f"{maker.skipped_phones}, codes: {maker.skipped_codes})"
            )
            common += ["--file", path, "--size", str(size)]
        for phase in phases:
            after = " — after the import" if phase == "export" and "import" in results else ""
            print(f"\n--- {phase} (child process{after}) ---", flush=True)
            result = results[phase] = run_child(phase, args, common)
            if phase == "import":
                job_id = result["job_id"]
                print(
                    f"job #{job_id} {result['status']} {result['message']}: created "
                    f"{result['created']:,}, skipped {result['skipped']:,}, failed "
                    f"{result['failed']:,}; preview {result['preview']}"
                )
                for s in result["steps"]:
                    print(fmt_step(s, args.rows))
                total = sum(s["wall_s"] for s in result["steps"])
                sql = sum(s["sql_s"] for s in result["steps"])
                peak = result["peak_rss_mb"]
                ok_t = "yes" if total <= TARGETS["import_s"] else "NO"
                ok_m = "yes" if peak <= TARGETS["import_mb"] else "NO"
                print(
                    f"  end to end  {total:8.2f} s  ({args.rows / total:,.0f} rows/s, "
                    f"x sql {total / sql if sql else 0:.1f})  target ≤ 60 s: {ok_t}"
                )
                print(
                    f"  memory      RSS at start {result['rss_start_mb']:.0f} MB, peak "
                    f"{peak:.0f} MB (ru_maxrss)  target ≤ 400 MB: {ok_m}"
                    + (
                        f"; tracemalloc peak {result['tracemalloc_peak_mb']:.0f} MB"
                        if "tracemalloc_peak_mb" in result
                        else ""
                    )
                )
            elif phase == "baseline":
                s = result["steps"][0]
                rate = result["created"] / s["wall_s"] if s["wall_s"] else 0
                print(
                    f"{result['created']:,} of {result['rows']:,} rows created one by one "
                    f"(find_duplicates + customer_create); {result['with_fuzzy_matches']:,} had "
                    f"fuzzy matches; refused {result['refused']}"
                )
                print(fmt_step(s, result["rows"]))
                print(
                    f"  per row     {s['wall_s'] / result['rows'] * 1000:.2f} ms "
                    f"({result['check_s'] / result['rows'] * 1000:.2f} ms of it the 查重), "
                    f"{s['queries'] / result['rows']:.1f} queries"
                )
                print(
                    f"  extrapolated to {args.rows:,} rows: {args.rows / rate:,.0f} s "
                    f"({args.rows / rate / 60:.1f} min)"
                    if rate
                    else ""
                )
            elif phase == "export":
                s = result["steps"][0]
                ok = "yes" if s["wall_s"] <= TARGETS["export_s"] else "NO"
                print(
                    f"{result['rows']:,} rows exported (admin sees {result['visible']:,}), "
                    f"{result['bytes'] / 2**20:.1f} MB xlsx"
                )
                for step in result["steps"]:
                    print(fmt_step(step, result["rows"]))
                if len(result["steps"]) > 1:
                    rest = s["wall_s"] - result["steps"][1]["wall_s"]
                    cpu = s["cpu_s"] - result["steps"][1]["cpu_s"]
                    print(
                        f"  → writing the workbook (openpyxl) ≈ {rest:.1f} s wall, "
                        f"{cpu:.1f} s cpu of the export"
                    )
                if result["rows"] < args.export_rows:
                    print(
                        f"  extrapolated to {args.export_rows:,} rows: "
                        f"{s['wall_s'] * args.export_rows / result['rows']:.1f} s"
                    )
                print(
                    f"  memory      RSS at start {result['rss_start_mb']:.0f} MB, peak "
                    f"{s['peak_rss_mb']:.0f} MB during the export  target ≤ 30 s: {ok}"
                    + (
                        f"; tracemalloc peak {result['tracemalloc_peak_mb']:.0f} MB"
                        if "tracemalloc_peak_mb" in result
                        else ""
                    )
                )
        if "import" in results and "baseline" in results:
            imp = sum(s["wall_s"] for s in results["import"]["steps"]) / args.rows
            base = results["baseline"]["steps"][0]["wall_s"] / results["baseline"]["rows"]
            patched = " (import with --what-if)" if args.what_if else ""
            print(f"\nratio: naive per-row path / import = {base / imp:.1f}x per row{patched}")
    finally:
        if os.path.exists(path):
            os.unlink(path)
        os.rmdir(tmpdir)
        if args.keep:
            print(f"\n--keep: customers named {prefix}… and import job #{job_id} kept")
        else:
            cleanup(prefix, job_id, audit_from)
        print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
