from kehu.customers.tests.conftest import client_for, make_customer, org  # noqa: F401
from kehu.org.testing import api_client  # noqa: F401
