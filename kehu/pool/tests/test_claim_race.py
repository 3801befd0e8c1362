"""Issue 9.3 (b): per-user limits hold under concurrency (SPEC §3 拥有上限, 每日领取上限).

Twenty parallel single claims by ONE user, each in its own thread and database connection: with
拥有上限 3 exactly three succeed, with 每日领取上限 2 exactly two. Without a lock on the claimer
every claim counted the user's customers before any other had committed and most of them passed
(the issue saw 4–6 owned of 3 allowed, 5 claimed of 2). The same for parallel transfers to one
target. Row locks exist on PostgreSQL only: on SQLite writers serialise anyway and the test
database (shared-cache in-memory) cannot run these threads, so the tests skip there.

To make a missing lock fail every time rather than most times, each claim (transfer) pauses a
moment after it has checked the limits and before it writes, the window the race needs.
"""

import threading
import time

import pytest
from django.db import connection

from kehu.customers.models import Customer
from kehu.pool import rules
from kehu.pool.models import CustomerClaim, Pool
from kehu.pool.services import claim_customers, transfer_customers

PARALLEL = 20

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks (SELECT … FOR UPDATE) and parallel connections need PostgreSQL",
    ),
]


@pytest.fixture
def pool_customers(reference_data, org, make_pool_customer):
    """``PARALLEL`` pool customers released by sales1 (so sales2 is under no cooldown)."""
    return [make_pool_customer("sales1", name=f"公海客户{i}有限公司") for i in range(PARALLEL)]


@pytest.fixture
def slow_checks(monkeypatch):
    """Every limit check lingers before the operation writes: the race window, held open."""
    for name in ("check_claim_allowed", "check_ownership_limit"):
        check = getattr(rules, name)

        def check_then_linger(*args, _check=check, **kwargs):
            _check(*args, **kwargs)
            time.sleep(0.05)

        monkeypatch.setattr(rules, name, check_then_linger)


def in_parallel(calls):
    """Run each ``call()`` in its own thread (and connection), all released at once."""
    start = threading.Barrier(len(calls), timeout=60)
    results, errors = [], []

    def run(call):
        try:
            start.wait()
            results.append(call())
        except BaseException as exc:  # reported below, never swallowed
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "an operation hung"
    assert not errors, errors
    return results


def claims_by(user, customers):
    return [lambda pk=c.pk: claim_customers(actor=user, ids=[pk]).as_dict() for c in customers]


def test_parallel_claims_by_one_user_respect_the_ownership_limit(org, pool_customers, slow_checks):
    Pool.objects.update(max_owned=3)
    sales2 = org["sales2"]
    results = in_parallel(claims_by(sales2, pool_customers))
    assert sum(len(r["done"]) for r in results) == 3
    assert Customer.objects.filter(owner=sales2).count() == 3
    refused = [reason["reason"] for r in results for reason in r["refused"]]
    assert refused == ["超过拥有上限：张业务最多可拥有3个客户"] * (PARALLEL - 3)


def test_parallel_claims_by_one_user_respect_the_daily_claim_limit(
    org, pool_customers, slow_checks
):
    Pool.objects.update(daily_claim_limit=2)
    sales2 = org["sales2"]
    results = in_parallel(claims_by(sales2, pool_customers))
    assert sum(len(r["done"]) for r in results) == 2
    assert CustomerClaim.objects.filter(user=sales2).count() == 2
    assert Customer.objects.filter(owner=sales2).count() == 2
    refused = [reason["reason"] for r in results for reason in r["refused"]]
    assert refused == ["今日领取已达上限（2个）"] * (PARALLEL - 2)


def test_parallel_transfers_to_one_target_respect_its_ownership_limit(
    org, pool_customers, slow_checks
):
    """Managers transferring pool customers to the same employee at the same moment."""
    Pool.objects.update(max_owned=3)
    sales2, manager = org["sales2"], org["manager1"]
    results = in_parallel(
        [
            lambda pk=c.pk: transfer_customers(
                actor=manager, ids=[pk], user_ids=[sales2.pk]
            ).as_dict()
            for c in pool_customers
        ]
    )
    assert sum(len(r["done"]) for r in results) == 3
    assert Customer.objects.filter(owner=sales2).count() == 3


def test_parallel_claims_by_different_users_each_count_their_own_limit(org, pool_customers):
    """The lock is the claimer's own row: one user's claims never count against another's."""
    Pool.objects.update(max_owned=1)
    users = [org["sales2"], org["sales3"]]
    results = in_parallel(
        [
            lambda user=user, pk=c.pk: claim_customers(actor=user, ids=[pk]).as_dict()
            for user, c in zip(users, pool_customers, strict=False)
        ]
    )
    assert all(len(r["done"]) == 1 for r in results)
    assert {c.owner_id for c in Customer.objects.filter(owner__isnull=False)} == {
        u.pk for u in users
    }
