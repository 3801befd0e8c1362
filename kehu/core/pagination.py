"""List-page pagination whose count stays cheap on very large lists.

An exact ``COUNT(*)`` reads every matching row: ~10 ms for 80,000 customers, ~100 ms for the
SPEC's million, most of a list page's budget. Up to ``KEHU_EXACT_COUNT_CAP`` matches (2,000 by
default) the count is exact and costs a bounded ``COUNT`` over ``LIMIT cap + 1``; beyond it, on
PostgreSQL, the page shows the planner's estimate ("总共约 N 条记录") — unless the estimate is
at or below the cap, which the bounded count has just proved wrong: then it says "总共超过 N
条记录" (N the cap) and counts no further.
SQLite (the small embedded deployment) always counts exactly.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

from kehu.core.planner import planner_without


def capped_count(qs: QuerySet) -> tuple[int, bool]:
    """``(count, exact)`` of ``qs`` under the count rule of this module: exact up to
    ``KEHU_EXACT_COUNT_CAP`` (a ``COUNT`` over ``LIMIT cap + 1``), beyond it PostgreSQL's
    estimate (``exact`` false). Where the planner contradicts the bounded count (it guesses
    the cap or fewer rows — keyword searches over the search text are guessed badly), the
    count is ``cap + 1``, not exact: "more than the cap", shown as such — never a second,
    wider count (a common 2-character word spent 62 ms on one at 1,000,000 customers). The
    pages and the API (``count_exact``) both follow it."""
    cap = getattr(settings, "KEHU_EXACT_COUNT_CAP", 10_000)
    if connections[qs.db].vendor != "postgresql" or not cap:
        return qs.count(), True
    parts = getattr(qs.query, "kehu_count_parts", None)
    # The ids alone: no select_related joins and no wide rows inside the bounded count.
    qs = qs.order_by().values("pk")
    if parts:
        # A visibility "A OR B" counted as the union of its parts, each bounded (each an index
        # range where the OR was a filter over a whole index; see customers.selectors).
        first, *others = (qs.filter(part)[: cap + 1] for part in parts)
        bounded = first.union(*others).count()
    else:
        bounded = qs[: cap + 1].count()
    if bounded <= cap:
        return bounded, True
    return max(estimate_rows(qs), cap + 1), False


class CappedCountPaginator(Paginator):
    estimated = False
    more_than: int | None = None  # "超过 N 条": the bounded count's cap (the planner guessed low)

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        # django-tables2 hands over its BoundRows; the queryset is inside.
        inner = getattr(getattr(qs, "data", None), "data", None)
        if isinstance(inner, QuerySet):
            qs = inner
        if not isinstance(qs, QuerySet):
            return super().count
        count, exact = capped_count(qs)
        self.estimated = not exact
        cap = getattr(settings, "KEHU_EXACT_COUNT_CAP", 10_000)
        self.more_than = cap if not exact and count == cap + 1 else None
        return count

    def validate_number(self, number):
        _ = self.count  # decides whether the count is an estimate
        if not self.estimated:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("页码必须是整数") from None
        if number < 1:
            raise EmptyPage("页码不能小于 1")
        return number  # an estimate may be short: a later page is simply empty

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if not self.estimated:
            top = min(bottom + self.per_page, self.count)
            if top + self.orphans >= self.count:
                top = self.count
            return self._get_page(self._rows(bottom, top), number, self)
        # An estimated count must not cut a page short: slice by the page size only.
        page = EstimatedPage(self._rows(bottom, bottom + self.per_page), number, self)
        # Never claim fewer rows than the ones on screen.
        self.__dict__["count"] = max(self.count, bottom + len(page.object_list))
        return page

    def _rows(self, bottom: int, top: int):
        """The rows ``bottom:top`` of the list, ids first (``ids_first``)."""
        rows = self.object_list
        inner = getattr(getattr(rows, "data", None), "data", None)
        if isinstance(inner, QuerySet):
            from django_tables2.rows import BoundRows

            return BoundRows(
                data=ids_first(inner, bottom, top, many=self.estimated),
                table=rows.table,
                pinned_data=rows.pinned_data,
            )
        if isinstance(rows, QuerySet):
            return ids_first(rows, bottom, top, many=self.estimated)
        return rows[bottom:top]


# From this offset on, a list that aggregates (e.g. 合同's paid total) reads its ids first too.
DEEP_OFFSET = 200


def ids_first(qs: QuerySet, start: int, stop: int, *, many: bool = False) -> QuerySet:
    """Rows ``start:stop`` of ``qs`` (ordered): the page's ids alone first — skipped or
    filtered-out rows cost a walk over one index, and a common keyword's thousands of matches a
    sort of ids, not a join with owners and dictionaries each — then those rows whole, in the
    same order. A list that aggregates (GROUP BY) does so on shallow pages only: its ids query
    would aggregate every row (1,000,000 contracts' payments: 1.7 s).

    ``many``: the list has more rows than the count's cap (its count is not exact). A keyword
    search with that many matches reads its first pages by walking the list's order (see
    :func:`walked_ids`)."""
    aggregates = qs.query.group_by is not None or any(
        getattr(a, "contains_aggregate", False) for a in qs.query.annotations.values()
    )
    if stop <= start or (aggregates and start < DEEP_OFFSET):
        return qs[start:stop]
    if many and start < WALK_DEPTH and walkable(qs):
        return qs.filter(pk__in=walked_ids(qs, start, stop))
    ids = qs.values("pk")[start:stop]
    return qs.filter(pk__in=ids)


# Pages starting before this row may be read by walking the list's order (see walked_ids).
WALK_DEPTH = 200


def walkable(qs: QuerySet) -> bool:
    """``qs`` filters by a lookup that is best walked when it matches many rows (its class sets
    ``kehu_walkable``: customers.search's keyword) and is ordered as one of the indexes its
    selector names (``query.kehu_walk_orders``), on PostgreSQL."""
    orders = getattr(qs.query, "kehu_walk_orders", ())
    if connections[qs.db].vendor != "postgresql" or tuple(qs.query.order_by) not in orders:
        return False

    def lookups(node):
        for child in getattr(node, "children", ()):
            yield child
            yield from lookups(child)

    return any(getattr(node, "kehu_walkable", False) for node in lookups(qs.query.where))


def walked_ids(qs: QuerySet, start: int, stop: int) -> list:
    """The ids ``start:stop`` of ``qs``, read by walking its order's index and testing each row
    (its lookups see ``query.kehu_walking`` and leave their index hints out).

    Sorting the matches of a common word costs one heap read per match (叉车, 11,000 of
    1,000,000 customers: 10,000 pages, 25 ms); with more matches than the count's cap, the walk
    finds a page's 20 within a few thousand rows (4 ms). The planner, guessing a handful of
    matches, would still sort: sorting and bitmap scans are disabled for this one query
    (``SET LOCAL``, undone right after)."""
    ids = qs.values_list("pk", flat=True)[start:stop]
    ids.query.kehu_walking = True  # type: ignore[attr-defined]
    with planner_without("sort", "bitmapscan", using=qs.db):
        found = list(ids)
    return found


class EstimatedPage(Page):
    def end_index(self) -> int:
        return self.start_index() + len(self.object_list) - 1 if len(self.object_list) else 0

    def has_next(self) -> bool:
        return len(self.object_list) == self.paginator.per_page and super().has_next()


# The largest row offset a database takes (a signed 64-bit integer).
MAX_OFFSET = 2**63 - 1


def paginate_table(request, table, *, per_page: int) -> None:
    """Order and paginate a django-tables2 table from the request, which cannot break the page.

    django-tables2's ``RequestConfig`` takes ``?per_page=`` and ``?page=`` from the query
    string as they are: ``per_page=-1`` (or 0) made the paginator fail with a 500, a huge
    ``per_page`` read the whole list. Here the page size is the caller's (already checked
    against the sizes it offers) and a page number that is not a positive integer, or lies
    beyond any offset a database takes, shows the first page; a page after the last shows the
    last one, as before."""
    from django_tables2 import RequestConfig

    RequestConfig(request, paginate=False).configure(table)  # table.request and the sort
    raw = request.GET.get(table.prefixed_page_field)
    try:
        page = int(raw) if raw is not None else 1
    except (TypeError, ValueError):
        page = 1
    if page < 1 or (page - 1) * per_page > MAX_OFFSET:
        page = 1
    try:
        table.paginate(paginator_class=CappedCountPaginator, per_page=per_page, page=page)
    except PageNotAnInteger:
        table.page = table.paginator.page(1)
    except EmptyPage:
        table.page = table.paginator.page(table.paginator.num_pages)


def table_rows(model, using: str = "default") -> float:
    """PostgreSQL's estimate of the rows in ``model``'s table (``reltuples``; no rows read)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table]
        )
        return float(cursor.fetchone()[0])


def estimate_rows(qs: QuerySet) -> int:
    """The PostgreSQL planner's row estimate for ``qs`` (no rows are read)."""
    sql, params = qs.order_by().values("pk").query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
