"""首页 per role (issue 13 point 5, issue 14 point 18).

Every number on the page is a link to the list it counts: the tests follow each link and check
that the list says the same count ("总共 N 条记录"), for each role, against fixtures whose
figures are known."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.aftersales.models import MaintenanceOrder, RepairOrder, ServiceStatus, Vehicle
from kehu.core.dashboard import overdue_text
from kehu.customers.models import Customer, CustomerShare
from kehu.customers.services import customer_create
from kehu.documents import approval
from kehu.documents.services import document_save
from kehu.documents.types import registry
from kehu.sales.models import Contract, OpportunityStatus
from kehu.sales.services import opportunity_save

CONTRACT, PAYMENT, PLAN = (registry[k] for k in ("contract", "payment", "paymentplan"))
FIGURE = re.compile(r'<a [^>]*href="([^"]+)"[^>]*data-figure="([^"]+)"[^>]*>(\d+)</a>')
FIGURE_SPAN = re.compile(
    r'<a [^>]*href="([^"]+)"[^>]*>(?:(?!</a>).)*?<span[^>]*data-figure="([^"]+)"[^>]*>(\d+)</span>',
    re.S,
)
TOTAL = re.compile(r"总共\s*(\d+)\s*条记录")


def make_customer(user, name, phone, **data):
    return customer_create(
        actor=user,
        data={"name": name, "contact_name": "王五", "contact_phone": phone, **data},
        confirm_duplicates=True,
    )


def figures_of(html: str) -> dict[str, tuple[str, int]]:
    """``{figure key: (url, number)}`` of every linked number on the page."""
    found = {}
    for url, key, value in FIGURE.findall(html):
        found[key] = (url.replace("&amp;", "&"), int(value))
    for url, key, value in FIGURE_SPAN.findall(html):
        found[key] = (url.replace("&amp;", "&"), int(value))
    return found


def list_count(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    match = TOTAL.search(response.content.decode())
    assert match, f"no count on {url}"
    return int(match.group(1))


def assert_each_number_is_its_list(client, figures: dict[str, tuple[str, int]]) -> None:
    for key, (url, value) in figures.items():
        assert list_count(client, url) == value, f"{key}: {url}"


def contract(org, customer, amount, kind="vehicle", *, actor="sales1", approved=True, **data):
    doc = document_save(
        CONTRACT,
        actor=org[actor],
        instance=None,
        data={
            "customer": customer.pk,
            "name": "整车销售合同",
            "kind": kind,
            "amount": amount,
            **data,
        },
    )
    if approved:
        approval.submit(CONTRACT, actor=org[actor], doc=doc)
        approval.approve(CONTRACT, actor=org["manager1"], doc=doc)
        doc.refresh_from_db()
    return doc


def payment(org, doc, amount, *, approved=True, actor="sales1"):
    pay = document_save(
        PAYMENT, actor=org[actor], instance=None, data={"contract": doc.pk, "amount": amount}
    )
    approval.submit(PAYMENT, actor=org[actor], doc=pay)
    if approved:
        approval.approve(PAYMENT, actor=org["finance1"], doc=pay)
    return pay


@pytest.fixture
def sales_data(org):
    """sales1: 2 due today, 1 overdue, an approved contract (整车 300,000), a 配件 contract half
    paid, 2 open 商机 and a lost one, one payment plan due; sales2 and sales3 their own."""
    sales1, sales2, sales3 = org["sales1"], org["sales2"], org["sales3"]
    now = timezone.localtime()
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today_a = make_customer(sales1, "今天跟进甲公司", "13900000001")
    today_b = make_customer(sales1, "今天跟进乙公司", "13900000002")
    late = make_customer(sales1, "逾期公司", "13900000003")
    quiet = make_customer(sales1, "安静公司", "13900000004")
    Customer.objects.filter(pk__in=[today_a.pk, today_b.pk]).update(
        next_followup_at=start + timedelta(hours=23)
    )
    Customer.objects.filter(pk=late.pk).update(next_followup_at=start - timedelta(days=3))
    vehicle = contract(org, quiet, "300000")
    parts = contract(org, late, "1000", "parts")
    payment(org, parts, "400")
    document_save(
        PLAN,
        actor=sales1,
        instance=None,
        data={
            "contract": vehicle.pk,
            "instalment": 1,
            "amount": "100000",
            "due_at": (now + timedelta(days=1)).date(),
            "remind_days": 3,
        },
    )
    for name, status in (("叉车A", "open"), ("叉车B", "open"), ("叉车C", "lost")):
        opp = opportunity_save(actor=sales1, instance=None, data={"customer": quiet, "name": name})
        if status != "open":
            type(opp).objects.filter(pk=opp.pk).update(status=status)
    other = make_customer(sales2, "同事公司", "13900000011")
    Customer.objects.filter(pk=other.pk).update(next_followup_at=start + timedelta(hours=22))
    contract(org, other, "5000", "lease", actor="sales2")
    opportunity_save(actor=sales2, instance=None, data={"customer": other, "name": "租赁"})
    far = make_customer(sales3, "二部公司", "13900000021")
    Customer.objects.filter(pk=far.pk).update(next_followup_at=start - timedelta(days=1))
    return {"quiet": quiet, "late": late, "vehicle": vehicle, "parts": parts}


def test_overdue_wording_says_hours_under_a_day_then_days():
    now = timezone.now()
    assert overdue_text(now - timedelta(hours=20, minutes=59), now) == "已逾期 20 小时"
    assert overdue_text(now - timedelta(hours=24), now) == "逾期 1 天"
    assert overdue_text(now - timedelta(days=12, hours=23), now) == "逾期 12 天"
    assert overdue_text(now - timedelta(minutes=5), now) == "已逾期 5 分钟"
    assert overdue_text(now - timedelta(seconds=10), now) == "已逾期 1 分钟"


def test_salesperson_sees_own_figures_each_equal_to_its_list(org, client_for, sales_data):
    client = client_for("sales1")
    html = client.get("/").content.decode()
    figures = figures_of(html)
    values = {k: v for k, (_u, v) in figures.items()}
    assert values["mine-today"] == 2 and values["mine-overdue"] == 1
    assert values["mine-plans-due"] == 1
    assert values["receivable-total"] == 2  # 安静公司 (整车) and 逾期公司 (配件 600 left)
    assert values["receivable-vehicle"] == 1 and values["receivable-parts"] == 1
    assert values["receivable-lease"] == 0  # sales2's lease contract is not mine
    assert values["mine-opportunity-open"] == 2 and values["mine-opportunity-lost"] == 1
    assert values["mine-opportunity-won"] == 0
    block = html[html.index('data-testid="mine-receivables"') :]
    assert "300,600.00" in block and "300,000.00" in block and "600.00" in block
    assert "逾期 3 天" in html and "同事公司" not in html
    assert 'data-testid="team"' not in html and 'data-testid="ageing"' not in html
    assert_each_number_is_its_list(client, figures)


def test_manager_sees_the_team_by_member_with_drill_down(org, client_for, sales_data):
    client = client_for("manager1")
    html = client.get("/").content.decode()
    assert 'data-testid="team"' in html
    assert org["sales3"].display_name in html  # every member has a row, by name
    figures = figures_of(html)
    values = {k: v for k, (_u, v) in figures.items()}
    s1, s2, s3 = (org[u].pk for u in ("sales1", "sales2", "sales3"))
    assert values[f"team-{s1}-customers"] == 4 and values[f"team-{s2}-customers"] == 1
    assert values[f"team-{s1}-today"] == 2 and values[f"team-{s2}-today"] == 1
    assert values[f"team-{s3}-overdue"] == 1 and values[f"team-{s1}-overdue"] == 1
    assert values[f"team-{s1}-opportunity-open"] == 2
    assert values[f"team-{s2}-opportunity-open"] == 1
    assert values["team-total-customers"] == 6 and values["team-total-today"] == 3
    assert values["team-total-opportunity-open"] == 3
    assert values["team-receivable-lease"] == 1  # the team's receivables include sales2's
    # the manager approved the contracts: nothing waits on him; his own figures are zero
    assert values["mine-today"] == 0
    assert_each_number_is_its_list(client, figures)


def test_approvals_waiting_link_to_the_documents_waiting_on_me(org, client_for, sales_data):
    contract(org, sales_data["quiet"], "8000", approved=False)
    draft = Contract.objects.filter(amount=Decimal("8000")).get()
    approval.submit(CONTRACT, actor=org["sales1"], doc=draft)
    payment(org, sales_data["vehicle"], "1000", approved=False)
    manager = client_for("manager1")
    figures = figures_of(manager.get("/").content.decode())
    assert figures["approvals-contract"][1] == 1
    assert_each_number_is_its_list(manager, {"approvals-contract": figures["approvals-contract"]})
    finance = client_for("finance1")
    html = finance.get("/").content.decode()
    figures = figures_of(html)
    assert figures["approvals-payment"][1] == 1
    assert figures.get("approvals-contract", ("", 0))[1] == 0  # it waits on the leader
    assert_each_number_is_its_list(finance, figures)


def test_finance_sees_receivables_ageing_by_bucket(org, client_for, sales_data):
    Contract.objects.filter(pk=sales_data["vehicle"].pk).update(
        signed_at=timezone.now() - timedelta(days=45)
    )
    old = contract(org, sales_data["quiet"], "2000", "used_vehicle")
    Contract.objects.filter(pk=old.pk).update(signed_at=timezone.now() - timedelta(days=120))
    paid_off = contract(org, sales_data["quiet"], "700", "parts")
    payment(org, paid_off, "700")  # nothing left: not in any bucket
    client = client_for("finance1")
    html = client.get("/").content.decode()
    figures = figures_of(html)
    values = {k: v for k, (_u, v) in figures.items()}
    # 逾期公司's 配件 (600 left) and sales2's 租赁 are recent; the 整车 is 45 days old
    assert values["ageing-contract-0-30"] == 2
    assert values["ageing-contract-31-60"] == 1
    assert values["ageing-contract-61-90"] == 0
    assert values["ageing-contract-90+"] == 1
    block = html[html.index('data-testid="ageing"') :]
    assert "300,000.00" in block and "2,000.00" in block and "5,600.00" in block
    assert "签约日期" in html  # the definition is stated on the page
    assert 'data-testid="team"' not in html
    assert_each_number_is_its_list(client, figures)


def test_aftersales_sees_own_orders_by_state_and_maintenance_due(org, client_for, sales_data):
    service1 = org["service1"]
    customer = sales_data["quiet"]
    CustomerShare.objects.create(customer=customer, user=service1)  # 售后 sees shared ones
    today = timezone.localdate()
    vehicle = Vehicle.objects.create(
        number="CL-T1",
        name="叉车1",
        customer=customer,
        next_maintenance_at=today + timedelta(days=5),
    )
    Vehicle.objects.create(
        number="CL-T2",
        name="叉车2",
        customer=customer,
        next_maintenance_at=today - timedelta(days=2),
    )
    for status in (ServiceStatus.IN_PROGRESS, ServiceStatus.IN_PROGRESS, ServiceStatus.COMPLETED):
        RepairOrder.objects.create(
            number=f"WX-T{RepairOrder.objects.count()}",
            customer=customer,
            vehicle=vehicle,
            contact_name="王五",
            contact_phone="13900000004",
            status=status,
            assignee=service1,
        )
    MaintenanceOrder.objects.create(
        number="BY-T1",
        customer=customer,
        vehicle=vehicle,
        contact_name="王五",
        contact_phone="13900000004",
        status=ServiceStatus.AWAITING_DISPATCH,
    )  # not dispatched to me
    client = client_for("service1")
    html = client.get("/").content.decode()
    figures = figures_of(html)
    values = {k: v for k, (_u, v) in figures.items()}
    assert values["orders-repairorder-in_progress"] == 2
    assert values["orders-repairorder-completed"] == 1
    assert values["orders-maintenanceorder-awaiting_dispatch"] == 0
    assert values["maintenance-due"] == 1 and values["maintenance-overdue"] == 1
    assert 'data-testid="team"' not in html and "我的待收款" not in html
    assert_each_number_is_its_list(client, figures)


def test_no_placeholder_cards(org, client_for):
    for username in ("admin", "manager1", "sales1", "finance1", "service1"):
        html = client_for(username).get("/").content.decode()
        for words in ("敬请期待", "即将上线", "开发中", "coming soon"):
            assert words not in html


@pytest.mark.parametrize("username", ["sales1", "manager1", "finance1"])
def test_dashboard_queries_do_not_grow_with_the_data(org, client_for, username, make_more=8):
    client = client_for(username)
    client.get("/")  # warm the per-process caches

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 200
        count.sql = [q["sql"] for q in ctx.captured_queries]
        return len(ctx.captured_queries)

    before = count()
    first = count.sql
    for i in range(make_more):
        owner = org[("sales1", "sales2", "sales3")[i % 3]]
        customer = make_customer(owner, f"增长公司{i}", f"1390000{i:04d}")
        Customer.objects.filter(pk=customer.pk).update(next_followup_at=timezone.now())
        contract(org, customer, "1000", actor=owner.username)
        opportunity_save(
            actor=owner, instance=None, data={"customer": customer, "name": f"商机{i}"}
        )
    after = count()
    import re as _re

    norm = lambda qs: [_re.sub(r"'[^']*'|\d+", "?", q)[:300] for q in qs]  # noqa: E731
    assert after == before, [q for q in norm(count.sql) if q not in norm(first)]
    assert after <= 45, after


def test_opportunity_states_are_bars_not_a_funnel(org, client_for, sales_data):
    html = client_for("sales1").get("/").content.decode()
    assert 'id="chart-opportunities"' in html and '"opportunities"' in html
    assert "funnel" not in html.split("dashboard-charts")[1].split("</script>")[0]
    assert {s.value for s in OpportunityStatus} <= set(re.findall(r"mine-opportunity-(\w+)", html))
