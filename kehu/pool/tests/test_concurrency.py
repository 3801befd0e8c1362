"""SPEC §3: two (here 24) users claiming the same pool customer at the same moment — exactly one
wins, every other one is told 已被他人领取. Runs on PostgreSQL (the conditional UPDATE on
``owner IS NULL`` under row locks) and on SQLite (writers serialise)."""

import random
import threading
import time

import pytest
from django.db import OperationalError, connection

from kehu.audit.models import ChangeLog
from kehu.customers.models import Customer
from kehu.org.models import Department, Role, User
from kehu.pool import rules
from kehu.pool.models import CustomerClaim
from kehu.pool.services import ALREADY_CLAIMED, claim_customers

CLAIMERS = 24


def claim_as(user, ids):
    """``claim_customers``, waiting like SQLite's busy timeout where the test database lacks it.

    pytest-django's SQLite test database is a shared-cache in-memory database: there a second
    writer gets "database table is locked" at once instead of waiting ``timeout`` seconds as on
    the real (file, WAL) database. Retrying such an error is what the busy handler does; on
    PostgreSQL nothing is retried.
    """
    deadline = time.monotonic() + 60
    while True:
        try:
            return claim_customers(actor=user, ids=ids)
        except OperationalError as exc:
            busy = connection.vendor == "sqlite" and "locked" in str(exc)
            if not busy or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.001, 0.01))


@pytest.fixture
def race(reference_data, org, make_pool_customer):
    """One pool customer (released by sales1) and ``CLAIMERS`` salespeople of 销售一部;
    ``race()`` lets them all claim it at once, each in its own thread and connection."""
    customer = make_pool_customer("sales1", name="抢手客户有限公司")
    role = Role.objects.get(code="salesperson")
    dept = Department.objects.get(name="销售一部")
    claimers = []
    for i in range(CLAIMERS):
        user = User.objects.create(username=f"racer{i}", name=f"抢单员{i}", department=dept)
        user.roles.add(role)
        claimers.append(user)

    def run() -> dict[int, dict]:
        start = threading.Barrier(CLAIMERS, timeout=60)
        results: dict[int, dict] = {}
        errors: list[BaseException] = []

        def claim(user):
            try:
                start.wait()
                results[user.pk] = claim_as(user, [customer.pk]).as_dict()
            except BaseException as exc:  # reported below, never swallowed
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=claim, args=(u,)) for u in claimers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a claimer hung"
        assert not errors, errors
        assert len(results) == CLAIMERS
        return results

    return customer, run


def assert_one_winner(customer, results, previous_owner):
    winners = [pk for pk, r in results.items() if r["done"] == [customer.pk]]
    assert len(winners) == 1, results
    losers = [r for pk, r in results.items() if pk not in winners]
    assert len(losers) == CLAIMERS - 1
    assert all(r["done"] == [] for r in losers)
    assert all(r["refused"] == [{"id": customer.pk, "reason": ALREADY_CLAIMED}] for r in losers)

    customer.refresh_from_db()
    assert customer.owner_id == winners[0]
    assert customer.previous_owner == previous_owner
    assert list(CustomerClaim.objects.values_list("customer_id", "user_id")) == [
        (customer.pk, winners[0])
    ]
    claims_logged = ChangeLog.objects.filter(
        object_type="customers.customer", object_id=customer.pk, action="claim"
    )
    assert list(claims_logged.values_list("actor_id", flat=True)) == winners
    assert Customer.objects.filter(owner__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_parallel_claims_of_one_customer_have_exactly_one_winner(org, race):
    customer, run = race
    assert_one_winner(customer, run(), org["sales1"])


@pytest.mark.django_db(transaction=True)
def test_claimers_that_all_saw_the_customer_free_still_have_one_winner(monkeypatch, org, race):
    """The worst interleaving: every claimer has read the customer as ownerless and passed the
    limit checks before anybody writes, so only the conditional UPDATE can decide.

    That interleaving exists on PostgreSQL (reads do not block). On SQLite a claim's transaction
    holds the write lock from its first statement, so claims cannot interleave at all and the
    gate is not set (it would wait forever for claimers that cannot get in)."""
    customer, run = race
    if connection.vendor == "postgresql":
        gate = threading.Barrier(CLAIMERS, timeout=60)
        check = rules.check_claim_allowed

        def check_then_wait_for_everybody(*args, **kwargs):
            check(*args, **kwargs)
            gate.wait()

        monkeypatch.setattr(rules, "check_claim_allowed", check_then_wait_for_everybody)
    assert_one_winner(customer, run(), org["sales1"])
