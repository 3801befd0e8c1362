"""商机 in a real browser: add one from the customer's portrait (客户商机 tab) through the modal,
with a field error first, then find it on the 商机 list. Screenshots: test-artifacts/opportunity-*.png.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kehu.customers.services import customer_create
from kehu.sales.models import Opportunity

pytestmark = pytest.mark.browser


def test_add_an_opportunity_from_the_portrait(page, live_server, demo_users, login, screenshot):
    sales1 = demo_users["sales1"]
    customer = customer_create(
        actor=sales1,
        data={
            "name": "厦门港务叉车有限公司",
            "contact_name": "陈经理",
            "contact_phone": "13950002001",
        },
        confirm_duplicates=True,
    )
    login(page, live_server, "sales1")
    page.goto(f"{live_server.url}/customers/{customer.pk}/?tab=opportunities")
    tab = page.locator(".nav-tabs .nav-link.active")
    expect(tab).to_have_text("客户商机 0")  # the tab's row count on its label
    expect(page.locator("[data-testid=opportunities-table]")).to_contain_text("暂无商机")

    page.locator("[data-testid=opportunity-add]").click()
    modal = page.locator("#modal")
    expect(modal.locator(".modal-title")).to_have_text("添加商机")
    # the customer comes preselected
    expect(modal.locator("select[name=customer] option:checked")).to_have_text(
        "厦门港务叉车有限公司"
    )
    modal.get_by_label("商机名称").fill("五台电动叉车")
    modal.get_by_label("客户预算").fill("三十万")
    modal.locator("[data-testid=modal-submit]").click()
    expect(modal.locator(".invalid-feedback, .text-danger").first).to_contain_text(
        "客户预算必须是数字"
    )
    assert not Opportunity.objects.exists()
    screenshot(page, "opportunity-field-error")

    modal.get_by_label("客户预算").fill("300000")
    modal.get_by_label("预计成交").fill("2026-12-31")
    modal.locator("[data-testid=modal-submit]").click()
    expect(modal).to_be_hidden()
    saved = Opportunity.objects.get()
    assert saved.customer == customer and str(saved.budget) == "300000.00"

    page.goto(f"{live_server.url}/customers/{customer.pk}/?tab=opportunities")
    table = page.locator("[data-testid=opportunities-table]")
    expect(table).to_contain_text("五台电动叉车")
    expect(table).to_contain_text("300,000.00")
    expect(table).to_contain_text("2026-12-31")
    screenshot(page, "opportunity-portrait-tab")

    page.goto(f"{live_server.url}/opportunities/")
    expect(page.locator("#object-list tbody")).to_contain_text("五台电动叉车")
    expect(page.locator("#object-list tbody")).to_contain_text("厦门港务叉车有限公司")
    screenshot(page, "opportunity-list")
