"""Bulk inserts: rows with large JSON columns (recycle-bin entries, change-log rows), and many
plain rows at once (an import's customers and contacts).

On PostgreSQL Django's ``bulk_create`` sends many rows as one array per column (``UNNEST``),
which psycopg quotes element by element in Python, and the server then parses every JSON value
of the arrays: for the 1,000 entries and 1,000 change-log rows of a batch delete that was
0.7–1.8 s. :func:`insert_json_rows` sends the rows as *one* JSON document instead —
``INSERT … SELECT … FROM jsonb_to_recordset(%s)`` — a single parameter, one ``json.dumps``, one
parse on the server, ids returned. Other databases use ``bulk_create``.

:func:`copy_rows` sends plain rows (text, numbers, dates, keys) by ``COPY … FROM STDIN``, their
ids drawn from the table's sequence first: no model field's per-value preparation and no
``UNNEST`` of one array per column to quote and parse (an import batch of 1,000 customers with
their 43 columns). Other databases use ``bulk_create``.
"""

from __future__ import annotations

import datetime
import json
import operator
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import connections, models, router
from django.db.models.base import DEFERRED
from django.db.models.fields import AutoFieldMixin

M = TypeVar("M", bound=models.Model)


def _json_value(field: models.Field, obj: models.Model, connection) -> Any:
    value = field.pre_save(obj, add=True)  # auto_now_add and the like
    if isinstance(field, models.JSONField) or value is None:
        return value
    value = field.get_db_prep_save(value, connection=connection)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return str(value)  # Decimal, UUID, an address (inet) …


def insert_json_rows(model: type[M], objs: list[M], *, batch_size: int | None = None) -> list[M]:
    """Insert ``objs`` (new rows of ``model``, primary key from the database) and set their
    ``pk``; on PostgreSQL in one statement whatever their number."""
    if not objs:
        return objs
    using = router.db_for_write(model)
    connection = connections[using]
    pk = model._meta.pk
    if connection.vendor != "postgresql" or not isinstance(pk, AutoFieldMixin):
        return model._default_manager.using(using).bulk_create(objs, batch_size=batch_size)
    fields = [f for f in model._meta.concrete_fields if f is not pk]
    rows = [{f.column: _json_value(f, obj, connection) for f in fields} for obj in objs]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    record = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
        f"SELECT {', '.join(f'r.{quote(f.column)}' for f in fields)} "
        f"FROM ROWS FROM (jsonb_to_recordset(%s::jsonb) AS ({record})) "
        f"WITH ORDINALITY AS r ORDER BY r.ordinality RETURNING {quote(pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(rows, ensure_ascii=False, separators=(",", ":"))])
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk_value in zip(objs, ids, strict=True):
        obj.pk = pk_value
    return _saved(objs, using)


def _saved(objs: list[M], using: str) -> list[M]:
    """Mark inserted objects as Django marks what it saved."""
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs


# Fields whose Python value psycopg writes as the column wants (a choice's enum is a str).
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.DecimalField,
    models.FloatField,
    models.DateField,  # and DateTimeField; an auto_now(_add) one is stamped by pre_save first
    models.ForeignKey,
)


def copy_rows(
    model: type[M], objs: Iterable[M], *, count: int | None = None, batch_size: int = 500
) -> list[M]:
    """Insert ``objs`` (new rows of ``model``), set their ``pk`` and return them as a list; on
    PostgreSQL by COPY, with ids from the primary key's sequence. ``objs`` may be a generator
    of exactly ``count`` objects: each is then built while the server stores the ones before
    (the import builds its customers so). A refused row raises Django's ``IntegrityError`` or
    ``DataError`` as ``bulk_create`` would (the import locates it by halving its batch)."""
    using = router.db_for_write(model)
    connection = connections[using]
    pk = model._meta.pk
    fields = [f for f in model._meta.concrete_fields if f is not pk and not f.generated]
    if (
        connection.vendor != "postgresql"
        or not isinstance(pk, AutoFieldMixin)
        or not all(isinstance(f, _PLAIN_FIELDS) for f in fields)
    ):
        return model._default_manager.using(using).bulk_create(list(objs), batch_size=batch_size)
    if count is None:
        objs = list(objs)
        count = len(objs)
    if not count:
        return []
    stamped = [
        f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    names = [f.attname for f in fields]
    values = operator.attrgetter(*names) if len(names) > 1 else lambda o: (getattr(o, names[0]),)
    quote = connection.ops.quote_name
    table = model._meta.db_table
    columns = ", ".join(quote(f.column) for f in [pk, *fields])
    written: list[M] = []
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [quote(table), pk.column, count],
        )
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for obj, pk_value in zip(objs, ids, strict=True):
                for field in stamped:
                    field.pre_save(obj, add=True)
                copy.write_row((pk_value, *values(obj)))
                obj.pk = pk_value
                written.append(obj)
    return _saved(written, using)


def instance_maker(model: type[M]) -> Callable[..., M]:
    """``make(**values)``: a new, unsaved ``model`` from attribute names (``owner_id``, not
    ``owner``), the other fields at their defaults — built positionally, as Django builds a
    row it reads, which skips the keyword constructor's per-field work (a third of an import's
    Python time went to ``Model.__init__``). An unknown name raises ``KeyError``."""
    fields = model._meta.concrete_fields
    proto = model()
    defaults = [DEFERRED if f.generated else getattr(proto, f.attname) for f in fields]
    fresh = [(i, f) for i, f in enumerate(fields) if f.has_default() and callable(f.default)]
    index = {f.attname: i for i, f in enumerate(fields)}

    def make(**values: Any) -> M:
        row = defaults.copy()
        for i, field in fresh:
            row[i] = field.get_default()
        for name, value in values.items():
            row[index[name]] = value
        return model(*row)

    return make
