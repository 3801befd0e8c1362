"""跟进 in a real browser: from the customer list's 跟进 button to 今日待跟进 and the badge."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kehu.customers.services import customer_create
from kehu.followups.models import FollowUp

pytestmark = pytest.mark.browser


def test_follow_up_from_the_list_updates_the_badge_and_todo(
    page, live_server, demo_users, login, screenshot
):
    sales1 = demo_users["sales1"]
    customer = customer_create(
        actor=sales1,
        data={"name": "跟进测试有限公司", "contact_name": "王五", "contact_phone": "13912340000"},
        confirm_duplicates=True,
    )
    login(page, live_server, "sales1")
    page.goto(f"{live_server.url}/customers/")
    # the badge loads after the page (no page waits for its count)
    page.wait_for_selector("body[data-todo-loaded]", state="attached")
    badge = page.locator("aside [data-todo-badge]")
    before = int(badge.inner_text())
    row = page.locator("#object-list tbody tr", has_text="跟进测试有限公司")
    row.get_by_role("link", name="跟进", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/\?tab=followups$"))
    # the history first, 【添加】 opens the follow-up dialog (the seed's 跟进记录 tab)
    page.locator("[data-testid=followup-add]").click()
    form = page.locator("#modal [data-testid=followup-form]")
    expect(form).to_be_visible()
    today = timezone.localdate().isoformat()
    form.get_by_label("跟进类型").select_option(label="电话")
    form.get_by_label("跟进内容").fill("电话沟通：客户下周要看3吨电动叉车")
    form.get_by_label("本次跟进时间").fill(f"{today}T00:01")
    form.get_by_label("下次跟进时间").fill(f"{today}T23:58")
    screenshot(page, "followups-form-filled")
    form.locator("[data-testid=followup-submit]").click()
    expect(page.locator("[data-testid=followups-list]")).to_contain_text("客户下周要看3吨电动叉车")
    expect(page.locator("aside [data-todo-badge]")).to_have_text(str(before + 1))
    screenshot(page, "followups-added")
    assert FollowUp.objects.get().author == sales1

    page.locator("aside").get_by_role("link", name=re.compile("通知代办")).click()
    expect(page.locator("[data-testid=todo-today]")).to_contain_text("跟进测试有限公司")
    screenshot(page, "followups-todo")


def test_empty_content_is_refused_next_to_the_field(page, live_server, demo_users, login):
    customer = customer_create(
        actor=demo_users["sales1"],
        data={"name": "空内容测试", "contact_name": "甲", "contact_phone": "13912340001"},
        confirm_duplicates=True,
    )
    login(page, live_server, "sales1")
    page.goto(f"{live_server.url}/customers/{customer.pk}/?tab=followups")
    page.locator("[data-testid=followup-add]").click()
    page.locator("#modal [data-testid=followup-submit]").click()
    expect(page.locator("#modal [data-field-error=content]")).to_contain_text("请填写跟进内容")
    assert FollowUp.objects.count() == 0
