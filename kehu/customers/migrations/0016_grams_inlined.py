"""PostgreSQL only: ``kehu_grams`` (the keyword box's character/pair index, migrations 0008 and
0013) as one expression, which PostgreSQL inlines into the index expression, instead of a query
(``generate_series`` + ``array_agg(DISTINCT …)``) run through the SQL-function executor on
every insert and on every update of a searched field.

The keys are the same — every character and every pair of adjacent characters, none made of
digits alone, none holding the fields' separator (chr(31)):

- the characters: the text without digits and separators, split into characters;
- the pairs starting at odd positions: ``(..)|.`` → each pair followed by chr(30) (a lone last
  character by nothing), then the pairs of digits or with a separator removed with their
  chr(30); split on chr(30); the same for the text from its second character (even positions).

chr(30) can stand as the delimiter because no stored text holds a control character (every
free-text field goes through ``customers.validation``, which drops them). Duplicates may stay
(the GIN index keeps each key once) and empty elements are removed.

Measured on 20,000 random texts of 0–60 characters: 60 µs → 18 µs a text (the same keys for
every one of them, compared as sets). Not STRICT: PostgreSQL inlines a STRICT SQL function only
when its body is strict, and ``string_to_array`` is not (NULL still gives NULL).
Reindexing 1,000,000 customers takes a minute or two.
"""

from django.db import migrations

from kehu.core.pg_sql import postgresql_only

REBUILD = [
    "SET LOCAL maintenance_work_mem = '256MB'",
    "REINDEX INDEX cust_keyword_grams",
    "REINDEX INDEX cust_pool_keyword_grams",
    "ANALYZE customers_customer",
]
# The pairs of a text from its first character, each followed by chr(30); the pairs to leave
# out (digits alone, the separator) removed with their delimiter.
PAIRS = (
    "regexp_replace(regexp_replace({text}, '(..)|.', '\\1' || chr(30), 'g'), "
    "'[0-9][0-9]\\x1e|\\x1f[^\\x1e]\\x1e|[^\\x1e]\\x1f\\x1e', '', 'g')"
)
INLINED = (
    "CREATE OR REPLACE FUNCTION kehu_grams(text) RETURNS text[] LANGUAGE sql IMMUTABLE "
    "CALLED ON NULL INPUT PARALLEL SAFE AS $$ SELECT array_remove("
    "string_to_array(translate($1, '0123456789' || chr(31), ''), NULL) "
    f"|| string_to_array({PAIRS.format(text='$1')}, chr(30)) "
    f"|| string_to_array({PAIRS.format(text='substr($1, 2)')}, chr(30)), '') $$"
)
# Migration 0013's function (CREATE OR REPLACE keeps the indexes pointing at it).
QUERY = (
    "CREATE OR REPLACE FUNCTION kehu_grams(text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT "
    "PARALLEL SAFE AS $$ SELECT coalesce(array_agg(DISTINCT g), '{}') FROM ("
    "SELECT substr($1, i, 1) AS g FROM generate_series(1, char_length($1)) AS i "
    "UNION ALL SELECT substr($1, i, 2) FROM generate_series(1, char_length($1) - 1) AS i"
    ") AS grams WHERE g !~ '^[0-9]+$' AND strpos(g, chr(31)) = 0 $$"
)


class Migration(migrations.Migration):
    dependencies = [("customers", "0015_name_ends_index")]

    operations = [postgresql_only([INLINED, *REBUILD], [QUERY, *REBUILD])]
