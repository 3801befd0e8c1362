"""The lists at 1440 px and 390 px (issue 14.1, 14.2): row actions and the customer's name are on
screen without scrolling; the name (and the actions) stay put while the other columns scroll;
the seed's buttons sit at the top left (添加 / 导入 / 查重; on the pool 领取 / 转移); a column
chooser hides columns and remembers the choice for the user.

Screenshots: ``test-artifacts/list-customers-1440.png``, ``list-customers-390.png``,
``list-pool-1440.png``, ``list-pool-390.png``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from kehu.customers.models import Customer
from kehu.customers.services import customer_create
from kehu.pool.services import release_customers

pytestmark = pytest.mark.browser

WIDE = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def make_customers(owner, count: int, prefix: str) -> list[Customer]:
    made = []
    for i in range(count):
        data = {
            "name": f"{prefix}{i:02d}叉车租赁有限公司",
            "contact_name": "王五",
            "contact_phone": f"139{i:04d}{i:04d}",
        }
        made.append(customer_create(actor=owner, data=data, confirm_duplicates=True))
    # big amounts in every receivable column: the widest the money columns get
    Customer.objects.filter(pk__in=[c.pk for c in made]).update(
        receivable_vehicle=Decimal("1250000.00"),
        receivable_parts=Decimal("38000.50"),
        receivable_repair=Decimal("990.00"),
        receivable_total=Decimal("1288990.50"),
    )
    return made


def visible_in(page, locator, box_selector: str = "#object-list .table-responsive") -> bool:
    """Is the element inside the scrolling box's visible area (and the window's)?"""
    return locator.evaluate(
        """(el, sel) => {
            const box = document.querySelector(sel).getBoundingClientRect();
            const r = el.getBoundingClientRect();
            return r.width > 0 && r.left >= box.left - 1 && r.right <= box.right + 1
                && r.right <= window.innerWidth + 1;
        }""",
        box_selector,
    )


def scroll_table_to_end(page) -> None:
    page.locator("#object-list .table-responsive").evaluate("e => { e.scrollLeft = e.scrollWidth }")
    page.wait_for_timeout(50)


def toolbar_on_one_line(page) -> bool:
    """On a phone the list's toolbar (添加 … 搜索) is a single row of buttons."""
    tops = page.locator("[data-testid=list-toolbar] .btn:visible").evaluate_all(
        "els => els.map(e => Math.round(e.getBoundingClientRect().top))"
    )
    return len(tops) >= 4 and max(tops) - min(tops) <= 2


def first_row(page):
    return page.locator("#object-list tbody tr").first


