"""API helpers shared by every router: list pagination answering ``{items, count}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from .errors import ApplicationError
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
    queryset, page: int, page_size: int, serialize: Callable[[Any], Any]
) -> dict[str, Any]:
    if page < 1:
        raise ApplicationError("页码必须大于0", errors={"page": ["页码必须大于0"]})
    if (page - 1) * page_size > MAX_ID:
        # An offset no database takes (SQLite: "datatype mismatch", PostgreSQL: out of range).
        raise ApplicationError("页码超出范围", errors={"page": ["页码超出范围"]})
    if page_size < 1 or page_size > MAX_PAGE_SIZE:
        raise ApplicationError(
            f"每页条数须在1到{MAX_PAGE_SIZE}之间",
            errors={"page_size": [f"每页条数须在1到{MAX_PAGE_SIZE}之间"]},
        )
    count = queryset.count()
    start = (page - 1) * page_size
    items = [serialize(obj) for obj in queryset[start : start + page_size]]
    return {"items": items, "count": count}


from typing import Generic, TypeVar  # noqa: E402

from ninja import Schema  # noqa: E402

T = TypeVar("T")


class Page(Schema, Generic[T]):
    items: list[T]
    count: int
