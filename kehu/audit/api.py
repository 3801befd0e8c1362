from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Router, Schema

from kehu.core.api import Page, paginate

from . import selectors

router = Router(tags=["日志"])


class ChangeLogOut(Schema):
    id: int
    created_at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: int | None
    object_repr: str
    object_label: str
    changes: dict[str, Any]
    lines: list[str]
    message: str


@router.get("/audit", response=Page[ChangeLogOut])
def audit(
    request,
    object_type: str | None = None,
    object_id: int | None = None,
    page: int = 1,
    page_size: int = 20,
    cursor: str | None = None,
):
    """Change-log entries; non-admins only for objects they may see (or their own actions).
    Secrets are never returned and masked values stay masked (``selectors.changelog_list``)."""
    qs = selectors.changelog_list(user=request.user, object_type=object_type, object_id=object_id)
    return paginate(qs, page, page_size, lambda row: row, cursor=cursor, walkable=True)
