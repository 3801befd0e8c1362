import pytest

from kehu.customers.services import customer_share
from kehu.customers.tests.conftest import client_for, make_customer  # noqa: F401
from kehu.org.testing import api_client  # noqa: F401


@pytest.fixture
def org(db):
    """The demo organisation plus ``service2``: a second 售后 (scope self) with whom nothing is
    shared — the after-sales outsider (it holds every after-sales permission, sees nothing)."""
    from kehu.org.demo import DEMO_PASSWORD, seed
    from kehu.org.models import Role, User

    users = seed()
    service2 = User.objects.create_user(
        username="service2",
        password=DEMO_PASSWORD,
        name="周售后",
        department=users["service1"].department,
    )
    service2.roles.add(Role.objects.get(code="after_sales"))
    users["service2"] = service2
    return users


@pytest.fixture
def served(org, make_customer):  # noqa: F811
    """``served()``: a customer of sales1 shared with service1 (售后, scope self: it sees the
    customers shared with it), with its address."""

    def make(owner="sales1", **data):
        customer = make_customer(owner, address="湖里大道 88号", **data)
        customer_share(actor=org[owner], customer=customer, user_ids=[org["service1"].pk])
        return customer

    return make
