"""Customer import (SPEC §4): upload → preview → background run in batches → error report.

Validation, duplicate matching, allocation and ownership limits are the shared functions of
``customers.validation``, ``customers.dedupe``, ``pool.allocation`` and ``pool.rules``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kehu.audit.models import Action
from kehu.audit.services import record_change
from kehu.basics.models import DictEntry, DictKind, Region
from kehu.core import memo
from kehu.core.errors import ApplicationError, Forbidden, NotFound
from kehu.customers.dedupe import normalize_name
from kehu.customers.models import Contact, Customer
from kehu.customers.services import primary_contact_for
from kehu.customers.validation import clean_customer_data
from kehu.org.authz import authorize
from kehu.org.models import Department, User
from kehu.org.scope import descendants_of
from kehu.pool import rules
from kehu.pool.allocation import MODES, allocate

from .models import ImportJob, ImportRowError, ImportStatus, ImportTarget
from .spreadsheets import SpreadsheetError, open_sheet, row_values

BATCH_SIZE = 1000
PREVIEW_ERRORS = 20
TAG_SPLIT = re.compile(r"[,，、;；\s]+")


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
    """Resolves dictionary and region names once per job (cached), validates one row."""

    dicts: dict[str, dict[str, DictEntry]] = field(default_factory=dict)
    regions: dict[tuple[str | None, str], Region | None] = field(default_factory=dict)
    import_source: DictEntry | None = None

    @classmethod
    def load(cls) -> RowResolver:
        resolver = cls()
        for entry in DictEntry.objects.all():
            resolver.dicts.setdefault(entry.kind, {})[entry.name] = entry
        resolver.import_source = resolver.dicts.get(DictKind.SOURCE, {}).get("导入")
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
            qs = Region.objects.filter(name=name, level=level)
            if parent:
                qs = qs.filter(Q(parent_id=parent) | Q(parent__parent_id=parent))
            self.regions[key] = qs.first()
        region = self.regions[key]
        if region is None:
            errors.append(f"{label}「{name}」不存在")
        return region

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


def existing_duplicates(batch: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Names, phones and credit codes of a batch that exist in the database: 5 indexed queries a
    batch (no ordering, so PostgreSQL picks the b-tree indexes, not the trigram ones).

    Phones are compared with private customers and their contacts only. A pool customer's phones
    are masked (SPEC §3), and an upload of 10,000 candidate numbers would otherwise tell which
    one a pool customer has — the enumeration that 查重's quota stops (SPEC §13). Its name and
    credit code, which the pool shows, still catch the same company coming back."""
    names = {c["keys"]["name"] for c in batch}
    phones = {c["keys"]["phone"] for c in batch}
    codes = {c["keys"]["credit_code"] for c in batch if "credit_code" in c["keys"]}
    customers = Customer.objects.order_by()
    contacts = Contact.objects.order_by().filter(customer__owner__isnull=False)
    found_phones = set(
        customers.filter(contact_phone__in=phones, owner__isnull=False).values_list(
            "contact_phone", flat=True
        )
    )
    found_phones |= set(contacts.filter(mobile__in=phones).values_list("mobile", flat=True))
    found_phones |= set(contacts.filter(phone__in=phones).values_list("phone", flat=True))
    found_codes: set[str] = set()
    if codes:
        # Not blank, so the partial unique index on credit_code answers.
        found_codes = set(
            customers.filter(credit_code__in=codes)
            .exclude(credit_code="")
            .values_list("credit_code", flat=True)
        )
    return {
        "name": set(
            customers.filter(name_normalized__in=names).values_list("name_normalized", flat=True)
        ),
        "phone": found_phones,
        "credit_code": found_codes,
    }


DUPLICATE_REASONS = {
    "name": "客户名称重复",
    "phone": "联系电话重复",
    "credit_code": "统一社会信用代码重复",
}


def classify(batch: list[dict[str, Any]], seen: dict[str, set[str]]) -> None:
    """Mark each validated row's duplicate reason (database or earlier in the file)."""
    existing = existing_duplicates(batch)
    for row in batch:
        reasons = []
        for key, value in row["keys"].items():
            if value in existing[key]:
                reasons.append(f"{DUPLICATE_REASONS[key]}（系统中已存在）")
            elif value in seen[key]:
                reasons.append(f"{DUPLICATE_REASONS[key]}（文件中重复）")
        for key, value in row["keys"].items():
            seen[key].add(value)
        row["duplicate"] = "；".join(reasons)
        # A credit code must stay unique whatever the user chooses.
        row["blocking"] = any("统一社会信用代码" in r for r in reasons)


