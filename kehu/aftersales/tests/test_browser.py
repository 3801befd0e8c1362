"""After-sales in a real browser (issue 12): service1 — on a phone, as technicians are — finds
the repair order dispatched to it under 我的工单, reports it done (完工) and has it accepted
(验收): the order is 待支付, and the customer's 维修订单 column in sales1's customer list shows
the amount. Screenshots at phone and desktop width: test-artifacts/aftersales-*.png.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from kehu.aftersales import flow
from kehu.aftersales.models import RepairOrder
from kehu.customers.models import Customer
from kehu.customers.services import customer_create, customer_share
from kehu.documents.services import document_save
from kehu.documents.types import registry

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def _step(page, name):
    """Open the step's modal (a row or page button), confirm it, wait for the page's reload."""
    modal = page.locator("#modal")
    expect(modal.locator("form")).to_be_visible()
    expect(modal.locator(".modal-title")).to_contain_text(name)
    with page.expect_navigation():  # HX-Refresh reloads the page
        modal.locator("[data-testid=modal-submit]").click()


def test_service1_takes_a_dispatched_repair_order_to_awaiting_payment(
    page, live_server, demo_users, login, screenshot
):
    sales1, service1, admin = demo_users["sales1"], demo_users["service1"], demo_users["admin"]
    customer = customer_create(
        actor=sales1,
        data={
            "name": "厦门港机叉车服务有限公司",
            "contact_name": "林经理",
            "contact_phone": "13950003011",
            "address": "湖里区港中路 1号",
        },
        confirm_duplicates=True,
    )
    customer_share(actor=sales1, customer=customer, user_ids=[service1.pk])
    vehicle = document_save(
        registry["vehicle"],
        actor=service1,
        instance=None,
        data={"customer": customer.pk, "name": "XT系列叉车-3", "spec": "3吨"},
    )
    decl = registry["repairorder"]
    order = document_save(
        decl,
        actor=admin,
        instance=None,
        data={
            "customer": customer.pk,
            "vehicle": vehicle.pk,
            "reason": "液压系统漏油",
            "items": [
                {"name": "工时费", "quantity": "1", "unit_price": "80"},
                {"name": "液压油管", "quantity": "1", "unit_price": "30"},
            ],
        },
    )
    order = flow.transition(
        decl, actor=admin, order=order, to="in_progress", assignee_id=service1.pk
    )

    # service1, on a phone: 我的工单 → 完工 from the row
    page.set_viewport_size(PHONE)
    login(page, live_server, "service1")
    page.goto(f"{live_server.url}/repair-orders/?tab=assigned")
    row = page.locator("table tbody tr", has_text=order.number)
    expect(row.locator("[data-testid=service-status]")).to_have_text("维修中")
    screenshot(page, "aftersales-my-orders-phone")
    row.locator("[data-testid=row-finish]").click()
    _step(page, "完工")
    row = page.locator("table tbody tr", has_text=order.number)
    expect(row.locator("[data-testid=service-status]")).to_have_text("待验收")

    # the order's page: 验收 (the after-sales team may accept) → 待支付
    page.goto(f"{live_server.url}/repair-orders/{order.pk}/")
    expect(page.locator("[data-testid=line-items]")).to_contain_text("液压油管")
    page.get_by_role("button", name="验收", exact=True).click()
    _step(page, "验收")
    expect(page.locator("[data-testid=service-status]")).to_have_text("待支付")
    expect(page.locator("[data-testid=service-history]")).to_contain_text(
        "验收，计入维修订单待收款 110.00"
    )
    # paid by a 回款 (the owner registers it) or a 挂账订单, which the after-sales team opens
    expect(page.get_by_role("button", name="挂账", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="登记回款")).to_have_count(0)
    expect(page.get_by_role("button", name="编辑")).to_have_count(0)  # billed: no more edits
    screenshot(page, "aftersales-order-awaiting-payment-phone")
    page.set_viewport_size(DESKTOP)
    screenshot(page, "aftersales-order-awaiting-payment-desktop")
    stored = RepairOrder.objects.get(pk=order.pk)
    assert (stored.status, stored.amount) == ("awaiting_payment", Decimal("110.00"))

    # sales1: the customer's 维修订单 column shows it
    page.context.clear_cookies()
    login(page, live_server, "sales1")
    page.goto(f"{live_server.url}/customers/?q=厦门港机叉车服务")
    row = page.locator("table tbody tr", has_text="厦门港机叉车服务有限公司")
    expect(row).to_contain_text("已成交")
    headers = page.locator("table thead th").all_inner_texts()
    column = [h.strip() for h in headers].index("维修订单")
    cell = row.locator("td").nth(column)
    expect(cell).to_have_text("110.00")
    cell.scroll_into_view_if_needed()
    screenshot(page, "aftersales-customer-list-desktop")
    c = Customer.objects.get(pk=customer.pk)
    assert (c.receivable_repair, c.receivable_total) == (Decimal("110.00"), Decimal("110.00"))
    page.goto(f"{live_server.url}/customers/{customer.pk}/?tab=repairs")
    expect(page.locator("[data-testid=repairorder-table]")).to_contain_text(order.number)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/customers/?q=厦门港机叉车服务")
    expect(page.locator("table tbody tr", has_text="厦门港机叉车服务有限公司")).to_be_visible()
    screenshot(page, "aftersales-customer-list-phone")
    assert re.match(r"WX\d{18}$", order.number)


def test_an_order_awaiting_payment_is_charged_on_account_and_paid(
    page, live_server, demo_users, login, screenshot, tmp_path
):
    """service1 (phone) charges an order 待支付 to the customer's account (挂账), uploads the
    voucher and submits it; finance1 approves it from 待我审批: 已付款, the order 已完成, the
    customer's 维修订单 receivable back to 0.00."""
    sales1, service1 = demo_users["sales1"], demo_users["service1"]
    customer = customer_create(
        actor=sales1,
        data={
            "name": "厦门挂账叉车有限公司",
            "contact_name": "陈总",
            "contact_phone": "13950003012",
        },
        confirm_duplicates=True,
    )
    customer_share(actor=sales1, customer=customer, user_ids=[service1.pk])
    decl = registry["repairorder"]
    order = document_save(
        decl,
        actor=service1,
        instance=None,
        data={"customer": customer.pk, "amount": "120.00", "reason": "轮胎鼓包"},
    )
    for to in ("in_progress", "awaiting_acceptance", "awaiting_payment"):
        order = flow.transition(decl, actor=service1, order=order, to=to)

    page.set_viewport_size(PHONE)
    login(page, live_server, "service1")
    page.goto(f"{live_server.url}/repair-orders/{order.pk}/")
    page.get_by_role("button", name="挂账", exact=True).click()
    modal = page.locator("#modal")
    expect(modal.locator(".modal-title")).to_contain_text("添加挂账订单")
    expect(modal.locator("#id_onaccount_amount")).to_have_value("")  # empty: all that is unpaid
    modal.locator("#id_onaccount_store").select_option(label="门店A")
    modal.locator("[data-testid=modal-submit]").click()
    # the order's page lists it under 挂账订单; its number is the order's
    expect(page.locator("[data-testid=onaccount-status]")).to_have_text("挂账中")
    page.get_by_role("link", name=order.number, exact=True).last.click()
    expect(page.locator(".page-title").first).to_contain_text(f"挂账订单 {order.number}")
    voucher = tmp_path / "付款凭证.pdf"
    voucher.write_bytes(b"%PDF-1.4 voucher")
    page.locator("input[name=attachments]").set_input_files(str(voucher))
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_text("付款凭证.pdf")).to_be_visible()
    page.locator("[data-testid=action-submit]").click()
    with page.expect_navigation():
        page.locator("#modal [data-testid=modal-submit]").click()
    expect(page.locator("[data-testid=onaccount-status]")).to_have_text("支付审批")
    screenshot(page, "aftersales-onaccount-review-phone")

    page.context.clear_cookies()
    page.set_viewport_size(DESKTOP)
    login(page, live_server, "finance1")
    page.goto(f"{live_server.url}/todo/")
    page.locator("[data-testid=todo-approvals]").get_by_text(f"挂账订单 {order.number}").click()
    page.locator("[data-testid=action-approve]").click()
    with page.expect_navigation():
        page.locator("#modal [data-testid=modal-submit]").click()
    expect(page.locator("[data-testid=onaccount-status]")).to_have_text("已付款")
    screenshot(page, "aftersales-onaccount-paid-desktop")
    page.goto(f"{live_server.url}/on-account-orders/")
    row = page.locator("table tbody tr", has_text=order.number)
    expect(row).to_contain_text("已付款")
    expect(row).to_contain_text("1个文件")
    screenshot(page, "aftersales-onaccount-list-desktop")
    stored = RepairOrder.objects.get(pk=order.pk)
    assert stored.status == "completed"
    c = Customer.objects.get(pk=customer.pk)
    assert (c.receivable_repair, c.receivable_total) == (Decimal("0.00"), Decimal("0.00"))
