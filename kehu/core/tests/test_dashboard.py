"""首页: my sales funnel (线索 → 客户 → 商机 → 成交) and today's follow-ups, for the signed-in user."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from django.utils import timezone

from kehu.customers.models import Customer
from kehu.customers.services import customer_create
from kehu.sales.services import lead_save, opportunity_save


def make_customer(user, name, phone):
    return customer_create(
        actor=user,
        data={"name": name, "contact_name": "王五", "contact_phone": phone},
        confirm_duplicates=True,
    )


def funnel_of(html: str) -> list[dict]:
    return json.loads(
        re.search(
            r'<script id="funnel-data" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )


def test_the_funnel_counts_my_own_leads_customers_opportunities_and_wins(org, client_for):
    sales1, sales2 = org["sales1"], org["sales2"]
    lead_save(
        actor=sales1,
        instance=None,
        data={"name": "线索甲", "contact_name": "甲", "contact_phone": "13900000001"},
    )
    mine = make_customer(sales1, "甲公司", "13900000011")
    make_customer(sales1, "乙公司", "13900000012")
    opportunity_save(actor=sales1, instance=None, data={"customer": mine, "name": "叉车"})
    Customer.objects.filter(pk=mine.pk).update(status="won")
    make_customer(sales2, "丙公司", "13900000013")  # a colleague's: not in my funnel
    html = client_for("sales1").get("/").content.decode()
    assert funnel_of(html) == [
        {"name": "跟进中线索", "value": 1},
        {"name": "我的客户", "value": 2},
        {"name": "进行中商机", "value": 1},
        {"name": "已成交客户", "value": 1},
    ]
    assert 'id="funnel-chart"' in html and "echarts" in html


def test_stages_a_role_may_not_see_are_left_out(org, client_for):
    html = client_for("finance1").get("/").content.decode()
    names = [stage["name"] for stage in funnel_of(html)]
    assert "跟进中线索" not in names and "进行中商机" not in names


def test_today_and_overdue_followups_are_listed(org, client_for):
    sales1 = org["sales1"]
    today = make_customer(sales1, "今天跟进公司", "13900000021")
    late = make_customer(sales1, "逾期公司", "13900000022")
    now = timezone.localtime()
    Customer.objects.filter(pk=today.pk).update(next_followup_at=now.replace(hour=23, minute=0))
    Customer.objects.filter(pk=late.pk).update(next_followup_at=now - timedelta(days=2))
    html = client_for("sales1").get("/").content.decode()
    block = html[html.index('data-testid="dashboard-today"') :]
    assert "今天跟进公司" in block and "逾期公司" in block and "已逾期" in block
    other = client_for("sales2").get("/").content.decode()
    assert "今天跟进公司" not in other and "今天没有待跟进的客户" in other
