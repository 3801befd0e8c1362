"""PostgreSQL only: pg_trgm GIN indexes for name substring search and fuzzy duplicate checks."""

from django.db import migrations

SQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS cust_name_upper_trgm ON customers_customer USING gin (UPPER(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS cust_name_norm_trgm ON customers_customer USING gin (name_normalized gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS cust_contact_name_trgm ON customers_customer USING gin (UPPER(contact_name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS cust_phone_trgm ON customers_customer USING gin (contact_phone gin_trgm_ops)",
]
REVERSE = [
    "DROP INDEX IF EXISTS cust_name_upper_trgm",
    "DROP INDEX IF EXISTS cust_name_norm_trgm",
    "DROP INDEX IF EXISTS cust_contact_name_trgm",
    "DROP INDEX IF EXISTS cust_phone_trgm",
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
    dependencies = [("customers", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
