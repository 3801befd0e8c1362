"""A migration step of raw SQL that only PostgreSQL runs (its indexes and functions: SQLite,
the small embedded deployment, needs none of them)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import migrations


def postgresql_only(forward: Sequence[str], reverse: Sequence[str]) -> migrations.RunPython:
    """``RunPython`` running ``forward`` (and ``reverse`` when unapplied) statement by
    statement on PostgreSQL, nothing elsewhere."""

    def run(statements):
        def apply(apps, schema_editor):
            if schema_editor.connection.vendor != "postgresql":
                return
            for statement in statements:
                schema_editor.execute(statement)

        return apply

    return migrations.RunPython(run(list(forward)), run(list(reverse)), elidable=False)
