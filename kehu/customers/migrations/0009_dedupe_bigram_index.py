"""PostgreSQL only: the bigram index of the normalised name, for 查重 of two-character names
(pg_trgm has no trigram to look up for them; see kehu/customers/dedupe.py ``_contains_q``)."""

from django.db import migrations

SQL = [
    "SET LOCAL maintenance_work_mem = '256MB'",
    "CREATE INDEX IF NOT EXISTS cust_name_norm_bigrams ON customers_customer "
    "USING gin (kehu_bigrams(name_normalized))",
    # Statistics of the new expression: a frequent pair (物流, 厦门) is then read in no order
    # until the 20 matches are found, a rare one from the index.
    "ANALYZE customers_customer",
]
REVERSE = ["DROP INDEX IF EXISTS cust_name_norm_bigrams"]


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
    dependencies = [("customers", "0008_keyword_search_indexes")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
