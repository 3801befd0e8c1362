"""Customer import (SPEC §4): upload → check and preview → background run in batches → report.

Validation, duplicate matching, allocation and ownership limits are the shared functions of
``customers.validation``, ``customers.dedupe``, ``pool.allocation`` and ``pool.rules``.

The web request only stores the upload and checks its size and structure (``limits``); the
preview and the run are django-q2 tasks, and the cells are read by a child process with a memory
ceiling (``sandbox``). A run commits a batch of rows together with the job's progress, so it ends
either finished or failed after its last committed batch, with a Chinese reason and the row
number; confirming it again continues there (SPEC §4.4, issue 10).
"""

from __future__ import annotations

import functools
import logging
import random
import re
import secrets
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import (
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.utils import timezone

from kehu.audit.models import Action
from kehu.audit.services import record_change
from kehu.basics.models import DictEntry, DictKind, Region
from kehu.basics.regions import parse_addresses
from kehu.core import memo
from kehu.core.bulk import copy_rows, instance_maker
from kehu.core.errors import ApplicationError, Forbidden, NotFound
from kehu.core.prefetch import ahead
from kehu.customers.dedupe import normalize_name
from kehu.customers.models import Contact, Customer
from kehu.customers.services import primary_contact_for
from kehu.customers.validation import clean_customer_data
from kehu.org.authz import authorize
from kehu.org.models import Department, User
from kehu.org.scope import descendants_of
from kehu.pool import rules
from kehu.pool.allocation import MODES, allocate

from .limits import Limits, check_upload
from .models import ImportJob, ImportRowError, ImportStatus, ImportTarget
from .spreadsheets import Sheet, SpreadsheetError, is_sample_row, open_sheet, row_values

BATCH_SIZE = 1000
PREVIEW_ERRORS = 20  # rows listed per kind in the preview (errors, duplicates, warnings)
# Rows of one batch the database may refuse (each recorded as failed) before the run stops.
MAX_REFUSED_PER_BATCH = 20
TAG_SPLIT = re.compile(r"[,，、;；\s]+")
logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# Targets


def import_targets(job: ImportJob) -> list[User]:
    """The employees rows go to (empty for the pool), in the chosen order."""
    if job.target == ImportTarget.POOL:
        return []
    if job.target == ImportTarget.USERS:
        users = {
            u.pk: u
            for u in User.objects.filter(pk__in=job.user_ids, is_active=True).select_related(
                "department"
            )
        }
        return [users[pk] for pk in job.user_ids if pk in users]
    departments = descendants_of([job.department_id]) if job.department_id else set()
    return list(
        User.objects.filter(department_id__in=departments, is_active=True)
        .select_related("department")
        .order_by("id")
    )


def _check_options(*, actor, target, user_ids, department_id, allocation, on_duplicate) -> None:
    errors: dict[str, list[str]] = {}
    if target not in ImportTarget.values:
        errors["target"] = ["导入目标只能是 公海、员工 或 部门"]
    if allocation not in MODES:
        errors["allocation"] = ["分配方式只能是 even（平均分配）或 random（随机分配）"]
    if on_duplicate not in {"skip", "import"}:
        errors["on_duplicate"] = ["重复数据处理只能是 skip（跳过）或 import（仍然导入）"]
    if target == ImportTarget.USERS:
        ids = list(dict.fromkeys(user_ids or []))
        if not ids:
            errors["user_ids"] = ["请选择归属员工"]
        elif User.objects.filter(pk__in=ids, is_active=True).count() != len(ids):
            errors["user_ids"] = ["所选员工不存在或已停用"]
    if target == ImportTarget.DEPARTMENT:
        dept = Department.objects.filter(pk=department_id).first() if department_id else None
        if dept is None:
            errors["department_id"] = ["请选择部门"]
        elif not User.objects.filter(
            department_id__in=descendants_of([dept.pk]), is_active=True
        ).exists():
            errors["department_id"] = ["该部门（含下级部门）没有在职员工"]
    if errors:
        raise ApplicationError("导入设置有误", errors=errors)
    authorize(actor, "import", Customer)
    if target != ImportTarget.POOL and user_ids and not actor.is_admin:
        # A salesperson may import to themselves; others need a scope over the targets.
        from kehu.org.scope import can_manage_owner

        for pk in user_ids:
            if not can_manage_owner(actor, pk):
                raise Forbidden("只能导入给自己或数据范围内的员工")


# ---------------------------------------------------------------------------------------------
# Row validation shared by preview and run


@dataclass
class RowResolver:
    """The job's dictionaries and the divisions, read once (3,219 divisions), so that
    validating a row reads nothing from the database (``clean`` runs in a thread ahead of the
    batches, see ``iter_validated``)."""

    dicts: dict[str, dict[str, DictEntry]] = field(default_factory=dict)
    regions: dict[tuple[str | None, str], Region | None] = field(default_factory=dict)
    by_code: dict[str, Region] = field(default_factory=dict)
    by_name: dict[tuple[int, str], list[Region]] = field(default_factory=dict)
    import_source: DictEntry | None = None

    @classmethod
    def load(cls) -> RowResolver:
        resolver = cls()
        for entry in DictEntry.objects.all():
            resolver.dicts.setdefault(entry.kind, {})[entry.name] = entry
        resolver.import_source = resolver.dicts.get(DictKind.SOURCE, {}).get("导入")
        for region in Region.objects.order_by("adcode"):
            resolver.by_code[region.adcode] = region
            resolver.by_name.setdefault((region.level, region.name), []).append(region)
        return resolver

    def _dict(self, kind: str, name: str, label: str, errors: list[str]):
        if not name:
            return None
        entry = self.dicts.get(kind, {}).get(name)
        if entry is None:
            errors.append(f"{label}「{name}」不存在")
        elif not entry.is_active:
            errors.append(f"{label}「{name}」已停用")
        return entry

    def _region(self, name: str, parent: str | None, level: int, label: str, errors: list[str]):
        if not name:
            return None
        key = (parent, name)
        if key not in self.regions:
            # The first by code of that level and name, under ``parent`` or its child.
            self.regions[key] = next(
                (
                    r
                    for r in self.by_name.get((level, name), [])
                    if not parent or parent in (r.parent_id, self._parent_of(r.parent_id))
                ),
                None,
            )
        region = self.regions[key]
        if region is None:
            errors.append(f"{label}「{name}」不存在")
        return region

    def _parent_of(self, code: str | None) -> str | None:
        region = self.by_code.get(code) if code else None
        return region.parent_id if region else None

    def derive_regions(self, items: list[dict[str, Any]]) -> None:
        """省/市/区 from 详细地址 for the valid rows that left all three empty (SPEC §2.4): one
        cpca pass for the batch; a row whose address names no division keeps them empty and
        gets a warning (it is imported all the same). No database: the divisions are loaded."""
        wanted = [
            item
            for item in items
            if "cleaned" in item
            and item["cleaned"].get("address")
            and not any(item["cleaned"].get(k) for k in ("province", "city", "district"))
        ]
        if not wanted:
            return
        parsed = parse_addresses(
            [item["cleaned"]["address"] for item in wanted], regions=self.by_code
        )
        for item, found in zip(wanted, parsed, strict=True):
            if not found["province"]:
                item["warning"] = (
                    f"详细地址「{item['cleaned']['address'][:40]}」未能识别省市区，将不填省市区导入"
                )
                continue
            for key in ("province", "city", "district"):
                code = found[key]
                item["cleaned"][key] = self.by_code.get(code) if code else None

    def clean(self, values: dict[str, str]) -> dict[str, Any]:
        """Validated customer data for one row; raises ApplicationError with Chinese reasons."""
        errors: list[str] = []
        data: dict[str, Any] = {
            k: values.get(k, "")
            for k in (
                "name",
                "legal_person",
                "credit_code",
                "bank_name",
                "bank_account",
                "products",
                "raw_materials",
                "contact_name",
                "contact_phone",
                "remark",
                "address",
            )
        }
        level = self._dict(DictKind.LEVEL, values.get("level", ""), "客户等级", errors)
        source = (
            self._dict(DictKind.SOURCE, values.get("source", ""), "客户来源", errors)
            or self.import_source
        )
        industry = self._dict(DictKind.INDUSTRY, values.get("industry", ""), "行业类型", errors)
        tags = [
            self._dict(DictKind.TAG, t, "客户标签", errors)
            for t in TAG_SPLIT.split(values.get("tags", ""))
            if t
        ]
        province = self._region(
            values.get("province", ""), None, Region.Level.PROVINCE, "省", errors
        )
        city = self._region(
            values.get("city", ""),
            province.adcode if province else None,
            Region.Level.CITY,
            "市",
            errors,
        )
        district = self._region(
            values.get("district", ""),
            (city or province).adcode if (city or province) else None,
            Region.Level.DISTRICT,
            "区",
            errors,
        )
        try:
            cleaned = clean_customer_data(data)
        except ApplicationError as exc:
            errors = [m for messages in exc.errors.values() for m in messages] + errors
            cleaned = {}
        if errors:
            raise ApplicationError("；".join(errors))
        cleaned.update(
            level=level,
            source=source,
            industry=industry,
            tags=[t for t in tags if t],
            province=province,
            city=city,
            district=district,
        )
        return cleaned


def duplicate_keys(cleaned: dict[str, Any]) -> dict[str, str]:
    keys = {"name": normalize_name(cleaned["name"]), "phone": cleaned["contact_phone"]}
    if cleaned.get("credit_code"):
        keys["credit_code"] = cleaned["credit_code"]
    return keys


# What makes a key's value a duplicate: the customers ``c.id`` it matches ({v}: the value). A
# phone matches private customers only — their own phone or any contact's (手机 or 电话).
_CUSTOMERS, _CONTACTS = Customer._meta.db_table, Contact._meta.db_table
DUPLICATE_MATCHES = {
    "name": [f"SELECT c.id FROM {_CUSTOMERS} c WHERE c.name_normalized = {{v}}"],
    "phone": [
        f"SELECT c.id FROM {_CUSTOMERS} c WHERE c.contact_phone = {{v}} AND c.owner_id IS NOT NULL",
        f"SELECT c.id FROM {_CONTACTS} t JOIN {_CUSTOMERS} c ON c.id = t.customer_id "
        "WHERE (t.mobile = {v} OR t.phone = {v}) AND c.owner_id IS NOT NULL",
    ],
    # Not blank, so that the partial unique index on credit_code answers.
    "credit_code": [
        f"SELECT c.id FROM {_CUSTOMERS} c WHERE c.credit_code = {{v}} AND c.credit_code <> ''"
    ],
}


def existing_duplicates(batch: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Names, phones and credit codes of a batch that exist in the database (``DUPLICATE_MATCHES``):
    one query a key, in which each value is looked up by itself and the lookup stops at its
    first match (``EXISTS``: a b-tree probe). Reading the matching rows instead (``IN`` lists)
    read every customer of a common name, and joined every private customer to find the
    contacts' owners: 1.5 s a batch at 1,000,000 customers for phones that exist, 0.3 s for
    names; and the planner answered a list of names' ``=`` from the trigram index (3 s at
    20,000).

    Phones are compared with private customers and their contacts only. A pool customer's phones
    are masked (SPEC §3), and an upload of 10,000 candidate numbers would otherwise tell which
    one a pool customer has — the enumeration that 查重's quota stops (SPEC §13). Its name and
    credit code, which the pool shows, still catch the same company coming back."""
    keys: dict[str, set[str]] = {key: set() for key in DUPLICATE_MATCHES}
    for item in batch:
        for key, value in item["keys"].items():
            keys[key].add(value)
    return {key: _existing(values, DUPLICATE_MATCHES[key]) for key, values in keys.items()}


def _existing(values: set[str], matches: list[str]) -> set[str]:
    """Those of ``values`` that one of ``matches`` finds."""
    if not values:
        return set()
    rows = ", ".join(["(%s)"] * len(values))
    exists = " OR ".join(f"EXISTS ({match.format(v='v.x')})" for match in matches)
    sql = f"WITH v(x) AS (VALUES {rows}) SELECT v.x FROM v WHERE {exists}"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(values))
        return {row[0] for row in cursor.fetchall()}


DUPLICATE_REASONS = {
    "name": "客户名称重复",
    "phone": "联系电话重复",
    "credit_code": "统一社会信用代码重复",
}


def classify(batch: list[dict[str, Any]], seen: dict[str, dict[str, int]]) -> None:
    """Mark each validated row's duplicate reason (database or earlier in the file). ``seen``
    maps each key's values to the sheet row that had them first; a row also gets ``dup_key``
    and ``dup_value`` (the first database match) or ``dup_line`` (the earlier row) for the
    preview's list of duplicates."""
    existing = existing_duplicates(batch)
    for row in batch:
        reasons = []
        for key, value in row["keys"].items():
            if value in existing[key]:
                reasons.append(f"{DUPLICATE_REASONS[key]}（系统中已存在）")
                row.setdefault("dup_key", key)
                row.setdefault("dup_value", value)
            elif value in seen[key]:
                reasons.append(f"{DUPLICATE_REASONS[key]}（文件中重复）")
                row.setdefault("dup_line", seen[key][value])
        for key, value in row["keys"].items():
            seen[key].setdefault(value, row["line"])
        row["duplicate"] = "；".join(reasons)
        # A credit code must stay unique whatever the user chooses.
        row["blocking"] = any("统一社会信用代码" in r for r in reasons)


def iter_validated(
    job: ImportJob, resolver: RowResolver, sheet: Sheet, *, start: int = 0
) -> Generator[list[dict[str, Any]], None, None]:
    """Batches of ``{"row", "line", "cells", "cleaned"|"error", "keys", "duplicate"}`` from the
    sheet, starting after data row ``start`` (the rows before it only feed the within-file
    duplicate sets). ``row`` counts the data rows, ``line`` is the row number in the sheet.

    The cells of the next batch are read and validated in a thread (``core.prefetch.ahead``:
    no database there) while this one is checked against the database and stored. Close the
    iterator (``contextlib.closing``) before the sheet."""
    seen: dict[str, dict[str, int]] = {"name": {}, "phone": {}, "credit_code": {}}
    batches = ahead(_cleaned_batches(resolver, sheet, start))
    try:
        for batch in batches:
            yield from _finish_batch(batch, seen, start, resolver)
    finally:
        batches.close()


def _cleaned_batches(
    resolver: RowResolver, sheet: Sheet, start: int
) -> Iterator[list[dict[str, Any]]]:
    """The sheet's rows validated and their divisions derived from their addresses (no
    database), in batches of BATCH_SIZE."""
    batch: list[dict[str, Any]] = []
    for number, (line, cells) in enumerate(sheet.rows, start=1):
        item: dict[str, Any] = {"row": number, "line": line, "cells": cells}
        values = row_values(sheet, cells)
        if is_sample_row(values):
            item["sample"] = True  # the template's example row: skipped, with a notice
        else:
            try:
                item["cleaned"] = resolver.clean(values)
                item["keys"] = duplicate_keys(item["cleaned"])
            except ApplicationError as exc:
                item["error"] = exc.message
        batch.append(item)
        if len(batch) >= BATCH_SIZE:
            resolver.derive_regions([b for b in batch if b["row"] > start])
            yield batch
            batch = []
    if batch:
        resolver.derive_regions([b for b in batch if b["row"] > start])
        yield batch


def _finish_batch(batch, seen, start, resolver: RowResolver):
    valid = [b for b in batch if "cleaned" in b]
    classify(valid, seen)
    wanted = [b for b in batch if b["row"] > start]
    if wanted:
        yield wanted


def importable(job: ImportJob, item: dict[str, Any]) -> bool:
    """A row the run allocates and tries to create (valid, and not a duplicate it skips)."""
    if item.get("sample") or item.get("error") or item.get("blocking"):
        return False
    return not (item.get("duplicate") and job.on_duplicate == "skip")


# ---------------------------------------------------------------------------------------------
# Allocation, fixed at preview (issue 14 point 10)


def planned_targets(job: ImportJob) -> list[User]:
    """The employees the preview allocated to, in its order; a run never re-reads the target
    (a department's members may change between preview and confirm)."""
    if job.planned_user_ids is None:  # a job previewed before the plan was stored
        return import_targets(job)
    users = {
        u.pk: u
        for u in User.objects.filter(pk__in=job.planned_user_ids).select_related("department")
    }
    gone = [pk for pk in job.planned_user_ids if pk not in users or not users[pk].is_active]
    if gone:
        names = "、".join(users[pk].display_name for pk in gone if pk in users) or "部分员工"
        raise ApplicationError(
            f"预览时的归属员工{names}已停用或不存在，不能按预览导入；请重新上传并选择员工",
            code="plan_changed",
            status=409,
        )
    return [users[pk] for pk in job.planned_user_ids]


def row_owner(job: ImportJob, targets: list[User], row: int, ordinal: int) -> User:
    """The employee of data row ``row``, the ``ordinal``-th row allocated: 平均分配 rotates in
    the planned order; 随机分配 draws from a generator seeded with the job's seed and the row, so
    the preview and the run (resumed or not) give every row the same employee."""
    if job.allocation == "random":
        key = f"{job.allocation_seed}:{row}" if job.allocation_seed else f"{job.pk}:{row}"
        return allocate(1, targets, "random", random.Random(key))[0]
    return allocate(1, targets, "even", start=ordinal)[0]


class Capacity:
    """Each target's 拥有上限 as the rows are allocated: the same check for preview and run."""

    def __init__(self) -> None:
        self.owned: dict[int, int] = {}
        self.pools: dict[int, Any] = {}

    def pool(self, owner: User):
        if owner.pk not in self.pools:
            target_pool = self.pools[owner.pk] = rules.pool_for_user(owner)
            self.owned[owner.pk] = rules.owned_count(owner) if target_pool.max_owned else 0
        return self.pools[owner.pk]

    def refusal(self, owner: User) -> str:
        self.pool(owner)
        try:
            rules.check_ownership_limit(owner, 1, owned=self.owned[owner.pk])
        except ApplicationError as exc:
            return exc.message
        return ""

    def add(self, owner: User) -> None:
        self.owned[owner.pk] = self.owned.get(owner.pk, 0) + 1


# ---------------------------------------------------------------------------------------------
# Upload and preview


def import_create(
    *,
    actor: User,
    upload: UploadedFile,
    target: str,
    user_ids: list[int] | None = None,
    department_id: int | None = None,
    allocation: str = "even",
    on_duplicate: str = "skip",
) -> ImportJob:
    """Store the file and queue its check and preview (counts of valid, invalid and duplicate
    rows, the first errors, the planned split) in the worker. A file over the limits (size, and
    for a workbook its unpacked size, compression ratio, parts, declared rows and columns)
    raises 400 here and leaves no job behind; one refused while its cells are read leaves a
    failed job with the reason."""
    authorize(actor, "import", Customer)
    _check_options(
        actor=actor,
        target=target,
        user_ids=user_ids,
        department_id=department_id,
        allocation=allocation,
        on_duplicate=on_duplicate,
    )
    name = (upload.name or "").rsplit("/", 1)[-1][:200]
    limits = Limits.from_settings()
    check_upload_name(name, upload.size or 0, limits)
    job = ImportJob(
        created_by=actor,
        original_name=name,
        target=target,
        user_ids=list(dict.fromkeys(user_ids or [])),
        department_id=department_id if target == ImportTarget.DEPARTMENT else None,
        allocation=allocation,
        on_duplicate=on_duplicate,
        status=ImportStatus.PREVIEWING,
        allocation_seed=secrets.randbits(62) or 1,
    )
    job.file.save(
        f"import{timezone.now():%Y%m%d%H%M%S}{name[name.rfind('.') :].lower()}", upload, save=False
    )
    try:
        check_upload(job.file.path, name, job.file.size, limits)
    except ApplicationError:
        job.file.delete(save=False)
        raise
    job.heartbeat_at = timezone.now()
    job.save()
    record_change(
        actor=actor,
        action=Action.IMPORT,
        obj=job,
        after={"file": name},
        message=f"上传导入文件 {name}",
    )
    transaction.on_commit(lambda: _enqueue("kehu.imports.services.run_preview", job.pk))
    return job


def check_upload_name(name: str, size: int, limits: Limits) -> None:
    """The type and size, before the upload is stored."""
    from .limits import mb

    if not name.lower().endswith((".xlsx", ".xls", ".csv")):
        raise SpreadsheetError("只支持 .xlsx、.xls 或 .csv 文件")
    if size == 0:
        raise SpreadsheetError("文件是空的")
    if size > limits.max_bytes:
        raise SpreadsheetError(f"文件超过{mb(limits.max_bytes)}，请拆分后再导入")


def run_preview(job_id: int) -> None:
    """The worker's check and preview: ``previewing`` → ``preview``, or ``failed`` with the
    reason the file was refused (its file is removed then: it is never imported)."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status != ImportStatus.PREVIEWING:
        return
    try:
        preview(job)
    except SpreadsheetError as exc:
        message = exc.message
    except Exception:
        logger.exception("import %s: preview failed", job_id)
        message = "文件检查失败：系统内部错误（已记录），请稍后重新上传"
    else:
        job.status = ImportStatus.PREVIEW
        job.heartbeat_at = timezone.now()
        job.save(
            update_fields=[
                "status",
                "headers",
                "total",
                "valid",
                "invalid",
                "duplicate",
                "preview_errors",
                "preview_duplicates",
                "warnings",
                "preview_warnings",
                "sheet_name",
                "header_line",
                "sample_line",
                "plan",
                "planned_user_ids",
                "heartbeat_at",
            ]
        )
        return
    _fail(job_id, ImportStatus.PREVIEWING, message)
    if job.file:
        job.file.delete(save=False)


@memo.scoped  # pools and the department tree read once, as run_import does (4.6 ms a row)
def preview(job: ImportJob) -> None:
    """Counts, the first problems, duplicates and warnings, where the table was found, and the
    allocation the run will apply (employees fixed, each row's employee drawn the run's way,
    拥有上限 counted the run's way), on the job (not saved)."""
    resolver = RowResolver.load()
    total = valid = invalid = duplicate = warnings = 0
    errors: list[dict[str, Any]] = []
    duplicates: list[dict[str, Any]] = []
    warned: list[dict[str, Any]] = []
    targets = import_targets(job)
    job.planned_user_ids = [t.pk for t in targets] if targets else None
    capacity = Capacity()
    plan: dict[str, int] = {}
    allocated = 0
    with open_sheet(job.file.path, job.original_name) as sheet, ExitStack() as stack:
        job.headers = sheet.headers
        job.sheet_name, job.header_line = sheet.parsed.sheet, sheet.parsed.header_line
        batches = stack.enter_context(closing(iter_validated(job, resolver, sheet)))
        for batch in batches:
            for item in batch:
                if item.get("sample"):
                    job.sample_line = job.sample_line or item["line"]
                    continue
                total += 1
                name = item["cells"][sheet.columns["name"]]
                reason = item.get("error") or (
                    item.get("duplicate") if item.get("blocking") else ""
                )
                if not reason and importable(job, item) and targets:
                    owner = row_owner(job, targets, item["row"], allocated)
                    allocated += 1
                    reason = capacity.refusal(owner)
                    if not reason:
                        capacity.add(owner)
                        plan[owner.display_name] = plan.get(owner.display_name, 0) + 1
                if reason:
                    invalid += 1
                    if len(errors) < PREVIEW_ERRORS:
                        errors.append({"row": item["line"], "name": name, "reason": reason})
                    continue
                if item.get("duplicate"):
                    duplicate += 1
                    if len(duplicates) < PREVIEW_ERRORS:
                        duplicates.append(duplicate_entry(item, name))
                else:
                    valid += 1
                if item.get("warning"):
                    warnings += 1
                    if len(warned) < PREVIEW_ERRORS:
                        warned.append(
                            {"row": item["line"], "name": name, "reason": item["warning"]}
                        )
            if job.pk:
                ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    if total == 0:
        if job.sample_line:
            raise SpreadsheetError(
                f"文件中只有模板的示例行（第{job.sample_line}行），请在其下填写客户后再导入"
            )
        raise SpreadsheetError("文件中没有数据行")
    job.total, job.valid, job.invalid, job.duplicate = total, valid, invalid, duplicate
    job.preview_errors, job.preview_duplicates = errors, duplicates
    job.warnings, job.preview_warnings = warnings, warned
    if targets:
        job.plan = plan
    else:
        job.plan = {"公海": valid + (duplicate if job.on_duplicate == "import" else 0)}


def duplicate_entry(item: dict[str, Any], name: str) -> dict[str, Any]:
    """A duplicate row as the preview lists it: which customer it repeats and who has it — what
    查重 answers (name and 负责人, never contact details); or the earlier row of the file."""
    entry = {"row": item["line"], "name": name, "reason": item["duplicate"]}
    if "dup_key" in item:
        customer = existing_customer(item["dup_key"], item["dup_value"])
        entry["existing"] = customer.name if customer else ""
        entry["owner"] = (
            (customer.owner.display_name if customer.owner else "公海") if customer else ""
        )
    else:
        entry["existing"] = f"文件第{item['dup_line']}行"
        entry["owner"] = ""
    return entry


def existing_customer(key: str, value: str) -> Customer | None:
    """The first customer (by id) a duplicate key's value matches (``DUPLICATE_MATCHES``)."""
    union = " UNION ALL ".join(match.format(v="%s") for match in DUPLICATE_MATCHES[key])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id) FROM ({union}) AS m", [value] * union.count("%s"))
        first = cursor.fetchone()[0]
    return Customer.objects.select_related("owner").filter(pk=first).first() if first else None


# ---------------------------------------------------------------------------------------------
# Confirm and run


def import_job_get(*, user, pk: int) -> ImportJob:
    """An import job its creator (or an admin) follows; the import permission comes first, then
    another user's job answers as a missing one."""
    authorize(user, "import", Customer)
    job = ImportJob.objects.filter(pk=pk).first()
    if job is None or (job.created_by_id != user.pk and not user.is_admin):
        raise NotFound("导入任务不存在")
    return job


@transaction.atomic
def import_confirm(*, actor: User, job: ImportJob) -> ImportJob:
    """Start the previewed import, or continue a stopped one (failed, or its worker died) after
    its last committed batch: 继续导入, and ``POST …/confirm`` again in the API."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    authorize(actor, "import", Customer)
    if job.created_by_id != actor.pk and not actor.is_admin:
        raise Forbidden()
    if job.status == ImportStatus.PREVIEWING:
        raise ApplicationError("文件还在检查中，请稍候", code="not_ready", status=409)
    if job.status == ImportStatus.FAILED and not job.resumable:
        raise ApplicationError(
            "文件未通过检查，不能导入；请修改后重新上传", code="refused", status=409
        )
    if job.status != ImportStatus.PREVIEW and not job.resumable:
        raise ApplicationError("该导入已开始或已完成", code="already_started", status=409)
    if job.target != ImportTarget.POOL:
        planned_targets(job)  # an employee of the plan left since the preview: say so now
    job.status = ImportStatus.RUNNING
    job.started_at = job.started_at or timezone.now()
    job.heartbeat_at = timezone.now()
    job.message = ""
    job.save(update_fields=["status", "started_at", "heartbeat_at", "message"])
    transaction.on_commit(lambda: _enqueue("kehu.imports.services.run_import", job.pk))
    return job


def _enqueue(task: str, job_id: int) -> None:
    from django_q.tasks import async_task

    async_task(task, job_id, task_name=f"{task.rsplit('.', 1)[-1]}-{job_id}")


class RowFailed(Exception):
    """Preparing one row raised: the batch is rolled back and the run stops at that row."""

    def __init__(self, item: dict[str, Any]):
        super().__init__(item["line"])
        self.item = item


class ImportStopped(Exception):
    """The run stops after its last committed batch; ``message`` is shown to the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def database_reason(exc: BaseException | None) -> str:
    """A database error as the user reads it (never the driver's English)."""
    if isinstance(exc, IntegrityError):
        return "与已有数据冲突（例如统一社会信用代码已被其他客户使用）"
    if isinstance(exc, DataError):
        return "内容含有数据库无法保存的字符，或超出长度"
    if isinstance(exc, OperationalError | InterfaceError):
        return "数据库暂时无法写入（连接中断、超时或锁等待）"
    if isinstance(exc, DatabaseError):
        return "数据库拒绝保存这一行"
    return "系统内部错误（已记录，请联系管理员）"


def _committed_rows(job: ImportJob) -> int | None:
    """The job's committed progress, read again (the connection may just have broken)."""
    for _attempt in range(2):
        try:
            return ImportJob.objects.filter(pk=job.pk).values_list("done", flat=True).first()
        except DatabaseError:
            _reconnect_if_broken()
    return None


def _stopped(job: ImportJob, line: int | str, reason: str, first_line: int | str) -> ImportStopped:
    done = _committed_rows(job)
    saved = f"前{done}行已导入" if done is not None else "已保存的批次保留"
    return ImportStopped(
        f"第{line}行：{reason}。导入已暂停，{saved}，"
        f"本批（第{first_line}行起）未保存；处理后点击「继续导入」从第{first_line}行继续"
    )


def run_import(job_id: int) -> None:
    """The background run: batches of 1,000 rows, each applied in one transaction together with
    the job's progress, so a crash leaves no half batch and a re-run resumes after the last one.
    A row the database refuses is recorded as failed and the run goes on; any other error stops
    the run with the row number and a Chinese reason, ready to be continued."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportStatus.RUNNING:
        return
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now())
    resolver = RowResolver.load()
    current: list[dict[str, Any]] | None = None  # the batch being applied
    next_line = 2  # the sheet row after the last applied batch
    try:
        targets = planned_targets(job) if job.target != ImportTarget.POOL else []
        # Pools and the department tree are read once for the run, not once per batch and user.
        with (
            memo.scope(),
            open_sheet(job.file.path, job.original_name) as sheet,
            ExitStack() as stack,  # closes the batches (their thread) before the sheet
        ):
            next_line = sheet.parsed.header_line + 1
            batches = stack.enter_context(
                closing(iter_validated(job, resolver, sheet, start=job.done))
            )
            for current in batches:
                _apply_batch_safely(job, current, targets)
                next_line, current = current[-1]["line"] + 1, None
    except ImportStopped as exc:
        message = exc.message
    except SpreadsheetError as exc:
        message = f"读取文件时中断：{exc.message}。前{_committed_rows(job)}行已导入"
    except ApplicationError as exc:  # the plan's employees changed since the preview
        message = exc.message
    except Exception as exc:
        logger.exception("import %s stopped", job_id)
        first = current[0]["line"] if current else next_line
        message = _stopped(job, first, database_reason(exc), first).message
    else:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FINISHED, finished_at=timezone.now(), heartbeat_at=timezone.now()
        )
        return
    _fail(job.pk, ImportStatus.RUNNING, message)


def _fail(job_id: int, status: str, message: str) -> None:
    """The stop and its reason; if even that cannot be written, the job stays as it was and
    becomes ``stale`` (then resumable) once its heartbeat is old."""
    for _attempt in range(2):
        try:
            ImportJob.objects.filter(pk=job_id, status=status).update(
                status=ImportStatus.FAILED, message=message[:500], finished_at=timezone.now()
            )
            return
        except DatabaseError:
            _reconnect_if_broken()
    logger.error("import %s: could not record its failure: %s", job_id, message)


def _reconnect_if_broken() -> None:
    """After a lost connection the failure itself must still be written."""
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()


def _apply_batch_safely(job: ImportJob, batch: list[dict[str, Any]], targets: list[User]) -> None:
    """``_apply_batch``; a row the database refuses (found by halving the batch in rolled-back
    trials) is recorded as failed with the reason and the batch applied again without it."""
    refused: dict[int, str] = {}
    first = batch[0]["line"]
    while True:
        try:
            _apply_batch(job, batch, targets, refused)
            return
        except RowFailed as exc:
            cause = exc.__cause__
            if not isinstance(cause, DatabaseError):
                logger.error("import %s row %s failed", job.pk, exc.item["line"], exc_info=cause)
            raise _stopped(job, exc.item["line"], database_reason(cause), first) from cause
        except (DataError, IntegrityError) as exc:
            found = _locate_refused_row(job, batch, targets, refused)
            if found is None or len(refused) >= MAX_REFUSED_PER_BATCH:
                logger.error("import %s batch from row %s refused", job.pk, first, exc_info=exc)
                line = found[0]["line"] if found else first
                raise _stopped(job, line, database_reason(exc), first) from exc
            item, error = found
            logger.warning(
                "import %s row %s refused by the database: %s", job.pk, item["line"], error
            )
            refused[item["row"]] = f"第{item['line']}行数据库拒绝保存：{database_reason(error)}"
        except DatabaseError as exc:
            logger.error("import %s batch from row %s failed", job.pk, first, exc_info=exc)
            raise _stopped(job, first, database_reason(exc), first) from exc


class _Trial(Exception):
    pass


def _locate_refused_row(job, batch, targets, refused):
    """The first row the database refuses on its own, with the error, or None."""

    def fails(items) -> Exception | None:
        try:
            with transaction.atomic():
                _apply_batch(job, items, targets, refused, trial=True)
                raise _Trial
        except _Trial:
            return None
        except (DataError, IntegrityError) as exc:
            return exc

    items = [i for i in batch if i["row"] not in refused]
    while len(items) > 1:
        half = items[: len(items) // 2]
        items = half if fails(half) else items[len(items) // 2 :]
    error = fails(items) if items else None
    return (items[0], error) if error else None


@transaction.atomic
def _apply_batch(
    job: ImportJob,
    batch: list[dict[str, Any]],
    targets: list[User],
    refused: dict[int, str] | None = None,
    *,
    trial: bool = False,
) -> None:
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if batch[0]["row"] <= job.done:
        return  # committed already (a second runner of the same job): never twice
    refused = refused or {}
    # The targets' 拥有上限 is counted below: lock them, as claim, transfer and create do.
    rules.lock_users([t.pk for t in targets])
    now = timezone.now()
    pool = rules.default_pool() if not targets else None
    capacity = Capacity()
    planned: list[tuple[dict[str, Any], User | None, Any]] = []  # row, owner, pool
    tags: list[list[DictEntry]] = []
    row_errors: list[ImportRowError] = []
    created = skipped = failed = allocated = 0
    for item in batch:
        if item.get("sample"):
            continue  # the template's example row, announced in the preview
        try:
            reason = (
                refused.get(item["row"])
                or item.get("error")
                or (item.get("duplicate") if item.get("blocking") else "")
            )
            if not reason and item.get("duplicate") and job.on_duplicate == "skip":
                skipped += 1
                row_errors.append(
                    ImportRowError(
                        job=job,
                        row_number=item["row"],
                        values=item["cells"],
                        reason=f"已跳过：{item['duplicate']}"[:500],
                        kind="skipped",
                    )
                )
                continue
            owner = None
            if targets and importable(job, item):
                # The preview's allocation: the same employee for the same row, resumed or not
                # (a row the database refused was allocated in the preview too).
                owner = row_owner(job, targets, item["row"], job.allocated + allocated)
                allocated += 1
                reason = reason or capacity.refusal(owner)
            if reason:
                failed += 1
                row_errors.append(
                    ImportRowError(
                        job=job, row_number=item["row"], values=item["cells"], reason=reason[:500]
                    )
                )
                continue
            planned.append((item, owner, capacity.pool(owner) if owner else pool))
        except Exception as exc:
            raise RowFailed(item) from exc
        tags.append(item["cleaned"].get("tags") or [])
        if owner is not None:
            capacity.add(owner)
        created += 1

    def built() -> Iterator[Customer]:
        for item, owner, target_pool in planned:
            try:
                yield _build_customer(job, item["cleaned"], owner, target_pool, now)
            except Exception as exc:
                raise RowFailed(item) from exc

    # Built while the database stores the ones before (COPY): the two cores work at once.
    customers = copy_rows(Customer, built(), count=len(planned))
    copy_rows(Contact, (primary_contact_for(c) for c in customers), count=len(customers))
    through = Customer.tags.through
    through.objects.bulk_create(
        [
            through(customer_id=c.pk, dictentry_id=t.pk)
            for c, ts in zip(customers, tags, strict=True)
            for t in ts
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    ImportRowError.objects.bulk_create(row_errors, batch_size=500)
    if trial:
        return
    first, last = batch[0]["line"], batch[-1]["line"]
    ImportJob.objects.filter(pk=job.pk).update(
        done=batch[-1]["row"],
        allocated=job.allocated + allocated,
        created=job.created + created,
        skipped=job.skipped + skipped,
        failed=job.failed + failed,
        heartbeat_at=now,
    )
    record_change(
        actor=job.created_by,
        action=Action.IMPORT,
        obj=job,
        after={"rows": f"{first}-{last}", "created": created, "skipped": skipped, "failed": failed},
        message=f"导入第{first}至{last}行：新增{created}，跳过{skipped}，失败{failed}",
    )


@functools.cache
def _new_customer() -> Callable[..., Customer]:
    return instance_maker(Customer)


def _build_customer(
    job: ImportJob, cleaned: dict[str, Any], owner: User | None, pool, now: datetime
) -> Customer:
    def key(name: str) -> int | None:
        value = cleaned[name]
        return value.pk if value is not None else None

    region = cleaned["district"] or cleaned["city"] or cleaned["province"]
    customer = _new_customer()(
        name=cleaned["name"],
        name_normalized=normalize_name(cleaned["name"]),
        legal_person=cleaned["legal_person"],
        credit_code=cleaned["credit_code"],
        bank_name=cleaned["bank_name"],
        bank_account=cleaned["bank_account"],
        products=cleaned["products"],
        raw_materials=cleaned["raw_materials"],
        contact_name=cleaned["contact_name"],
        contact_phone=cleaned["contact_phone"],
        remark=cleaned["remark"],
        address=cleaned["address"],
        level_id=key("level"),
        source_id=key("source"),
        industry_id=key("industry"),
        province_id=key("province"),
        city_id=key("city"),
        district_id=key("district"),
        creator_id=job.created_by_id,
        owner_id=owner.pk if owner is not None else None,
        created_at=now,
        longitude=region.longitude if region is not None else None,
        latitude=region.latitude if region is not None else None,
    )
    if owner is None:
        customer.pool_id, customer.pooled_at = pool.pk, now
    else:
        customer.claimed_at = now
        due, rule = rules.return_due_at(customer, pool)
        customer.pool_return_at, customer.pool_return_rule = due, rule
    return customer


# ---------------------------------------------------------------------------------------------
# Error report


def error_report(job: ImportJob) -> bytes:
    """The refused and skipped rows as they were uploaded, with an added 错误原因 column."""
    import io

    from openpyxl import Workbook

    from .spreadsheets import safe_cell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("错误报告")
    ws.append([*job.headers, "错误原因"])
    for row in job.row_errors.order_by("row_number").iterator():
        ws.append([safe_cell(v) for v in row.values] + [safe_cell(row.reason)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
