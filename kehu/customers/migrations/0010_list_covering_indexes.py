"""PostgreSQL only: the lists' order indexes carry the visibility columns (deep pages).

A deep page (page 500: 10,000 rows skipped) walks the order's index and checks each skipped row's
owner (or, in the pool, its pool): with ``owner_id``/``pool_id`` in the index (INCLUDE) that is
an index-only scan, not 10,000 reads of the table.
"""

from django.db import migrations

SQL = [
    "CREATE INDEX IF NOT EXISTS cust_created_cover_idx ON customers_customer "
    "(created_at DESC, id DESC) INCLUDE (owner_id)",
    "CREATE INDEX IF NOT EXISTS cust_recv_cover_idx ON customers_customer "
    "(receivable_total DESC, id DESC) INCLUDE (owner_id)",
    "CREATE INDEX IF NOT EXISTS cust_pool_list_cover_idx ON customers_customer "
    "(pooled_at DESC, id DESC) INCLUDE (pool_id) WHERE owner_id IS NULL",
    "DROP INDEX IF EXISTS cust_pool_list_idx",  # of 0008, covered by the one above
    "ANALYZE customers_customer",
]
REVERSE = [
    "CREATE INDEX IF NOT EXISTS cust_pool_list_idx ON customers_customer "
    "(pooled_at DESC, id DESC) WHERE owner_id IS NULL",
    "DROP INDEX IF EXISTS cust_pool_list_cover_idx",
    "DROP INDEX IF EXISTS cust_recv_cover_idx",
    "DROP INDEX IF EXISTS cust_created_cover_idx",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in SQL:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in REVERSE:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("customers", "0009_dedupe_bigram_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
