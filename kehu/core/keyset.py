"""Keyset ("cursor") walking of an ordered API list (SPEC §13: ``cursor``).

A cursor is the ordering's values of the last row a client received; the next page is the rows
after it in the list's order. Unlike ``page=N`` it neither re-reads the skipped rows nor shifts
when customers are added or removed meanwhile: every row that existed throughout is returned
exactly once. The ordering is made total with the id. Orderings on the model's own columns are
walkable; NULLs sort as the database sorts them (PostgreSQL: last ascending, first descending;
SQLite: the other way round). A cursor is opaque to clients (URL-safe base64 of JSON).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections
from django.db.models import BooleanField, Expression, F, Q, QuerySet
from django.db.models.expressions import OrderBy

from .errors import ApplicationError

BAD_CURSOR = "游标无效，请从第一页重新开始"


@dataclass(frozen=True)
class Column:
    name: str
    field: Any
    descending: bool


class RowAfter(Expression):
    """``(a, b, …) < (x, y, …)`` (or ``>``): one row comparison, which PostgreSQL serves from an
    index on those columns in that order — the whole keyset condition as an index range."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, columns: list[Column], values: list[Any]):
        super().__init__()
        self.columns, self.values = columns, values

    def resolve_expression(
        self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False
    ):
        clone = self.copy()
        clone.resolved = [
            F(c.name).resolve_expression(query, allow_joins, reuse) for c in self.columns
        ]
        return clone

    def as_sql(self, compiler, connection):
        lhs, params = [], []
        for expression in self.resolved:
            sql, p = compiler.compile(expression)
            lhs.append(sql)
            params.extend(p)
        rhs = []
        for column, value in zip(self.columns, self.values, strict=True):
            rhs.append("%s")
            params.append(column.field.get_db_prep_value(value, connection))
        op = "<" if self.columns[0].descending else ">"
        return f"({', '.join(lhs)}) {op} ({', '.join(rhs)})", params


class Keyset:
    def __init__(self, model, columns: list[Column]):
        self.model = model
        self.columns = columns
        self.signature = ",".join(("-" if c.descending else "") + c.name for c in columns)

    @classmethod
    def of(cls, queryset: QuerySet) -> Keyset | None:
        """The keyset of ``queryset``'s ordering, or None when it cannot be walked (an ordering
        through a relation or on a computed value)."""
        model = queryset.model
        order = list(queryset.query.order_by or model._meta.ordering or [])
        columns: list[Column] = []
        for item in order:
            if isinstance(item, OrderBy) and isinstance(item.expression, F):
                name, descending = item.expression.name, item.descending
            elif isinstance(item, str) and item != "?":
                name, descending = item.lstrip("-"), item.startswith("-")
            else:
                return None
            if name == "pk":
                name = model._meta.pk.name
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:
                return None
            if not getattr(field, "concrete", False) or field.is_relation and not field.many_to_one:
                return None
            if any(c.name == field.name for c in columns):
                continue
            columns.append(
                Column(field.attname if field.is_relation else field.name, field, descending)
            )
            if field.primary_key:
                break  # the id decides; anything after it never matters
        pk = model._meta.pk
        if not columns or not columns[-1].field.primary_key:
            columns.append(Column(pk.name, pk, columns[-1].descending if columns else True))
        return cls(model, columns)

    def ordered(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by(*(("-" if c.descending else "") + c.name for c in self.columns))

    # ------------------------------------------------------------------ cursors
    def cursor_of(self, row) -> str:
        values = []
        for column in self.columns:
            value = (
                row[column.name] if isinstance(row, dict) else getattr(row, column.field.attname)
            )
            values.append(_jsonable(value))
        raw = json.dumps({"o": self.signature, "v": values}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def values_of(self, cursor: str) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            data = json.loads(raw)
            if data["o"] != self.signature or len(data["v"]) != len(self.columns):
                raise ValueError
            values = [
                None if v is None else c.field.to_python(v)
                for c, v in zip(self.columns, data["v"], strict=True)
            ]
        except (
            ValueError,
            TypeError,
            KeyError,
            binascii.Error,
            ValidationError,
            UnicodeDecodeError,
        ):
            raise ApplicationError(BAD_CURSOR, errors={"cursor": [BAD_CURSOR]}) from None
        if values[-1] is None:
            raise ApplicationError(BAD_CURSOR, errors={"cursor": [BAD_CURSOR]})
        return values

    def after(self, cursor: str) -> Q:
        """The rows after the cursor's row in this order."""
        values = self.values_of(cursor)
        nullable = any(c.field.null for c in self.columns)
        same_direction = len({c.descending for c in self.columns}) == 1
        if not nullable and same_direction:
            return Q(RowAfter(self.columns, values))
        vendor = connections[self.model.objects.db].vendor
        condition = Q(pk__in=[])
        equal = Q()
        for column, value in zip(self.columns, values, strict=True):
            condition |= equal & self._beyond(column, value, vendor)
            equal &= (
                Q(**{f"{column.name}__isnull": True})
                if value is None
                else Q(**{column.name: value})
            )
        return condition

    @staticmethod
    def _beyond(column: Column, value, vendor: str) -> Q:
        """``column`` strictly after ``value`` in its direction, with the database's NULL order."""
        nulls_first = column.descending if vendor == "postgresql" else not column.descending
        if value is None:
            return Q(**{f"{column.name}__isnull": False}) if nulls_first else Q(pk__in=[])
        after = Q(**{f"{column.name}__{'lt' if column.descending else 'gt'}": value})
        if column.field.null and not nulls_first:
            after |= Q(**{f"{column.name}__isnull": True})
        return after


def _jsonable(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
