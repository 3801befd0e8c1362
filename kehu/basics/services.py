"""Dictionary writes: entries can be disabled, never deleted while something uses them."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import ProtectedError

from kehu.audit.models import Action
from kehu.audit.services import record_change, snapshot
from kehu.core.errors import ApplicationError
from kehu.core.registry import delete_refusal
from kehu.core.services import validated_save

from .models import DictEntry


@transaction.atomic
def dict_entry_save(*, actor, instance: DictEntry | None, data: dict[str, Any]) -> DictEntry:
    entry = instance or DictEntry()
    before = snapshot(entry) if instance else None
    if instance is not None and "kind" in data and data["kind"] != instance.kind:
        raise ApplicationError("字典类型不能修改", errors={"kind": ["字典类型不能修改"]})
    for field in ("kind", "name", "sort", "is_active", "remark"):
        if field in data:
            setattr(entry, field, data[field])
    entry.name = (entry.name or "").strip()
    if DictEntry.objects.filter(kind=entry.kind, name=entry.name).exclude(pk=entry.pk).exists():
        raise ApplicationError("该字典项已存在", errors={"name": ["同类型下已有同名字典项"]})
    validated_save(entry, validate_constraints=False)
    record_change(
        actor=actor,
        action=Action.UPDATE if instance else Action.CREATE,
        obj=entry,
        before=before,
        after=snapshot(entry),
    )
    return entry


@transaction.atomic
def dict_entry_delete(*, actor, instance: DictEntry) -> None:
    """Refused while any record uses the entry (SPEC §1): disable it instead."""
    reason = delete_refusal(instance)
    if reason:
        raise ApplicationError(reason, code="in_use")
    record_change(actor=actor, action=Action.DELETE, obj=instance, before=snapshot(instance))
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as exc:
        raise ApplicationError("该字典项正在使用，不能删除，可以停用", code="in_use") from exc
