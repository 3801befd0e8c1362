"""SPEC §12.2: the API survives schema-driven fuzzing with no 5xx.

Schemathesis reads ``/api/v1/openapi.json`` and sends every operation generated requests —
valid ones and deliberately malformed ones (wrong types, missing fields, odd strings, huge
numbers) — through the WSGI app, signed in as an admin (who reaches every operation) and as a
salesperson (whose scope and permissions refuse much of it). Any 5xx fails the test; a clear
4xx is the expected answer to bad input.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from kehu.org.auth import issue_token


def _schema():
    from kehu.api import api

    loaded = schemathesis.openapi.from_dict(api.get_openapi_schema())
    loaded.app = get_wsgi_application()  # requests go through the WSGI app, in this process
    return loaded


schema = _schema()


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """The WSGI handler closes database connections when a request ends; inside a test that
    would close the test's transaction. Django's test client disconnects the same hooks."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Bounded, so the file stays within a few minutes in the default suite (~100 operations, two
# users); a deeper local run: KEHU_FUZZ_EXAMPLES=200 pytest kehu/core/tests/test_api_fuzz.py
FUZZ = settings(
    max_examples=int(os.environ.get("KEHU_FUZZ_EXAMPLES", 20)),
    deadline=None,
    derandomize=True,  # a fixed seed: the same requests on every run, CI must not flicker
    database=None,  # nor replay examples a previous local run happened to save
    suppress_health_check=list(HealthCheck),
)


def call_as(case, user) -> None:
    token = issue_token(user)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error]
    )


@schema.parametrize()
@FUZZ
def test_no_operation_answers_an_admin_with_a_server_error(case, org, reference_data):
    call_as(case, org["admin"])


@schema.parametrize()
@FUZZ
def test_no_operation_answers_a_salesperson_with_a_server_error(case, org, reference_data):
    call_as(case, org["sales1"])