def iter_validated(
    job: ImportJob, resolver: RowResolver, *, start: int = 0
) -> Iterable[list[dict[str, Any]]]:
    """Batches of ``{"row", "cells", "cleaned"|"error", "keys", "duplicate"}`` from the job's file,
    starting at data row ``start`` (the rows before it only feed the within-file duplicate sets)."""
    sheet = open_sheet(job.file.path, job.original_name, job.file.size)
    seen: dict[str, set[str]] = {"name": set(), "phone": set(), "credit_code": set()}
    batch: list[dict[str, Any]] = []
    number = 0
    limit = _max_rows()
    for cells in sheet.rows:
        if not any(cells):
            continue
        number += 1
        if number > limit:
            raise SpreadsheetError(f"数据行超过{limit}行，请拆分后再导入")
        item: dict[str, Any] = {"row": number, "cells": cells}
        try:
            item["cleaned"] = resolver.clean(row_values(sheet, cells))
            item["keys"] = duplicate_keys(item["cleaned"])
        except ApplicationError as exc:
            item["error"] = exc.message
        batch.append(item)
        if len(batch) >= BATCH_SIZE:
            yield from _finish_batch(batch, seen, start)
            batch = []
    if batch:
        yield from _finish_batch(batch, seen, start)


def _finish_batch(batch, seen, start):
    valid = [b for b in batch if "cleaned" in b]
    classify(valid, seen)
    wanted = [b for b in batch if b["row"] > start]
    if wanted:
        yield wanted


def _max_rows() -> int:
    from django.conf import settings

    return settings.KEHU_IMPORT_MAX_ROWS


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
    """Store the file and preview it: counts of valid, invalid and duplicate rows, the first
    errors and the planned split. A bad file raises 400 and leaves no job behind."""
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
    from .spreadsheets import _check_upload

    _check_upload(name, upload.size or 0)
    job = ImportJob(
        created_by=actor,
        original_name=name,
        target=target,
        user_ids=list(dict.fromkeys(user_ids or [])),
        department_id=department_id if target == ImportTarget.DEPARTMENT else None,
        allocation=allocation,
        on_duplicate=on_duplicate,
    )
    job.file.save(
        f"import{timezone.now():%Y%m%d%H%M%S}{name[name.rfind('.') :].lower()}", upload, save=False
    )
    try:
        preview(job)
    except ApplicationError:
        job.file.delete(save=False)
        raise
    job.save()
    record_change(
        actor=actor,
        action=Action.IMPORT,
        obj=job,
        after={"file": name, "total": job.total},
        message=f"上传导入文件 {name}",
    )
    return job


def preview(job: ImportJob) -> None:
    resolver = RowResolver.load()
    total = valid = invalid = duplicate = 0
    errors: list[dict[str, Any]] = []
    sheet = open_sheet(job.file.path, job.original_name, job.file.size)
    job.headers = sheet.headers
    for batch in iter_validated(job, resolver):
        for item in batch:
            total += 1
            reason = item.get("error") or (item.get("duplicate") if item.get("blocking") else "")
            if reason:
                invalid += 1
            elif item.get("duplicate"):
                duplicate += 1
            else:
                valid += 1
            if reason and len(errors) < PREVIEW_ERRORS:
                errors.append(
                    {
                        "row": item["row"] + 1,
                        "name": item["cells"][0] if item["cells"] else "",
                        "reason": reason,
                    }
                )
    if total == 0:
        raise SpreadsheetError("文件中没有数据行")
    job.total, job.valid, job.invalid, job.duplicate = total, valid, invalid, duplicate
    job.preview_errors = errors
    importable = valid + (duplicate if job.on_duplicate == "import" else 0)
    targets = import_targets(job)
    if targets:
        plan: dict[str, int] = {}
        for user in allocate(importable, targets, job.allocation, random.Random(0)):
            plan[user.display_name] = plan.get(user.display_name, 0) + 1
        job.plan = plan
    else:
        job.plan = {"公海": importable}


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
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    authorize(actor, "import", Customer)
    if job.created_by_id != actor.pk and not actor.is_admin:
        raise Forbidden()
    if job.status not in (ImportStatus.PREVIEW, ImportStatus.FAILED):
        raise ApplicationError("该导入已开始或已完成", code="already_started", status=409)
    job.status = ImportStatus.RUNNING
    job.started_at = job.started_at or timezone.now()
    job.message = ""
    job.save(update_fields=["status", "started_at", "message"])
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from django_q.tasks import async_task

    async_task("kehu.imports.services.run_import", job_id, task_name=f"import-{job_id}")


