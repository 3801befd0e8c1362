"""客户画像 (issue 13 points 1–4, issue 14 points 7–8): the 13 tabs in the seed's order with their
counts, the summary figures and 同比增幅 from the ledger, pool customers read-only and masked,
follow-ups and attachments from their tabs."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.core.registry import PortraitTab, portrait_tabs, register_portrait_tab
from kehu.customers import portrait
from kehu.customers.models import Contact, Customer
from kehu.customers.tabs import tab_counts, visible_tabs
from kehu.documents import approval
from kehu.documents.services import document_save
from kehu.documents.types import registry
from kehu.followups.models import FollowUp
from kehu.followups.services import followup_create, followup_delete
from kehu.org.models import Role, User
from kehu.pool.services import release_customers

CONTRACT, PAYMENT, QUOTE = registry["contract"], registry["payment"], registry["quote"]
REPAIR, VEHICLE = registry["repairorder"], registry["vehicle"]
SEED_ORDER = [
    "跟进记录",
    "联系人",
    "客户商机",
    "报价单列表",
    "合同",
    "回款信息",
    "回款计划",
    "客户车辆",
    "维修记录",
    "保养记录",
    "挂账订单列表",
    "附件",
    "日志",
]
TZ = timezone.get_current_timezone()


def at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)), TZ)


def contract(org, customer, amount, kind="vehicle", *, approved_on=None, void=False):
    doc = document_save(
        CONTRACT,
        actor=org["sales1"],
        instance=None,
        data={"customer": customer.pk, "name": f"合同{amount}", "kind": kind, "amount": amount},
    )
    if approved_on is not None:
        approval.submit(CONTRACT, actor=org["sales1"], doc=doc)
        doc = approval.approve(CONTRACT, actor=org["manager1"], doc=doc)
        type(doc).objects.filter(pk=doc.pk).update(approved_at=at(approved_on))
        doc.refresh_from_db()
        if void:
            doc = approval.void(CONTRACT, actor=org["manager1"], doc=doc, reason="录错")
    return doc


def paid(org, doc, amount):
    pay = document_save(
        PAYMENT, actor=org["sales1"], instance=None, data={"contract": doc.pk, "amount": amount}
    )
    approval.submit(PAYMENT, actor=org["sales1"], doc=pay)
    return approval.approve(PAYMENT, actor=org["finance1"], doc=pay)


def api(client, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.content[:300])
    return response.json()


@pytest.fixture
def customer(make_customer):
    return make_customer("sales1", name="画像测试客户有限公司", contact_phone="13905921111")


# --- 1. tabs ---------------------------------------------------------------------------------


def test_the_tabs_are_the_seeds_thirteen_in_its_order(org, customer, client_for):
    # 挂账订单 (being built) is one more declaration: until it exists its tab stays hidden, and
    # a declared tab lands in its place by its order alone.
    labels = [t.label for t in visible_tabs(org["admin"], in_pool=False)]
    expected = [label for label in SEED_ORDER if label in labels]
    assert labels == expected
    assert set(SEED_ORDER) - set(labels) <= {"挂账订单列表"}
    html = client_for("admin").get(f"/customers/{customer.pk}/").content.decode()
    bar = html.split('data-testid="portrait-tabs"')[1].split("</ul>")[0]
    positions = [bar.index(f">{label}") for label in labels]
    assert positions == sorted(positions)


def test_a_declared_tab_takes_its_place_by_order(org, customer):
    tab = PortraitTab("probe", "探针", 85, None, lambda u, c, p: None, None)
    register_portrait_tab(tab)
    try:
        labels = [t.label for t in visible_tabs(org["admin"], in_pool=False)]
        assert labels[labels.index("保养记录") + 1] == "探针"
        assert labels.index("探针") < labels.index("附件")
    finally:
        portrait_tabs.pop("probe")


def test_each_tab_lists_and_counts_what_its_api_lists_for_the_customer(
    org, customer, make_customer, client_for
):
    other = make_customer("sales1", name="别的客户")
    for c in (customer, other):
        followup_create(actor=org["sales1"], customer=c, data={"content": f"拜访{c.pk}"})
        Contact.objects.create(customer=c, name=f"副联系人{c.pk}", mobile="13800000001")
    first = contract(org, customer, "1000.00", approved_on=date(2025, 3, 1))
    contract(org, customer, "2000.00")
    contract(org, other, "5000.00", approved_on=date(2025, 3, 1))
    paid(org, first, "400.00")
    document_save(QUOTE, actor=org["sales1"], instance=None, data={"customer": customer.pk})
    client = client_for("admin")
    apis = {
        "followups": "followups",
        "contacts": "contacts",
        "opportunities": "opportunities",
        **{d.tab_key: d.api_path for d in registry.values() if d.tab_key},
    }
    tabs = visible_tabs(org["admin"], in_pool=False)
    counts = tab_counts(tabs, user=org["admin"], customer=customer, in_pool=False)
    checked = 0
    for key, path in apis.items():
        if key not in counts:
            continue
        listed = api(client, f"/api/v1/{path}?customer_id={customer.pk}&page_size=100")
        assert counts[key] == listed["count"], key
        html = client.get(f"/customers/{customer.pk}/tabs/{key}/?tab={key}").content.decode()
        assert f'data-tab-count="{key}">{listed["count"]}<' in html
        for item in listed["items"]:
            shown = item.get("number") or item.get("name") or item.get("content")
            assert shown and str(shown) in html, (key, shown)
        checked += 1
    assert checked >= 8
    assert counts["contracts"] == 2 and counts["payments"] == 1 and counts["quotes"] == 1
    assert counts["log"] >= 1  # the customer's creation


def test_a_tab_renders_only_when_open_and_the_url_keeps_it(org, customer, client_for):
    client = client_for("sales1")
    html = client.get(f"/customers/{customer.pk}/?tab=contacts").content.decode()
    assert 'data-testid="contacts-table"' in html and 'data-testid="followups-list"' not in html
    assert f'hx-push-url="/customers/{customer.pk}/?tab=followups"' in html
    fragment = client.get(f"/customers/{customer.pk}/tabs/followups/?tab=followups")
    body = fragment.content.decode()
    assert fragment.status_code == 200 and 'data-testid="followups-list"' in body
    assert "<html" not in body and 'data-testid="contacts-table"' not in body
    unknown = client.get(f"/customers/{customer.pk}/?tab=nonsense").content.decode()
    assert 'data-testid="followups-list"' in unknown  # the first tab
    assert client.get(f"/customers/{customer.pk}/tabs/nonsense/").status_code == 404


def test_tabs_are_hidden_without_their_permission(org, customer, client_for):
    role = Role.objects.create(name="只看客户", code="customers_only", data_scope="all")
    role.permissions.set(
        Permission.objects.filter(
            content_type__app_label="customers", codename__in=["view_customer", "view_contact"]
        )
    )
    viewer = User.objects.create_user(username="viewer", password="x", name="只看客户的人")
    viewer.roles.add(role)
    labels = [t.label for t in visible_tabs(viewer, in_pool=False)]
    assert labels == ["联系人", "附件", "日志"]
    client = client_for("admin")
    client.force_login(viewer)
    html = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "合同" not in html.split('data-testid="portrait-tabs"')[1].split("</ul>")[0]
    assert client.get(f"/customers/{customer.pk}/tabs/contracts/").status_code == 404
    assert client.get(f"/customers/{customer.pk}/?tab=contracts").status_code == 200


def test_a_colleague_without_access_gets_404_everywhere(org, customer, client_for):
    client = client_for("sales3")
    for url in (
        f"/customers/{customer.pk}/",
        f"/customers/{customer.pk}/tabs/contacts/",
        f"/customers/{customer.pk}/yoy/",
        f"/api/v1/customers/{customer.pk}/portrait",
        f"/api/v1/customers/{customer.pk}/yoy",
    ):
        assert client.get(url).status_code == 404, url
    refused = client.post(
        f"/customers/{customer.pk}/attachments/upload/",
        {"files": [SimpleUploadedFile("a.pdf", b"%PDF-1.4")]},
    )
    assert refused.status_code == 404


def test_the_portraits_queries_do_not_grow_with_its_documents(org, customer, client_for):
    client = client_for("sales1")

    def queries(tab):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/customers/{customer.pk}/?tab={tab}")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    contract(org, customer, "100.00", approved_on=date(2025, 1, 5))
    followup_create(actor=org["sales1"], customer=customer, data={"content": "第一次"})
    one = {tab: queries(tab) for tab in ("followups", "contracts", "log")}
    for n in range(9):
        contract(org, customer, f"{n + 1}00.00", approved_on=date(2025, 2, 5))
        followup_create(actor=org["sales1"], customer=customer, data={"content": f"第{n}次"})
    ten = {tab: queries(tab) for tab in ("followups", "contracts", "log")}
    assert ten == one


# --- 2. header and summary -------------------------------------------------------------------


def test_the_summary_comes_from_the_ledger_voided_left_out(org, customer, client_for):
    a = contract(org, customer, "1000.00", approved_on=date(2025, 3, 1))
    contract(org, customer, "250.50", "parts", approved_on=date(2025, 4, 1))
    contract(org, customer, "9999.00", approved_on=date(2025, 4, 2), void=True)
    contract(org, customer, "7777.00")  # never approved: not billed
    paid(org, a, "300.00")
    summary = portrait.portrait_summary(Customer.objects.get(pk=customer.pk))
    assert summary["total_spend"] == Decimal("1250.50")
    assert summary["order_count"] == 2
    assert summary["contract_count"] == 2 and summary["contract_amount"] == Decimal("1250.50")
    assert summary["paid_amount"] == Decimal("300.00") and summary["paid_count"] == 1
    assert summary["receivable_total"] == Decimal("950.50")
    body = api(client_for("sales1"), f"/api/v1/customers/{customer.pk}/portrait")
    assert body["total_spend"] == "1250.50" and body["order_count"] == 2
    assert body["receivable_total"] == "950.50"
    assert {r["kind"]: r["amount"] for r in body["receivables"]}["vehicle"] == "700.00"
    html = client_for("sales1").get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="total-spend">1,250.50<' in html
    assert 'data-testid="order-count">2<' in html


def test_after_release_the_page_shows_the_pool_view(org, customer, client_for):
    client = client_for("sales1")
    before = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "13905921111" in before and 'data-testid="action-release"' in before
    release_customers(actor=org["sales1"], ids=[customer.pk], reason="暂无需求")
    after = client.get(f"/customers/{customer.pk}/").content.decode()  # what portrait.js loads
    assert "13905921111" not in after and "139****1111" in after
    assert 'data-testid="action-release"' not in after and 'data-testid="action-edit"' not in after
    assert 'data-testid="claim"' in after
    owner = after.split('data-testid="owner">')[1].split("<")[0]
    assert owner == "公海"


# --- 3. 同比增幅 -------------------------------------------------------------------------------


def test_yoy_against_hand_computed_figures(org, customer):
    contract(org, customer, "1000.00", approved_on=date(2025, 2, 10))
    contract(org, customer, "500.00", approved_on=date(2025, 3, 31))  # the period's last day
    contract(org, customer, "300.00", "parts", approved_on=date(2025, 4, 1))  # after it
    contract(org, customer, "800.00", approved_on=date(2024, 1, 20))
    contract(org, customer, "5000.00", approved_on=date(2024, 2, 1), void=True)  # voided
    contract(org, customer, "200.00", "lease", approved_on=date(2025, 1, 1))  # compare had 0
    result = portrait.customer_yoy(
        customer,
        period=portrait.Period(date(2025, 1, 1), date(2025, 3, 31)),
        compare=portrait.Period(date(2024, 1, 1), date(2024, 3, 31)),
    )
    kinds = {k["kind"]: k for k in result["kinds"]}
    assert kinds["vehicle"]["amount"] == Decimal("1500.00") and kinds["vehicle"]["count"] == 2
    assert kinds["vehicle"]["compare_amount"] == Decimal("800.00")
    assert kinds["vehicle"]["compare_count"] == 1
    assert kinds["vehicle"]["growth"] == Decimal("87.5")  # (1500 − 800) / 800
    assert kinds["vehicle"]["count_growth"] == Decimal("100.0")
    assert kinds["lease"]["amount"] == Decimal("200.00") and kinds["lease"]["growth"] is None
    assert kinds["parts"]["amount"] == 0 and kinds["parts"]["growth"] is None  # empty both
    assert kinds["repair"] == {
        **kinds["repair"],
        "amount": 0,
        "count": 0,
        "compare_amount": 0,
        "growth": None,
    }
    assert result["total"]["amount"] == Decimal("1700.00")
    assert result["total"]["compare_amount"] == Decimal("800.00")
    assert result["total"]["growth"] == Decimal("112.5")
    trend = result["trend"]
    assert trend["year"] == 2025 and trend["months"][1] == Decimal("1000.00")
    assert trend["months"][3] == Decimal("300.00") and trend["previous"][0] == Decimal("800.00")
    assert trend["previous"][1] == 0  # the voided February contract


def test_yoy_leap_day_and_default_compare(org, customer, client_for):
    contract(org, customer, "100.00", approved_on=date(2024, 2, 29))
    contract(org, customer, "40.00", approved_on=date(2023, 2, 28))
    contract(org, customer, "999.00", approved_on=date(2023, 3, 1))  # one day after
    period, compare, _ = portrait.parse_periods({"from": "2024-02-29", "to": "2024-02-29"})
    assert compare == portrait.Period(date(2023, 2, 28), date(2023, 2, 28))
    body = api(
        client_for("sales1"), f"/api/v1/customers/{customer.pk}/yoy?from=2024-02-29&to=2024-02-29"
    )
    vehicle = next(k for k in body["kinds"] if k["kind"] == "vehicle")
    assert body["compare_from"] == "2023-02-28" and body["compare_to"] == "2023-02-28"
    assert vehicle["amount"] == "100.00" and vehicle["compare_amount"] == "40.00"
    assert vehicle["growth"] == 150.0
    # The local day counts: 23:30 in Shanghai on 2024-02-29 is still the 29th.
    late = contract(org, customer, "1.00", approved_on=date(2024, 2, 29))
    type(late).objects.filter(pk=late.pk).update(
        approved_at=timezone.make_aware(datetime(2024, 2, 29, 23, 30), TZ)
    )
    again = portrait.customer_yoy(customer, period=period, compare=compare)
    assert next(k for k in again["kinds"] if k["kind"] == "vehicle")["count"] == 2


def test_yoy_of_an_empty_customer_and_quick_picks(org, customer, client_for):
    body = api(client_for("sales1"), f"/api/v1/customers/{customer.pk}/yoy")
    today = timezone.localdate()
    assert body["from"] == f"{today.year}-01-01" and body["to"] == today.isoformat()
    assert all(k["amount"] == "0.00" and k["growth"] is None for k in body["kinds"])
    assert body["total"]["growth"] is None
    month = portrait.quick_period("month", date(2025, 5, 20))
    quarter = portrait.quick_period("quarter", date(2025, 5, 20))
    assert month == portrait.Period(date(2025, 5, 1), date(2025, 5, 20))
    assert quarter == portrait.Period(date(2025, 4, 1), date(2025, 5, 20))
    page = client_for("sales1").get(f"/customers/{customer.pk}/yoy/?pick=quarter")
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="yoy-table"' in html
    assert "—" in html and 'id="yoy-data"' in html


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("from=2025-13-01&to=2025-12-31", "from", "开始日期不是有效日期"),
        ("from=2025-05-01&to=2025-04-01", "to", "结束日期不能早于开始日期"),
        ("from=2025-05-01", "to", "请选择日期"),
        ("compare_from=2024-01-01", "compare_to", "请选择日期"),
        ("pick=week", "pick", "快捷选择只能是本月、本季度或本年"),
    ],
)
def test_bad_yoy_periods_are_refused_in_chinese(org, customer, client_for, query, field, message):
    client = client_for("sales1")
    response = client.get(f"/api/v1/customers/{customer.pk}/yoy?{query}")
    assert response.status_code == 400
    assert message in json.dumps(response.json()["errors"][field], ensure_ascii=False)
    page = client.get(f"/customers/{customer.pk}/yoy/?{query}")
    assert page.status_code == 400 and message in page.content.decode()


# --- 4. pool customers -----------------------------------------------------------------------


def test_a_pool_customers_document_tabs_are_read_only_and_masked(
    org, customer, client_for, make_customer
):
    from kehu.customers.services import customer_share

    customer_share(actor=org["sales1"], customer=customer, user_ids=[org["service1"].pk])
    document_save(
        VEHICLE,
        actor=org["service1"],
        instance=None,
        data={"customer": customer.pk, "name": "XT系列叉车-1", "contact_phone": "13707770777"},
    )
    document_save(
        REPAIR,
        actor=org["service1"],
        instance=None,
        data={
            "customer": customer.pk,
            "amount": "10",
            "reason": "坏了",
            "contact_phone": "13707770777",
        },
    )
    release_customers(actor=org["sales1"], ids=[customer.pk], reason="暂无需求")
    client = client_for("admin")
    for key in ("vehicles", "repairs"):
        html = client.get(f"/customers/{customer.pk}/?tab={key}").content.decode()
        table = html.split(f'data-testid="tab-{key}"')[1]
        assert "137****0777" in table and "13707770777" not in html, key
        assert "删除" not in table and "编辑" not in table and "添加" not in table, key
        assert 'data-testid="claim"' in html
        fragment = client.get(f"/customers/{customer.pk}/tabs/{key}/").content.decode()
        assert "137****0777" in fragment and "13707770777" not in fragment
    counts = tab_counts(
        visible_tabs(org["admin"], in_pool=True), user=org["admin"], customer=customer, in_pool=True
    )
    assert counts["vehicles"] == 1 and counts["repairs"] == 1 and "attachments" not in counts


# --- 日志 in the user's language -------------------------------------------------------------


def _update(org, customer, **data):
    from kehu.customers.services import customer_update

    customer.refresh_from_db()
    return customer_update(
        actor=org["sales1"], customer=customer, data=data, version=customer.version, partial=True
    )


def _level(name: str):
    from kehu.basics.models import DictEntry, DictKind

    return DictEntry.objects.get(kind=DictKind.LEVEL, name=name)


def test_the_log_tab_reads_as_labels_and_display_values(org, customer, client_for):
    _update(org, customer, level=_level("B普通客户").pk)
    _update(org, customer, level=_level("A重点客户").pk, referrer=org["sales2"])
    html = client_for("sales1").get(f"/customers/{customer.pk}/tabs/log/").content.decode()
    assert "客户等级：B普通客户 → A重点客户" in html
    assert f"推荐人：（空） → {org['sales2'].display_name}" in html
    from kehu.customers.services import customer_share

    customer_share(actor=org["sales1"], customer=customer, user_ids=[org["sales2"].pk])
    html = client_for("sales1").get(f"/customers/{customer.pk}/tabs/log/").content.decode()
    assert "客户等级：B普通客户 → A重点客户" in html
    assert f"分享给：（空） → {org['sales2'].display_name}" in html  # a name, not an id
    # no column names, ids or object types: what /audit/ shows, not what the database stores
    for raw in ("<code>", "level", "referrer", "customers.customer", "_id"):
        assert raw not in html, raw
    # opened with the page (?tab=log) the same fragment is drawn in place
    page = client_for("sales1").get(f"/customers/{customer.pk}/?tab=log").content.decode()
    assert "客户等级：B普通客户 → A重点客户" in page


def test_a_pool_customers_log_tab_reads_in_labels_with_contact_data_masked(
    org, customer, client_for
):
    _update(org, customer, contact_phone="13905922222")
    owner = client_for("sales1").get(f"/customers/{customer.pk}/tabs/log/").content.decode()
    assert "联系电话：13905921111 → 13905922222" in owner  # private: its owner reads it raw
    release_customers(actor=org["sales1"], ids=[customer.pk], reason="暂无需求")
    for who in ("admin", "sales2"):
        html = client_for(who).get(f"/customers/{customer.pk}/tabs/log/").content.decode()
        assert "联系电话：139****1111 → 139****2222" in html, who
        assert "13905921111" not in html and "13905922222" not in html, who
        assert "contact_phone" not in html and "<code>" not in html, who


# --- issue 14: 7 follow-ups, 8 attachments ----------------------------------------------------


def test_the_followup_dialog_presets_customer_now_and_the_opportunity(org, customer, client_for):
    from kehu.sales.services import opportunity_save

    chance = opportunity_save(
        actor=org["sales1"], instance=None, data={"customer": customer, "name": "五台电动叉车"}
    )
    client = client_for("sales1")
    tab = client.get(f"/customers/{customer.pk}/?tab=followups&opportunity={chance.pk}")
    html = tab.content.decode()
    assert f"/customers/{customer.pk}/followups/add/?opportunity={chance.pk}" in html
    assert 'hx-trigger="click, load"' in html  # opens at once
    dialog = client.get(f"/customers/{customer.pk}/followups/add/?opportunity={chance.pk}")
    form = dialog.content.decode()
    assert "画像测试客户有限公司" in form
    assert f'<option value="{chance.pk}" selected>' in form
    now = timezone.localtime().strftime("%Y-%m-%dT%H:")
    assert f'value="{now}' in form  # 本次跟进时间 defaults to now
    for label in ("本次跟进时间", "下次跟进时间", "跟进类型", "联系人", "商机", "附件"):
        assert label in form
    opportunities = client.get(f"/customers/{customer.pk}/?tab=opportunities").content.decode()
    assert f"?tab=followups&amp;opportunity={chance.pk}" in opportunities


def test_deleting_a_followup_recomputes_last_and_next(org, customer):
    older = followup_create(
        actor=org["sales1"],
        customer=customer,
        data={
            "content": "第一次",
            "followed_at": at(date(2025, 5, 1)),
            "next_followup_at": at(date(2025, 5, 8)),
        },
    )
    newer = followup_create(
        actor=org["sales1"],
        customer=customer,
        data={
            "content": "第二次",
            "followed_at": at(date(2025, 6, 1)),
            "next_followup_at": at(date(2025, 6, 9)),
        },
    )
    customer.refresh_from_db()
    assert customer.last_followup_at == at(date(2025, 6, 1))
    followup_delete(actor=org["sales1"], followup=newer)
    customer.refresh_from_db()
    assert customer.last_followup_at == at(date(2025, 5, 1))
    assert customer.next_followup_at == at(date(2025, 5, 8))
    followup_delete(actor=org["sales1"], followup=FollowUp.objects.get(pk=older.pk))
    customer.refresh_from_db()
    assert customer.last_followup_at is None and customer.next_followup_at is None


def test_the_attachments_tab_uploads_several_files_and_refuses_a_bad_one(org, customer, client_for):
    client = client_for("sales1")
    html = client.get(f"/customers/{customer.pk}/?tab=attachments").content.decode()
    assert f'data-upload-url="/customers/{customer.pk}/attachments/upload/"' in html
    url = f"/customers/{customer.pk}/attachments/upload/"
    ok = client.post(
        url,
        {
            "files": [
                SimpleUploadedFile("合同扫描.pdf", b"%PDF-1.4 a"),
                SimpleUploadedFile("现场照片.png", b"\x89PNG\r\n"),
            ]
        },
    )
    assert ok.status_code == 201 and ok.json()["detail"] == "已上传 2 个文件"
    bad = client.post(
        url,
        {"files": [SimpleUploadedFile("好.pdf", b"%PDF"), SimpleUploadedFile("坏.exe", b"MZ")]},
    )
    assert bad.status_code == 400 and "不支持的文件类型：.exe" in bad.json()["detail"]
    empty = client.post(url, {})
    assert empty.status_code == 400 and empty.json()["detail"] == "请选择要上传的文件"
    listed = client.get(f"/customers/{customer.pk}/?tab=attachments").content.decode()
    assert "合同扫描.pdf" in listed and "现场照片.png" in listed and "好.pdf" not in listed
    assert 'data-tab-count="attachments">2<' in listed
    # Without the right to change the customer: refused (finance is read-only on customers).
    refused = client_for("finance1").post(url, {"files": [SimpleUploadedFile("x.pdf", b"%PDF")]})
    assert refused.status_code in (403, 404)
