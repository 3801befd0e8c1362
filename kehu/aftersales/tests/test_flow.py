"""The service-order flow (kehu/aftersales/flow.py): each step only from its state and only by
the users allowed to take it; billing at 待支付, exact reversal on 取消, 已完成 once 回款 pay it
in full (back to 待支付 when one is voided); the vehicle's counts and dates follow; every refusal
in Chinese, nothing changed."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.aftersales import flow
from kehu.aftersales.models import MaintenanceOrder, RepairOrder, Vehicle
from kehu.audit.models import ChangeLog
from kehu.core.errors import ApplicationError, Conflict, Forbidden
from kehu.customers.models import Customer
from kehu.documents.services import document_delete, document_save
from kehu.documents.types import registry
from kehu.ledger.services import drifts

pytestmark = pytest.mark.django_db

REPAIR, MAINTENANCE, VEHICLE = (
    registry["repairorder"],
    registry["maintenanceorder"],
    registry["vehicle"],
)
DECLS = {"repair": REPAIR, "maintenance": MAINTENANCE}
D, P, A, W, C, X = (
    "awaiting_dispatch",
    "in_progress",
    "awaiting_acceptance",
    "awaiting_payment",
    "completed",
    "cancelled",
)
PATH = {D: [], P: [P], A: [P, A], W: [P, A, W], C: [P, A, W], X: [X]}
PAYMENT = registry["payment"]


def new_order(org, customer, decl=REPAIR, actor="service1", **data):
    payload = {"customer": customer.pk, "amount": "160.00", "reason": "坏了", **data}
    return document_save(decl, actor=org[actor], instance=None, data=payload)


def walk(org, decl, order, targets, actor="service1", **kwargs):
    for to in targets:
        reason = "客户取消" if to == X else ""
        order = flow.transition(decl, actor=org[actor], order=order, to=to, reason=reason, **kwargs)
    return order


def pay(org, order, amount, *, actor="sales1", approve=True):
    """回款 against ``order`` by its owner, approved by 财务 (SPEC §6.4 ``repair_order_id``)."""
    from kehu.documents import approval

    field = "repair_order" if isinstance(order, RepairOrder) else "maintenance_order"
    payment = document_save(
        PAYMENT, actor=org[actor], instance=None, data={field: order.pk, "amount": amount}
    )
    if approve:
        approval.submit(PAYMENT, actor=org[actor], doc=payment)
        approval.approve(PAYMENT, actor=org["finance1"], doc=payment)
    return payment


def in_state(org, customer, state, decl=REPAIR, **data):
    order = walk(org, decl, new_order(org, customer, decl, **data), PATH[state])
    if state == C:
        if order.amount:
            pay(org, order, str(order.amount))
        else:
            order = walk(org, decl, order, [C])
        order.refresh_from_db()
        assert order.status == C
    return order


def figures(customer) -> tuple:
    c = Customer.objects.get(pk=customer.pk)
    return c.status, c.receivable_repair, c.receivable_maintenance, c.receivable_total


def world_state(order) -> tuple:
    return (
        type(order).objects.filter(pk=order.pk).values().first(),
        figures(order.customer),
        ChangeLog.objects.count(),
    )


# --- the whole flow and the ledger -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["repair", "maintenance"])
def test_the_flow_bills_at_awaiting_payment_and_pays_at_completed(org, served, kind):
    decl = DECLS[kind]
    customer = served()
    order = new_order(org, customer, decl, amount="110.00")
    assert order.status == D and order.number.startswith(decl.prefix)
    assert figures(customer) == ("open", 0, 0, 0)

    order = walk(org, decl, order, [P])
    assert order.assignee == org["service1"] and order.dispatched_at is not None
    order = walk(org, decl, order, [A])
    assert order.finished_at is not None and figures(customer)[0] == "open"

    order = walk(org, decl, order, [W], actor="sales1")  # the customer's owner accepts
    billed = Decimal("110.00")
    expected = (billed, Decimal("0.00")) if kind == "repair" else (Decimal("0.00"), billed)
    assert figures(customer) == ("won", *expected, billed)
    assert order.billed_at is not None

    with pytest.raises(Conflict) as exc:  # 完成 by hand: not before it is paid in full
        walk(org, decl, order, [C])
    assert exc.value.message == (
        f"{decl.label}「{order.number}」尚未付清：订单金额 110.00，已回款 0.00；"
        "请先登记回款或挂账并审批通过"
    )
    pay(org, order, "60.00")
    order.refresh_from_db()
    left = Decimal("50.00")
    expected = (left, Decimal("0.00")) if kind == "repair" else (Decimal("0.00"), left)
    assert order.status == W and figures(customer) == ("won", *expected, left)
    pay(org, order, "50.00")  # paid in full: 已完成 on its own
    order.refresh_from_db()
    assert order.status == C and order.completed_at is not None
    assert figures(customer) == ("won", 0, 0, 0)
    assert drifts([customer.pk]) == []
    messages = list(
        ChangeLog.objects.filter(object_type=decl.model._meta.label_lower, object_id=order.pk)
        .order_by("id")
        .values_list("message", "actor__username")
    )
    assert [m for m, _u in messages[1:]] == [
        f"{decl.label}「{order.number}」派工给「陈售后」",
        f"{decl.label}「{order.number}」完工",
        f"{decl.label}「{order.number}」验收，计入{decl.label}待收款 110.00",
        f"{decl.label}「{order.number}」已付清 110.00，完成",
    ]
    # 完成 is logged as the act of 财务, who approved the payment that paid it in full
    assert [u for _m, u in messages] == ["service1", "service1", "service1", "sales1", "finance1"]


@pytest.mark.parametrize("kind", ["repair", "maintenance"])
def test_cancel_after_billing_reverses_exactly(org, served, kind):
    decl = DECLS[kind]
    customer = served()
    other = in_state(org, customer, W, decl, amount="1.00")
    order = in_state(org, customer, W, decl, amount="12438.00")
    total = Decimal("12439.00")
    assert figures(customer)[3] == total
    order = flow.transition(decl, actor=org["service1"], order=order, to=X, reason="客户改约")
    assert order.cancel_reason == "客户改约" and order.cancelled_at is not None
    status, repair, maintenance, left = figures(customer)
    assert (status, left) == ("won", Decimal("1.00"))  # 已成交 stays: it was billed
    assert (repair if kind == "repair" else maintenance) == Decimal("1.00")
    assert drifts([customer.pk]) == []
    assert other.status == W


@pytest.mark.parametrize("state", [D, P, A])
def test_cancel_before_billing_posts_nothing(org, served, state):
    customer = served()
    order = in_state(org, customer, state)
    order = walk(org, REPAIR, order, [X])
    assert order.status == X and figures(customer) == ("open", 0, 0, 0)
    assert drifts([customer.pk]) == []


def test_rework_and_reassign(org, served):
    customer = served()
    order = in_state(org, customer, A)
    with pytest.raises(ApplicationError) as exc:
        flow.transition(REPAIR, actor=org["service1"], order=order, to=P)
    assert exc.value.message == "请填写返工原因"
    order = flow.transition(REPAIR, actor=org["service1"], order=order, to=P, reason="仍漏油")
    assert order.status == P and order.finished_at is None
    order = flow.transition(
        REPAIR, actor=org["service1"], order=order, to=P, assignee_id=org["admin"].pk
    )
    assert order.assignee == org["admin"]
    with pytest.raises(ApplicationError) as exc:
        flow.transition(REPAIR, actor=org["admin"], order=order, to=P, assignee_id=org["admin"].pk)
    assert exc.value.message == "该维修订单已派给「系统管理员」"


# --- each step only from its state ------------------------------------------------------------

ALL = [D, P, A, W, C, X]
ALLOWED = {(s, step.target) for step in flow.STEPS for s in step.sources}


@pytest.mark.parametrize(
    ("state", "to"), [(s, t) for s in ALL for t in ALL if (s, t) not in ALLOWED]
)
def test_a_step_from_the_wrong_state_is_refused_and_changes_nothing(org, served, state, to):
    customer = served()
    order = in_state(org, customer, state, amount="75.00")
    before = world_state(order)
    with pytest.raises(Conflict) as exc:
        flow.transition(REPAIR, actor=org["admin"], order=order, to=to, reason="x")
    assert exc.value.status == 409
    label = dict(RepairOrder._meta.get_field("status").choices)[state]
    if state == to:
        assert exc.value.message == f"当前状态已是「{label}」"
    else:
        assert exc.value.message == f"当前状态为「{label}」，不能直接{flow.TARGET_VERBS[to]}"
    assert world_state(order) == before


def test_the_message_of_a_skipped_step(org, served):
    order = new_order(org, served())
    with pytest.raises(Conflict) as exc:
        flow.transition(REPAIR, actor=org["service1"], order=order, to=W)
    assert exc.value.message == "当前状态为「待派工」，不能直接验收"
    maintenance = in_state(org, served(), P, MAINTENANCE)
    with pytest.raises(Conflict) as exc:
        flow.transition(MAINTENANCE, actor=org["service1"], order=maintenance, to=C)
    assert exc.value.message == "当前状态为「保养中」，不能直接完成"


def test_an_unknown_target_is_bad_input(org, served):
    order = new_order(org, served())
    with pytest.raises(ApplicationError) as exc:
        flow.transition(REPAIR, actor=org["service1"], order=order, to="done")
    assert exc.value.status == 400 and exc.value.message == "目标状态无效"


# --- each step only by the users allowed to take it --------------------------------------------

# 派工/改派/完工/返工/完成/取消: the after-sales team (change permission) and admins.
# 验收: also the customer's management — its owner sales1 and manager1 (销售部 leader) — but
# not sales2, with whom the customer is only shared, nor finance1 (no permission).
MAY = {
    "dispatch": {"admin", "service1"},
    "finish": {"admin", "service1"},
    "accept": {"admin", "service1", "sales1", "manager1"},
    "complete": {"admin", "service1"},
    "cancel": {"admin", "service1"},
}
STEP_FROM = {
    "dispatch": (D, P),
    "finish": (P, A),
    "accept": (A, W),
    "complete": (W, C),
    "cancel": (A, X),
}


@pytest.mark.parametrize("kind", ["repair", "maintenance"])
@pytest.mark.parametrize("step", list(MAY))
@pytest.mark.parametrize(
    "username", ["admin", "manager1", "sales1", "sales2", "service1", "finance1"]
)
def test_each_step_only_by_permitted_users(org, served, kind, step, username):
    from kehu.customers.services import customer_share

    decl = DECLS[kind]
    customer = served()
    customer_share(
        actor=org["sales1"], customer=customer, user_ids=[org["service1"].pk, org["sales2"].pk]
    )
    state, to = STEP_FROM[step]
    # 完成 by hand: an order of 0.00 (anything else is completed by its payments)
    order = in_state(
        org, customer, state, decl, **({"amount": "0.00"} if step == "complete" else {})
    )
    before = world_state(order)
    if username in MAY[step]:
        done = flow.transition(decl, actor=org[username], order=order, to=to, reason="原因")
        assert done.status == to
    else:
        with pytest.raises(Forbidden) as exc:
            flow.transition(decl, actor=org[username], order=order, to=to, reason="原因")
        label = decl.label
        assert exc.value.status == 403
        assert exc.value.message in (
            f"没有处理{label}的权限",
            f"没有验收{label}的权限",
            f"没有查看{label}的权限",
            f"只有客户的负责人、其上级或售后人员可以验收{label}",
        ), exc.value.message
        assert world_state(order) == before


def test_dispatch_checks_the_technician(org, served, make_customer):
    customer = served()
    order = new_order(org, customer)
    before = world_state(order)
    cases = {
        org["sales1"].pk: "「李业务」没有处理维修订单的权限，不能派工给他",
        999_999: "技术员不存在或已停用",
    }
    for assignee, message in cases.items():
        with pytest.raises(ApplicationError) as exc:
            flow.transition(REPAIR, actor=org["admin"], order=order, to=P, assignee_id=assignee)
        assert exc.value.status == 400 and exc.value.message == message
        assert exc.value.errors == {"assignee_id": [message]}
    assert world_state(order) == before
    hidden = new_order(org, make_customer("sales2"), actor="admin")
    with pytest.raises(ApplicationError) as exc:
        flow.transition(
            REPAIR, actor=org["admin"], order=hidden, to=P, assignee_id=org["service1"].pk
        )
    assert "看不到客户" in exc.value.message
    assert RepairOrder.objects.get(pk=hidden.pk).status == D
    # the technicians offered: who may process it and sees the customer
    assert [u.username for u in flow.technicians(REPAIR, order)] == ["admin", "service1"]
    assert [u.username for u in flow.technicians(REPAIR, hidden)] == ["admin"]
    with pytest.raises(ApplicationError) as exc:
        flow.transition(REPAIR, actor=org["admin"], order=order, to=X, assignee_id=org["admin"].pk)
    assert exc.value.message == "只有派工或改派时可以指定技术员"


# --- the vehicle follows its orders -------------------------------------------------------------


def test_vehicle_counts_and_dates_follow_the_orders(org, served):
    customer = served()
    vehicle = document_save(
        VEHICLE,
        actor=org["service1"],
        instance=None,
        data={
            "customer": customer.pk,
            "name": "XT系列叉车-1",
            "spec": "3吨",
            "maintenance_interval_days": 60,
        },
    )
    assert (vehicle.maintenance_count, vehicle.service_count, vehicle.last_maintenance_at) == (
        0,
        0,
        None,
    )
    assert vehicle.contact_name == customer.contact_name  # defaults from the customer
    today = timezone.localdate()

    m1 = in_state(org, customer, A, MAINTENANCE, vehicle=vehicle.pk)
    vehicle.refresh_from_db()
    assert vehicle.maintenance_count == 0  # not accepted yet
    m1 = walk(org, MAINTENANCE, m1, [W])
    vehicle.refresh_from_db()
    assert (vehicle.maintenance_count, vehicle.service_count) == (1, 1)
    assert vehicle.last_maintenance_at == today
    assert vehicle.next_maintenance_at == today + timedelta(days=60)
    assert vehicle.maintenance_days_left == 60

    r1 = in_state(org, customer, C, REPAIR, vehicle=vehicle.pk)
    vehicle.refresh_from_db()
    assert (vehicle.maintenance_count, vehicle.service_count, vehicle.last_service_at) == (
        1,
        2,
        today,
    )

    # a maintenance done earlier (its 完工 backdated) does not move the last date back
    m2 = in_state(org, customer, A, MAINTENANCE, vehicle=vehicle.pk)
    MaintenanceOrder.objects.filter(pk=m2.pk).update(
        finished_at=timezone.now() - timedelta(days=30)
    )
    walk(org, MAINTENANCE, m2, [W])
    vehicle.refresh_from_db()
    assert (vehicle.maintenance_count, vehicle.last_maintenance_at) == (2, today)

    walk(org, MAINTENANCE, m1, [X])  # cancelled after acceptance: no longer counts
    vehicle.refresh_from_db()
    assert (vehicle.maintenance_count, vehicle.service_count) == (1, 2)
    assert vehicle.last_maintenance_at == today - timedelta(days=30)
    assert vehicle.next_maintenance_at == today + timedelta(days=30)
    assert r1.status == C
    # changing the interval moves the next date with it
    vehicle = document_save(
        VEHICLE,
        actor=org["service1"],
        instance=vehicle,
        data={**VEHICLE.current_data(vehicle), "maintenance_interval_days": 90},
    )
    assert vehicle.next_maintenance_at == today + timedelta(days=60)
    # a vehicle with orders cannot be deleted
    with pytest.raises(ApplicationError) as exc:
        document_delete(VEHICLE, actor=org["admin"], instance=vehicle)
    assert exc.value.message == "该车辆已有维修或保养订单，不能删除"


# --- bad input: a clear Chinese error, nothing changed -------------------------------------------


def test_bad_input_is_refused_in_chinese_and_changes_nothing(org, served, make_customer):
    from kehu.customers.models import Contact

    customer = served()
    other = served()
    vehicle = document_save(
        VEHICLE, actor=org["service1"], instance=None, data={"customer": other.pk, "name": "别家车"}
    )
    stranger = Contact.objects.filter(customer=other).first()
    hidden = make_customer("sales3")
    before = (RepairOrder.objects.count(), ChangeLog.objects.count(), figures(customer))
    cases = [
        ({"vehicle": vehicle.pk}, "vehicle", "车辆不属于该客户"),
        ({"vehicle": 999_999}, "vehicle", "车辆不存在或无权查看"),
        ({"contact": stranger.pk}, "contact", "联系人不存在或不属于该客户"),
        ({"amount": "-1"}, "amount", "订单金额不能为负数"),
        ({"amount": "1.234"}, "amount", "订单金额最多两位小数"),
        (
            {"order_kind": "vip"},
            "order_kind",
            "订单类型无效（enterprise 企业订单 / personal 个人订单）",
        ),
        (
            {"service_mode": "mail"},
            "service_mode",
            "售后方式无效（onsite 上门服务 / in_store 到店服务）",
        ),
        ({"contact_phone": "12345"}, "contact_phone", None),
        ({"service_at": "昨天"}, "service_at", "维修时间格式不正确"),
        (
            {"items": [{"name": "工时费", "quantity": "1", "unit_price": "-5"}]},
            "items.1.unit_price",
            "第1行：单价不能为负数",
        ),
    ]
    for data, field, message in cases:
        with pytest.raises(ApplicationError) as exc:
            new_order(org, customer, **data)
        assert exc.value.status == 400, data
        assert field in exc.value.errors, (data, exc.value.errors)
        if message:
            assert exc.value.errors[field] == [message], exc.value.errors
    with pytest.raises(ApplicationError) as exc:
        new_order(org, hidden)
    assert exc.value.errors == {"customer": ["客户不存在或无权查看"]}
    assert (RepairOrder.objects.count(), ChangeLog.objects.count(), figures(customer)) == before


def test_defaults_come_from_the_customer_and_a_contact(org, served):
    from kehu.customers.models import Contact
    from kehu.customers.services import contact_save

    customer = served()
    order = new_order(org, customer, reason="")
    assert (order.contact_name, order.contact_phone) == (
        customer.contact_name,
        customer.contact_phone,
    )
    assert order.address == "湖里大道 88号"
    assert order.order_kind == "enterprise" and order.service_mode == "onsite"
    contact = contact_save(
        actor=org["sales1"],
        instance=None,
        data={"customer": customer.pk, "name": "测试小A", "mobile": "15259696586"},
    )
    order = new_order(org, customer, contact=contact.pk)
    assert (order.contact_name, order.contact_phone) == ("测试小A", "15259696586")
    assert Contact.objects.filter(customer=customer).count() == 2
    with_items = new_order(
        org,
        customer,
        amount="1",
        items=[
            {"name": "工时费", "quantity": "2", "unit_price": "50"},
            {"name": "滤芯", "quantity": "1", "unit_price": "60", "discount": "10"},
        ],
    )
    assert with_items.amount == Decimal("150.00")


# --- editing and deleting end at 待支付 ------------------------------------------------------------


@pytest.mark.parametrize("state", [D, P, A, W, C, X])
def test_edit_and_delete_only_before_awaiting_payment(org, served, state):
    customer = served()
    order = in_state(org, customer, state)
    data = {**REPAIR.current_data(order), "reason": "改过的原因"}
    if state in (D, P, A):
        saved = document_save(REPAIR, actor=org["service1"], instance=order, data=data)
        assert saved.reason == "改过的原因"
        document_delete(REPAIR, actor=org["service1"], instance=order)
        assert not RepairOrder.objects.filter(pk=order.pk).exists()
        return
    before = world_state(order)
    label = dict(RepairOrder._meta.get_field("status").choices)[state]
    with pytest.raises(ApplicationError) as exc:
        document_save(REPAIR, actor=org["service1"], instance=order, data=data)
    assert exc.value.status == 409
    assert exc.value.message == f"维修订单「{order.number}」状态为「{label}」，不能修改"
    with pytest.raises(ApplicationError) as exc:
        document_delete(REPAIR, actor=org["service1"], instance=order)
    assert exc.value.message == f"维修订单「{order.number}」状态为「{label}」，不能删除"
    assert world_state(order) == before


def test_vehicles_link_a_contract_of_the_same_customer(org, served):
    from kehu.documents import approval

    customer, other = served(), served()
    contracts = {}
    for key, owner in (("mine", customer), ("theirs", other)):
        doc = document_save(
            registry["contract"],
            actor=org["sales1"],
            instance=None,
            data={"customer": owner.pk, "name": "整车销售合同", "amount": "300000"},
        )
        approval.submit(registry["contract"], actor=org["sales1"], doc=doc)
        contracts[key] = approval.approve(registry["contract"], actor=org["manager1"], doc=doc)
    vehicle = document_save(
        VEHICLE,
        actor=org["service1"],
        instance=None,
        data={"customer": customer.pk, "name": "XT系列叉车-1", "contract": contracts["mine"].pk},
    )
    assert vehicle.contract == contracts["mine"] and vehicle.number.startswith("ZC")
    with pytest.raises(ApplicationError) as exc:
        document_save(
            VEHICLE,
            actor=org["service1"],
            instance=None,
            data={"customer": customer.pk, "name": "X", "contract": contracts["theirs"].pk},
        )
    assert exc.value.errors == {"contract": ["合同不属于该客户"]}
    assert Vehicle.objects.count() == 1
