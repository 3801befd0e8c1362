"""Fixtures of the pool tests: the demo organisation, customers, and pool customers."""

import itertools

import pytest

from kehu.customers.models import Customer
from kehu.customers.services import customer_create
from kehu.org.testing import api_client, client_for, org  # noqa: F401
from kehu.pool.services import release_customers

_phones = itertools.count(15200000000)


@pytest.fixture
def make_customer(org):  # noqa: F811
    """``make_customer("sales1", name=..., **data)``: a private customer owned by that user."""

    def make(owner="sales1", name=None, **data):
        actor = org[owner] if isinstance(owner, str) else owner
        n = next(_phones)
        payload = {
            "name": name or f"客户{n}有限公司",
            "contact_name": "联系人",
            "contact_phone": str(n),
            **data,
        }
        return customer_create(actor=actor, data=payload, confirm_duplicates=True)

    return make


@pytest.fixture
def make_pool_customer(org, make_customer):  # noqa: F811
    """``make_pool_customer(owner="sales1", ...)``: created by ``owner``, then released by them."""

    def make(owner="sales1", name=None, **data):
        customer = make_customer(owner, name=name, **data)
        actor = org[owner] if isinstance(owner, str) else owner
        result = release_customers(actor=actor, ids=[customer.pk])
        assert result.done == [customer.pk], result.refused
        return Customer.objects.get(pk=customer.pk)

    return make
