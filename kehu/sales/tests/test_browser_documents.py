"""The money side in a real browser (issue 11): sales1 turns a quote into a contract and submits
it; manager1 approves; the customer's 整车订单 and 待收款金额 in the list rise; sales1 registers
the payment of a plan (回款, prefilled) and submits it; finance1 approves it and the figure falls.
Screenshots at desktop and phone width: test-artifacts/documents-*.png.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from kehu.customers.models import Customer
from kehu.customers.services import customer_create
from kehu.documents.services import document_save
from kehu.documents.types import registry
from kehu.sales.models import Contract, Payment

pytestmark = pytest.mark.browser


def _switch(page, live_server, login, username):
    page.context.clear_cookies()
    login(page, live_server, username)


def _act(page, testid, comment=""):
    page.locator(f"[data-testid={testid}]").click()
    modal = page.locator("#modal")
    expect(modal.locator("form")).to_be_visible()
    if comment:
        modal.locator("textarea[name=comment]").fill(comment)
    modal.locator("[data-testid=modal-submit]").click()
    expect(modal).to_be_hidden()


def _list_row(page, live_server, name):
    page.goto(f"{live_server.url}/customers/?q={name}")
    return page.locator("table tbody tr", has_text=name)


def test_quote_to_contract_to_payment_through_approvals(
    page, live_server, demo_users, login, screenshot
):
    sales1 = demo_users["sales1"]
    customer = customer_create(
        actor=sales1,
        data={
            "name": "泉州港机叉车有限公司",
            "contact_name": "林经理",
            "contact_phone": "13950003001",
        },
        confirm_duplicates=True,
    )
    quote = document_save(
        registry["quote"],
        actor=sales1,
        instance=None,
        data={
            "customer": customer.pk,
            "items": [{"name": "3吨柴油叉车", "quantity": "2", "unit_price": "98000"}],
        },
    )

    # sales1: 转合同 from the quote, then 提交审批
    login(page, live_server, "sales1")
    page.goto(f"{live_server.url}/quotes/{quote.pk}/")
    page.get_by_role("button", name="转合同").click()
    modal = page.locator("#modal")
    modal.locator("select[name=kind]").select_option("vehicle")
    modal.locator("[data-testid=modal-submit]").click()
    expect(page).to_have_url(re.compile(r"/contracts/\d+/$"))
    expect(page.locator("[data-testid=line-items]")).to_contain_text("3吨柴油叉车")
    expect(page.locator("[data-testid=approval-status]")).to_have_text("未申请")
    _act(page, "action-submit")
    expect(page.locator("[data-testid=approval-status]")).to_have_text("待审批")
    expect(page.locator("[data-testid=pending-notice]")).to_contain_text("部门负责人")
    expect(page.locator("[data-testid=action-approve]")).to_have_count(0)  # not hers to approve
    screenshot(page, "documents-contract-pending")
    contract = Contract.objects.get()
    assert contract.quote_id == quote.pk and contract.amount == Decimal("196000.00")

    # manager1: 审批通过 — the customer's figures rise in the list
    _switch(page, live_server, login, "manager1")
    page.goto(f"{live_server.url}/todo/")
    expect(page.locator("[data-testid=todo-approvals]")).to_contain_text(contract.number)
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    _act(page, "action-approve", "同意")
    expect(page.locator("[data-testid=approval-status]")).to_have_text("审批通过")
    expect(page.locator("[data-testid=approval-history]")).to_contain_text("同意")
    row = _list_row(page, live_server, "泉州港机叉车有限公司")
    expect(row).to_contain_text("已成交")
    expect(row).to_contain_text("196,000.00")
    screenshot(page, "documents-customer-list-billed")

    # sales1: a plan, then 回款 from its row (prefilled), then 提交审批
    plan = document_save(
        registry["paymentplan"],
        actor=sales1,
        instance=None,
        data={"contract": contract.pk, "instalment": 1, "amount": "50000", "due_at": "2026-12-05"},
    )
    _switch(page, live_server, login, "sales1")
    page.goto(f"{live_server.url}/payment-plans/")
    page.locator("table tbody tr", has_text="50,000.00").get_by_text("回款", exact=True).click()
    modal = page.locator("#modal")
    expect(modal.locator("input[name=amount]")).to_have_value("50000.00")
    modal.locator("[data-testid=modal-submit]").click()
    expect(modal).to_be_hidden()
    payment = Payment.objects.get()
    assert payment.plan_id == plan.pk and payment.amount == Decimal("50000.00")
    page.goto(f"{live_server.url}/payments/{payment.pk}/")
    _act(page, "action-submit")
    expect(page.locator("[data-testid=pending-notice]")).to_contain_text("财务")

    # finance1: 审批通过 — the receivable falls
    _switch(page, live_server, login, "finance1")
    page.goto(f"{live_server.url}/payments/{payment.pk}/")
    _act(page, "action-approve")
    expect(page.locator("[data-testid=approval-status]")).to_have_text("审批通过")
    row = _list_row(page, live_server, "泉州港机叉车有限公司")
    expect(row).to_contain_text("146,000.00")
    c = Customer.objects.get(pk=customer.pk)
    assert (c.receivable_vehicle, c.receivable_total) == (
        Decimal("146000.00"),
        Decimal("146000.00"),
    )
    screenshot(page, "documents-customer-list-paid")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/contracts/{contract.pk}/")
    expect(page.locator("[data-testid=approval-status]")).to_have_text("审批通过")
    screenshot(page, "documents-contract-phone")
