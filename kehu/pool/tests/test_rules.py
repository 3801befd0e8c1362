"""Pool rules with a controllable clock (SPEC §3): countdowns, automatic return, locks,
exemptions, per-level days. Times are moved with ``queryset.update`` and ``now=``."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.audit.models import ChangeLog
from kehu.basics.models import DictEntry, DictKind
from kehu.core.errors import ApplicationError, Forbidden, NotFound
from kehu.customers.models import Customer
from kehu.pool import rules
from kehu.pool.models import Pool
from kehu.pool.services import pool_save, return_overdue_customers, set_locked
from kehu.pool.tasks import refresh_all_countdowns, run_pool_rules


def age(customer, *, days=0, created=None, claimed=None, followed_up=None, **fields):
    """Move a customer's clock: each argument is "so many days ago"."""
    now = timezone.now()
    for name, ago in (
        ("created_at", created),
        ("claimed_at", claimed),
        ("last_followup_at", followed_up),
    ):
        if ago is not None:
            fields[name] = now - timedelta(days=ago)
    Customer.objects.filter(pk=customer.pk).update(**fields)
    rules.refresh_return_due([customer.pk])
    customer.refresh_from_db()
    return customer


def default_pool(**rules_):
    Pool.objects.filter(is_default=True).update(**rules_)
    return Pool.objects.get(is_default=True)


@pytest.fixture
def level_a(db):
    return DictEntry.objects.get(kind=DictKind.LEVEL, name="A重点客户")


def returned_log(customer):
    return ChangeLog.objects.filter(
        object_type="customers.customer", object_id=customer.pk, action="to_pool"
    )


# --- countdown ------------------------------------------------------------------------------


def test_return_due_at_follows_the_latest_of_created_claimed_and_followed_up(make_customer):
    customer = age(make_customer("sales1"), created=20)
    due, rule = rules.return_due_at(customer)
    assert rule == "30天未跟进"
    assert due == customer.created_at + timedelta(days=30)
    assert customer.pool_return_at == due and customer.pool_return_rule == rule
    assert rules.days_left(due) == 10
    customer = age(customer, followed_up=5)
    assert customer.pool_return_at == customer.last_followup_at + timedelta(days=30)
    assert rules.days_left(customer.pool_return_at) == 25
    customer = age(customer, claimed=1)
    assert customer.pool_return_at == customer.claimed_at + timedelta(days=30)


def test_days_left_counts_calendar_days():
    now = timezone.now()
    assert rules.days_left(None) is None
    assert rules.days_left(now, now) == 0
    assert rules.days_left(now + timedelta(days=3), now) == 3
    assert rules.days_left(now - timedelta(days=2), now) == -2


def test_no_countdown_when_the_rule_is_off_locked_or_in_the_pool(org, make_customer):
    customer = make_customer("sales1")
    default_pool(no_followup_days=0)
    assert rules.return_due_at(customer) == (None, "")
    default_pool(no_followup_days=30)
    customer.is_locked = True
    assert rules.return_due_at(customer) == (None, "")
    customer.is_locked, customer.owner = False, None
    assert rules.return_due_at(customer) == (None, "")


def test_not_won_days_rule(make_customer):
    default_pool(no_followup_days=0, not_won_days=5)
    customer = age(make_customer("sales1"), created=10, claimed=2)
    assert customer.pool_return_rule == "5天未成交"
    assert customer.pool_return_at == customer.claimed_at + timedelta(days=5)
    won = age(make_customer("sales1"), created=10, status="won")
    assert won.pool_return_at is None


def test_the_earliest_rule_wins(make_customer):
    default_pool(no_followup_days=30, not_won_days=5)
    customer = age(make_customer("sales1"), created=1)
    assert customer.pool_return_rule == "5天未成交"
    customer = age(customer, followed_up=0, created=0)
    default_pool(no_followup_days=3, not_won_days=5)
    rules.refresh_return_due([customer.pk])
    customer.refresh_from_db()
    assert customer.pool_return_rule == "3天未跟进"


