"""Name search through the bigram index answers exactly what ``icontains`` answers."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from kehu.customers.models import Customer
from kehu.customers.search import contains_q

NAMES = [
    "恒通物流有限公司",
    "厦门恒通叉车",
    "通恒贸易",
    "恒恒通通",
    "ABC叉车租赁",
    "abc维修",
    "A恒",
    "恒",
    "",
]


@pytest.fixture
def named(org):
    made = Customer.objects.bulk_create(
        Customer(name=name or "-", contact_name=name, owner=org["sales1"], creator=org["sales1"])
        for name in NAMES
    )
    return {c.pk for c in made}


def matches(field, value, ids):
    return set(
        Customer.objects.filter(contains_q(field, value), pk__in=ids).values_list("pk", flat=True)
    )


def expected(field, value, ids):
    return set(
        Customer.objects.filter(**{f"{field}__icontains": value}, pk__in=ids).values_list(
            "pk", flat=True
        )
    )


@pytest.mark.parametrize("field", ["name", "contact_name"])
@pytest.mark.parametrize(
    "value", ["恒通", "通恒", "叉车", "ab", "AB", "Ab", "恒", "恒通物", "A恒", "无关", "%", "_a"]
)
def test_same_rows_as_icontains(named, field, value):
    assert matches(field, value, named) == expected(field, value, named)


def test_two_characters_use_the_bigram_index_on_postgresql(named):
    sql = str(Customer.objects.filter(contains_q("name", "恒通")).query)
    if connection.vendor == "postgresql":
        assert "kehu_bigrams(UPPER" in sql
    else:
        assert "LIKE" in sql


@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(alphabet="恒通物流abAB叉", min_size=1, max_size=3))
def test_any_short_word_finds_the_same_customers(named, value):
    assert matches("name", value, named) == expected("name", value, named)
