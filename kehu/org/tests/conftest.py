"""Fixtures of the organisation tests: the demo organisation and logged-in clients."""

from kehu.org.testing import api_client, client_for, org  # noqa: F401
