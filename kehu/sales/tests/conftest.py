from kehu.customers.tests.conftest import client_for, make_customer, org  # noqa: F401
