"""/api/v1/recycle-bin (SPEC §13): the entries the user may see, and restoring one."""

from __future__ import annotations

from datetime import datetime

from ninja import Query, Router, Schema

from kehu.core.api import Page, paginate
from kehu.customers.schemas import ErrorOut
from kehu.org.authz import authorize

from . import selectors, services
from .filters import RecycleEntryFilterSet
from .models import RecycleEntry

router = Router(tags=["回收站"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class RecycleEntryOut(Schema):
    id: int
    object_type: str
    type_label: str
    object_id: int
    display_name: str
    customer_id: int | None
    customer_name: str
    owner_id: int | None
    deleted_by_id: int | None
    deleted_at: datetime
    expires_at: datetime
    row_count: int


class RecycleFilters(Schema):
    q: str | None = None
    object_type: str | None = None


class RestoredOut(Schema):
    object_type: str
    object_id: int
    display_name: str


@router.get("/recycle-bin", response={200: Page[RecycleEntryOut], **ERRORS})
def list_recycle_bin(request, filters: Query[RecycleFilters], page: int = 1, page_size: int = 20):
    authorize(request.user, "view", RecycleEntry)
    data = {k: v for k, v in filters.dict().items() if v not in (None, "")}
    filterset = RecycleEntryFilterSet(
        data, queryset=selectors.recycle_entry_list(user=request.user), request=request
    )
    qs = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    return paginate(qs.order_by("-deleted_at", "-id"), page, page_size, lambda e: e)


@router.post(
    "/recycle-bin/{int:entry_id}/restore", response={200: RestoredOut, 409: ErrorOut, **ERRORS}
)
def restore_entry(request, entry_id: int):
    """Restore the entry's object and everything deleted with it, exactly (same ids); 409 when
    it would clash with a row saved since or its customer is gone (restore that first)."""
    authorize(request.user, "restore", RecycleEntry)
    entry = selectors.recycle_entry_get(user=request.user, pk=entry_id)
    obj = services.restore(actor=request.user, entry=entry)
    return {
        "object_type": entry.object_type,
        "object_id": obj.pk,
        "display_name": entry.display_name,
    }