def run_import(job_id: int) -> None:
    """The background run: batches of 1,000 rows, each applied in one transaction together with
    the job's counters, so a crash leaves no half batch and a re-run resumes after the last one."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportStatus.RUNNING:
        return
    resolver = RowResolver.load()
    targets = import_targets(job)
    try:
        # Pools and the department tree are read once for the run, not once per batch and user.
        with memo.scope():
            for batch in iter_validated(job, resolver, start=job.done):
                _apply_batch(job, batch, targets)
    except Exception as exc:  # recorded on the job; the finished batches stay, the rest can resume
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, message=f"导入中断：{exc}"[:500], finished_at=timezone.now()
        )
        raise
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FINISHED, finished_at=timezone.now()
    )


@transaction.atomic
def _apply_batch(job: ImportJob, batch: list[dict[str, Any]], targets: list[User]) -> None:
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    # The targets' 拥有上限 is counted below: lock them, as claim, transfer and create do.
    rules.lock_users([t.pk for t in targets])
    now = timezone.now()
    pool = rules.default_pool() if not targets else None
    owned: dict[int, int] = {}
    pools: dict[int, Any] = {}
    customers: list[Customer] = []
    tags: list[list[DictEntry]] = []
    row_errors: list[ImportRowError] = []
    created = skipped = failed = 0
    for item in batch:
        reason = item.get("error") or (item.get("duplicate") if item.get("blocking") else "")
        if not reason and item.get("duplicate") and job.on_duplicate == "skip":
            skipped += 1
            row_errors.append(
                ImportRowError(
                    job=job,
                    row_number=item["row"],
                    values=item["cells"],
                    reason=f"已跳过：{item['duplicate']}",
                    kind="skipped",
                )
            )
            continue
        owner = None
        if targets:
            # Seeded per row, so a resumed run allocates a row the same way.
            rng = random.Random(f"{job.pk}:{item['row']}")
            owner = allocate(1, targets, job.allocation, rng, start=job.created + created)[0]
            if owner.pk not in owned:
                target_pool = pools[owner.pk] = rules.pool_for_user(owner)
                owned[owner.pk] = rules.owned_count(owner) if target_pool.max_owned else 0
            if not reason:
                try:
                    rules.check_ownership_limit(owner, 1, owned=owned[owner.pk])
                except ApplicationError as exc:
                    reason = exc.message
        if reason:
            failed += 1
            row_errors.append(
                ImportRowError(job=job, row_number=item["row"], values=item["cells"], reason=reason)
            )
            continue
        customers.append(
            _build_customer(job, item["cleaned"], owner, pools[owner.pk] if owner else pool, now)
        )
        tags.append(item["cleaned"].get("tags") or [])
        if owner is not None:
            owned[owner.pk] = owned.get(owner.pk, 0) + 1
        created += 1
    Customer.objects.bulk_create(customers, batch_size=500)
    Contact.objects.bulk_create([primary_contact_for(c) for c in customers], batch_size=500)
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
    first, last = batch[0]["row"], batch[-1]["row"]
    ImportJob.objects.filter(pk=job.pk).update(
        done=last,
        created=job.created + created,
        skipped=job.skipped + skipped,
        failed=job.failed + failed,
    )
    record_change(
        actor=job.created_by,
        action=Action.IMPORT,
        obj=job,
        after={"rows": f"{first}-{last}", "created": created, "skipped": skipped, "failed": failed},
        message=f"导入第{first}至{last}行：新增{created}，跳过{skipped}，失败{failed}",
    )


def _build_customer(
    job: ImportJob, cleaned: dict[str, Any], owner: User | None, pool, now: datetime
) -> Customer:
    customer = Customer(
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
        level=cleaned["level"],
        source=cleaned["source"],
        industry=cleaned["industry"],
        province=cleaned["province"],
        city=cleaned["city"],
        district=cleaned["district"],
        creator=job.created_by,
        owner=owner,
        created_at=now,
    )
    region = customer.district or customer.city or customer.province
    if region is not None:
        customer.longitude, customer.latitude = region.longitude, region.latitude
    if owner is None:
        customer.pool, customer.pooled_at = pool, now
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
