"""Fixtures of the change-log tests: the demo organisation and logged-in clients."""

from kehu.org.testing import api_client, client_for, org  # noqa: F401
