"""Steering PostgreSQL's planner for one query whose plan it gets wrong."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction


@contextmanager
def planner_without(*methods: str, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Queries run inside are planned without ``methods`` (``enable_<method>`` off: "sort",
    "bitmapscan", "seqscan"…), in one transaction, with ``SET LOCAL`` undone right after.
    Elsewhere than on PostgreSQL it changes nothing."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return

    def setting(value: str) -> str:
        return "SELECT " + ", ".join(f"set_config('enable_{m}', '{value}', true)" for m in methods)

    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(setting("off"))
        yield
        cursor.execute(setting("on"))
