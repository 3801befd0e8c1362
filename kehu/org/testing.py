"""Test fixtures for the demo organisation, shared by the foundation's test packages.

A plain module: conftest files import the fixtures they need from here, e.g.

    from kehu.org.testing import api_client, client_for, org  # noqa: F401

``org`` is the demo organisation of :mod:`kehu.org.demo` (password ``demo1234``): admin
(总经办, leads it), manager1 (销售部, leads it, scope dept_and_below), sales1 and sales2 (销售一部),
sales3 (销售二部), service1 (售后部), finance1 (财务部).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from kehu.org.auth import issue_token
from kehu.org.demo import DEMO_PASSWORD, seed
from kehu.org.models import User

__all__ = ["DEMO_PASSWORD", "api_client", "client_for", "org"]


@pytest.fixture
def org(db) -> dict[str, User]:
    """The demo organisation: ``{username: User}``."""
    return seed()


@pytest.fixture
def client_for(org) -> Callable[[str], Client]:
    """``client_for("sales1")``: a web client with that demo user's session (force_login)."""

    def make(username: str) -> Client:
        client = Client()
        client.force_login(org[username])
        return client

    return make


@pytest.fixture
def api_client(org) -> Callable[[str], Client]:
    """``api_client("sales1")``: a client sending a fresh Bearer token of that demo user."""

    def make(username: str) -> Client:
        token = issue_token(org[username])
        return Client(headers={"Authorization": f"Bearer {token}"})

    return make
