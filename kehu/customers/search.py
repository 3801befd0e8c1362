"""Substring search over customers, planned on the indexes.

The keyword box (``q`` of the customer list, the pool and the API) matches a customer whose name,
contact name, phone or credit code contains the words, ignoring case — exactly
``name__icontains | contact_name__icontains | contact_phone__icontains | credit_code__icontains``
(the pool leaves the phone and the credit code out: SPEC §3). An OR over four columns cannot be
served by one index, so PostgreSQL read the whole table (17 s at 1,000,000 customers). Here the
four columns are one text, ``kehu_search_text`` (upper-cased, joined by the unit separator
``\\x1f`` so no match spans two fields), indexed twice (migration 0008):

- a pg_trgm GIN index serves words with a run of three or more letters or digits
  (``LIKE '%厦门恒通%'``, phone fragments, credit-code fragments);
- a GIN index over its characters and character pairs (``kehu_grams``) serves one- and
  two-character words (恒通, 叉车, 王), which have no trigram, and words whose runs are
  shorter (``A-B``).

The ``LIKE`` itself is always part of the condition, so the index only narrows the candidates
and the rows are exactly the ``icontains`` ones (``test_search_properties`` checks it against
that reference on both databases). SQLite compiles the same joined text without an index.

The search panel's single-field filters (客户名称, 联系人, 联系电话) find their candidates
through the same indexes and let the field decide (``keyword_q(value, fields=...)``): the older
per-column indexes (migrations 0002 and 0005) cost every insert and update of a customer and were
dropped (migration 0014).
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection
from django.db.models import Func, Lookup, Q, TextField

# What the keyword box searches, in the order of kehu_search_text's arguments.
KEYWORD_FIELDS = ("name", "contact_name", "contact_phone", "credit_code")
SEPARATOR = "\x1f"


class Bigrams(Func):
    function = "kehu_bigrams"

    def __init__(self, expression, **extra):
        from django.contrib.postgres.fields import ArrayField

        super().__init__(expression, output_field=ArrayField(TextField()), **extra)


class SearchText(Func):
    """The keyword fields as one upper-cased text, exactly the indexed expression on PostgreSQL."""

    output_field = TextField()

    def __init__(self, prefix: str = ""):
        super().__init__(*(f"{prefix}{f}" for f in KEYWORD_FIELDS))

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor == "postgresql":
            return super().as_sql(
                compiler, connection, function="kehu_search_text", **extra_context
            )
        # Elsewhere the same text, spelled out (no index).
        parts, params = [], []
        for expression in self.source_expressions:
            sql, p = compiler.compile(expression)
            parts.append(f"UPPER({sql})")
            params.extend(p)
        return "(" + " || CHAR(31) || ".join(parts) + ")", params


def word_runs(value: str) -> list[str]:
    """The runs of letters and digits in ``value`` — where pg_trgm finds its trigrams."""
    runs, current = [], ""
    for ch in value:
        if ch.isalnum():
            current += ch
        else:
            if current:
                runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return runs


def needs_grams(value: str) -> bool:
    """No run of three letters/digits: pg_trgm has nothing to look up (and the character/pair
    index has some key of the value to look up)."""
    return not any(len(r) >= 3 for r in word_runs(value)) and bool(grams_of(value))


# A word in more than this share of the customers is "frequent": see KeywordLike.
FREQUENT_SHARE = 0.02
SMALL_TABLE = 10_000


@lru_cache(maxsize=2048)
def _grams_share(grams: tuple[str, ...]) -> float:
    """The planner's estimate of the share of customers having all ``grams`` (no rows read)."""
    from kehu.core.pagination import estimate_rows, table_rows

    from .models import Customer

    array = "ARRAY[" + ", ".join(["UPPER(%s)"] * len(grams)) + "]::text[]"
    text = "kehu_search_text(name, contact_name, contact_phone, credit_code)"
    qs = Customer.objects.extra(where=[f"kehu_grams({text}) @> {array}"], params=list(grams))
    total = table_rows(Customer)
    if total < SMALL_TABLE:
        return 0.0  # a small table: any plan is quick, keep the index's
    return estimate_rows(qs) / total


def is_frequent(value: str) -> bool:
    return (
        connection.vendor == "postgresql" and _grams_share(tuple(grams_of(value))) > FREQUENT_SHARE
    )


def grams_of(value: str) -> list[str]:
    """The ``kehu_grams`` keys every text containing ``value`` has: its character pairs (its
    character, for one character) — none made of digits alone, which the index leaves out
    (migration 0013: a word of one or two digits matches nearly every customer)."""
    grams = [value] if len(value) == 1 else {value[i : i + 2] for i in range(len(value) - 1)}
    return sorted(g for g in grams if not (g.isascii() and g.isdigit()))


class KeywordMatch(Lookup):
    """``SearchText`` contains the value, ignoring case; on PostgreSQL with the index hint."""

    lookup_name = "kehu_keyword"
    prepare_rhs = False
    use_grams = True
    kehu_walkable = True  # with many matches, pages walk the list's order (core.pagination)

    def as_sql(self, compiler, connection):
        text_sql, text_params = compiler.compile(self.lhs)
        value: str = self.rhs
        pattern = "%" + connection.ops.prep_for_like_query(value) + "%"
        escape = "" if connection.vendor == "postgresql" else " ESCAPE '\\'"
        sql = f"{text_sql} LIKE UPPER(%s){escape}"
        params = [*text_params, pattern]
        walking = getattr(compiler.query, "kehu_walking", False)
        if (
            self.use_grams
            and not walking
            and needs_grams(value)
            and connection.vendor == "postgresql"
        ):
            # No trigram to look up: the characters/pairs index narrows the rows instead.
            grams = grams_of(value)
            array = "ARRAY[" + ", ".join(["UPPER(%s)"] * len(grams)) + "]::text[]"
            sql = f"(kehu_grams({text_sql}) @> {array} AND {sql})"
            params = [*text_params, *grams, *params]
        return sql, params


class KeywordLike(KeywordMatch):
    """The ``LIKE`` alone: for a frequent word, read in the list's order until the page is full
    (computing ``kehu_grams`` of every matching row would cost more than the index saves)."""

    use_grams = False


def keyword_q(value: str, *, fields: tuple[str, ...] = KEYWORD_FIELDS, prefix: str = "") -> Q:
    """The keyword box: rows whose ``fields`` (a subset of KEYWORD_FIELDS) contain ``value``,
    ignoring case. ``prefix`` reaches the customer through a relation (``"customer__"``)."""
    reference = Q()
    for field in fields:
        reference |= Q(**{f"{prefix}{field}__icontains": value})
    if SEPARATOR in value:
        return reference  # would match across two fields of the joined text
    lookup = KeywordLike if needs_grams(value) and is_frequent(value) else KeywordMatch
    match = Q(lookup(SearchText(prefix), value))
    if tuple(fields) == KEYWORD_FIELDS:
        return match
    # Fewer fields (the pool): the index finds the candidates, the fields decide.
    return match & reference
