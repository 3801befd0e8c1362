"""Reading the change log: admins read everything; others read the log of objects they may see.

Every reader (the /audit/ page, ``GET /api/v1/audit``, the portrait's 日志 tab) reads through
:func:`changelog_list`, whose rows pass :func:`prepare_for_readers` as they are fetched: secrets
are stripped (again: they are never stored, see ``redaction.py``), the values a reader may not
see are masked by the maskers registered per object type (``core.registry.log_maskers``, e.g.
contact data of pool customers: ``kehu.customers.masking.mask_log_entries``), and each row gets
its readable ``object_label`` and ``lines`` (``display.py``). The rows of one
page are masked together, with a constant number of queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.db.models.query import ModelIterable

from kehu.core.errors import NotFound
from kehu.core.registry import log_visibility, mask_log_entries

from .display import describe
from .models import ChangeLog
from .redaction import redact

_PREPARED = "_kehu_prepared_for_readers"
_BATCH = 500


def prepare_for_readers(entries: Iterable[ChangeLog]) -> list[ChangeLog]:
    """Strip secrets from and mask (in place, for display only) the given rows; a row already
    prepared is left alone, so masking is never applied twice."""
    entries = list(entries)
    fresh = [e for e in entries if not getattr(e, _PREPARED, False)]
    for entry in fresh:
        redact(entry)
    mask_log_entries(fresh)
    describe(fresh)  # labels and display values, after masking (display.py)
    for entry in fresh:
        setattr(entry, _PREPARED, True)
    return entries


class ReaderIterable(ModelIterable):
    """Model rows prepared for readers, a batch at a time (one page is one batch)."""

    def __iter__(self) -> Iterator[ChangeLog]:
        batch: list[ChangeLog] = []
        for row in super().__iter__():
            batch.append(row)
            if len(batch) >= _BATCH:
                yield from prepare_for_readers(batch)
                batch = []
        yield from prepare_for_readers(batch)


def changelog_list(
    *, user, object_type: str | None = None, object_id: int | None = None
) -> QuerySet[ChangeLog]:
    """The rows ``user`` may read, prepared for readers when fetched as model instances
    (``values()``/``values_list()`` bypass the preparation: do not use them for output)."""
    qs = ChangeLog.objects.select_related("actor")
    qs._iterable_class = ReaderIterable
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
