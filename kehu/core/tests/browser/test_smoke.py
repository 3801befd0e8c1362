"""Smoke tests in a real browser: login, the shell, one HTMX modal round trip, permissions."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def sidebar(page):
    return page.locator("aside.navbar-vertical")


def test_admin_dashboard(page, live_server, demo_users, login, screenshot):
    login(page, live_server, "admin")

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_text("您好")).to_be_visible()
    # The assets really loaded: the scripts ran and Tabler's stylesheet styles the sidebar.
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("typeof window.tabler") == "object"
    assert (
        page.evaluate("getComputedStyle(document.querySelector('aside.navbar-vertical')).position")
        == "fixed"
    )

    nav = sidebar(page)
    for menu in ("客户关系管理", "售后管理", "系统设置"):
        expect(nav.get_by_text(menu, exact=True)).to_be_visible()
    expect(nav.get_by_text("通知代办", exact=True)).to_be_visible()
    expect(nav.locator("[data-todo-badge]")).to_be_visible()
    expect(nav.locator("[data-todo-badge]")).to_have_text(re.compile(r"^\s*\d+\s*$"))
    # 我的商机 is drawn by ECharts (a canvas inside the chart box), next to its figures.
    expect(page.locator("#chart-opportunities canvas")).to_have_count(1)
    expect(page.locator("#chart-opportunities[data-rendered='1']")).to_have_count(1)  # drawn
    expect(page.locator("[data-testid=mine-receivables]")).to_contain_text("待收款合计")
    expect(page.locator("[data-testid=dashboard-today]")).to_be_visible()
    screenshot(page, "smoke-dashboard-desktop")

    page.set_viewport_size(PHONE)
    expect(page.get_by_text("您好")).to_be_visible()
    expect(page.locator("aside .navbar-toggler")).to_be_visible()
    screenshot(page, "smoke-dashboard-phone")


def test_department_modal_add_and_refused_delete(page, live_server, demo_users, login, screenshot):
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/settings/departments/")
    rows = page.locator("#object-list tbody tr")
    expect(rows.first).to_be_visible()
    # Survives only if nothing reloads the page from here on.
    page.evaluate("window.kehuNoReload = true")

    modal = page.locator("#modal")
    page.locator("[data-testid=add-button]").click()
    expect(modal).to_be_visible()
    name = page.locator("#modal-content").get_by_label("部门名称")
    expect(name).to_be_visible()
    name.fill("测试部门")
    screenshot(page, "smoke-department-add-modal")
    page.locator("[data-testid=modal-submit]").click()

    expect(modal).to_be_hidden()
    expect(page.locator(".modal-backdrop")).to_have_count(0)
    expect(rows.filter(has_text="测试部门")).to_have_count(1)
    assert page.evaluate("window.kehuNoReload") is True
    screenshot(page, "smoke-department-added")

    # 销售部 has members (manager1) and sub-departments: the service refuses to delete it.
    sales_row = rows.filter(
        has=page.locator("td.kehu-col-name", has_text=re.compile(r"^\s*销售部\s*$"))
    )
    expect(sales_row).to_have_count(1)
    sales_row.get_by_role("link", name="删除").click()
    expect(modal).to_be_visible()
    expect(modal.get_by_text("确定删除吗？")).to_be_visible()
    page.locator("[data-testid=confirm-delete]").click()
    error = modal.locator("[data-testid=form-error]")
    expect(error).to_have_text("该部门下还有员工，不能删除")
    expect(modal).to_be_visible()
    screenshot(page, "smoke-department-delete-refused")
    assert page.evaluate("window.kehuNoReload") is True
    expect(sales_row).to_have_count(1)


def test_wrong_password(page, live_server, demo_users):
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("#id_username").fill("admin")
    page.locator("#id_password").fill("wrong-password")
    page.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=login-error]")).to_contain_text("用户名或密码错误")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_salesperson_has_no_system_settings(page, live_server, demo_users, login):
    login(page, live_server, "sales1")
    expect(page.get_by_text("您好")).to_be_visible()

    nav = sidebar(page)
    expect(nav.get_by_text("客户关系管理", exact=True)).to_be_visible()
    for entry in ("员工", "部门", "角色"):
        expect(nav.get_by_role("link", name=entry, exact=True)).to_have_count(0)
    for url in ("/settings/users/", "/settings/departments/", "/settings/roles/"):
        expect(nav.locator(f'a[href="{url}"]')).to_have_count(0)

    response = page.goto(f"{live_server.url}/settings/users/")
    assert response is not None
    assert response.status == 403
