"""Reading the recycle bin: admins (data scope 全部) see every entry, others the entries of the
customers their data scope covered when they were deleted (SPEC §13)."""

from __future__ import annotations

from django.db.models import QuerySet

from kehu.core.errors import NotFound
from kehu.org.authz import restrict
from kehu.org.scope import scope_owner_ids

from .models import RecycleEntry


def recycle_entry_list(*, user) -> QuerySet[RecycleEntry]:
    qs = restrict(RecycleEntry.objects.all(), user, "view")
    if not user.is_admin:
        owners = scope_owner_ids(user)
        if owners is not None:
            qs = qs.filter(owner_id__in=sorted(owners))
    return qs.select_related("owner", "deleted_by").defer("payload", "relinks")


def recycle_entry_get(*, user, pk: int) -> RecycleEntry:
    entry = recycle_entry_list(user=user).filter(pk=pk).first()
    if entry is None:
        raise NotFound("回收站记录不存在或无权查看")
    return entry
