"""PostgreSQL only: the keyword box's two GIN indexes again, over the pool (``owner IS NULL``)
alone. A pool search (200,000 of 1,000,000 customers) intersected the whole table's keyword
bitmap with the pool's 200,000-row bitmaps — 13 ms of its 21 before reading a row (issue 15).
"""

from django.db import migrations

from kehu.core.pg_sql import postgresql_only

SEARCH_TEXT = "kehu_search_text(name, contact_name, contact_phone, credit_code)"
SQL = [
    "SET LOCAL maintenance_work_mem = '256MB'",
    "CREATE INDEX IF NOT EXISTS cust_pool_keyword_grams ON customers_customer "
    f"USING gin (kehu_grams({SEARCH_TEXT})) WHERE owner_id IS NULL",
    "CREATE INDEX IF NOT EXISTS cust_pool_keyword_trgm ON customers_customer "
    f"USING gin ({SEARCH_TEXT} gin_trgm_ops) WHERE owner_id IS NULL",
]
REVERSE = [
    "DROP INDEX IF EXISTS cust_pool_keyword_trgm",
    "DROP INDEX IF EXISTS cust_pool_keyword_grams",
]


class Migration(migrations.Migration):
    dependencies = [("customers", "0011_list_order_indexes")]

    operations = [postgresql_only(SQL, REVERSE)]
