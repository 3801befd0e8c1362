"""PostgreSQL only: normalised names by their last two and first characters, for 查重's
similar names (``dedupe.similar_candidates_q``): a name sharing only padded trigrams with the
one asked ends with its last two characters and starts with its first."""

from django.db import migrations

from kehu.core.pg_sql import postgresql_only

SQL = [
    "CREATE INDEX IF NOT EXISTS cust_name_norm_ends_idx ON customers_customer "
    "(right(name_normalized, 2), left(name_normalized, 1))",
    "ANALYZE customers_customer",
]
REVERSE = ["DROP INDEX IF EXISTS cust_name_norm_ends_idx"]


class Migration(migrations.Migration):
    dependencies = [("customers", "0014_fewer_customer_indexes")]

    operations = [postgresql_only(SQL, REVERSE)]
