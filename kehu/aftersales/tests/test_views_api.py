"""The after-sales pages and API around the flow: ``POST …/{id}/transition``, the transition
modals and buttons, 我的工单, the 客户画像 tabs, the add form that follows the customer, the
售后管理 menu, and the demo data."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.urls import reverse

from kehu.aftersales import flow
from kehu.aftersales.models import RepairOrder
from kehu.audit.models import ChangeLog
from kehu.customers.models import Customer
from kehu.documents.services import document_save
from kehu.documents.types import registry

pytestmark = pytest.mark.django_db

REPAIR, MAINTENANCE, VEHICLE = (
    registry["repairorder"],
    registry["maintenanceorder"],
    registry["vehicle"],
)


def new_order(org, customer, decl=REPAIR, **data):
    payload = {"customer": customer.pk, "amount": "160.00", "reason": "坏了", **data}
    return document_save(decl, actor=org["service1"], instance=None, data=payload)


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def transition_url(order, decl=REPAIR):
    return f"/api/v1/{decl.api_path}/{order.pk}/transition"


# --- the API ------------------------------------------------------------------------------------


def test_api_takes_an_order_to_awaiting_payment(org, served, api_client):
    customer = served()
    order = new_order(org, customer)
    service = api_client("service1")
    answer = post_json(service, transition_url(order), {"to": "in_progress"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["status"], body["status_label"]) == ("in_progress", "维修中")
    assert (body["assignee_id"], body["assignee_name"]) == (org["service1"].pk, "陈售后")
    assert body["dispatched_at"] and body["amount"] == "160.00"
    assert (
        post_json(service, transition_url(order), {"to": "awaiting_acceptance"}).status_code == 200
    )
    accepted = post_json(api_client("sales1"), transition_url(order), {"to": "awaiting_payment"})
    assert accepted.status_code == 200 and accepted.json()["billed_at"]
    seen = api_client("sales1").get(f"/api/v1/customers/{customer.pk}").json()
    assert (seen["receivable_repair"], seen["receivable_total"], seen["status"]) == (
        "160.00",
        "160.00",
        "won",
    )


def test_api_refusals_are_chinese_and_change_nothing(org, served, api_client):
    customer = served()
    order = new_order(org, customer)
    before = (RepairOrder.objects.filter(pk=order.pk).values().get(), ChangeLog.objects.count())
    url = transition_url(order)
    cases = [
        ("service1", {"to": "awaiting_payment"}, 409, "当前状态为「待派工」，不能直接验收"),
        ("service1", {"to": "completed"}, 409, "当前状态为「待派工」，不能直接完成"),
        ("service1", {"to": "awaiting_dispatch"}, 409, "当前状态已是「待派工」"),
        ("service1", {"to": "done"}, 400, "目标状态无效"),
        ("service1", {}, 400, "输入有误，请检查后重试"),
        ("service1", {"to": "cancelled"}, 400, "请填写取消原因"),
        ("service1", {"to": "in_progress", "assignee_id": org["sales1"].pk}, 400, None),
        ("sales1", {"to": "in_progress"}, 403, "没有处理维修订单的权限"),
        ("finance1", {"to": "in_progress"}, 403, "没有处理维修订单的权限"),  # 财务 reads them
        ("service2", {"to": "in_progress"}, 404, "维修订单不存在或无权查看"),
        ("service2", {"to": "awaiting_payment"}, 404, "维修订单不存在或无权查看"),
    ]
    for username, body, status, detail in cases:
        answer = post_json(api_client(username), url, body)
        assert answer.status_code == status, (username, body, answer.content)
        if detail:
            assert answer.json()["detail"] == detail, (username, body)
    assert post_json(api_client("service1"), url, {"to": "awaiting_payment"}).json()["code"] == (
        "invalid_transition"
    )
    stale = post_json(
        api_client("service1"), url, {"to": "in_progress", "from_status": "in_progress"}
    )
    assert stale.status_code == 409 and stale.json()["code"] == "stale_status"
    from django.test import Client

    assert post_json(Client(), url, {"to": "in_progress"}).status_code == 401
    assert (
        RepairOrder.objects.filter(pk=order.pk).values().get(),
        ChangeLog.objects.count(),
    ) == before


def test_api_lists_filter_by_status_assignee_and_vehicle(org, served, api_client):
    customer = served()
    vehicle = document_save(
        VEHICLE,
        actor=org["service1"],
        instance=None,
        data={"customer": customer.pk, "name": "叉车"},
    )
    waiting = new_order(org, customer)
    mine = flow.transition(
        REPAIR, actor=org["service1"], order=new_order(org, customer), to="in_progress"
    )
    theirs = flow.transition(
        REPAIR,
        actor=org["admin"],
        order=new_order(org, customer, vehicle=vehicle.pk),
        to="in_progress",
        assignee_id=org["admin"].pk,
    )
    client = api_client("service1")

    def ids(query):
        answer = client.get(f"/api/v1/repair-orders?{query}")
        assert answer.status_code == 200, answer.content
        return sorted(i["id"] for i in answer.json()["items"])

    assert ids("status=awaiting_dispatch") == [waiting.pk]
    assert ids(f"assignee_id={org['service1'].pk}") == [mine.pk]
    assert ids(f"vehicle_id={vehicle.pk}") == [theirs.pk]
    assert ids("ordering=-status") == sorted([waiting.pk, mine.pk, theirs.pk])
    bad = client.get("/api/v1/repair-orders?status=finished")
    assert bad.status_code == 400 and bad.json()["detail"] == "筛选条件有误"
    body = client.get(f"/api/v1/vehicles/{vehicle.pk}").json()
    assert (body["service_count"], body["maintenance_days_left"], body["brand_name"]) == (
        0,
        None,
        "",
    )
    item = client.get(f"/api/v1/repair-orders/{theirs.pk}").json()
    assert (item["vehicle_id"], item["vehicle_name"]) == (vehicle.pk, "叉车")


def test_api_patch_keeps_what_it_does_not_send(org, served, api_client):
    customer = served()
    order = new_order(org, customer, service_mode="in_store", order_kind="personal")
    answer = api_client("service1").patch(
        f"/api/v1/repair-orders/{order.pk}",
        json.dumps({"reason": "轮胎鼓包"}),
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["reason"], body["service_mode"], body["order_kind"], body["amount"]) == (
        "轮胎鼓包",
        "in_store",
        "personal",
        "160.00",
    )
    flow.transition(REPAIR, actor=org["service1"], order=order, to="cancelled", reason="不修了")
    refused = api_client("service1").patch(
        f"/api/v1/repair-orders/{order.pk}",
        json.dumps({"reason": "x"}),
        content_type="application/json",
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == f"维修订单「{order.number}」状态为「已取消」，不能修改"


def test_openapi_names_the_transition_routes(api_client):
    schema = api_client("admin").get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/repair-orders/{doc_id}/transition",
        "/api/v1/maintenance-orders/{doc_id}/transition",
    ):
        assert "post" in schema["paths"][path]
    assert "/api/v1/vehicles" in schema["paths"]


# --- the pages -------------------------------------------------------------------------------------


def test_transition_modal_and_step_on_the_page(org, served, client_for):
    customer = served()
    order = new_order(org, customer)
    client = client_for("service1")
    url = reverse("repairorder_transition", args=[order.pk, "in_progress"])
    modal = client.get(url, headers={"HX-Request": "true"})
    html = modal.content.decode()
    assert modal.status_code == 200 and "派工：维修订单" in html and "技术员" in html
    assert f'<option value="{org["service1"].pk}" selected>陈售后</option>' in html
    assert 'name="from_status" value="awaiting_dispatch"' in html
    form = {"assignee": org["service1"].pk, "from_status": "awaiting_dispatch"}
    done = client.post(url, form, headers={"HX-Request": "true"})
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    assert RepairOrder.objects.get(pk=order.pk).status == "in_progress"
    # a stale 派工 modal (dispatched meanwhile) is refused, not turned into 改派
    before = ChangeLog.objects.count()
    again = client.post(url, {**form, "assignee": org["admin"].pk}, headers={"HX-Request": "true"})
    assert again.status_code == 409
    assert (
        f"维修订单「{order.number}」的状态已变为「维修中」，请刷新后重试" in again.content.decode()
    )
    assert RepairOrder.objects.get(pk=order.pk).assignee == org["service1"]
    assert ChangeLog.objects.count() == before
    cancel = reverse("repairorder_transition", args=[order.pk, "cancelled"])
    refused = client.post(cancel, {"reason": ""}, headers={"HX-Request": "true"})
    assert refused.status_code == 400 and "请填写取消原因" in refused.content.decode()
    assert (
        client.get(reverse("repairorder_transition", args=[order.pk, "nowhere"])).status_code == 404
    )


def test_the_order_page_shows_the_steps_each_user_may_take(org, served, client_for):
    customer = served()
    order = new_order(org, customer)
    for to in ("in_progress", "awaiting_acceptance"):
        order = flow.transition(REPAIR, actor=org["service1"], order=order, to=to)
    url = reverse("repairorder_detail", args=[order.pk])
    service = client_for("service1").get(url).content.decode()
    for label in ("验收", "返工", "取消"):
        assert f">{label}</button>" in service
    assert ">编辑</button>" in service  # still editable before 待支付
    owner = client_for("sales1").get(url).content.decode()
    assert (
        ">验收</button>" in owner
        and ">返工</button>" not in owner
        and ">编辑</button>" not in owner
    )
    assert "处理记录" in owner and f"维修订单「{order.number}」派工给「陈售后」" in owner
    assert client_for("sales3").get(url).status_code == 404
    finance = client_for("finance1").get(url)  # 财务 reads service orders, takes no step
    assert finance.status_code == 200
    assert not any(f">{label}</button>" in finance.content.decode() for label in ("验收", "取消"))


def test_my_work_orders_tab_and_row_buttons(org, served, client_for):
    customer = served()
    mine = flow.transition(
        REPAIR, actor=org["service1"], order=new_order(org, customer), to="in_progress"
    )
    other = flow.transition(
        REPAIR,
        actor=org["admin"],
        order=new_order(org, customer),
        to="in_progress",
        assignee_id=org["admin"].pk,
    )
    waiting = new_order(org, customer)
    html = (
        client_for("service1").get(reverse("repairorder_list") + "?tab=assigned").content.decode()
    )
    assert "我的工单" in html and mine.number in html
    assert other.number not in html and waiting.number not in html
    everything = client_for("service1").get(reverse("repairorder_list")).content.decode()
    assert all(o.number in everything for o in (mine, other, waiting))
    assert 'data-testid="row-dispatch"' in everything and 'data-testid="row-finish"' in everything
    reader = client_for("sales1").get(reverse("repairorder_list")).content.decode()
    assert 'data-testid="row-dispatch"' not in reader and waiting.number in reader


def test_portrait_tabs_and_add_buttons(org, served, client_for):
    customer = served()
    new_order(org, customer)
    url = reverse("customer_detail", args=[customer.pk])
    service = client_for("service1").get(url + "?tab=repairs").content.decode()
    for label in ("客户车辆", "维修记录", "保养记录"):
        assert label in service
    assert "添加维修订单" in service  # shared only, yet the after-sales team adds orders
    owner = client_for("sales1").get(url + "?tab=repairs").content.decode()
    assert "维修记录" in owner and "添加维修订单" not in owner
    vehicles = client_for("service1").get(url + "?tab=vehicles").content.decode()
    assert "添加客户车辆" in vehicles


def test_the_add_form_follows_the_customer_and_the_vehicle(org, served, client_for, make_customer):
    customer = served()
    vehicle = document_save(
        VEHICLE,
        actor=org["service1"],
        instance=None,
        data={
            "customer": customer.pk,
            "name": "XT系列叉车-1",
            "spec": "3吨",
            "contact_name": "车主",
            "contact_phone": "13912345678",
        },
    )
    client = client_for("service1")
    add = reverse("repairorder_add")
    html = client.get(add + f"?customer={customer.pk}").content.decode()
    assert "XT系列叉车-1 3吨" in html and "湖里大道 88号" in html
    assert f'hx-get="{add}"' in html  # picking another customer reloads the modal
    html = client.get(add + f"?vehicle={vehicle.pk}").content.decode()
    assert customer.name in html and "车主" in html and "13912345678" in html
    hidden = document_save(
        VEHICLE,
        actor=org["admin"],
        instance=None,
        data={"customer": make_customer("sales3").pk, "name": "别家车"},
    )
    for bad in (hidden.pk, "abc", 99999999999999999999):
        answer = client.get(add + f"?vehicle={bad}")
        assert answer.status_code == 404 and "车辆不存在或无权查看" in answer.content.decode()


def test_the_after_sales_menu_is_live_for_service1(org, client_for):
    response = client_for("service1").get("/")
    menu = {m["label"]: m["items"] for m in response.context["nav_menu"]}
    items = {i["label"]: i["url"] for i in menu["售后管理"]}
    assert items["客户车辆"] == "/vehicles/"
    assert items["维修订单"] == "/repair-orders/"
    assert items["保养订单"] == "/maintenance-orders/"
    cards = {c["label"]: c for c in response.context["cards"] if c}
    assert cards["我的工单"]["url"] == "/repair-orders/?tab=assigned"


def test_the_customer_list_shows_the_billed_order(org, served, client_for):
    customer = served()
    order = new_order(org, customer, amount="110.00")
    for to in ("in_progress", "awaiting_acceptance", "awaiting_payment"):
        order = flow.transition(REPAIR, actor=org["service1"], order=order, to=to)
    c = Customer.objects.get(pk=customer.pk)
    assert (c.receivable_repair, c.receivable_total) == (Decimal("110.00"), Decimal("110.00"))
    html = (
        client_for("sales1").get(reverse("customer_list") + f"?q={customer.name}").content.decode()
    )
    assert "110.00" in html and "已成交" in html


# --- demo data ---------------------------------------------------------------------------------------


def test_demo_data_is_in_every_state_idempotent_and_reconciles(org):
    from kehu.aftersales import demo as aftersales_demo
    from kehu.aftersales.models import MaintenanceOrder, Vehicle
    from kehu.basics import demo as basics_demo
    from kehu.customers import demo as customers_demo
    from kehu.ledger.services import drifts
    from kehu.sales import demo as sales_demo

    basics_demo.seed(org)
    customers_demo.seed(org, count=3)
    sales_demo.seed(org)
    aftersales_demo.seed(org)
    sample = Customer.objects.get(name="测试客户A有限公司")
    counts = (
        Vehicle.objects.count(),
        RepairOrder.objects.count(),
        MaintenanceOrder.objects.count(),
    )
    aftersales_demo.seed(org)  # again: nothing more
    assert (
        Vehicle.objects.count(),
        RepairOrder.objects.count(),
        MaintenanceOrder.objects.count(),
    ) == counts
    assert counts[0] == 3 and all(v.contract_id for v in Vehicle.objects.all())
    states = {s for s, _ in RepairOrder._meta.get_field("status").choices}
    assert set(RepairOrder.objects.values_list("status", flat=True)) == states
    assert set(MaintenanceOrder.objects.values_list("status", flat=True)) == states
    assert drifts() == []
    sample.refresh_from_db()
    # the orders 待支付: a 维修订单 挂账中 and a 保养订单 in 支付审批 (not paid until approved)
    assert (sample.receivable_repair, sample.receivable_maintenance) == (
        Decimal("120.00"),
        Decimal("160.00"),
    )
    from kehu.aftersales.models import OnAccountOrder
    from kehu.sales.models import Payment

    assert {o.status for o in OnAccountOrder.objects.all()} == {
        "on_account",
        "payment_review",
        "paid",
        "cancelled",
    }
    # every 已完成 order with an amount was paid by an approved 回款 or 挂账订单
    for model in (RepairOrder, MaintenanceOrder):
        for order in model.objects.filter(status="completed"):
            field = "repair_order" if model is RepairOrder else "maintenance_order"
            paid = sum(
                x.amount
                for qs in (Payment.objects, OnAccountOrder.objects)
                for x in qs.filter(**{field: order}, approval_status="approved")
            )
            assert paid == order.amount, order
    assert sample.shares.filter(user=org["service1"]).exists()
    assert Vehicle.objects.filter(maintenance_count__gt=0).count() == 3
