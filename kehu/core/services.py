"""Helpers shared by every domain's services."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from .errors import ApplicationError, validation_error_dict


@dataclass
class BatchResult:
    """The answer of every batch action (SPEC §10): ``{"done": [ids], "refused": [...]}``."""

    done: list[int] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    # What happened, in a sentence each, for the result dialog (a transfer: who received how
    # many); not part of the API answer.
    notes: list[str] = field(default_factory=list)

    # The refused records' names where the actor may know them (they were visible to them),
    # so that the result dialog lists names rather than ids.
    names: dict[int, str] = field(default_factory=dict)

    def refuse(self, object_id: int, reason: str, name: str = "") -> None:
        self.refused.append({"id": object_id, "reason": reason})
        if name:
            self.names[object_id] = name

    @property
    def refused_rows(self) -> list[dict[str, Any]]:
        """The refusals with the record's name (``""`` where it may not be shown)."""
        return [{**r, "name": self.names.get(r["id"], "")} for r in self.refused]

    def as_dict(self) -> dict[str, Any]:
        return {"done": self.done, "refused": self.refused}


def batch_limit() -> int:
    from django.conf import settings

    return settings.KEHU_BATCH_MAX_IDS


def batch_limit_message(limit: int | None = None) -> str:
    limit = batch_limit() if limit is None else limit
    # 转移/放入公海/领取 act on the checked rows (a page holds at most 100); only 批量删除客户
    # has a 全部符合条件的记录 job, and the message says so rather than promise it everywhere.
    return f'一次最多处理{limit}条，请分批操作（"全部符合条件的记录"仅用于删除客户）'


def check_batch_size(ids) -> None:
    """Refuse a batch naming more than ``KEHU_BATCH_MAX_IDS`` ids (400): one request must not
    hold a worker for minutes. Larger sets go through 全部符合条件的记录 (a background job)."""
    if len(ids) > batch_limit():
        message = batch_limit_message()
        raise ApplicationError(message, code="too_many_ids", errors={"ids": [message]})


def run_batch(ids: Iterable[int], action: Callable[[int], Any]) -> BatchResult:
    """Apply ``action`` to each id in its own savepoint; refusals are reported, not raised."""
    result = BatchResult()
    seen: set[int] = set()
    for object_id in ids:
        if object_id in seen:
            continue
        seen.add(object_id)
        try:
            with transaction.atomic():
                action(object_id)
        except ApplicationError as exc:
            result.refuse(object_id, exc.message)
        else:
            result.done.append(object_id)
    return result


def validated_save(instance: models.Model, **kwargs) -> models.Model:
    """``full_clean()`` then ``save()``, turning validation errors into an ApplicationError."""
    try:
        instance.full_clean(**kwargs)
    except ValidationError as exc:
        raise ApplicationError("输入有误，请检查后重试", errors=validation_error_dict(exc)) from exc
    instance.save()
    return instance


@transaction.atomic
def list_columns_save(*, actor, table: str, shown: list[str]) -> list[str]:
    """列 (every list page): remember which columns ``actor`` sees in the list ``table``; the
    others are hidden for them from now on, on every device. The select box, 操作 and the
    name cannot be hidden. Answers the hidden columns. A user's own display setting: no
    permission beyond being signed in, nothing in the change log."""
    from .models import ListColumns
    from .tables import TABLES

    table_class = TABLES.get(table)
    if table_class is None:
        raise ApplicationError("没有这个列表", code="bad_table", errors={"table": ["没有这个列表"]})
    names = [name for name, _label in table_class.choosable_columns()]
    unknown = [c for c in shown if c not in names]
    if unknown:
        message = f"没有这一列：{'、'.join(unknown[:5])}"
        raise ApplicationError(message, code="bad_column", errors={"shown": [message]})
    fixed = table_class.fixed_columns()
    hidden = [n for n in names if n not in shown and n not in fixed]
    if len(hidden) == len([n for n in names if n not in fixed]) and hidden:
        message = "请至少保留一列"
        raise ApplicationError(message, code="no_columns", errors={"shown": [message]})
    ListColumns.objects.update_or_create(user=actor, table=table, defaults={"hidden": hidden})
    return hidden
