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
    expect(page.get_by_role("button", name="确认收款")).to_be_visible()
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
