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

    def refuse(self, object_id: int, reason: str) -> None:
        self.refused.append({"id": object_id, "reason": reason})

    def as_dict(self) -> dict[str, Any]:
        return {"done": self.done, "refused": self.refused}


def batch_limit() -> int:
    from django.conf import settings

    return settings.KEHU_BATCH_MAX_IDS


def batch_limit_message(limit: int | None = None) -> str:
    limit = batch_limit() if limit is None else limit
    return f'一次最多处理{limit}条，请分批操作或使用"全部符合条件的记录"'


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
