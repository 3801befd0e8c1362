"""PostgreSQL only: character-pair (bigram) GIN indexes for two-character name searches.

pg_trgm cannot serve ``LIKE '%恒通%'`` (a two-character pattern has no trigram), so such a
search read the whole table. See kehu/customers/search.py.
"""

from django.db import migrations

SQL = [
    # Every distinct pair of adjacent characters; IMMUTABLE so it can be indexed.
    "CREATE OR REPLACE FUNCTION kehu_bigrams(text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ SELECT coalesce(array_agg(DISTINCT substr($1, i, 2)), '{}') "
    "FROM generate_series(1, char_length($1) - 1) AS i $$",
    "CREATE INDEX IF NOT EXISTS cust_name_bigrams ON customers_customer "
    "USING gin (kehu_bigrams(UPPER(name)))",
    "CREATE INDEX IF NOT EXISTS cust_contact_name_bigrams ON customers_customer "
    "USING gin (kehu_bigrams(UPPER(contact_name)))",
]
REVERSE = [
    "DROP INDEX IF EXISTS cust_name_bigrams",
    "DROP INDEX IF EXISTS cust_contact_name_bigrams",
    "DROP FUNCTION IF EXISTS kehu_bigrams(text)",
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
    dependencies = [("customers", "0004_pool_fields")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
