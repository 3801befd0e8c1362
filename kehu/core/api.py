"""API helpers shared by every router: list pagination answering ``{items, count}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from .errors import ApplicationError
from .pagination import capped_count, ids_first
from .services import batch_limit, batch_limit_message

MAX_PAGE_SIZE = 200

# A database id in a request body: positive and within a 64-bit integer (bigger numbers would
# overflow the database driver before any "not found" could be answered).
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _within_batch_limit(value):
    if isinstance(value, list | tuple) and len(value) > batch_limit():
        raise PydanticCustomError("too_many_ids", batch_limit_message())
    return value


# The ids of a batch request (batch delete, to pool, transfer, claim): one to
# ``KEHU_BATCH_MAX_IDS``, counted before any id is parsed; kehu/api.py answers a longer list
# with the limit's message as the error's detail.
BatchIds = Annotated[list[Id], BeforeValidator(_within_batch_limit), Field(min_length=1)]


def paginate(
    queryset,
    page: int,
    page_size: int,
    serialize: Callable[[Any], Any],
    *,
    cursor: str | None = None,
    walkable: bool = False,
) -> dict[str, Any]:
    """One page of an ordered list as ``{items, count, count_exact, next_cursor}``.

    ``count`` follows the pages' rule (:func:`kehu.core.pagination.capped_count`): exact up to
    the cap, then the planner's estimate with ``count_exact: false``. A list whose route takes
    ``cursor`` (``walkable``) answers ``next_cursor`` — pass it back as ``cursor`` to walk the
    whole list in keyset order (stable when rows are added meanwhile; ``page`` is then ignored);
    it is null on the last page."""
    from .keyset import Keyset

    if page_size < 1 or page_size > MAX_PAGE_SIZE:
        raise ApplicationError(
            f"每页条数须在1到{MAX_PAGE_SIZE}之间",
            errors={"page_size": [f"每页条数须在1到{MAX_PAGE_SIZE}之间"]},
        )
    keyset = Keyset.of(queryset) if walkable else None
    if keyset is not None:
        queryset = keyset.ordered(queryset)  # the ordering, made total with the id
    count, exact = capped_count(queryset)  # first: a long list's first pages are walked
    if cursor:
        if keyset is None:
            raise ApplicationError(
                "此排序不支持游标翻页", errors={"cursor": ["按此字段排序时请用 page 翻页"]}
            )
        rows = list(queryset.filter(keyset.after(cursor))[: page_size + 1])
    else:
        if page < 1:
            raise ApplicationError("页码必须大于0", errors={"page": ["页码必须大于0"]})
        if (page - 1) * page_size > MAX_ID:
            # An offset no database takes (SQLite: "datatype mismatch", PostgreSQL: out of range).
            raise ApplicationError("页码超出范围", errors={"page": ["页码超出范围"]})
        start = (page - 1) * page_size
        rows = list(ids_first(queryset, start, start + page_size + 1, many=not exact))
    more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = keyset.cursor_of(rows[-1]) if keyset is not None and more and rows else None
    return {
        "items": [serialize(obj) for obj in rows],
        "count": count,
        "count_exact": exact,
        "next_cursor": next_cursor,
    }


from typing import Generic, TypeVar  # noqa: E402

from ninja import Schema  # noqa: E402

T = TypeVar("T")


class Page(Schema, Generic[T]):
    items: list[T]
    count: int = Field(
        description="总条数：不超过上限时精确，超过时为估计值（count_exact 为 false）"
    )
    count_exact: bool = True
    next_cursor: str | None = Field(
        None, description="下一页的游标（作为 cursor 参数传回）；最后一页为 null"
    )
