"""客户公海 in a real browser: 放入公海, 领取 (one row and a batch) and 转移 from the customer list.

Every flow runs against ``live_server``; the data a flow starts from is made with the services,
the flow itself only uses the page, and the database is checked afterwards.
Screenshots: ``test-artifacts/pool-*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from kehu.audit.models import Action, ChangeLog
from kehu.conftest import DESKTOP
from kehu.customers.models import Customer
from kehu.customers.services import customer_create
from kehu.pool.models import CustomerClaim
from kehu.pool.services import claim_customers, release_customers

pytestmark = pytest.mark.browser

NAME = "厦门恒通物流有限公司"
PHONE = "15263698652"
MASKED_PHONE = "152****8652"


def exact(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def make_customer(owner, name: str, phone: str) -> Customer:
    data = {"name": name, "contact_name": "王五", "contact_phone": phone}
    return customer_create(actor=owner, data=data, confirm_duplicates=True)


def make_pool_customer(owner, name: str, phone: str) -> Customer:
    customer = make_customer(owner, name, phone)
    result = release_customers(actor=owner, ids=[customer.pk])
    assert result.done == [customer.pk], result.refused
    return customer


def rows(page):
    return page.locator("#object-list tbody tr")


def row_of(page, name: str):
    """The list row of the customer called ``name`` (its name is a cell of its own)."""
    return rows(page).filter(has=page.locator("td", has_text=exact(name)))


def batch_result(page):
    return page.locator("#modal [data-testid=batch-result]")


def expect_modal_closed(page) -> None:
    expect(page.locator("#modal")).to_be_hidden()
    expect(page.locator(".modal-backdrop")).to_have_count(0)


def close_result(page) -> None:
    """The result stays on screen after the list has refreshed, until the user closes it."""
    modal = page.locator("#modal")
    expect(modal).to_have_class(re.compile(r"\bshow\b"))  # not fading out
    expect(modal).to_be_visible()
    modal.get_by_role("button", name="确定").click()
    expect_modal_closed(page)


def signed_in(page, live_server, login, username: str) -> None:
    login(page, live_server, username)
    page.wait_for_load_state()  # `login` returns once the URL has changed


def open_list(page, live_server, path: str) -> None:
    page.goto(f"{live_server.url}{path}")
    expect(page.locator("#object-list table")).to_be_visible()
    # Survives only if nothing reloads the page from here on: every step is an HTMX swap.
    page.evaluate("window.kehuNoReload = true")


def expect_no_reload(page) -> None:
    assert page.evaluate("window.kehuNoReload") is True


def bulk_action(page, label: str) -> None:
    page.locator("[data-testid=bulk-menu]").click()
    page.locator(".dropdown-menu").get_by_text(label, exact=True).click()


def pick_in_picker(page, select, text: str) -> None:
    """Type ``text`` into the TomSelect over ``select`` and choose the matching option."""
    wrapper = select.locator("xpath=following-sibling::div[contains(@class, 'ts-wrapper')][1]")
    expect(wrapper).to_be_visible()
    wrapper.locator(".ts-control").click()
    field = wrapper.locator(".ts-control input")
    field.press_sequentially(text)
    option = wrapper.locator(".ts-dropdown .option", has_text=exact(text))
    expect(option).to_have_count(1)
    option.click()
    expect(wrapper.locator(".ts-control .item", has_text=text)).to_have_count(1)


@pytest.fixture
def other_page(browser) -> Iterator:
    """A second user's browser: its own context (cookies), with the ``page`` fixture's checks."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    page.on(
        "response",
        lambda r: (
            problems.append(f"static file {r.status}: {r.url}")
            if "/static/" in r.url and r.status >= 400
            else None
        ),
    )
    page.on(
        "requestfailed",
        lambda r: (
            problems.append(f"static file failed ({r.failure}): {r.url}")
            if "/static/" in r.url
            else None
        ),
    )
    yield page
    context.close()
    assert not problems, "the second page had problems:\n" + "\n".join(problems)


