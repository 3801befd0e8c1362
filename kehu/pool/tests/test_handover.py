import pytest

from kehu.audit.models import ChangeLog
from kehu.core.errors import ApplicationError, Forbidden
from kehu.customers.models import Customer
from kehu.customers.services import customer_share
from kehu.pool.handover import handover_user
from kehu.sales.models import Lead
from kehu.sales.services import lead_save


def test_handover_to_successor_in_one_step(org, make_customer, client_for):
    a = make_customer("sales1", name="交接客户A")
    b = make_customer("sales1", name="交接客户B")
    other = make_customer("sales2", name="分享来的")
    customer_share(actor=org["sales2"], customer=other, user_ids=[org["sales1"].pk])
    lead_save(
        actor=org["sales1"],
        instance=None,
        data={"name": "线索", "contact_name": "甲", "contact_phone": "13600009999"},
    )
    response = client_for("admin").post(
        f"/settings/users/{org['sales1'].pk}/handover/",
        {"successor": org["sales2"].pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 204 and "客户2个" in response["HX-Trigger"].encode().decode(
        "unicode_escape"
    )
    org["sales1"].refresh_from_db()
    assert not org["sales1"].is_active
    assert set(Customer.objects.filter(owner=org["sales2"]).values_list("name", flat=True)) == {
        "交接客户A",
        "交接客户B",
        "分享来的",
    }
    assert Customer.objects.get(pk=a.pk).previous_owner == org["sales1"]
    assert Lead.objects.get().owner == org["sales2"]
    assert not other.shares.exists()
    assert ChangeLog.objects.filter(
        object_type="customers.customer", object_id=b.pk, action="transfer"
    ).exists()


def test_handover_customers_to_pool(org, make_customer):
    make_customer("sales3", name="回公海")
    summary = handover_user(
        actor=org["admin"], user=org["sales3"], successor=None, customers_to_pool=True
    )
    assert summary["customers"] == 1
    customer = Customer.objects.get(name="回公海")
    assert (
        customer.owner is None
        and customer.pool is not None
        and customer.previous_owner == org["sales3"]
    )


def test_handover_refusals_change_nothing(org, make_customer):
    make_customer("sales1")
    with pytest.raises(Forbidden):
        handover_user(actor=org["manager1"], user=org["sales1"], successor=org["sales2"])
    with pytest.raises(ApplicationError, match="请选择接手人"):
        handover_user(actor=org["admin"], user=org["sales1"], successor=None)
    with pytest.raises(ApplicationError, match="接手人无效"):
        handover_user(actor=org["admin"], user=org["sales1"], successor=org["sales1"])
    org["sales1"].refresh_from_db()
    assert org["sales1"].is_active and Customer.objects.filter(owner=org["sales1"]).count() == 1


def test_lock_and_move_pages(org, make_customer, client_for):
    from kehu.pool.models import Pool
    from kehu.pool.services import release_customers

    Pool.objects.filter(is_default=True).update(lock_limit=1)
    customer = make_customer("sales1")
    client = client_for("sales1")
    client.post(f"/customers/{customer.pk}/lock/", {"locked": "1"})
    customer.refresh_from_db()
    assert customer.is_locked and customer.pool_return_at is None
    assert "已锁定" in client.get(f"/customers/{customer.pk}/").content.decode()
    second = make_customer("sales1")
    client.post(f"/customers/{second.pk}/lock/", {"locked": "1"})
    second.refresh_from_db()
    assert not second.is_locked  # the per-user lock limit is 1
    release_customers(actor=org["sales1"], ids=[second.pk])
    branch = Pool.objects.create(name="二部公海")
    response = client_for("admin").post(
        "/pool/move/",
        {"pk": [second.pk], "confirm": "1", "pool": branch.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "成功 <strong>1</strong> 条" in response.content.decode()
    second.refresh_from_db()
    assert second.pool == branch
