"""商机 (SPEC §6.1): visible with the customer, validated in Chinese, guarding the customer's
deletion and its automatic return to the pool, on the list page, the portrait and the API."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from kehu.audit.models import ChangeLog
from kehu.core.errors import ApplicationError
from kehu.customers.models import Customer
from kehu.customers.services import customers_batch_delete
from kehu.followups.services import followup_create
from kehu.pool import rules
from kehu.pool.models import Pool
from kehu.pool.services import return_overdue_customers
from kehu.sales.models import Opportunity
from kehu.sales.selectors import opportunity_list
from kehu.sales.services import opportunity_save


@pytest.fixture
def deal(org, make_customer):
    customer = make_customer("sales1", name="厦门叉车租赁有限公司")
    opportunity = opportunity_save(
        actor=org["sales1"],
        instance=None,
        data={
            "customer": customer,
            "name": "三台电动叉车",
            "budget": "500000",
            "product_price": "175",
        },
    )
    return customer, opportunity


def post_json(client, url, body, method="post"):
    return getattr(client, method)(url, data=json.dumps(body), content_type="application/json")


# --- visibility -------------------------------------------------------------------------------


def test_an_opportunity_is_seen_by_whoever_sees_its_customer(org, deal):
    customer, opportunity = deal
    assert list(opportunity_list(user=org["sales1"])) == [opportunity]
    assert list(opportunity_list(user=org["manager1"])) == [opportunity]  # over sales1
    assert list(opportunity_list(user=org["admin"])) == [opportunity]
    assert list(opportunity_list(user=org["sales2"])) == []  # a colleague
    customer.shares.create(user=org["sales2"], shared_by=org["sales1"])
    assert list(opportunity_list(user=org["sales2"])) == [opportunity]


def test_the_api_hides_other_peoples_opportunities(org, deal, api_client):
    _customer, opportunity = deal
    assert api_client("sales2").get(f"/api/v1/opportunities/{opportunity.pk}").status_code == 404
    assert api_client("sales2").get("/api/v1/opportunities").json()["count"] == 0
    body = api_client("manager1").get(f"/api/v1/opportunities/{opportunity.pk}").json()
    assert body["name"] == "三台电动叉车"
    assert body["budget"] == "500000.00" and body["product_price"] == "175.00"  # money as strings


def test_a_pool_customer_takes_no_opportunity(org, make_customer):
    customer = make_customer("sales1")
    Customer.objects.filter(pk=customer.pk).update(owner=None)
    with pytest.raises(ApplicationError) as err:
        opportunity_save(
            actor=org["admin"], instance=None, data={"customer": customer.pk, "name": "x"}
        )
    assert err.value.errors == {"customer": ["客户不存在或无权查看"]}


# --- API: create, update, delete, bad input ---------------------------------------------------


def test_api_create_list_by_customer_update_and_delete(org, make_customer, api_client):
    customer = make_customer("sales1")
    other = make_customer("sales1", name="另一家客户")
    client = api_client("sales1")
    created = post_json(
        client,
        "/api/v1/opportunities",
        {
            "customer_id": customer.pk,
            "name": "仓储叉车",
            "budget": 120000.5,
            "expected_close_at": "2026-12-31",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["budget"] == "120000.50" and body["status"] == "open"
    post_json(client, "/api/v1/opportunities", {"customer_id": other.pk, "name": "别的商机"})
    listed = client.get(f"/api/v1/opportunities?customer_id={customer.pk}").json()
    assert [o["name"] for o in listed["items"]] == ["仓储叉车"]
    patched = post_json(
        client, f"/api/v1/opportunities/{body['id']}", {"status": "won"}, method="patch"
    )
    assert patched.status_code == 200 and patched.json()["status"] == "won"
    assert patched.json()["budget"] == "120000.50"  # untouched fields stay
    refused = client.delete(f"/api/v1/opportunities/{body['id']}")
    assert refused.status_code == 400 and refused.json()["detail"] == "已成交的商机不能删除"
    post_json(client, f"/api/v1/opportunities/{body['id']}", {"status": "lost"}, method="patch")
    assert client.delete(f"/api/v1/opportunities/{body['id']}").status_code == 204
    assert not Opportunity.objects.filter(pk=body["id"]).exists()
    actions = set(
        ChangeLog.objects.filter(object_type="sales.opportunity", object_id=body["id"]).values_list(
            "action", flat=True
        )
    )
    assert actions == {"create", "update", "delete"}


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": ""}, "name", "请填写商机名称"),
        ({"name": "   "}, "name", "请填写商机名称"),
        ({"budget": "-1"}, "budget", "客户预算不能为负数"),
        ({"budget": "1.005"}, "budget", "客户预算最多两位小数"),
        ({"product_price": "1e20"}, "product_price", "产品价格过大"),
        ({"status": "maybe"}, "status", "状态无效（open 未成交 / won 已成交 / lost 输单）"),
        ({"remark": "长" * 501}, "remark", "备注不能超过500个字符"),
    ],
)
def test_bad_input_is_refused_in_chinese_and_saves_nothing(
    org, make_customer, api_client, payload, field, message
):
    customer = make_customer("sales1")
    body = {"customer_id": customer.pk, "name": "商机", **payload}
    response = post_json(api_client("sales1"), "/api/v1/opportunities", body)
    assert response.status_code == 400, response.content
    assert response.json()["errors"][field] == [message]
    assert not Opportunity.objects.exists()


def test_someone_elses_customer_or_a_huge_id_is_refused(org, deal, api_client):
    customer, _ = deal
    client = api_client("sales2")
    response = post_json(
        client, "/api/v1/opportunities", {"customer_id": customer.pk, "name": "抢单"}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"customer": ["客户不存在或无权查看"]}
    response = post_json(client, "/api/v1/opportunities", {"customer_id": 10**30, "name": "x"})
    assert response.status_code == 400
    assert Opportunity.objects.count() == 1


def test_finance_neither_reads_nor_writes_opportunities(org, deal, api_client, client_for):
    customer, opportunity = deal
    client = api_client("finance1")
    assert client.get(f"/api/v1/opportunities/{opportunity.pk}").status_code == 403
    portrait = client_for("finance1").get(f"/customers/{customer.pk}/").content.decode()
    assert "客户商机" not in portrait  # the tab is not offered without the permission
    response = post_json(client, "/api/v1/opportunities", {"customer_id": customer.pk, "name": "x"})
    assert response.status_code == 403


# --- what it does to its customer --------------------------------------------------------------


def test_a_customer_with_an_opportunity_cannot_be_deleted(org, deal):
    customer, _ = deal
    result = customers_batch_delete(actor=org["sales1"], ids=[customer.pk])
    assert result.done == []
    assert result.refused == [{"id": customer.pk, "reason": "该客户有商机，不能删除"}]
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_an_open_opportunity_keeps_its_customer_out_of_the_pool(org, deal):
    customer, opportunity = deal
    customer.refresh_from_db()
    assert customer.pool_return_at is None  # no countdown shown while the deal is open
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - timedelta(days=40))
    rules.refresh_return_due([customer.pk])
    now = timezone.now()
    assert return_overdue_customers(now=now)["returned"] == 0
    customer.refresh_from_db()
    assert customer.owner == org["sales1"]
    # The pool rule can be switched off …
    Pool.objects.filter(is_default=True).update(exempt_open_opportunity=False)
    rules.refresh_return_due([customer.pk])
    assert return_overdue_customers(now=now)["returned"] == 1


def test_a_lost_opportunity_does_not_keep_the_customer(org, deal):
    customer, opportunity = deal
    opportunity_save(
        actor=org["sales1"], instance=opportunity, data={"name": opportunity.name, "status": "lost"}
    )
    customer.refresh_from_db()
    assert customer.pool_return_rule == "30天未跟进"  # the countdown is back
    Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now() - timedelta(days=40))
    rules.refresh_return_due([customer.pk])
    assert return_overdue_customers(now=timezone.now())["returned"] == 1


def test_a_followup_may_name_only_an_opportunity_of_its_customer(org, deal, make_customer):
    customer, opportunity = deal
    other = make_customer("sales1", name="别家")
    followup = followup_create(
        actor=org["sales1"],
        customer=customer,
        data={"content": "报价沟通", "opportunity_id": opportunity.pk},
    )
    assert followup.opportunity_id == opportunity.pk
    with pytest.raises(ApplicationError) as err:
        followup_create(
            actor=org["sales1"],
            customer=other,
            data={"content": "串单", "opportunity_id": opportunity.pk},
        )
    assert err.value.errors == {"opportunity_id": ["商机不属于该客户"]}


# --- pages ------------------------------------------------------------------------------------


def test_list_page_portrait_tab_and_modal_form(org, deal, client_for):
    customer, opportunity = deal
    client = client_for("sales1")
    html = client.get("/opportunities/").content.decode()
    assert "三台电动叉车" in html and "厦门叉车租赁有限公司" in html and "500,000.00" in html
    assert "三台电动叉车" not in client_for("sales2").get("/opportunities/").content.decode()
    portrait = client.get(f"/customers/{customer.pk}/?tab=opportunities").content.decode()
    assert "500,000.00" in portrait and "175.00" in portrait
    assert (
        "客户商机" in portrait
        and "三台电动叉车" in portrait
        and 'data-testid="opportunity-add"' in portrait
    )
    assert client.get(f"/opportunities/{opportunity.pk}/").url.endswith("?tab=opportunities")
    # add through the modal form, with a field error first
    form = client.get(f"/opportunities/add/?customer={customer.pk}").content.decode()
    assert "厦门叉车租赁有限公司" in form  # the customer comes preselected
    bad = client.post("/opportunities/add/", {"customer": customer.pk, "name": "", "budget": "abc"})
    assert "请填写商机名称" in bad.content.decode()
    no_customer = client.post("/opportunities/add/", {"name": "无客户商机"})
    assert "请选择客户" in no_customer.content.decode()
    assert not Opportunity.objects.filter(name="无客户商机").exists()
    good = client.post(
        "/opportunities/add/",
        {"customer": customer.pk, "name": "叉车保养合同", "budget": "8000", "status": "open"},
    )
    assert good.status_code in (200, 204, 302)
    assert Opportunity.objects.filter(customer=customer, name="叉车保养合同", budget=8000).exists()


def test_a_followup_on_the_portrait_can_name_the_opportunity(org, deal, make_customer, client_for):
    customer, opportunity = deal
    other = make_customer("sales1", name="别家客户")
    elsewhere = opportunity_save(
        actor=org["sales1"], instance=None, data={"customer": other, "name": "别家的商机"}
    )
    client = client_for("sales1")
    url = f"/customers/{customer.pk}/followups/add/"
    dialog = client.get(url).content.decode()  # 跟进记录's 【添加】 dialog
    assert "三台电动叉车" in dialog and "别家的商机" not in dialog  # only its own 商机
    refused = client.post(url, {"content": "串单", "opportunity": elsewhere.pk})
    assert refused.status_code == 400  # the form comes back with the error
    assert "选择一个有效的选项" in refused.content.decode()  # another customer's 商机
    assert customer.followups.count() == 0
    client.post(url, {"content": "带客户看车", "opportunity": opportunity.pk})
    (followup,) = customer.followups.all()
    assert followup.opportunity == opportunity
    portrait = client.get(f"/customers/{customer.pk}/?tab=followups").content.decode()
    assert "商机 三台电动叉车" in portrait


def test_merging_customers_moves_their_opportunities_to_the_kept_one(org, deal, make_customer):
    from kehu.customers.merge import merge_customers

    customer, opportunity = deal
    duplicate = make_customer("sales1", name="厦门叉车租赁公司")
    other = opportunity_save(
        actor=org["sales1"], instance=None, data={"customer": duplicate, "name": "重复客户的商机"}
    )
    merge_customers(actor=org["manager1"], ids=[customer.pk, duplicate.pk], keep_id=customer.pk)
    assert not Customer.objects.filter(pk=duplicate.pk).exists()
    assert set(customer.opportunities.values_list("pk", flat=True)) == {opportunity.pk, other.pk}