def test_release_then_another_salesperson_claims_and_sees_the_phone(
    page, other_page, live_server, demo_users, login, screenshot
):
    sales1, sales2 = demo_users["sales1"], demo_users["sales2"]
    customer = make_customer(sales1, NAME, PHONE)
    kept = make_customer(sales1, "泉州安达机械有限公司", "13906001234")

    # 1. sales1: the row's 公海 button asks for an optional reason, then releases the customer.
    signed_in(page, live_server, login, "sales1")
    open_list(page, live_server, "/customers/")
    row = row_of(page, NAME)
    expect(row).to_have_count(1)
    row.get_by_role("link", name="公海", exact=True).click()
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-title")).to_have_text("放入公海")
    expect(modal.locator("[data-testid=selected-count]")).to_have_text("1")
    reason = modal.get_by_label("原因（选填）", exact=True)
    expect(reason).to_have_value("")
    reason.fill("客户暂无采购计划")
    screenshot(page, "pool-release-modal")
    modal.locator("[data-testid=modal-submit]").click()

    expect(batch_result(page)).to_be_visible()
    expect(batch_result(page)).to_contain_text(re.compile(r"成功\s*1\s*条"))
    expect(batch_result(page)).not_to_contain_text("未处理")
    expect(row_of(page, NAME)).to_have_count(0)
    expect(row_of(page, "泉州安达机械有限公司")).to_have_count(1)
    screenshot(page, "pool-release-result")
    close_result(page)
    expect_no_reload(page)
    customer.refresh_from_db()
    assert customer.owner is None
    assert customer.previous_owner == sales1
    assert customer.pool is not None
    assert ChangeLog.objects.filter(
        action=Action.TO_POOL, object_id=customer.pk, message="放入公海：客户暂无采购计划"
    ).exists()
    kept.refresh_from_db()
    assert kept.owner == sales1

    # 2. sales2 (another browser): the pool shows the customer with the phone masked.
    signed_in(other_page, live_server, login, "sales2")
    open_list(other_page, live_server, "/pool/")
    pooled = row_of(other_page, NAME)
    expect(pooled).to_have_count(1)
    expect(pooled.locator(".masked")).to_have_text(MASKED_PHONE)
    expect(pooled).to_contain_text("李业务")  # 原负责人
    assert PHONE not in other_page.content()
    screenshot(other_page, "pool-list-masked")

    # 3. 领取 on the row → the result, and the customer leaves the pool.
    pooled.get_by_role("button", name="领取", exact=True).click()
    expect(batch_result(other_page)).to_be_visible()
    expect(batch_result(other_page)).to_contain_text(re.compile(r"成功\s*1\s*条"))
    expect(batch_result(other_page)).not_to_contain_text("未处理")
    expect(row_of(other_page, NAME)).to_have_count(0)
    screenshot(other_page, "pool-claim-result")
    close_result(other_page)
    expect_no_reload(other_page)
    assert PHONE not in other_page.content()

    # 4. Now sales2's own customer: the full phone in 客户列表 and on the portrait.
    open_list(other_page, live_server, "/customers/")
    mine = row_of(other_page, NAME)
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text(PHONE)
    expect(mine).to_contain_text("张业务")
    expect(row_of(other_page, "泉州安达机械有限公司")).to_have_count(0)
    mine.get_by_role("link", name=NAME, exact=True).click()
    expect(other_page).to_have_url(re.compile(rf"/customers/{customer.pk}/"))
    other_page.wait_for_load_state()
    expect(other_page.locator("[data-testid=customer-phone]")).to_have_text(exact(PHONE))
    screenshot(other_page, "pool-claimed-portrait")

    customer.refresh_from_db()
    assert customer.owner == sales2
    assert customer.claimed_at is not None
    assert Customer.objects.filter(owner=sales2).count() == 1


