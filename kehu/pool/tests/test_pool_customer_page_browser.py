"""The pool customer's page in a real browser (issue 9 points 6 and 7): opened from the pool
list, masked and read-only, 领取 from it turns it into the claimer's own page; and the product's
own 404/403 pages. Screenshots at 1440px and 390px: ``test-artifacts/pool-customer-page-*.png``
and ``test-artifacts/error-page-*.png``."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kehu.conftest import PHONE
from kehu.customers.models import Contact, Customer
from kehu.customers.services import customer_create
from kehu.pool.services import release_customers

pytestmark = pytest.mark.browser

WIDE = {"width": 1440, "height": 900}
NAME = "厦门恒通物流有限公司"
RAW_PHONE = "15263698652"
MASKED_PHONE = "152****8652"


def pool_customer(owner) -> Customer:
    customer = customer_create(
        actor=owner,
        data={"name": NAME, "contact_name": "王五", "contact_phone": RAW_PHONE},
        confirm_duplicates=True,
    )
    Contact.objects.create(
        customer=customer, name="王总", mobile="18605921234", email="boss@hengtong.cn"
    )
    assert release_customers(actor=owner, ids=[customer.pk], reason="暂无需求").done
    return customer


def test_open_a_pool_customer_from_the_pool_and_claim_it(
    page, live_server, demo_users, login, screenshot
):
    customer = pool_customer(demo_users["sales1"])
    page.set_viewport_size(WIDE)
    login(page, live_server, "sales2")
    page.goto(f"{live_server.url}/pool/")
    page.locator("#object-list").get_by_role("link", name=NAME, exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/customers/{customer.pk}/")

    expect(page.locator("[data-testid=pool-badge]")).to_have_text(re.compile("公海客户"))
    expect(page.locator("[data-testid=customer-phone]")).to_have_text(MASKED_PHONE)
    expect(page.locator("[data-testid=claim]")).to_be_visible()
    expect(page.get_by_role("button", name="编辑", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="分享", exact=True)).to_have_count(0)
    expect(page.locator("[data-testid=followup-add]")).to_have_count(0)
    assert RAW_PHONE not in page.content()
    screenshot(page, "pool-customer-page-1440")

    page.locator("#portrait-tabs .nav-link[data-tab=contacts]").click()
    expect(page.locator("[data-testid=contacts-table]")).to_contain_text("186****1234")
    expect(page.locator("[data-testid=contact-add]")).to_have_count(0)
    assert "18605921234" not in page.content()
    screenshot(page, "pool-customer-page-contacts-1440")

    page.set_viewport_size(PHONE)
    page.locator("#portrait-tabs .nav-link[data-tab=followups]").click()
    expect(page.locator("[data-testid=claim]")).to_be_visible()
    expect(page.locator("[data-testid=customer-phone]")).to_have_text(MASKED_PHONE)
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "pool-customer-page-390")

    # 领取 → the result in the modal; the page becomes sales2's own customer's page.
    page.set_viewport_size(WIDE)
    page.locator("[data-testid=claim]").click()
    result = page.locator("#modal [data-testid=batch-result]")
    expect(result).to_contain_text(re.compile(r"成功\s*1\s*条"))
    expect(page.locator("[data-testid=customer-phone]")).to_have_text(RAW_PHONE)
    expect(page.locator("[data-testid=pool-badge]")).to_have_count(0)
    # Bootstrap ignores hide() while the modal is still fading in: wait for it to settle.
    page.wait_for_function(
        "() => !window.tabler.Modal.getInstance(document.getElementById('modal'))._isTransitioning"
    )
    page.locator("#modal").get_by_role("button", name="确定").click()
    expect(page.locator("#modal")).to_be_hidden()
    expect(page.locator("[data-testid=action-edit]")).to_be_visible()
    expect(page.locator("[data-testid=claim]")).to_have_count(0)
    screenshot(page, "pool-customer-page-claimed-1440")
    customer.refresh_from_db()
    assert customer.owner == demo_users["sales2"]


def test_the_products_own_404_and_403_pages(page, live_server, demo_users, login, screenshot):
    page.set_viewport_size(WIDE)
    login(page, live_server, "finance1")
    response = page.goto(f"{live_server.url}/customers/999999/")
    assert response.status == 404
    box = page.locator("[data-testid=error-page]")
    expect(box).to_contain_text("页面不存在或无权查看")
    expect(box).to_contain_text("客户不存在或无权查看")
    expect(page.locator("aside.navbar-vertical")).to_be_visible()
    screenshot(page, "error-page-404-1440")

    response = page.goto(f"{live_server.url}/settings/users/")
    assert response.status == 403
    expect(box).to_contain_text("没有权限执行此操作")
    screenshot(page, "error-page-403-1440")
    page.set_viewport_size(PHONE)
    expect(box).to_be_visible()
    screenshot(page, "error-page-403-390")
    box.get_by_role("link", name="返回首页").click()
    expect(page).to_have_url(f"{live_server.url}/")


def test_a_visitor_gets_the_standalone_404(page, live_server, demo_users, screenshot):
    page.set_viewport_size(PHONE)
    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404
    expect(page.locator("[data-testid=error-page]")).to_contain_text("页面不存在或无权查看")
    screenshot(page, "error-page-404-visitor-390")