def test_level_days_override_the_no_followup_days(make_customer, level_a):
    pool = default_pool(level_days={str(level_a.pk): 10})
    a = age(make_customer("sales1", level=str(level_a.pk)), created=0)
    plain = age(make_customer("sales1"), created=0)
    assert rules.days_for(a, pool) == 10 and rules.days_for(plain, pool) == 30
    assert a.pool_return_rule == "10天未跟进" and rules.days_left(a.pool_return_at) == 10
    assert plain.pool_return_rule == "30天未跟进"


def test_the_list_shows_the_countdown_and_red_under_three_days(make_customer, client_for):
    soon = age(make_customer("sales1", name="快到期客户"), created=29)
    later = age(make_customer("sales1", name="还早客户"), created=20)
    assert rules.days_left(soon.pool_return_at) == 1
    assert rules.days_left(later.pool_return_at) == 10
    html = client_for("sales1").get("/customers/").content.decode()
    assert "距回收天数" in html
    assert '<span class="text-countdown-red" title="30天未跟进">1天</span>' in html
    assert '<span class="" title="30天未跟进">10天</span>' in html
    assert html.count("text-countdown-red") == 1


def test_the_list_sorts_by_the_countdown(make_customer, client_for):
    age(make_customer("sales1", name="二十天客户"), created=20)
    age(make_customer("sales1", name="五天客户"), created=5)
    age(make_customer("sales1", name="二十九天客户"), created=29)
    html = client_for("sales1").get("/customers/?sort=pool_return_at").content.decode()
    assert html.index("二十九天客户") < html.index("二十天客户") < html.index("五天客户")


def test_refresh_all_countdowns_covers_every_private_customer(make_customer, make_pool_customer):
    a, b = make_customer("sales1"), make_customer("sales2")
    make_pool_customer("sales3")
    Customer.objects.update(pool_return_at=None, pool_return_rule="")
    assert refresh_all_countdowns() == 2
    assert Customer.objects.filter(pk__in=[a.pk, b.pk], pool_return_at__isnull=False).count() == 2
    assert Customer.objects.filter(owner__isnull=True, pool_return_at__isnull=False).count() == 0


def test_a_new_customer_has_its_countdown_at_once(make_customer):
    customer = make_customer("sales1")
    customer.refresh_from_db()
    assert customer.pool_return_rule == "30天未跟进"
    later = timezone.now() + timedelta(days=31)
    assert return_overdue_customers(now=later)["returned"] == 1


# --- automatic return -----------------------------------------------------------------------


def test_overdue_customers_return_with_a_log_entry_and_it_is_idempotent(org, make_customer):
    overdue = age(make_customer("sales1"), created=31)
    fresh = age(make_customer("sales1"), created=10)
    followed = age(make_customer("sales1"), created=60, followed_up=3)
    now = timezone.now()
    assert return_overdue_customers(now=now) == {"returned": 1, "exempt": 0}
    overdue.refresh_from_db()
    assert overdue.owner is None and overdue.previous_owner == org["sales1"]
    assert overdue.pooled_at == now and overdue.pool == rules.default_pool()
    assert overdue.pool_return_at is None and overdue.pool_return_rule == ""
    (entry,) = returned_log(overdue)
    assert entry.actor is None and entry.actor_name == "系统"
    assert "自动回收" in entry.message and "30天未跟进" in entry.message
    assert entry.changes["owner"] == ["李业务", None]
    for customer in (fresh, followed):
        customer.refresh_from_db()
        assert customer.owner == org["sales1"]
    # Idempotent: running again returns nothing more and writes nothing.
    assert return_overdue_customers(now=now)["returned"] == 0
    assert returned_log(overdue).count() == 1
    assert ChangeLog.objects.filter(action="to_pool").count() == 1


