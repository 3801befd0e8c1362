"""Reading the change log: admins read everything; others read the log of objects they may see."""

from __future__ import annotations

from django.db.models import QuerySet

from kehu.core.errors import NotFound
from kehu.core.registry import log_visibility

from .models import ChangeLog


def changelog_list(
    *, user, object_type: str | None = None, object_id: int | None = None
) -> QuerySet[ChangeLog]:
    qs = ChangeLog.objects.select_related("actor")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id is not None:
        qs = qs.filter(object_id=object_id)
    if user.has_perm("audit.view_changelog"):
        return qs
    visible = log_visibility.get(object_type or "")
    if visible is None or object_id is None:
        # Without a visible object to anchor on, a non-admin reads only their own actions.
        return qs.filter(actor=user)
    if not visible(user).filter(pk=object_id).exists():
        raise NotFound()
    return qs
