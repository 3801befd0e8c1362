"""回收站 in a real browser: a salesperson deletes a customer and brings it back."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kehu.customers.models import Customer
from kehu.customers.services import customer_create

pytestmark = pytest.mark.browser


def test_delete_a_customer_then_restore_it_from_the_recycle_bin(
    page, live_server, demo_users, login, screenshot
):
    customer = customer_create(
        actor=demo_users["sales1"],
        data={
            "name": "回收站浏览器客户有限公司",
            "contact_name": "赵六",
            "contact_phone": "13912349999",
        },
        confirm_duplicates=True,
    )
    login(page, live_server, "sales1")
    page.goto(f"{live_server.url}/customers/")
    row = page.locator("#object-list tbody tr", has_text="回收站浏览器客户有限公司")
    row.get_by_role("link", name="删除", exact=True).click()
    page.locator("[data-testid=confirm-delete]").click()
    expect(page.locator("#object-list")).not_to_contain_text("回收站浏览器客户有限公司")

    page.locator("aside").get_by_text("系统设置").click()  # the group opens
    page.locator("aside").get_by_role("link", name="回收站").click()
    row = page.locator("#object-list tbody tr", has_text="回收站浏览器客户有限公司")
    expect(row).to_contain_text("客户")
    expect(row.get_by_role("link", name="彻底删除")).to_have_count(0)
    screenshot(page, "recyclebin-list")
    row.get_by_role("link", name="恢复", exact=True).click()
    expect(page.locator("[data-testid=confirm-restore]")).to_be_visible()
    screenshot(page, "recyclebin-restore-modal")
    page.locator("[data-testid=confirm-restore]").click()
    expect(page.locator("#object-list")).not_to_contain_text("回收站浏览器客户有限公司")
    assert Customer.objects.filter(pk=customer.pk).exists()

    page.goto(f"{live_server.url}/customers/")
    expect(page.locator("#object-list")).to_contain_text("回收站浏览器客户有限公司")
