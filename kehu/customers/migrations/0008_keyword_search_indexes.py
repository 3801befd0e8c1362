"""PostgreSQL only: the keyword box's indexes and the pool list's (see kehu/customers/search.py).

- ``kehu_search_text(name, contact_name, contact_phone, credit_code)``: the four fields the
  keyword box searches, upper-cased and joined by the unit separator; one pg_trgm GIN index
  over it (words with three or more letters/digits in a row) and one GIN index over its
  characters and character pairs, ``kehu_grams`` (one- and two-character words).
- the pool list (``owner IS NULL``) in its default order, newest pooled first, and by 回收时间.

Building them over 1,000,000 customers takes a few minutes; SQLite needs none of them.
"""

from django.db import migrations

SEARCH_TEXT = "kehu_search_text(name, contact_name, contact_phone, credit_code)"
SQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # IMMUTABLE (upper and || are) so that it can be indexed; the same expression as SearchText.
    "CREATE OR REPLACE FUNCTION kehu_search_text(text, text, text, text) RETURNS text "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS "
    "$$ SELECT upper($1) || chr(31) || upper($2) || chr(31) || upper($3) || chr(31) "
    "|| upper($4) $$",
    # Every distinct character and pair of adjacent characters.
    "CREATE OR REPLACE FUNCTION kehu_grams(text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ SELECT coalesce(array_agg(DISTINCT g), '{}') FROM ("
    "SELECT substr($1, i, 1) AS g FROM generate_series(1, char_length($1)) AS i "
    "UNION ALL SELECT substr($1, i, 2) FROM generate_series(1, char_length($1) - 1) AS i"
    ") AS grams $$",
    "SET LOCAL maintenance_work_mem = '256MB'",
    f"CREATE INDEX IF NOT EXISTS cust_keyword_trgm ON customers_customer "
    f"USING gin ({SEARCH_TEXT} gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS cust_keyword_grams ON customers_customer "
    f"USING gin (kehu_grams({SEARCH_TEXT}))",
    "CREATE INDEX IF NOT EXISTS cust_pool_list_idx ON customers_customer "
    "(pooled_at DESC, id DESC) WHERE owner_id IS NULL",
    "CREATE INDEX IF NOT EXISTS cust_pool_return_list_idx ON customers_customer "
    "(pool_return_at, id) WHERE owner_id IS NULL",
    # The planner's statistics of the new expressions (their selectivity decides the plan).
    "ANALYZE customers_customer",
]
REVERSE = [
    "DROP INDEX IF EXISTS cust_pool_return_list_idx",
    "DROP INDEX IF EXISTS cust_pool_list_idx",
    "DROP INDEX IF EXISTS cust_keyword_grams",
    "DROP INDEX IF EXISTS cust_keyword_trgm",
    "DROP FUNCTION IF EXISTS kehu_grams(text)",
    "DROP FUNCTION IF EXISTS kehu_search_text(text, text, text, text)",
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
    dependencies = [("customers", "0007_receivable_total_generated")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
