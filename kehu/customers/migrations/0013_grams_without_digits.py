"""PostgreSQL only: ``kehu_grams`` (the keyword box's character/pair index) leaves out grams made
of digits alone, and any across the fields' separator.

Those were most of a customer's ~80 keys (its phone's and credit code's digits and digit
pairs) and the largest posting lists of the index: inserting them made a customer's insert
2–3 times dearer (an import of 100,000 rows, issue 15). A keyword of one or two digits matches
nearly every customer anyway: it is read without the index (``customers.search.grams_of``).
Reindexing 1,000,000 customers takes a minute or two.
"""

from django.db import migrations

from kehu.core.pg_sql import postgresql_only


def grams_function(where: str) -> str:
    return (
        "CREATE OR REPLACE FUNCTION kehu_grams(text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT "
        "PARALLEL SAFE AS $$ SELECT coalesce(array_agg(DISTINCT g), '{}') FROM ("
        "SELECT substr($1, i, 1) AS g FROM generate_series(1, char_length($1)) AS i "
        "UNION ALL SELECT substr($1, i, 2) FROM generate_series(1, char_length($1) - 1) AS i"
        f") AS grams {where}$$"
    )


REBUILD = [
    "SET LOCAL maintenance_work_mem = '256MB'",
    "REINDEX INDEX cust_keyword_grams",
    "REINDEX INDEX cust_pool_keyword_grams",
    "ANALYZE customers_customer",
]
SQL = [grams_function("WHERE g !~ '^[0-9]+$' AND strpos(g, chr(31)) = 0 "), *REBUILD]
REVERSE = [grams_function(""), *REBUILD]


class Migration(migrations.Migration):
    dependencies = [("customers", "0012_pool_keyword_indexes")]

    operations = [postgresql_only(SQL, REVERSE)]
