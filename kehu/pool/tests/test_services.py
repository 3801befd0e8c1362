"""Ownership operations (SPEC §3): release, claim, transfer, and the limits they check."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.audit.models import ChangeLog
from kehu.core.errors import ApplicationError, Forbidden
from kehu.customers.models import Customer
from kehu.customers.services import customer_create
from kehu.org.models import Department, Role, User
from kehu.pool import rules
from kehu.pool.models import CustomerClaim, Pool
from kehu.pool.services import (
    ALREADY_CLAIMED,
    claim_customers,
    release_customers,
    transfer_customers,
)

NOT_VISIBLE = "客户不存在或无权查看"


def owners(*customers):
    """The current owner (a username, or None in the pool) of each customer."""
    fresh = Customer.objects.select_related("owner").in_bulk([c.pk for c in customers])
    return [fresh[c.pk].owner.username if fresh[c.pk].owner else None for c in customers]


def log_of(customer, action):
    return ChangeLog.objects.filter(
        object_type="customers.customer", object_id=customer.pk, action=action
    ).order_by("id")


def default_pool_limits(**limits):
    Pool.objects.filter(is_default=True).update(**limits)


# --- release (放入公海) -----------------------------------------------------------------------


def test_owner_releases_to_the_default_pool_with_the_reason_in_the_log(org, make_customer):
    customer = make_customer("sales1")
    before = timezone.now()
    result = release_customers(actor=org["sales1"], ids=[customer.pk], reason="  客户倒闭  ")
    assert result.as_dict() == {"done": [customer.pk], "refused": []}
    customer.refresh_from_db()
    assert customer.owner is None and customer.previous_owner == org["sales1"]
    assert customer.pooled_at >= before
    assert customer.pool == rules.default_pool() and customer.pool.is_default
    assert customer.pool_return_at is None and not customer.is_locked
    (entry,) = log_of(customer, "to_pool")
    assert entry.message == "放入公海：客户倒闭" and entry.actor == org["sales1"]
    assert entry.changes["owner"] == ["李业务", None]
    assert entry.changes["pool"] == [None, "客户公海"]


def test_release_without_a_reason(org, make_customer):
    customer = make_customer("sales1")
    release_customers(actor=org["sales1"], ids=[customer.pk])
    assert log_of(customer, "to_pool").get().message == "放入公海"


@pytest.mark.parametrize("actor", ["manager1", "admin"])
def test_the_owners_manager_and_the_admin_may_release(org, make_customer, actor):
    customer = make_customer("sales1")
    assert release_customers(actor=org[actor], ids=[customer.pk]).done == [customer.pk]
    customer.refresh_from_db()
    assert customer.owner is None and customer.previous_owner == org["sales1"]
    assert log_of(customer, "to_pool").get().actor == org[actor]


@pytest.mark.parametrize("actor", ["sales2", "sales3", "service1"])
def test_others_may_not_release_someone_elses_customer(org, make_customer, actor):
    customer = make_customer("sales1")
    result = release_customers(actor=org[actor], ids=[customer.pk])
    assert result.done == []
    assert result.refused == [{"id": customer.pk, "reason": NOT_VISIBLE}]
    assert owners(customer) == ["sales1"]
    assert not log_of(customer, "to_pool").exists()


def test_batch_release_reports_per_customer(org, make_customer):
    mine, other = make_customer("sales1"), make_customer("sales2")
    result = release_customers(actor=org["sales1"], ids=[mine.pk, other.pk, 999_999, mine.pk])
    assert result.done == [mine.pk]
    assert result.refused == [
        {"id": other.pk, "reason": NOT_VISIBLE},
        {"id": 999_999, "reason": NOT_VISIBLE},
    ]
    assert owners(mine, other) == [None, "sales2"]


def test_release_goes_to_the_pool_of_the_owners_department(org, make_customer):
    branch = Pool.objects.create(name="二部公海")
    branch.departments.add(Department.objects.get(name="销售二部"))
    of_sales3, of_sales1 = make_customer("sales3"), make_customer("sales1")
    release_customers(actor=org["admin"], ids=[of_sales3.pk, of_sales1.pk])
    of_sales3.refresh_from_db()
    of_sales1.refresh_from_db()
    assert of_sales3.pool == branch
    assert of_sales1.pool == rules.default_pool()
    assert log_of(of_sales3, "to_pool").get().changes["pool"] == [None, "二部公海"]


def test_a_pool_of_a_parent_department_covers_its_children(org, make_customer):
    sales = Pool.objects.create(name="销售部公海")
    sales.departments.add(Department.objects.get(name="销售部"))
    customer = make_customer("sales1")  # 销售一部, a child of 销售部
    release_customers(actor=org["sales1"], ids=[customer.pk])
    customer.refresh_from_db()
    assert customer.pool == sales


# --- claim (领取) -----------------------------------------------------------------------------


def test_claim_makes_the_claimer_the_owner_and_is_logged(org, make_pool_customer):
    customer = make_pool_customer("sales1")
    result = claim_customers(actor=org["sales2"], ids=[customer.pk])
    assert result.as_dict() == {"done": [customer.pk], "refused": []}
    customer.refresh_from_db()
    assert customer.owner == org["sales2"] and customer.previous_owner == org["sales1"]
    assert customer.claimed_at is not None
    assert customer.pool_return_at is not None  # the countdown starts
    claim = CustomerClaim.objects.get()
    assert (claim.customer, claim.user, claim.pool) == (customer, org["sales2"], customer.pool)
    (entry,) = log_of(customer, "claim")
    assert entry.actor == org["sales2"] and entry.changes["owner"] == [None, "张业务"]


def test_claiming_a_private_customer_is_refused_like_a_missing_one(org, make_customer):
    """A customer that was never in the pool answers like a missing id: claiming it must not
    reveal that it exists (the claimer cannot see it)."""
    customer = make_customer("sales1")
    result = claim_customers(actor=org["sales2"], ids=[customer.pk])
    assert result.as_dict() == {
        "done": [],
        "refused": [{"id": customer.pk, "reason": NOT_VISIBLE}],
    }
    assert owners(customer) == ["sales1"]
    assert not CustomerClaim.objects.exists()


def test_batch_claim_reports_per_customer(org, make_customer, make_pool_customer):
    first, second = make_pool_customer("sales1"), make_pool_customer("sales3")
    private = make_customer("sales3")
    result = claim_customers(actor=org["sales2"], ids=[first.pk, private.pk, 999_999, second.pk])
    assert result.done == [first.pk, second.pk]
    assert result.refused == [
        {"id": private.pk, "reason": NOT_VISIBLE},
        {"id": 999_999, "reason": NOT_VISIBLE},
    ]
    assert owners(first, second, private) == ["sales2", "sales2", "sales3"]


def test_second_claim_of_the_same_customer_is_refused(org, make_pool_customer):
    customer = make_pool_customer("sales1")
    claim_customers(actor=org["sales2"], ids=[customer.pk])
    result = claim_customers(actor=org["sales3"], ids=[customer.pk])
    assert result.refused == [{"id": customer.pk, "reason": ALREADY_CLAIMED}]
    assert owners(customer) == ["sales2"]


@pytest.mark.parametrize("actor", ["service1", "finance1"])
def test_users_without_the_claim_permission_are_refused(org, make_pool_customer, actor):
    customer = make_pool_customer("sales1")
    with pytest.raises(Forbidden) as exc:
        claim_customers(actor=org[actor], ids=[customer.pk])
    assert exc.value.message == "没有领取公海客户的权限"
    assert owners(customer) == [None]


# --- limits (拥有上限, 每日领取上限, 原负责人冷却) ---------------------------------------------------


def test_ownership_limit_on_claim(org, make_customer, make_pool_customer):
    customer = make_pool_customer("sales3")
    make_customer("sales1")
    default_pool_limits(max_owned=1)
    result = claim_customers(actor=org["sales1"], ids=[customer.pk])
    assert result.refused == [
        {"id": customer.pk, "reason": "超过拥有上限：李业务最多可拥有1个客户"}
    ]
    assert owners(customer) == [None]
    # sales2 owns nothing yet: one claim fits, the next one of the same batch does not.
    other = make_pool_customer("sales3")
    result = claim_customers(actor=org["sales2"], ids=[customer.pk, other.pk])
    assert result.done == [customer.pk]
    assert result.refused == [{"id": other.pk, "reason": "超过拥有上限：张业务最多可拥有1个客户"}]


def test_won_customers_count_in_the_limit_only_when_configured(
    org, make_customer, make_pool_customer
):
    customer = make_pool_customer("sales3")
    won = make_customer("sales1")
    Customer.objects.filter(pk=won.pk).update(status="won")
    default_pool_limits(max_owned=1, count_won_in_limit=True)
    assert claim_customers(actor=org["sales1"], ids=[customer.pk]).done == []
    default_pool_limits(count_won_in_limit=False)
    assert claim_customers(actor=org["sales1"], ids=[customer.pk]).done == [customer.pk]


def test_daily_claim_limit(org, make_pool_customer):
    first, second = make_pool_customer("sales3"), make_pool_customer("sales3")
    default_pool_limits(daily_claim_limit=1)
    result = claim_customers(actor=org["sales1"], ids=[first.pk, second.pk])
    assert result.done == [first.pk]
    assert result.refused == [{"id": second.pk, "reason": "今日领取已达上限（1个）"}]
    result = claim_customers(actor=org["sales1"], ids=[second.pk])
    assert result.refused == [{"id": second.pk, "reason": "今日领取已达上限（1个）"}]
    # Others have their own count; yesterday's claims do not count today.
    assert claim_customers(actor=org["sales2"], ids=[second.pk]).done == [second.pk]
    CustomerClaim.objects.filter(user=org["sales1"]).update(
        claimed_at=timezone.now() - timedelta(days=1)
    )
    third = make_pool_customer("sales3")
    assert claim_customers(actor=org["sales1"], ids=[third.pk]).done == [third.pk]


def test_previous_owner_cooldown(org, make_pool_customer):
    customer = make_pool_customer("sales1")
    default_pool_limits(reclaim_cooldown_days=7)
    result = claim_customers(actor=org["sales1"], ids=[customer.pk])
    assert result.refused == [{"id": customer.pk, "reason": "原负责人7天内不可领取"}]
    assert owners(customer) == [None]
    assert claim_customers(actor=org["sales2"], ids=[customer.pk]).done == [customer.pk]


def test_previous_owner_may_reclaim_after_the_cooldown(org, make_pool_customer):
    customer = make_pool_customer("sales1")
    default_pool_limits(reclaim_cooldown_days=7)
    Customer.objects.filter(pk=customer.pk).update(pooled_at=timezone.now() - timedelta(days=8))
    assert claim_customers(actor=org["sales1"], ids=[customer.pk]).done == [customer.pk]


def test_limits_are_off_by_default(org, make_customer, make_pool_customer):
    pool = rules.default_pool()
    assert (pool.max_owned, pool.daily_claim_limit, pool.reclaim_cooldown_days) == (0, 0, 0)
    for _ in range(3):
        make_customer("sales1")
    customers = [make_pool_customer("sales1") for _ in range(3)]
    result = claim_customers(actor=org["sales1"], ids=[c.pk for c in customers])
    assert result.done == [c.pk for c in customers]


def test_ownership_limit_on_create(org, make_customer):
    make_customer("sales1")
    default_pool_limits(max_owned=1)
    with pytest.raises(ApplicationError) as exc:
        customer_create(
            actor=org["sales1"],
            data={
                "name": "超限客户有限公司",
                "contact_name": "张三",
                "contact_phone": "13500001111",
            },
        )
    assert exc.value.code == "owner_limit"
    assert exc.value.message == "超过拥有上限：李业务最多可拥有1个客户"
    assert not Customer.objects.filter(name="超限客户有限公司").exists()
    make_customer("sales2")  # sales2 still has room


def test_ownership_limit_on_transfer(org, make_customer):
    make_customer("sales2")
    a, b = make_customer("sales1"), make_customer("sales1")
    default_pool_limits(max_owned=2)
    result = transfer_customers(
        actor=org["manager1"], ids=[a.pk, b.pk], user_ids=[org["sales2"].pk]
    )
    assert result.done == [a.pk]
    assert result.refused == [{"id": b.pk, "reason": "超过拥有上限：张业务最多可拥有2个客户"}]
    assert owners(a, b) == ["sales2", "sales1"]


# --- transfer (转移) --------------------------------------------------------------------------


def test_even_transfer_in_the_given_order_and_logged(org, make_customer):
    customers = [make_customer("sales1") for _ in range(5)]
    result = transfer_customers(
        actor=org["manager1"],
        ids=[c.pk for c in customers],
        user_ids=[org["sales2"].pk, org["sales3"].pk],
        allocation="even",
    )
    assert result.done == [c.pk for c in customers] and result.refused == []
    assert owners(*customers) == ["sales2", "sales3", "sales2", "sales3", "sales2"]
    for customer, target in zip(customers, ["张业务", "赵业务"] * 3, strict=False):
        (entry,) = log_of(customer, "transfer")
        assert entry.actor == org["manager1"]
        assert entry.changes["owner"] == ["李业务", target]
        fresh = Customer.objects.get(pk=customer.pk)
        assert fresh.previous_owner == org["sales1"] and fresh.pool_return_at is not None


def test_random_transfer_gives_each_customer_to_one_of_the_targets(org, make_customer):
    import random

    customers = [make_customer("sales1") for _ in range(6)]
    result = transfer_customers(
        actor=org["manager1"],
        ids=[c.pk for c in customers],
        user_ids=[org["sales2"].pk, org["sales3"].pk],
        allocation="random",
        rng=random.Random(3),
    )
    assert len(result.done) == 6
    assert set(owners(*customers)) <= {"sales2", "sales3"}


def grant(user: User, *perms: str) -> User:
    """``user`` with an extra role holding ``perms`` (fresh from the database: no perm cache)."""
    from django.contrib.auth.models import Permission

    role = Role.objects.create(name=f"{user.username}的附加角色", code=f"extra-{user.username}")
    for name in perms:
        app, codename = name.split(".")
        role.permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    user.roles.add(role)
    return User.objects.get(pk=user.pk)


def test_transfer_is_a_permission_and_the_owner_uses_it_on_their_own(org, make_customer):
    """转移 is decided by its permission (SPEC §13): 业务员 does not hold it by default; a role
    that grants it lets the owner transfer their own customers."""
    customer = make_customer("sales1")
    with pytest.raises(Forbidden, match="没有转移客户的权限"):
        transfer_customers(actor=org["sales1"], ids=[customer.pk], user_ids=[org["sales3"].pk])
    assert owners(customer) == ["sales1"]
    sales1 = grant(org["sales1"], "customers.transfer_customer")
    result = transfer_customers(actor=sales1, ids=[customer.pk], user_ids=[org["sales3"].pk])
    assert result.done == [customer.pk] and owners(customer) == ["sales3"]


@pytest.mark.parametrize(
    ("user_ids", "message"),
    [
        ("inactive", "目标员工不存在或已停用"),
        ("missing", "目标员工不存在或已停用"),
        ("nobody", "请选择目标员工"),
    ],
)
def test_transfer_to_an_inactive_user_or_nobody_changes_nothing(
    org, make_customer, user_ids, message
):
    customers = [make_customer("sales1") for _ in range(2)]
    gone = User.objects.create(username="gone", name="离职员工", is_active=False)
    gone.roles.add(Role.objects.get(code="salesperson"))
    targets = {
        "inactive": [org["sales2"].pk, gone.pk],
        "missing": [987_654],
        "nobody": [],
    }[user_ids]
    with pytest.raises(ApplicationError) as exc:
        transfer_customers(actor=org["manager1"], ids=[c.pk for c in customers], user_ids=targets)
    assert exc.value.message == message
    assert "user_ids" in exc.value.errors
    assert owners(*customers) == ["sales1", "sales1"]
    assert not ChangeLog.objects.filter(action="transfer").exists()


def test_unknown_allocation_changes_nothing(org, make_customer):
    customers = [make_customer("sales1") for _ in range(2)]
    with pytest.raises(ApplicationError) as exc:
        transfer_customers(
            actor=org["manager1"],
            ids=[c.pk for c in customers],
            user_ids=[org["sales2"].pk],
            allocation="weird",
        )
    assert exc.value.message == "分配方式无效" and "allocation" in exc.value.errors
    assert owners(*customers) == ["sales1", "sales1"]
    assert not ChangeLog.objects.filter(action="transfer").exists()


def test_a_colleague_cannot_transfer_someone_elses_customer(org, make_customer):
    customer, mine = make_customer("sales1"), make_customer("sales2")
    sales2 = grant(org["sales2"], "customers.transfer_customer")
    result = transfer_customers(
        actor=sales2, ids=[customer.pk, mine.pk], user_ids=[org["sales3"].pk]
    )
    assert result.done == [mine.pk]
    assert result.refused == [{"id": customer.pk, "reason": NOT_VISIBLE}]
    assert owners(customer, mine) == ["sales1", "sales3"]


@pytest.mark.parametrize("actor", ["finance1", "service1"])
def test_read_only_roles_cannot_transfer(org, make_customer, make_pool_customer, actor):
    """finance1 sees every customer (scope 全部) but is read-only on customers (SPEC §1)."""
    customer, pooled = make_customer("sales1"), make_pool_customer("sales1")
    with pytest.raises(Forbidden) as exc:
        transfer_customers(
            actor=org[actor], ids=[customer.pk, pooled.pk], user_ids=[org["sales2"].pk]
        )
    assert exc.value.message == "没有转移客户的权限"
    assert owners(customer, pooled) == ["sales1", None]


def test_transfer_to_the_current_owner_is_refused(org, make_customer):
    customer = make_customer("sales1")
    result = transfer_customers(
        actor=org["manager1"], ids=[customer.pk], user_ids=[org["sales1"].pk]
    )
    assert result.refused == [{"id": customer.pk, "reason": "客户已属于李业务"}]


def test_a_pool_customer_is_transferred_by_a_manager_but_not_by_a_salesperson(
    org, make_pool_customer
):
    customer = make_pool_customer("sales1")
    with pytest.raises(Forbidden, match="没有转移客户的权限"):
        transfer_customers(actor=org["sales1"], ids=[customer.pk], user_ids=[org["sales2"].pk])
    assert owners(customer) == [None]
    result = transfer_customers(
        actor=org["manager1"], ids=[customer.pk], user_ids=[org["sales2"].pk]
    )
    assert result.done == [customer.pk]
    customer.refresh_from_db()
    assert customer.owner == org["sales2"] and customer.previous_owner == org["sales1"]
    (entry,) = log_of(customer, "transfer")
    assert entry.changes["owner"] == [None, "张业务"]
    assert entry.changes["pool"] == [None, "客户公海"]
