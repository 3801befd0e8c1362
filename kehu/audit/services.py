"""record_change(): the one way anything writes the change log (SPEC §8).

Secrets (password and token hashes, session data: ``redaction.SECRET_FIELDS`` and names like
``password``/``token``/``secret``) are left out of every row here, in :func:`change_entry`,
whatever ``before``/``after`` the caller passes; the model drops them again on save and
``bulk_create`` for rows built by hand."""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable
from typing import Any

from django.db import models

from kehu.core.bulk import insert_json_rows
from kehu.core.middleware import current_remote_addr, current_request_id

from .models import ChangeLog
from .redaction import is_secret_key, redact


def _jsonable(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return f"{value:.2f}" if value.as_tuple().exponent == -2 else str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if hasattr(value, "name") and hasattr(value, "url"):  # FieldFile
        return value.name or ""
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of ``obj`` as JSON-ready data (FKs as ids), secrets left out."""
    data: dict[str, Any] = {}
    label = obj._meta.label_lower
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        if is_secret_key(label, field.name):
            continue
        data[field.name] = _jsonable(getattr(obj, field.attname))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose value changed."""
    keys = before.keys() | after.keys()
    return {
        k: [before.get(k), after.get(k)]
        for k in sorted(keys)
        if before.get(k) != after.get(k) and k not in {"updated_at", "version"}
    }


def record_change(**fields: Any) -> ChangeLog:
    """Append one change-log row (the keyword arguments of :func:`change_entry`); call inside
    the service's transaction."""
    entry = change_entry(**fields)
    entry.save(force_insert=True)
    return entry


def record_changes(entries: list[ChangeLog]) -> list[ChangeLog]:
    """Append many rows built by :func:`change_entry` in one INSERT (batch services). Redacted
    here (the JSON goes to the database as expressions, which the manager's own redaction does
    not look into: :func:`kehu.core.bulk.insert_json_rows`)."""
    return insert_json_rows(ChangeLog, [redact(e) for e in entries], batch_size=500)


def change_entry(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    object_repr: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    message: str = "",
) -> ChangeLog:
    """One change-log row, not yet saved (see :func:`record_change`), without secrets."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id is not None else obj.pk
        object_repr = object_repr if object_repr is not None else str(obj)
    changes = diff(before or {}, after or {}) if (before is not None and after is not None) else {}
    snap = after if after is not None else (before or {})
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    entry = ChangeLog(
        actor=actor_obj,
        actor_name=actor_obj.display_name if actor_obj else (str(actor) if actor else ""),
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        object_repr=(object_repr or "")[:200],
        changes=changes,
        snapshot=snap,
        message=message[:500],
        request_id=current_request_id() or "",
        remote_addr=current_remote_addr(),
    )
    return redact(entry)
