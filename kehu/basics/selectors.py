from __future__ import annotations

from django.db.models import QuerySet

from kehu.core.errors import NotFound

from .models import DictEntry, DictKind


def dict_entries(*, kind: str | None = None, active_only: bool = False) -> QuerySet[DictEntry]:
    qs = DictEntry.objects.all()
    if kind is not None:
        if kind not in DictKind.values:
            raise NotFound(f"未知的字典类型：{kind}", code="unknown_dict_kind")
        qs = qs.filter(kind=kind)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("kind", "sort", "id")