def test_with_a_clock_31_days_ahead_a_customer_untouched_since_today_returns(make_customer):
    customer = age(make_customer("sales1"), created=0)
    now = timezone.now()
    assert return_overdue_customers(now=now + timedelta(days=29))["returned"] == 0
    assert return_overdue_customers(now=now + timedelta(days=31))["returned"] == 1
    customer.refresh_from_db()
    assert customer.owner is None
    assert return_overdue_customers(now=now + timedelta(days=32))["returned"] == 0


def test_the_scheduled_task_runs_the_return(make_customer):
    age(make_customer("sales1"), created=40)
    assert run_pool_rules() == {"returned": 1, "exempt": 0}
    assert run_pool_rules() == {"returned": 0, "exempt": 0}


def test_returned_customers_go_to_the_pool_of_the_owners_department(org, make_customer):
    from kehu.org.models import Department

    branch = Pool.objects.create(name="二部公海")
    branch.departments.add(Department.objects.get(name="销售二部"))
    customer = age(make_customer("sales3"), created=31)
    return_overdue_customers(now=timezone.now())
    customer.refresh_from_db()
    assert customer.pool == branch and customer.previous_owner == org["sales3"]


def test_a_follow_up_after_the_due_time_was_stored_keeps_the_customer(org, make_customer):
    """The job re-checks under lock: a stale stored due time does not return the customer."""
    customer = age(make_customer("sales1"), created=40)
    Customer.objects.filter(pk=customer.pk).update(last_followup_at=timezone.now())
    assert return_overdue_customers(now=timezone.now())["returned"] == 0
    customer.refresh_from_db()
    assert customer.owner == org["sales1"]
    assert rules.days_left(customer.pool_return_at) == 30


def test_the_log_names_the_rule_that_applied_when_returning(make_customer, level_a):
    customer = age(make_customer("sales1", level=str(level_a.pk)), created=15)
    assert customer.pool_return_rule == "30天未跟进"  # stored before the rules changed
    Customer.objects.filter(pk=customer.pk).update(pool_return_at=timezone.now())
    default_pool(level_days={str(level_a.pk): 10})
    assert return_overdue_customers(now=timezone.now())["returned"] == 1
    assert returned_log(customer).get().message == "自动回收：10天未跟进"


def test_won_customers_are_exempt_when_configured(org, make_customer):
    won = age(make_customer("sales1"), created=40, status="won")
    assert won.pool_return_at is None
    assert return_overdue_customers(now=timezone.now())["returned"] == 0
    default_pool(exempt_won=False)
    rules.refresh_return_due([won.pk])
    assert return_overdue_customers(now=timezone.now())["returned"] == 1
    won.refresh_from_db()
    assert won.owner is None


def test_registered_exemptions_keep_customers(monkeypatch, org, make_customer):
    kept = age(make_customer("sales1"), created=40)
    gone = age(make_customer("sales1"), created=40)
    monkeypatch.setattr(rules, "return_exemptions", [lambda qs: [kept.pk]])
    assert return_overdue_customers(now=timezone.now()) == {"returned": 1, "exempt": 1}
    kept.refresh_from_db()
    gone.refresh_from_db()
    assert kept.owner == org["sales1"] and gone.owner is None


def test_per_level_days_return_earlier(org, make_customer, level_a):
    default_pool(level_days={str(level_a.pk): 10})
    a = age(make_customer("sales1", level=str(level_a.pk)), created=11)
    plain = age(make_customer("sales1"), created=11)
    assert return_overdue_customers(now=timezone.now())["returned"] == 1
    a.refresh_from_db()
    plain.refresh_from_db()
    assert a.owner is None and plain.owner == org["sales1"]
    assert returned_log(a).get().message == "自动回收：10天未跟进"


def test_not_won_customers_return_after_not_won_days(org, make_customer):
    default_pool(no_followup_days=0, not_won_days=5)
    late = age(make_customer("sales1"), created=6, followed_up=0)
    early = age(make_customer("sales1"), created=4)
    won = age(make_customer("sales1"), created=6, status="won")
    assert return_overdue_customers(now=timezone.now())["returned"] == 1
    assert returned_log(late).get().message == "自动回收：5天未成交"
    for customer in (early, won):
        customer.refresh_from_db()
        assert customer.owner == org["sales1"]