def test_customer_list_actions_and_name_on_screen(page, live_server, demo_users, login, screenshot):
    make_customers(demo_users["sales1"], 22, "厦门")
    page.set_viewport_size(WIDE)
    login(page, live_server, "sales1")
    page.goto(f"{live_server.url}/customers/")
    row = first_row(page)
    expect(row).to_be_visible()

    # the seed's 添加 / 导入 / 查重 at the top left of the list, 搜索 at its right
    toolbar = page.locator("[data-testid=list-toolbar]")
    left = toolbar.locator("[data-testid=toolbar-left]")
    for testid in ("add-button", "import-button", "dedupe-button", "bulk-menu"):
        expect(left.locator(f"[data-testid={testid}]")).to_be_visible()
    add_box = left.locator("[data-testid=add-button]").bounding_box()
    search_box = toolbar.get_by_role("button", name="搜索").bounding_box()
    assert add_box["x"] < search_box["x"]

    # 操作 first: 编辑 / 跟进 / 公海 / 删除 and the name visible without scrolling
    for label in ("编辑", "跟进", "公海", "删除"):
        link = row.get_by_role("link", name=label, exact=True)
        expect(link).to_be_visible()
        assert visible_in(page, link), label
    name = row.locator("td.kehu-col-name a")
    assert visible_in(page, name)
    screenshot(page, "list-customers-1440")

    # scrolled to the last columns, the name and the actions stay on screen (sticky)
    scroll_table_to_end(page)
    assert page.locator("#object-list .table-responsive").evaluate("e => e.scrollLeft") > 0
    assert visible_in(page, name)
    assert visible_in(page, row.get_by_role("link", name="删除", exact=True))
    owner = row.locator("td.kehu-col-owner")
    assert visible_in(page, owner)
    expect(owner).to_have_text("李业务")
    screenshot(page, "list-customers-1440-scrolled")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/customers/")
    row = first_row(page)
    expect(row).to_be_visible()
    assert visible_in(page, row.get_by_role("link", name="编辑", exact=True))
    expect(page.locator("[data-testid=add-button]")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert toolbar_on_one_line(page)
    # the icon-only buttons keep their names (screen readers, tests, the tooltip)
    expect(page.get_by_role("button", name="搜索")).to_be_visible()
    screenshot(page, "list-customers-390")


def test_pool_list_claim_and_transfer_top_left(page, live_server, demo_users, login, screenshot):
    customers = make_customers(demo_users["sales1"], 21, "泉州")
    result = release_customers(actor=demo_users["sales1"], ids=[c.pk for c in customers])
    assert len(result.done) == 21
    page.set_viewport_size(WIDE)
    login(page, live_server, "manager1")
    page.goto(f"{live_server.url}/pool/")
    row = first_row(page)
    expect(row).to_be_visible()

    left = page.locator("[data-testid=toolbar-left]")
    expect(left.get_by_role("button", name="领取", exact=True)).to_be_visible()
    expect(left.get_by_role("button", name="转移", exact=True)).to_be_visible()
    # not repeated inside the 操作 menu
    menu = page.locator("[data-testid=bulk-menu] + .dropdown-menu")
    expect(menu.get_by_text("领取", exact=True)).to_have_count(0)
    expect(menu.get_by_text("转移", exact=True)).to_have_count(0)

    claim = row.get_by_role("button", name="领取", exact=True)
    assert visible_in(page, claim)
    assert visible_in(page, row.locator("td.kehu-col-name a"))
    screenshot(page, "list-pool-1440")
    scroll_table_to_end(page)
    assert visible_in(page, row.locator("td.kehu-col-name a"))
    assert visible_in(page, claim)

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/pool/")
    row = first_row(page)
    assert visible_in(page, row.get_by_role("button", name="领取", exact=True))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert toolbar_on_one_line(page)
    screenshot(page, "list-pool-390")


def test_column_chooser_is_remembered_for_the_user(
    page, live_server, demo_users, login, screenshot
):
    make_customers(demo_users["sales1"], 2, "福州")
    page.set_viewport_size(WIDE)
    login(page, live_server, "sales1")
    page.goto(f"{live_server.url}/customers/")
    header = page.locator("#object-list thead")
    expect(header.get_by_text("整车订单", exact=True)).to_be_visible()

    page.locator("[data-testid=columns-button]").click()
    modal = page.locator("#modal")
    expect(modal.locator(".modal-title")).to_have_text("显示的列")
    # the name and the actions cannot be hidden
    expect(modal.get_by_label("客户名称", exact=True)).to_be_disabled()
    for label in ("整车订单", "配件订单", "二手车订单"):
        modal.get_by_label(label, exact=True).uncheck()
    screenshot(page, "list-customers-columns")
    modal.locator("[data-testid=modal-submit]").click()
    expect(modal).to_be_hidden()
    expect(header.get_by_text("整车订单", exact=True)).to_have_count(0)
    expect(header.get_by_text("维修订单", exact=True)).to_be_visible()

    # remembered: a new visit, even from another browser, shows the same columns
    page.context.clear_cookies()
    login(page, live_server, "sales1")
    page.goto(f"{live_server.url}/customers/")
    expect(page.locator("#object-list thead").get_by_text("客户名称")).to_be_visible()
    expect(page.locator("#object-list thead").get_by_text("配件订单", exact=True)).to_have_count(0)
    # another user's list is untouched
    page.context.clear_cookies()
    login(page, live_server, "manager1")
    page.goto(f"{live_server.url}/customers/")
    expect(page.locator("#object-list thead").get_by_text("配件订单", exact=True)).to_be_visible()


def test_batch_delete_asks_in_a_styled_modal_and_names_refusals(
    page, live_server, demo_users, login, screenshot
):
    owed, free = make_customers(demo_users["sales1"], 2, "漳州")
    Customer.objects.filter(pk=free.pk).update(
        receivable_vehicle=0, receivable_parts=0, receivable_repair=0
    )
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_viewport_size(WIDE)
    login(page, live_server, "sales1")
    page.goto(f"{live_server.url}/customers/")
    modal = page.locator("#modal")

    # a delete that will be refused says so before any confirmation, with 删除 disabled
    owed_row = page.locator("#object-list tbody tr", has_text=owed.name)
    owed_row.get_by_role("link", name="删除", exact=True).click()
    expect(modal.get_by_text("不能删除", exact=True)).to_be_visible()
    expect(modal.locator("[data-testid=form-error]")).to_have_text("该客户有待收款金额，不能删除")
    expect(modal.locator("[data-testid=confirm-delete]")).to_be_disabled()
    screenshot(page, "customers-delete-refused-up-front")
    modal.get_by_role("button", name="取消").click()
    expect(modal).to_be_hidden()

    for customer in (owed, free):
        page.locator("#object-list tbody tr", has_text=customer.name).locator(
            "input[name=pk]"
        ).check()
    page.locator("[data-testid=bulk-menu]").click()
    page.locator(".dropdown-menu").get_by_text("批量删除", exact=True).click()
    question = modal.locator("[data-testid=confirm-question]")
    expect(question).to_contain_text("确定删除勾选的客户吗")
    screenshot(page, "customers-batch-delete-confirm")
    modal.locator("[data-testid=confirm-ok]").click()
    result = modal.locator("[data-testid=batch-result]")
    expect(result).to_contain_text("成功 1 条")
    expect(result.locator("[data-testid=batch-refused] tbody td").first).to_have_text(owed.name)
    screenshot(page, "customers-batch-delete-result")
    assert dialogs == []  # never the browser's confirm()
    assert not Customer.objects.filter(pk=free.pk).exists()
    assert Customer.objects.filter(pk=owed.pk).exists()


def test_owner_and_creator_pickers_show_the_first_users_before_typing(
    page, live_server, demo_users, login, screenshot
):
    """负责人 / 创建人 in the search panel (issue 14.3): focusing the picker lists the first
    employees at once; typing narrows them; the choice filters the list."""
    make_customers(demo_users["sales1"], 2, "漳州")
    make_customers(demo_users["sales2"], 1, "龙岩")
    page.set_viewport_size(WIDE)
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/customers/")
    page.get_by_role("button", name="搜索").click()
    panel = page.locator("#search-panel")
    expect(panel).to_be_visible()
    for field in ("owner", "creator"):
        wrapper = panel.locator(f"#id_{field} + .ts-wrapper, #id_{field}-ts-control").first
        wrapper.click()
        dropdown = panel.locator(f"#id_{field}-ts-dropdown")
        expect(dropdown.locator(".option").first).to_be_visible()
        names = dropdown.locator(".option").all_inner_texts()
        # nothing typed, yet every demo employee is there (fewer than the first 50)
        for username in ("sales1", "sales2", "manager1", "service1"):
            assert demo_users[username].display_name in names, (field, names)
        page.keyboard.press("Escape")
    owner = panel.locator("#id_owner + .ts-wrapper").first
    owner.click()
    page.keyboard.type(demo_users["sales2"].display_name)
    dropdown = panel.locator("#id_owner-ts-dropdown")
    expect(dropdown.locator(".option")).to_have_count(1)
    screenshot(page, "picker-owner-preload-1440")
    dropdown.locator(".option").first.click()
    panel.get_by_role("button", name="搜索", exact=True).click()
    expect(page.locator("#object-list tbody tr")).to_have_count(1)
    expect(page.locator("#object-list tbody tr").first).to_contain_text("龙岩00叉车租赁有限公司")
