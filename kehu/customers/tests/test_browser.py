"""客户列表 in a real browser: what a salesperson does with customers, click by click.

Every flow runs against ``live_server`` as sales1 (李业务); the data a flow starts from is made with
the services, the flow itself only uses the page. Screenshots: ``test-artifacts/customers-*.png``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kehu.basics.models import Region
from kehu.customers.models import Customer
from kehu.customers.services import customer_create

pytestmark = pytest.mark.browser

NAME = "厦门恒通物流有限公司"
SIMILAR_NAME = "厦门恒通物流股份有限公司"
# Columns of CustomerTable (1-based): 选择, 操作, ID, 客户名称, 联系人, 联系电话, ... (操作 first,
# as in the seed's lists)
NAME_COL, PHONE_COL = 4, 6


def exact(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def rows(page):
    return page.locator("#object-list tbody tr")


def row_of(page, name: str):
    return rows(page).filter(has=page.locator(f"td:nth-child({NAME_COL})", has_text=exact(name)))


def modal_field(page, label: str):
    return page.locator("#modal-content").get_by_label(label, exact=True)


def make_customer(owner, name: str, phone: str, **data) -> Customer:
    payload = {"name": name, "contact_name": "王五", "contact_phone": phone, **data}
    return customer_create(actor=owner, data=payload, confirm_duplicates=True)


def open_list(page, live_server, login, username: str = "sales1") -> None:
    login(page, live_server, username)
    page.goto(f"{live_server.url}/customers/")
    expect(page.locator("#object-list table")).to_be_visible()
    # Survives only if nothing reloads the page from here on: every step is an HTMX swap.
    page.evaluate("window.kehuNoReload = true")


def mark_list_stale(page) -> None:
    """Tag the current table: once the list has been refreshed, the tag is gone."""
    page.evaluate("document.querySelector('#object-list table').dataset.stale = '1'")


def expect_list_refreshed(page) -> None:
    expect(page.locator("#object-list table[data-stale]")).to_have_count(0)
    expect(page.locator("#object-list table")).to_be_visible()


def expect_modal_closed(page) -> None:
    expect(page.locator("#modal")).to_be_hidden()
    expect(page.locator(".modal-backdrop")).to_have_count(0)


def expect_no_reload(page) -> None:
    assert page.evaluate("window.kehuNoReload") is True


def expect_usable_form_modal(page) -> None:
    """The long customer form scrolls inside the modal: 确定 stays on screen, and the pickers
    (推荐人, 客户标签) are TomSelects with their native select hidden, however often it opens."""
    modal = page.locator("#modal")
    expect(modal.locator("[data-testid=modal-submit]")).to_be_in_viewport()
    expect(modal.locator(".ts-wrapper")).to_have_count(2)
    for name in ("referrer", "tags"):
        expect(modal.locator(f"select[name={name}]")).to_have_class(
            re.compile(r"\bts-hidden-accessible\b")
        )


def pick(select, label: str) -> None:
    """Choose ``label`` once the cascade has loaded it from /api/v1/regions."""
    expect(select.locator("option", has_text=exact(label))).to_have_count(1)
    select.select_option(label=label)


def test_add_customer_with_region_cascade_then_confirm_a_duplicate(
    page, live_server, demo_users, login, screenshot
):
    sales1 = demo_users["sales1"]
    siming = Region.objects.get(name="思明区", parent__name="厦门市")
    open_list(page, live_server, login)
    expect(page.locator("#object-list tbody input[name=pk]")).to_have_count(0)

    # 1. 添加 → the modal; the 省 → 市 → 区 cascade loads each level after its parent.
    modal = page.locator("#modal")
    page.locator("[data-testid=add-button]").click()
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-title")).to_have_text("添加客户")
    expect_usable_form_modal(page)
    modal_field(page, "客户名称").fill(NAME)
    modal_field(page, "联系人").fill("张三")
    modal_field(page, "联系电话").fill("152 6369 8652")
    province = modal.locator("select[data-region=province]")
    city = modal.locator("select[data-region=city]")
    district = modal.locator("select[data-region=district]")
    expect(city.locator("option", has_text="厦门市")).to_have_count(0)
    pick(province, "福建省")
    pick(city, "厦门市")
    pick(district, "思明区")
    # Choosing the district filled its centroid in.
    longitude, latitude = modal_field(page, "经度"), modal_field(page, "纬度")
    expect(longitude).not_to_have_value("")
    expect(latitude).not_to_have_value("")
    assert float(longitude.input_value()) == pytest.approx(float(siming.longitude))
    assert float(latitude.input_value()) == pytest.approx(float(siming.latitude))
    screenshot(page, "customers-add-modal-filled")

    page.locator("[data-testid=modal-submit]").click()
    expect_modal_closed(page)
    row = row_of(page, NAME)
    expect(row).to_have_count(1)
    expect(row.locator(f"td:nth-child({PHONE_COL})")).to_have_text(exact("15263698652"))
    expect(row).to_contain_text("张三")
    expect(row).to_contain_text("李业务")
    expect_no_reload(page)
    screenshot(page, "customers-list-added")
    saved = Customer.objects.get(name=NAME)
    assert saved.owner == sales1
    assert saved.contact_phone == "15263698652"
    assert (saved.province.name, saved.city.name, saved.district.name) == (
        "福建省",
        "厦门市",
        "思明区",
    )
    assert (saved.longitude, saved.latitude) == (siming.longitude, siming.latitude)

    # 2. A similar name: the first 确定 shows the possible duplicates, the second one saves.
    page.locator("[data-testid=add-button]").click()
    expect(modal).to_be_visible()
    expect(modal_field(page, "客户名称")).to_have_value("")
    expect_usable_form_modal(page)
    modal_field(page, "客户名称").fill(SIMILAR_NAME)
    modal_field(page, "联系人").fill("李四")
    modal_field(page, "联系电话").fill("13906001234")
    page.locator("[data-testid=modal-submit]").click()
    warning = modal.locator("[data-testid=duplicate-warning]")
    expect(warning).to_be_visible()
    expect(warning).to_be_in_viewport()
    expect_usable_form_modal(page)
    match = warning.locator("tbody tr")
    expect(match).to_have_count(1)
    expect(match.locator("td").nth(0)).to_have_text(NAME)
    expect(match.locator("td").nth(1)).to_have_text("李业务")
    expect(modal_field(page, "客户名称")).to_have_value(SIMILAR_NAME)
    assert Customer.objects.filter(name=SIMILAR_NAME).count() == 0
    screenshot(page, "customers-duplicate-warning")

    page.locator("[data-testid=modal-submit]").click()
    expect_modal_closed(page)
    expect(row_of(page, SIMILAR_NAME)).to_have_count(1)
    expect(row_of(page, SIMILAR_NAME).locator(f"td:nth-child({PHONE_COL})")).to_have_text(
        exact("13906001234")
    )
    expect(page.locator("#object-list tbody input[name=pk]")).to_have_count(2)
    expect_no_reload(page)
    assert Customer.objects.filter(owner=sales1).count() == 2


def test_bad_phone_is_shown_next_to_its_field(page, live_server, demo_users, login, screenshot):
    open_list(page, live_server, login)
    modal = page.locator("#modal")
    page.locator("[data-testid=add-button]").click()
    expect(modal).to_be_visible()
    modal_field(page, "客户名称").fill(NAME)
    modal_field(page, "联系人").fill("张三")
    modal_field(page, "联系电话").fill("12345")
    page.locator("[data-testid=modal-submit]").click()

    error = modal.locator("[data-field-error=contact_phone]")
    expect(error).to_be_visible()
    expect(error).to_contain_text("联系电话格式不正确")
    # Next to the field: in the same form group as the 联系电话 input, right after it.
    group = modal_field(page, "联系电话").locator("xpath=..")
    expect(group.locator("[data-field-error=contact_phone]")).to_have_count(1)
    expect(modal_field(page, "联系电话")).to_have_value("12345")
    expect(modal.locator("[data-field-error]")).to_have_count(1)
    expect_usable_form_modal(page)
    error.scroll_into_view_if_needed()
    expect(modal).to_be_visible()
    screenshot(page, "customers-bad-phone")

    assert Customer.objects.count() == 0
    expect(page.locator("#object-list tbody input[name=pk]")).to_have_count(0)
    expect_no_reload(page)


def test_edit_remark_then_see_it_in_the_log(page, live_server, demo_users, login, screenshot):
    customer = make_customer(demo_users["sales1"], NAME, "15263698652")
    open_list(page, live_server, login)
    modal = page.locator("#modal")
    row_of(page, NAME).get_by_role("link", name="编辑").click()
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-title")).to_have_text("编辑客户")
    expect(modal_field(page, "客户名称")).to_have_value(NAME)
    expect_usable_form_modal(page)
    remark = "客户要求下周上门演示3吨电动叉车"
    modal_field(page, "备注").fill(remark)
    mark_list_stale(page)
    page.locator("[data-testid=modal-submit]").click()

    expect_modal_closed(page)
    expect_list_refreshed(page)
    expect(row_of(page, NAME)).to_have_count(1)
    expect_no_reload(page)
    customer.refresh_from_db()
    assert customer.remark == remark
    assert customer.version == 2

    page.goto(f"{live_server.url}/customers/{customer.pk}/?tab=log")
    expect(page.locator(".page-title, h2").filter(has_text=NAME).first).to_be_visible()
    expect(page.locator("#portrait-tabs .nav-link[data-tab=log]")).to_have_class(
        re.compile("active")
    )
    # one readable line per change: the field's label, not its column name (issue 14.9)
    log_rows = page.locator("#portrait-tabs table tbody tr")
    update = log_rows.filter(has_text="备注：")
    expect(update).to_have_count(1)
    expect(update).to_contain_text(remark)
    expect(update).to_contain_text("李业务")
    expect(log_rows.filter(has_text="remark")).to_have_count(0)
    expect(page.locator(".datagrid")).to_contain_text(remark)
    screenshot(page, "customers-portrait-log")


def test_delete_a_row(page, live_server, demo_users, login, screenshot):
    customer = make_customer(demo_users["sales1"], NAME, "15263698652")
    make_customer(demo_users["sales1"], "泉州安达机械有限公司", "13906001234")
    open_list(page, live_server, login)
    expect(row_of(page, NAME)).to_have_count(1)

    modal = page.locator("#modal")
    row_of(page, NAME).get_by_role("link", name="删除").click()
    expect(modal).to_be_visible()
    expect(modal.get_by_text("确定删除吗？")).to_be_visible()
    expect(modal).to_contain_text(NAME)
    screenshot(page, "customers-delete-confirm")
    page.locator("[data-testid=confirm-delete]").click()

    expect_modal_closed(page)
    expect(row_of(page, NAME)).to_have_count(0)
    expect(row_of(page, "泉州安达机械有限公司")).to_have_count(1)
    expect_no_reload(page)
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_duplicate_check(page, live_server, demo_users, login, screenshot):
    make_customer(demo_users["sales1"], SIMILAR_NAME, "13906001234")
    make_customer(demo_users["sales1"], "泉州安达机械有限公司", "13906005678")
    open_list(page, live_server, login)

    modal = page.locator("#modal")
    page.locator("[data-testid=dedupe-button]").click()
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-title")).to_have_text("客户查重")
    modal_field(page, "客户名称").fill("恒通物流")
    page.locator("[data-testid=dedupe-submit]").click()

    results = modal.locator("[data-testid=dedupe-results]")
    expect(results).to_be_visible()
    found = results.locator("tbody tr")
    expect(found).to_have_count(1)
    expect(found.locator("td").nth(0)).to_have_text(SIMILAR_NAME)
    expect(found.locator("td").nth(1)).to_have_text("李业务")
    # 查重 tells who has the customer, never how to reach them.
    expect(results).not_to_contain_text("13906001234")
    expect(modal_field(page, "客户名称")).to_have_value("恒通物流")
    expect_no_reload(page)
    screenshot(page, "customers-dedupe-results")


def test_batch_delete(page, live_server, demo_users, login, screenshot):
    sales1 = demo_users["sales1"]
    first = make_customer(sales1, NAME, "15263698652")
    second = make_customer(sales1, "泉州安达机械有限公司", "13906001234")
    kept = make_customer(sales1, "福州闽江港务有限公司", "13906005678")
    open_list(page, live_server, login)
    expect(page.locator("#object-list tbody input[name=pk]")).to_have_count(3)

    dialogs: list[str] = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    for name in (NAME, "泉州安达机械有限公司"):
        row_of(page, name).locator("input[name=pk]").check()
    page.locator("[data-testid=bulk-menu]").click()
    page.locator(".dropdown-menu").get_by_text("批量删除", exact=True).click()
    # asked in the app's own modal (issue 14.5), never the browser's confirm()
    expect(page.locator("#modal [data-testid=confirm-question]")).to_have_text(
        "确定删除勾选的客户吗？有待收款或单据的客户不会被删除。"
    )
    page.locator("#modal [data-testid=confirm-ok]").click()

    result = page.locator("#modal [data-testid=batch-result]")
    expect(result).to_be_visible()
    expect(result).to_contain_text(re.compile(r"成功\s*2\s*条"))
    expect(result).not_to_contain_text("未处理")
    assert dialogs == []
    expect(row_of(page, NAME)).to_have_count(0)
    expect(row_of(page, "泉州安达机械有限公司")).to_have_count(0)
    expect(row_of(page, "福州闽江港务有限公司")).to_have_count(1)
    screenshot(page, "customers-batch-result")
    expect_no_reload(page)
    assert list(Customer.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not Customer.objects.filter(pk__in=[first.pk, second.pk]).exists()

    page.locator("#modal").get_by_role("button", name="确定").click()
    expect_modal_closed(page)
