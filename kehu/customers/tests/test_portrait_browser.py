"""客户画像 in a real browser (issue 13): 测试客户A有限公司 of the demo data, every tab clicked
(URL kept, back works), a follow-up and a contact added from their tabs, 转入公海 and the page
turning into the pool view without a reload, 同比增幅 with a custom period and its charts.
Screenshots at 1440 and 390 px: test-artifacts/portrait-*.png."""

from __future__ import annotations

import re
from importlib import import_module

import pytest
from playwright.sync_api import expect

from kehu.customers.models import Customer

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def sample(demo_users):
    from django.db import transaction

    from kehu.core.management.commands.seed_demo import DEMO_MODULES

    with transaction.atomic():  # as manage.py seed_demo loads them
        for module in DEMO_MODULES[1:]:
            import_module(module).seed(demo_users)
    return Customer.objects.get(name="测试客户A有限公司")


def active_tab(page):
    return page.locator("#portrait-tabs .nav-link.active")


def test_the_portrait_click_by_click(page, live_server, sample, login, screenshot):
    page.set_viewport_size(DESKTOP)
    login(page, live_server, "sales1")
    page.goto(f"{live_server.url}/customers/{sample.pk}/")
    expect(page.locator("[data-testid=portrait-title]")).to_contain_text("测试客户A有限公司")
    expect(page.locator("[data-testid=portrait-map]")).to_have_attribute("data-rendered", "1")
    expect(page.locator("[data-testid=total-spend]")).not_to_have_text("0.00")
    screenshot(page, "portrait-desktop")

    # Every tab, in the seed's order, over HTMX: the URL keeps it, its rows come with it.
    links = page.locator("#portrait-tabs .nav-link")
    keys = [links.nth(i).get_attribute("data-tab") for i in range(links.count())]
    assert len(keys) >= 12 and keys[0] == "followups" and keys[-1] == "log"
    for key in keys:
        page.locator(f"#portrait-tabs .nav-link[data-tab={key}]").click()
        expect(active_tab(page)).to_have_attribute("data-tab", key)
        expect(page).to_have_url(re.compile(rf"\?tab={key}$"))
        expect(page.locator(f"[data-testid=tab-{key}]")).to_be_visible()
    screenshot(page, "portrait-tab-log")
    page.go_back()
    expect(active_tab(page)).to_have_attribute("data-tab", keys[-2])
    page.reload()
    expect(active_tab(page)).to_have_attribute("data-tab", keys[-2])

    # 跟进记录 → 【添加】: the dialog, customer preset, 本次跟进时间 now.
    page.locator("#portrait-tabs .nav-link[data-tab=followups]").click()
    count = page.locator("[data-tab-count=followups]")
    before = int(count.inner_text())
    page.locator("[data-testid=followup-add]").click()
    modal = page.locator("#modal")
    expect(modal.locator(".modal-title")).to_have_text("添加跟进记录")
    expect(modal.locator("[data-testid=followup-customer]")).to_have_text("测试客户A有限公司")
    expect(modal.get_by_label("本次跟进时间")).not_to_have_value("")
    modal.locator("[data-testid=followup-submit]").click()  # no content: refused in Chinese
    expect(modal).to_contain_text("请填写跟进内容")
    modal.get_by_label("跟进内容").fill("电话回访，客户下月考虑增购两台叉车")
    screenshot(page, "portrait-followup-dialog")
    modal.locator("[data-testid=followup-submit]").click()
    expect(modal).to_be_hidden()
    expect(page.locator("[data-testid=followups-list]")).to_contain_text("客户下月考虑增购两台叉车")
    expect(page.locator("[data-tab-count=followups]")).to_have_text(str(before + 1))
    expect(page.locator("[data-testid=last-followup]")).not_to_have_text("—")

    # 联系人 → 添加
    page.locator("#portrait-tabs .nav-link[data-tab=contacts]").click()
    page.locator("[data-testid=contact-add]").click()
    expect(modal.locator(".modal-title")).to_have_text("添加联系人")
    modal.get_by_label("姓名", exact=True).fill("王采购")
    modal.get_by_label("手机", exact=True).fill("13912345678")
    modal.locator("[data-testid=modal-submit]").click()
    expect(modal).to_be_hidden()
    expect(page.locator("[data-testid=contacts-table]")).to_contain_text("13912345678")

    # 转入公海: the page turns into the pool view (owner, full phone and buttons gone).
    expect(page.locator("[data-testid=customer-phone]")).to_have_text("15260692573")
    page.locator("[data-testid=action-release]").click()
    expect(modal.locator(".modal-title")).to_have_text("放入公海")
    modal.locator("[data-testid=modal-submit]").click()
    expect(page.locator("[data-testid=owner]")).to_have_text("公海")
    expect(page.locator("[data-testid=customer-phone]")).to_have_text("152****2573")
    expect(page.locator("[data-testid=action-release]")).to_have_count(0)
    expect(page.locator("[data-testid=action-edit]")).to_have_count(0)
    expect(page.locator("[data-testid=pool-badge]")).to_be_visible()
    expect(page.locator("[data-testid=contacts-table]")).not_to_contain_text("13912345678")
    expect(page.locator("[data-testid=contacts-table]")).to_contain_text("139****5678")
    screenshot(page, "portrait-release-result")
    modal.locator("[data-bs-dismiss=modal]").first.click()
    expect(modal).to_be_hidden()
    screenshot(page, "portrait-after-release")

    # 同比增幅 with a custom period: the table and the charts.
    page.locator("[data-testid=action-yoy]").click()
    expect(page.locator("[data-testid=yoy-table]")).to_be_visible()
    page.locator("[data-testid=yoy-from]").fill("2025-07-01")
    page.locator("[data-testid=yoy-to]").fill("2025-12-31")
    page.locator("[data-testid=yoy-compare-from]").fill("2024-07-01")
    page.locator("[data-testid=yoy-compare-to]").fill("2024-12-31")
    page.locator("[data-testid=yoy-submit]").click()
    expect(page.locator("[data-testid=yoy-periods]")).to_contain_text("2025-07-01 至 2025-12-31")
    expect(page).to_have_url(re.compile(r"from=2025-07-01"))
    expect(page.locator("[data-testid=yoy-bar]")).to_have_attribute("data-rendered", "1")
    expect(page.locator("[data-testid=yoy-trend]")).to_have_attribute("data-rendered", "1")
    vehicle = page.locator("tr[data-kind=vehicle] td").nth(1)
    expect(vehicle).not_to_have_text("0.00")
    expect(page.locator("[data-testid=growth-vehicle]")).to_have_text("—")  # nothing in 2024 H2
    screenshot(page, "portrait-yoy-desktop")

    page.set_viewport_size(PHONE)
    page.reload()
    expect(page.locator("[data-testid=yoy-bar]")).to_have_attribute("data-rendered", "1")
    screenshot(page, "portrait-yoy-phone")
    page.goto(f"{live_server.url}/customers/{sample.pk}/?tab=contacts")
    expect(page.locator("[data-testid=portrait-map]")).to_have_attribute("data-rendered", "1")
    screenshot(page, "portrait-phone")


def test_the_log_tab_reads_in_the_users_language(page, live_server, sample, login, screenshot):
    """日志 as /audit/ shows it: field labels and display values, no column names."""
    from kehu.basics.models import DictEntry, DictKind
    from kehu.customers.services import customer_update

    for name in ("B普通客户", "A重点客户"):
        sample.refresh_from_db()
        customer_update(
            actor=sample.owner,
            customer=sample,
            data={"level": DictEntry.objects.get(kind=DictKind.LEVEL, name=name).pk},
            version=sample.version,
            partial=True,
        )
    page.set_viewport_size(DESKTOP)
    login(page, live_server, sample.owner.username)
    page.goto(f"{live_server.url}/customers/{sample.pk}/?tab=log")
    lines = page.locator("[data-testid=tab-log] [data-testid=log-lines]")
    expect(lines.first).to_contain_text("客户等级：B普通客户 → A重点客户")
    expect(page.locator("[data-testid=tab-log]")).not_to_contain_text("level")
    screenshot(page, "portrait-log-desktop")
    page.set_viewport_size(PHONE)
    expect(lines.first).to_be_visible()
    screenshot(page, "portrait-log-phone")
