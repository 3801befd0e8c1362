"""首页 per role and the readable 日志 in a real browser (issue 13 point 5, issue 14 points 9,
18): each role's 首页 at 1440 px and 390 px with its charts drawn, and /audit/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def demo_data(demo_users):
    from kehu.aftersales import demo as aftersales_demo
    from kehu.basics import demo as basics_demo
    from kehu.customers import demo as customers_demo
    from kehu.sales import demo as sales_demo

    basics_demo.seed(demo_users)
    customers_demo.seed(demo_users, count=60)
    sales_demo.seed(demo_users)
    aftersales_demo.seed(demo_users)
    return demo_users


def shoot(page, screenshot, name: str) -> None:
    page.set_viewport_size(WIDE)
    page.wait_for_timeout(300)  # the charts' resize
    screenshot(page, f"dashboard-{name}-1440")
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(300)
    screenshot(page, f"dashboard-{name}-390")
    # Nothing wider than the phone's screen: the tables scroll inside their cards.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


def test_each_role_gets_its_own_first_page(page, live_server, demo_data, login, screenshot):
    login(page, live_server, "sales1")
    page.set_viewport_size(WIDE)
    expect(page.locator("[data-figure=mine-today]")).to_be_visible()
    expect(page.locator("#chart-opportunities[data-rendered='1']")).to_have_count(1)
    expect(page.locator("#chart-receivables[data-rendered='1']")).to_have_count(1)
    expect(page.locator("[data-testid=team]")).to_have_count(0)
    late = page.locator("[data-testid=overdue-text]")
    if late.count():
        expect(late.first).to_have_text(re.compile(r"^(已逾期 \d+ (小时|分钟)|逾期 \d+ 天)$"))
    shoot(page, screenshot, "sales1")

    page.context.clear_cookies()
    login(page, live_server, "manager1")
    page.set_viewport_size(WIDE)
    expect(page.locator("[data-testid=team]")).to_be_visible()
    expect(page.locator("#chart-team[data-rendered='1']")).to_have_count(1)
    expect(page.locator("[data-testid=approvals]")).to_be_visible()
    # a member's figure opens the list filtered by that member, with the same count
    link = page.locator("[data-testid=team] tbody a[data-figure$='-customers']").nth(1)
    count = link.inner_text()
    link.click()
    expect(page.locator("body")).to_contain_text(f"总共 {count} 条记录")
    page.go_back()
    shoot(page, screenshot, "manager1")

    page.context.clear_cookies()
    login(page, live_server, "finance1")
    page.set_viewport_size(WIDE)
    expect(page.locator("[data-testid=ageing]")).to_be_visible()
    expect(page.locator("[data-testid=ageing-definition]")).to_contain_text("签约日期")
    expect(page.locator("#chart-ageing[data-rendered='1']")).to_have_count(1)
    shoot(page, screenshot, "finance1")

    page.context.clear_cookies()
    login(page, live_server, "service1")
    page.set_viewport_size(WIDE)
    expect(page.locator("[data-testid=my-orders]").first).to_be_visible()
    expect(page.locator("[data-figure=maintenance-due]")).to_be_visible()
    shoot(page, screenshot, "service1")


def test_audit_page_speaks_chinese(page, live_server, demo_data, login, screenshot):
    login(page, live_server, "admin")
    page.set_viewport_size(WIDE)
    page.goto(f"{live_server.url}/audit/")
    table = page.locator("#object-list table")
    expect(table).to_contain_text("客户")
    expect(table).not_to_contain_text("customers.customer")
    screenshot(page, "audit-1440")
    page.set_viewport_size(PHONE)
    screenshot(page, "audit-390")
