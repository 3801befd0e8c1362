"""Substring search over customer names and contact names, planned on the indexes.

``icontains`` is ``UPPER(col) LIKE UPPER('%…%')``: on PostgreSQL the pg_trgm GIN indexes serve it
from three characters on, but a two-character word — most Chinese company-name searches
(恒通, 叉车) — has no trigram, so it read the whole table. A two-character string is a substring
exactly when it is one of the name's character pairs, so those searches ask a GIN index over
``kehu_bigrams(UPPER(col))`` (migration 0005) instead: the same rows, from the index.
SQLite (and one-character searches) keep ``icontains``.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Func, Q, TextField
from django.db.models.functions import Upper

BIGRAM_FIELDS = ("name", "contact_name")


class Bigrams(Func):
    function = "kehu_bigrams"

    def __init__(self, expression, **extra):
        from django.contrib.postgres.fields import ArrayField

        super().__init__(expression, output_field=ArrayField(TextField()), **extra)


def contains_q(field: str, value: str) -> Q:
    """``field`` contains ``value``, ignoring case — through the bigram index when it helps."""
    if field in BIGRAM_FIELDS and len(value) == 2 and connection.vendor == "postgresql":
        from django.contrib.postgres.fields.array import ArrayContains

        return Q(ArrayContains(Bigrams(Upper(field)), [value.upper()]))
    return Q(**{f"{field}__icontains": value})