def test_batch_claim_reports_each_customer(page, live_server, demo_users, login, screenshot):
    sales1, sales2, sales3 = (demo_users[u] for u in ("sales1", "sales2", "sales3"))
    first = make_pool_customer(sales1, "漳州南方食品有限公司", "13906001111")
    second = make_pool_customer(sales1, "龙岩闽西矿业有限公司", "13906002222")
    taken = make_pool_customer(sales1, "莆田华兴鞋业有限公司", "13906003333")
    signed_in(page, live_server, login, "sales2")
    open_list(page, live_server, "/pool/")
    expect(page.locator("#object-list tbody input[name=pk]")).to_have_count(3)
    for name in ("漳州南方食品有限公司", "龙岩闽西矿业有限公司", "莆田华兴鞋业有限公司"):
        row_of(page, name).locator("input[name=pk]").check()
    # Meanwhile sales3 is quicker for one of them.
    assert claim_customers(actor=sales3, ids=[taken.pk]).done == [taken.pk]

    # 领取 is a button at the top left of the pool, as in the seed (not inside 操作)
    page.locator("[data-testid=toolbar-left]").get_by_role(
        "button", name="领取", exact=True
    ).click()
    result = batch_result(page)
    expect(result).to_be_visible()
    expect(result).to_contain_text(re.compile(r"成功\s*2\s*条"))
    expect(result).to_contain_text(re.compile(r"未处理\s*1\s*条"))
    refused = result.locator("tbody tr")
    expect(refused).to_have_count(1)
    expect(refused.locator("td").nth(0)).to_have_text("莆田华兴鞋业有限公司")  # a name, not an id
    expect(refused.locator("td").nth(1)).to_have_text("已被他人领取")
    expect(page.locator("#object-list tbody input[name=pk]")).to_have_count(0)
    screenshot(page, "pool-batch-claim-result")
    close_result(page)
    expect_no_reload(page)

    owners = dict(
        Customer.objects.filter(pk__in=[first.pk, second.pk, taken.pk]).values_list(
            "pk", "owner__username"
        )
    )
    assert owners == {first.pk: "sales2", second.pk: "sales2", taken.pk: "sales3"}
    assert set(CustomerClaim.objects.filter(user=sales2).values_list("customer_id", flat=True)) == {
        first.pk,
        second.pk,
    }


def test_transfer_two_customers_to_two_employees_evenly(
    page, live_server, demo_users, login, screenshot, leave_picker
):
    sales1 = demo_users["sales1"]
    names = ("厦门海沧港务有限公司", "泉州晋江纺织有限公司")
    customers = [
        make_customer(sales1, n, p)
        for n, p in zip(names, ("13906004444", "13906005555"), strict=True)
    ]
    make_customer(sales1, "福州闽江船舶有限公司", "13906006666")
    signed_in(page, live_server, login, "manager1")
    open_list(page, live_server, "/customers/")
    for name in names:
        row_of(page, name).locator("input[name=pk]").check()

    bulk_action(page, "转移客户")
    modal = page.locator("#modal")
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-title")).to_have_text("转移客户")
    expect(modal.locator("[data-testid=selected-count]")).to_have_text("2")
    users = modal.locator("select[name=users]")
    expect(users).to_have_class(re.compile(r"\bts-hidden-accessible\b"))
    pick_in_picker(page, users, "张业务")
    pick_in_picker(page, users, "赵业务")
    # The picker stays open for the next name, with a background over the form below it.
    dropdown = modal.locator(".ts-dropdown")
    expect(dropdown).to_be_visible()
    assert dropdown.evaluate("e => getComputedStyle(e).backgroundColor") not in (
        "rgba(0, 0, 0, 0)",
        "transparent",
    )
    screenshot(page, "pool-transfer-picker")
    modal.locator(".modal-title").click()
    leave_picker(users)
    expect(dropdown).to_be_hidden()
    expect(users.locator("option:checked")).to_have_text(["张业务", "赵业务"])
    even = modal.get_by_label("平均分配", exact=True)
    expect(even).to_be_checked()  # the default, and visibly so
    modal.get_by_label("随机分配", exact=True).check()
    even.check()
    expect(even).to_be_checked()
    screenshot(page, "pool-transfer-modal")
    modal.locator("[data-testid=modal-submit]").click()

    result = batch_result(page)
    expect(result).to_be_visible()
    expect(result).to_contain_text(re.compile(r"成功\s*2\s*条"))
    expect(result).not_to_contain_text("未处理")
    for name in names:
        expect(row_of(page, name)).to_have_count(1)
    owners_shown = sorted(
        row_of(page, name).locator("td", has_text=re.compile("^(张业务|赵业务)$")).inner_text()
        for name in names
    )
    assert owners_shown == ["张业务", "赵业务"]
    screenshot(page, "pool-transfer-result")
    close_result(page)
    expect_no_reload(page)

    owners = sorted(
        Customer.objects.filter(pk__in=[c.pk for c in customers]).values_list(
            "owner__username", flat=True
        )
    )
    assert owners == ["sales2", "sales3"]
    assert Customer.objects.get(name="福州闽江船舶有限公司").owner == sales1