# --- locks (锁定) ---------------------------------------------------------------------------


def test_locking_needs_a_lock_limit(org, make_customer):
    customer = make_customer("sales1")
    with pytest.raises(ApplicationError) as exc:
        set_locked(actor=org["sales1"], customer_id=customer.pk, locked=True)
    assert exc.value.message == "锁定客户已达上限（0个）" and exc.value.code == "lock_limit"
    customer.refresh_from_db()
    assert not customer.is_locked


def test_lock_limit_per_owner(org, make_customer):
    default_pool(lock_limit=1)
    first, second = make_customer("sales1"), make_customer("sales1")
    assert set_locked(actor=org["sales1"], customer_id=first.pk, locked=True).is_locked
    with pytest.raises(ApplicationError) as exc:
        set_locked(actor=org["sales1"], customer_id=second.pk, locked=True)
    assert exc.value.message == "锁定客户已达上限（1个）"
    # Locking an already locked one is no new lock; unlocking frees the place.
    assert set_locked(actor=org["sales1"], customer_id=first.pk, locked=True).is_locked
    assert not set_locked(actor=org["sales1"], customer_id=first.pk, locked=False).is_locked
    assert set_locked(actor=org["sales1"], customer_id=second.pk, locked=True).is_locked
    # Each owner has their own count.
    other = make_customer("sales2")
    assert set_locked(actor=org["sales2"], customer_id=other.pk, locked=True).is_locked
    entries = ChangeLog.objects.filter(object_id=second.pk, action="update")
    assert entries.filter(changes__is_locked=[False, True]).exists()


def test_only_who_manages_the_owner_may_lock(org, make_customer):
    default_pool(lock_limit=5)
    customer = make_customer("sales1")
    with pytest.raises(NotFound):
        set_locked(actor=org["sales2"], customer_id=customer.pk, locked=True)
    with pytest.raises(Forbidden):
        set_locked(actor=org["finance1"], customer_id=customer.pk, locked=True)
    assert set_locked(actor=org["manager1"], customer_id=customer.pk, locked=True).is_locked


def test_a_locked_customer_never_returns(org, make_customer, client_for):
    default_pool(lock_limit=1)
    customer = age(make_customer("sales1", name="锁定的客户"), created=200)
    customer = set_locked(actor=org["sales1"], customer_id=customer.pk, locked=True)
    assert customer.pool_return_at is None and customer.pool_return_rule == ""
    assert rules.return_due_at(customer) == (None, "")
    now = timezone.now()
    for later in (0, 100, 1000):
        assert return_overdue_customers(now=now + timedelta(days=later))["returned"] == 0
    customer.refresh_from_db()
    assert customer.owner == org["sales1"]
    html = client_for("sales1").get("/customers/").content.decode()
    assert '<span class="text-secondary">锁定</span>' in html
    # Unlocked, its countdown is back, already overdue.
    customer = set_locked(actor=org["sales1"], customer_id=customer.pk, locked=False)
    assert customer.pool_return_at is not None
    assert return_overdue_customers(now=now)["returned"] == 1


# --- pool settings --------------------------------------------------------------------------


def test_pool_save_is_for_admins_and_checks_level_days(org, level_a):
    data = {"name": "新公海", "no_followup_days": 15, "departments": []}
    with pytest.raises(Forbidden):
        pool_save(actor=org["manager1"], instance=None, data=data)
    with pytest.raises(ApplicationError) as exc:
        pool_save(actor=org["admin"], instance=None, data={**data, "level_days": {"A": -1}})
    assert "level_days" in exc.value.errors
    assert not Pool.objects.filter(name="新公海").exists()
    pool = pool_save(
        actor=org["admin"], instance=None, data={**data, "level_days": {str(level_a.pk): 7}}
    )
    assert pool.no_followup_days == 15 and pool.level_days == {str(level_a.pk): 7}
    assert ChangeLog.objects.filter(object_type="pool.pool", object_id=pool.pk).exists()
