"""Paying a service order (issue 12): 回款 against a repair / maintenance order, 挂账订单 (voucher →
支付审批 → 已付款, or 取消), 已完成 once paid in full and back to 待支付 when a payment is voided;
the after-sales reminders in 通知代办; open orders keep the customer out of the pool return;
vehicles generated from a contract. Every refusal in Chinese, nothing changed."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from kehu.aftersales import flow
from kehu.aftersales.models import OnAccountOrder, RepairOrder, Vehicle
from kehu.audit.models import ChangeLog
from kehu.core.attachments import attach_files
from kehu.core.errors import ApplicationError, Conflict
from kehu.customers.models import Customer
from kehu.documents import approval
from kehu.documents.services import document_save
from kehu.documents.types import registry
from kehu.ledger.services import drifts
from kehu.sales.models import Payment

pytestmark = pytest.mark.django_db

REPAIR, MAINTENANCE = registry["repairorder"], registry["maintenanceorder"]
PAYMENT, ONACCOUNT, VEHICLE = registry["payment"], registry["onaccount"], registry["vehicle"]


def awaiting_payment(org, customer, decl=REPAIR, amount="160.00", **data):
    order = document_save(
        decl,
        actor=org["service1"],
        instance=None,
        data={"customer": customer.pk, "amount": amount, "reason": "坏了", **data},
    )
    for to in ("in_progress", "awaiting_acceptance", "awaiting_payment"):
        order = flow.transition(decl, actor=org["service1"], order=order, to=to)
    return order


def on_account(org, order, amount=None, actor="service1", voucher=True):
    field = "repair_order" if isinstance(order, RepairOrder) else "maintenance_order"
    data = {field: order.pk, **({"amount": amount} if amount is not None else {})}
    doc = document_save(ONACCOUNT, actor=org[actor], instance=None, data=data)
    if voucher:
        attach_files(actor=org[actor], obj=doc, files=[ContentFile(b"pdf", name="凭证.pdf")])
    return doc


def receivable(customer) -> tuple[Decimal, Decimal]:
    c = Customer.objects.get(pk=customer.pk)
    return c.receivable_repair, c.receivable_total


def state(order) -> tuple:
    return (
        type(order).objects.filter(pk=order.pk).values().get(),
        Customer.objects.filter(pk=order.customer_id).values().get(),
        OnAccountOrder.objects.count(),
        Payment.objects.count(),
        ChangeLog.objects.count(),
    )


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


# --- 挂账订单 -------------------------------------------------------------------------------------


def test_on_account_order_voucher_review_paid_and_the_order_completes(org, served):
    customer = served()
    order = awaiting_payment(org, customer, amount="110.00")
    doc = on_account(org, order, voucher=False)
    # the seed's columns: 挂账订单号 = the order's number, 挂账类型, amount = what is unpaid
    assert (doc.number, doc.kind, doc.amount, doc.status) == (
        order.number,
        "repair",
        Decimal("110.00"),
        "on_account",
    )
    with pytest.raises(ApplicationError) as exc:  # 支付审批 needs the voucher
        approval.submit(ONACCOUNT, actor=org["service1"], doc=doc)
    assert exc.value.message == "请先上传付款凭证（附件）再提交支付审批"
    attach_files(actor=org["service1"], obj=doc, files=[ContentFile(b"pdf", name="凭证.pdf")])
    doc = approval.submit(ONACCOUNT, actor=org["service1"], doc=doc)
    assert doc.status == "payment_review" and receivable(customer)[1] == Decimal("110.00")
    with pytest.raises(ApplicationError):  # only 财务 (the default flow) approves
        approval.approve(ONACCOUNT, actor=org["manager1"], doc=doc)
    doc = approval.approve(ONACCOUNT, actor=org["finance1"], doc=doc)
    assert doc.status == "paid" and receivable(customer) == (Decimal("0.00"), Decimal("0.00"))
    order.refresh_from_db()
    assert order.status == "completed" and order.completed_at is not None
    assert drifts([customer.pk]) == []

    # 作废 of the paid one (财务): reversed exactly, the order back to 待支付
    approval.void(ONACCOUNT, actor=org["finance1"], doc=doc, reason="凭证作假")
    doc.refresh_from_db()
    order.refresh_from_db()
    assert doc.status == "cancelled" and order.status == "awaiting_payment"
    assert receivable(customer) == (Decimal("110.00"), Decimal("110.00"))
    assert drifts([customer.pk]) == []
    log = list(
        ChangeLog.objects.filter(object_type="aftersales.repairorder", object_id=order.pk)
        .order_by("id")
        .values_list("message", flat=True)
    )
    assert log[-2:] == [
        f"维修订单「{order.number}」已付清 110.00，完成",
        f"维修订单「{order.number}」回款作废，已付 0.00，退回待支付",
    ]


def test_rejected_goes_back_to_on_account_and_cancel_keeps_the_row(org, served):
    customer = served()
    order = awaiting_payment(org, customer)
    doc = on_account(org, order, amount="60.00")
    approval.submit(ONACCOUNT, actor=org["service1"], doc=doc)
    doc = approval.reject(ONACCOUNT, actor=org["finance1"], doc=doc, comment="凭证看不清")
    assert doc.status == "on_account"  # 驳回: upload a better voucher and resubmit
    from kehu.aftersales.documents import cancel_on_account

    with pytest.raises(ApplicationError) as exc:
        cancel_on_account(actor=org["service1"], doc=doc, reason="  ")
    assert exc.value.message == "请填写取消原因"
    doc = cancel_on_account(actor=org["service1"], doc=doc, reason="客户改为现金支付")
    assert doc.status == "cancelled" and doc.void_reason == "客户改为现金支付"
    assert receivable(customer)[1] == Decimal("160.00")
    with pytest.raises(Conflict):
        cancel_on_account(actor=org["service1"], doc=doc, reason="再取消")
    again = on_account(org, order)  # a new one: the number gets a suffix, the amount all left
    assert (again.number, again.amount) == (f"{order.number}-2", Decimal("160.00"))


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not_billed", "验收后（待支付）才能挂账"),
        ("too_much", "挂账金额超出订单未付金额"),
        ("negative", "挂账金额不能为负数"),
        ("both", "请选择待支付的维修订单或保养订单（只选一个）"),
        ("none", "请选择待支付的维修订单或保养订单（只选一个）"),
        ("hidden", "维修订单不存在或无权查看"),
        ("store", "维修门店"),
    ],
)
def test_on_account_bad_input_is_refused_in_chinese(org, served, make_customer, case, message):
    customer = served()
    order = awaiting_payment(org, customer)
    data: dict = {"repair_order": order.pk}
    if case == "not_billed":
        fresh = document_save(
            REPAIR, actor=org["service1"], instance=None, data={"customer": customer.pk}
        )
        data = {"repair_order": fresh.pk}
    elif case == "too_much":
        on_account(org, order, amount="100.00")
        data["amount"] = "60.01"
    elif case == "negative":
        data["amount"] = "-1"
    elif case == "both":
        other = awaiting_payment(org, customer, MAINTENANCE)
        data["maintenance_order"] = other.pk
    elif case == "none":
        data = {}
    elif case == "hidden":  # an order of sales3's customer, not shared with service1
        hidden = document_save(
            REPAIR, actor=org["admin"], instance=None, data={"customer": make_customer("sales3").pk}
        )
        data = {"repair_order": hidden.pk}
    elif case == "store":
        data["store"] = 999_999
    before = state(order)
    with pytest.raises(ApplicationError) as exc:
        document_save(ONACCOUNT, actor=org["service1"], instance=None, data=data)
    text = exc.value.message + json.dumps(exc.value.errors, ensure_ascii=False)
    assert message in text, text
    assert state(order) == before


def test_on_account_api_and_its_list_columns(org, served, api_client, client_for):
    customer = served()
    order = awaiting_payment(org, customer, amount="12438.00")
    client = api_client("service1")
    created = post_json(client, "/api/v1/on-account-orders", {"repair_order_id": order.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["number"], body["amount"], body["status"], body["status_label"]) == (
        order.number,
        "12438.00",
        "on_account",
        "挂账中",
    )
    listed = client.get("/api/v1/on-account-orders", {"customer_id": customer.pk}).json()
    assert [i["number"] for i in listed["items"]] == [order.number]
    # 财务 cannot create one, sales3 does not see the order
    refused = post_json(
        api_client("finance1"), "/api/v1/on-account-orders", {"repair_order_id": order.pk}
    )
    assert refused.status_code == 403
    hidden = post_json(
        api_client("sales3"), "/api/v1/on-account-orders", {"repair_order_id": order.pk}
    )
    assert hidden.status_code in (400, 404) and "不存在或无权查看" in hidden.json()["detail"]
    cancel = post_json(client, f"/api/v1/on-account-orders/{body['id']}/cancel", {"reason": ""})
    assert cancel.status_code == 400 and cancel.json()["detail"] == "请填写取消原因"
    page = client_for("sales1").get(reverse("onaccountorder_list")).content.decode()
    for column in ("挂账订单号", "挂账类型", "维修门店", "挂账金额", "上传凭证", "上传时间"):
        assert column in page
    assert order.number in page and "12,438.00" in page and "挂账中" in page


# --- 回款 against a service order ---------------------------------------------------------------


def test_payments_against_a_service_order(org, served, api_client):
    customer = served()
    order = awaiting_payment(org, customer, MAINTENANCE, amount="300.00")
    client = api_client("sales1")
    url = "/api/v1/payments"
    first = post_json(client, url, {"maintenance_order_id": order.pk, "amount": "100"})
    assert first.status_code == 201, first.content
    assert first.json()["kind"] == "maintenance" and first.json()["contract_id"] is None
    too_much = post_json(client, url, {"maintenance_order_id": order.pk, "amount": "200.01"})
    assert too_much.status_code == 400
    assert "最多还能登记 200.00" in json.dumps(too_much.json(), ensure_ascii=False)
    both = post_json(
        client, url, {"maintenance_order_id": order.pk, "repair_order_id": order.pk, "amount": "1"}
    )
    assert both.status_code == 400 and both.json()["detail"] == "请选择合同、维修订单或保养订单之一"
    fresh = document_save(
        MAINTENANCE, actor=org["service1"], instance=None, data={"customer": customer.pk}
    )
    early = post_json(client, url, {"maintenance_order_id": fresh.pk, "amount": "1"})
    assert early.status_code == 400 and "验收后（待支付）才能登记回款" in early.json()["detail"]
    payment = Payment.objects.get(pk=first.json()["id"])
    approval.submit(PAYMENT, actor=org["sales1"], doc=payment)
    approval.approve(PAYMENT, actor=org["finance1"], doc=payment)
    c = Customer.objects.get(pk=customer.pk)
    assert (c.receivable_maintenance, c.receivable_total) == (Decimal("200.00"), Decimal("200.00"))
    # cancelling the order is refused while a payment stands against it
    with pytest.raises(Conflict) as exc:
        flow.transition(MAINTENANCE, actor=org["service1"], order=order, to="cancelled", reason="x")
    assert "已有回款或挂账订单" in exc.value.message
    assert drifts([customer.pk]) == []


def test_the_order_page_offers_payment_and_on_account_then_the_form_is_prefilled(
    org, served, client_for
):
    customer = served()
    order = awaiting_payment(org, customer, amount="75.00")
    page = client_for("sales1").get(reverse("repairorder_detail", args=[order.pk])).content
    page = page.decode()
    assert ">登记回款</button>" in page and ">挂账</button>" in page
    form = client_for("sales1").get(reverse("payment_add") + f"?repair_order={order.pk}")
    html = form.content.decode()
    assert form.status_code == 200 and order.choice_key in html and 'value="75.00"' in html
    saved = client_for("sales1").post(
        reverse("payment_add"),
        {"service_order": order.choice_key, "amount": "75.00", "paid_at": "2026-11-30"},
    )
    assert saved.status_code in (200, 302), saved.content.decode()[:500]
    payment = Payment.objects.get(repair_order=order)
    assert (payment.amount, payment.kind) == (Decimal("75.00"), "repair")
    hidden = client_for("sales3").get(reverse("payment_add") + f"?repair_order={order.pk}")
    assert hidden.status_code == 404


# --- 通知代办: 保养到期, 年检到期 ------------------------------------------------------------------


def test_maintenance_and_inspection_reminders_on_the_right_day(org, served, monkeypatch):
    from kehu.aftersales.hooks import inspection_due, maintenance_due

    customer = served()
    vehicle = document_save(
        VEHICLE,
        actor=org["service1"],
        instance=None,
        data={
            "customer": customer.pk,
            "name": "叉车-1",
            "next_maintenance_at": date(2026, 2, 5),
            "inspection_due_at": date(2026, 2, 28),  # a month end
        },
    )
    # 00:30 in Shanghai on 29 January is still 28 January in UTC: the local day decides
    moment = timezone.make_aware(datetime(2026, 1, 29, 0, 30))
    monkeypatch.setattr(timezone, "now", lambda: moment)
    assert timezone.localdate() == date(2026, 1, 29)
    assert list(inspection_due(org["sales1"])) == [vehicle]  # 30 days before, inclusive
    assert list(maintenance_due(org["sales1"])) == [vehicle]  # 7 days before, inclusive
    day_before = date(2026, 1, 28)
    assert list(inspection_due(org["sales1"], day_before)) == []
    assert list(maintenance_due(org["sales1"], day_before)) == []
    assert list(maintenance_due(org["service1"], date(2026, 1, 29))) == [vehicle]
    assert list(maintenance_due(org["sales3"], date(2026, 2, 1))) == []  # not theirs
    assert list(maintenance_due(org["sales2"], date(2026, 2, 1))) == []
    # a maintenance order under way ends the reminder
    document_save(
        MAINTENANCE,
        actor=org["service1"],
        instance=None,
        data={"customer": customer.pk, "vehicle": vehicle.pk},
    )
    assert list(maintenance_due(org["service1"], date(2026, 2, 1))) == []


def test_reminders_show_on_the_todo_page_and_count_in_the_badge(org, served, client_for):
    from kehu.core.registry import todo_counters

    customer = served()
    today = timezone.localdate()
    document_save(
        VEHICLE,
        actor=org["service1"],
        instance=None,
        data={
            "customer": customer.pk,
            "name": "逾期叉车",
            "next_maintenance_at": today - timedelta(days=3),
            "inspection_due_at": today + timedelta(days=10),
        },
    )
    before = sum(counter(org["sales1"]) for counter in todo_counters)
    page = client_for("sales1").get(reverse("todo")).content.decode()
    assert "保养到期" in page and "年检到期" in page and "已逾期 3 天" in page
    assert "10 天后到期" in page
    assert sum(counter(org["sales3"]) for counter in todo_counters) == 0
    api = client_for("service1").get("/api/v1/todo").json()
    assert [r["label"] for r in api["maintenance_due"]] == [f"{customer.name} · 逾期叉车"]
    assert before >= 2


# --- open orders and the pool ------------------------------------------------------------------


def test_an_open_service_order_keeps_the_customer_out_of_the_pool_return(org, served):
    from kehu.pool.rules import refresh_return_due

    customer = served()
    refresh_return_due([customer.pk])
    assert Customer.objects.get(pk=customer.pk).pool_return_at is not None
    order = document_save(
        REPAIR, actor=org["service1"], instance=None, data={"customer": customer.pk}
    )
    assert Customer.objects.get(pk=customer.pk).pool_return_at is None
    flow.transition(REPAIR, actor=org["service1"], order=order, to="cancelled", reason="不修了")
    assert Customer.objects.get(pk=customer.pk).pool_return_at is not None
    # the pool's rule 有未完成售后订单的客户不回收 off: an open order no longer keeps it
    from kehu.pool.models import Pool

    Pool.objects.update(exempt_open_service_orders=False)
    document_save(REPAIR, actor=org["service1"], instance=None, data={"customer": customer.pk})
    assert Customer.objects.get(pk=customer.pk).pool_return_at is not None


# --- 生成车辆 from a contract ------------------------------------------------------------------


def approved_contract(org, customer, kind="vehicle", items=None):
    contract = document_save(
        registry["contract"],
        actor=org["sales1"],
        instance=None,
        data={
            "customer": customer.pk,
            "name": "叉车采购",
            "kind": kind,
            "items": items
            or [
                {"name": "XT系列叉车", "spec": "3吨", "quantity": "3", "unit_price": "98000"},
                {"name": "XT系列叉车", "spec": "2.5吨", "quantity": "1", "unit_price": "88000"},
            ],
        },
    )
    approval.submit(registry["contract"], actor=org["sales1"], doc=contract)
    return approval.approve(registry["contract"], actor=org["manager1"], doc=contract)


def test_vehicles_from_a_contract_one_per_unit(org, served, api_client):
    from kehu.aftersales.services import vehicles_from_contract

    customer = served()
    contract = approved_contract(org, customer)
    item = contract.items.order_by("position", "id").first()
    made = vehicles_from_contract(
        actor=org["service1"],
        contract=contract,
        units=[{"item_id": item.pk, "serial_number": "HC30-0113"}],
    )
    assert [(v.name, v.spec, v.serial_number, v.contract_id) for v in made] == [
        ("XT系列叉车-1", "3吨", "HC30-0113", contract.pk)
    ]
    before = Vehicle.objects.count()
    with pytest.raises(ApplicationError) as exc:  # the line has 2 units left
        vehicles_from_contract(
            actor=org["service1"], contract=contract, units=[{"item_id": item.pk}] * 3
        )
    assert exc.value.errors == {"units[2].item_id": ["超出该明细的数量"]}
    assert Vehicle.objects.count() == before
    answer = post_json(api_client("service1"), f"/api/v1/contracts/{contract.pk}/vehicles", {})
    assert answer.status_code == 201, answer.content
    assert [v["name"] for v in answer.json()] == ["XT系列叉车-2", "XT系列叉车-3", "XT系列叉车"]
    again = post_json(api_client("service1"), f"/api/v1/contracts/{contract.pk}/vehicles", {})
    assert again.status_code == 409 and again.json()["detail"].endswith("的车辆已全部生成")
    parts = approved_contract(org, customer, kind="parts")
    refused = post_json(api_client("service1"), f"/api/v1/contracts/{parts.pk}/vehicles", {})
    assert refused.status_code == 409 and "不是审批通过的整车或租赁合同" in refused.json()["detail"]
    assert (
        post_json(api_client("sales1"), f"/api/v1/contracts/{contract.pk}/vehicles", {}).status_code
        == 403
    )  # 业务员 holds no add_vehicle


def test_vehicles_from_a_contract_on_its_page(org, served, client_for):
    customer = served()
    contract = approved_contract(org, customer)
    page = client_for("service1").get(reverse("contract_detail", args=[contract.pk])).content
    assert ">生成车辆</button>" in page.decode()
    url = reverse("vehicle_from_contract", args=[contract.pk])
    modal = client_for("service1").get(url).content.decode()
    assert modal.count('name="unit"') == 4 and "XT系列叉车-3" in modal
    item = contract.items.order_by("position", "id").first()
    done = client_for("service1").post(
        url, {"unit": [f"{item.pk}-1", f"{item.pk}-2"], f"serial_{item.pk}-1": "A-1"}
    )
    assert done.status_code in (200, 302)
    assert sorted(
        Vehicle.objects.filter(contract=contract).values_list("name", "serial_number")
    ) == [
        ("XT系列叉车-1", "A-1"),
        ("XT系列叉车-2", ""),
    ]
    assert client_for("sales3").get(url).status_code in (403, 404)
