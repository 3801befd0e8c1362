"""Several pools (多公海, SPEC §3): released customers follow the owner's department, members
browse their own pool and the default one, admins move customers between pools."""

import pytest

from kehu.audit.models import ChangeLog
from kehu.core.errors import ApplicationError, Forbidden
from kehu.customers.models import Customer
from kehu.org.models import Department
from kehu.pool import rules
from kehu.pool.models import Pool
from kehu.pool.selectors import pool_customer_list
from kehu.pool.services import claim_customers, move_to_pool


@pytest.fixture
def branch(org):
    """A second pool for 销售二部 (sales3)."""
    pool = Pool.objects.create(name="二部公海")
    pool.departments.add(Department.objects.get(name="销售二部"))
    return pool


@pytest.fixture
def pooled(org, branch, make_pool_customer):
    """One customer in each pool: released by sales1 (default) and by sales3 (二部公海)."""
    return make_pool_customer("sales1", name="一部放出的客户"), make_pool_customer(
        "sales3", name="二部放出的客户"
    )


def names(response):
    assert response.status_code == 200, response.content
    return sorted(c["name"] for c in response.json()["items"])


def test_released_customers_go_to_their_owners_pool(pooled, branch):
    first, second = pooled
    assert first.pool == rules.default_pool()
    assert second.pool == branch


def test_members_see_the_default_pool_and_their_own(pooled, api_client, client_for):
    assert names(api_client("sales1").get("/api/v1/pool/customers")) == ["一部放出的客户"]
    assert names(api_client("sales3").get("/api/v1/pool/customers")) == [
        "一部放出的客户",
        "二部放出的客户",
    ]
    assert names(api_client("admin").get("/api/v1/pool/customers")) == [
        "一部放出的客户",
        "二部放出的客户",
    ]
    html = client_for("sales1").get("/pool/").content.decode()
    assert "一部放出的客户" in html and "二部放出的客户" not in html
    html = client_for("sales3").get("/pool/").content.decode()
    assert "一部放出的客户" in html and "二部放出的客户" in html


def test_the_pool_filter_narrows_to_one_pool(pooled, branch, api_client):
    client = api_client("sales3")
    assert names(client.get(f"/api/v1/pool/customers?pool={branch.pk}")) == ["二部放出的客户"]
    default = rules.default_pool().pk
    assert names(client.get(f"/api/v1/pool/customers?pool={default}")) == ["一部放出的客户"]


def test_users_without_the_pool_permission_see_no_pool(pooled, org, api_client, client_for):
    assert not pool_customer_list(user=org["finance1"]).exists()
    assert api_client("finance1").get("/api/v1/pool/customers").status_code == 403
    assert client_for("finance1").get("/pool/").status_code == 403


def test_a_customer_of_a_pool_one_cannot_browse_cannot_be_claimed(pooled, org):
    _, second = pooled
    result = claim_customers(actor=org["sales1"], ids=[second.pk])
    assert result.refused == [{"id": second.pk, "reason": "客户不存在或无权查看"}]
    assert claim_customers(actor=org["sales3"], ids=[second.pk]).done == [second.pk]


def test_each_pool_applies_its_own_claim_rules(pooled, branch, org):
    first, second = pooled
    Pool.objects.filter(pk=branch.pk).update(reclaim_cooldown_days=7)
    result = claim_customers(actor=org["sales3"], ids=[second.pk])
    assert result.refused == [{"id": second.pk, "reason": "原负责人7天内不可领取"}]
    # The default pool has no cooldown: sales1 takes its own customer back at once.
    assert claim_customers(actor=org["sales1"], ids=[first.pk]).done == [first.pk]


def test_admin_moves_pool_customers_between_pools(pooled, branch, org, api_client):
    first, second = pooled
    result = move_to_pool(actor=org["admin"], ids=[first.pk], pool_id=branch.pk)
    assert result.as_dict() == {"done": [first.pk], "refused": []}
    first.refresh_from_db()
    assert first.pool == branch and first.owner is None
    assert names(api_client("sales1").get("/api/v1/pool/customers")) == []
    assert names(api_client("sales3").get("/api/v1/pool/customers")) == [
        "一部放出的客户",
        "二部放出的客户",
    ]
    entry = ChangeLog.objects.filter(object_id=first.pk, action="update").latest("id")
    assert entry.changes == {"pool": [rules.default_pool().pk, branch.pk]}


def test_moving_refuses_private_customers_and_unknown_pools(pooled, branch, org, make_customer):
    private = make_customer("sales1")
    result = move_to_pool(actor=org["admin"], ids=[private.pk], pool_id=branch.pk)
    assert result.refused == [{"id": private.pk, "reason": "客户不在公海中"}]
    assert Customer.objects.get(pk=private.pk).pool is None
    with pytest.raises(ApplicationError) as exc:
        move_to_pool(actor=org["admin"], ids=[pooled[0].pk], pool_id=987_654)
    assert exc.value.message == "公海不存在"


@pytest.mark.parametrize("actor", ["manager1", "sales3"])
def test_only_admins_move_customers_between_pools(pooled, branch, org, actor):
    first, _ = pooled
    with pytest.raises(Forbidden):
        move_to_pool(actor=org[actor], ids=[first.pk], pool_id=branch.pk)
    first.refresh_from_db()
    assert first.pool == rules.default_pool()
