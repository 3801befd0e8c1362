import itertools

import pytest
from django.test import Client

from kehu.basics.models import DictEntry, DictKind
from kehu.customers.services import customer_create
from kehu.org.demo import seed as seed_org

_phones = itertools.count(13800000000)


@pytest.fixture
def org(db):
    """The demo organisation: admin, manager1 (leads 销售部), sales1/sales2 (销售一部), sales3
    (销售二部), service1, finance1."""
    return seed_org()


@pytest.fixture
def make_customer(org):
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
def client_for(org):
    def login(username):
        client = Client()
        client.force_login(org[username])
        return client

    return login


@pytest.fixture
def level_a(db):
    return DictEntry.objects.get(kind=DictKind.LEVEL, name="A重点客户")
