"""The search panel's 客户名称 / 联系人 / 联系电话 filters, served by the keyword indexes, answer
exactly what ``icontains`` answers."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from kehu.customers.filters import CustomerFilterSet
from kehu.customers.models import Customer

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
    found = CustomerFilterSet({field: value}, queryset=Customer.objects.filter(pk__in=ids)).qs
    return set(found.values_list("pk", flat=True))


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


def test_two_characters_use_the_keyword_index_on_postgresql(named):
    sql = str(CustomerFilterSet({"name": "恒通"}, queryset=Customer.objects.all()).qs.query)
    if connection.vendor == "postgresql":
        assert "kehu_grams(kehu_search_text(" in sql
    else:
        assert "LIKE" in sql


@pytest.mark.parametrize("value", ["1380", "0000", "138-0000", "5", "99999"])
def test_phone_filter_same_rows_as_contains(org, value):
    """The customer's own phone or any of its contacts' phones, as a plain ``contains`` says."""
    from kehu.customers.models import Contact

    phones = ["13800001111", "0592-5550000", "13999990000", "", "400-123-4567"]
    made = Customer.objects.bulk_create(
        Customer(name=f"电话{i}", contact_phone=p, owner=org["sales1"], creator=org["sales1"])
        for i, p in enumerate(phones)
    )
    other = Customer.objects.create(name="联系人电话", owner=org["sales1"], creator=org["sales1"])
    Contact.objects.create(customer=other, name="李四", mobile="13655551380", phone="0592-9999")
    ids = {c.pk for c in made} | {other.pk}
    found = CustomerFilterSet({"phone": value}, queryset=Customer.objects.filter(pk__in=ids)).qs
    expected = {c.pk for c in made if value in c.contact_phone}
    if value in "13655551380" or value in "0592-9999":
        expected.add(other.pk)
    assert set(found.values_list("pk", flat=True)) == expected


@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=st.text(alphabet="恒通物流abAB叉", min_size=1, max_size=3))
def test_any_short_word_finds_the_same_customers(named, value):
    assert matches("name", value, named) == expected("name", value, named)
