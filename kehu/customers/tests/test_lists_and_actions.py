"""Issue 14, points 1–6: the lists' column choice, empty select labels, who may be given
customers, results that say what happened, refusals said before the confirmation, and a
conflict that lists only the fields that really differ."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from kehu.core.errors import ApplicationError
from kehu.core.models import ListColumns
from kehu.core.selectors import hidden_columns
from kehu.core.services import list_columns_save
from kehu.customers.models import Customer
from kehu.customers.services import customers_batch_delete
from kehu.org.selectors import customer_owner_candidates
from kehu.pool.services import transfer_customers

pytestmark = pytest.mark.django_db
TABLE = "customers.customertable"


def header_labels(html: str) -> list[str]:
    thead = html[html.index("<thead>") : html.index("</thead>")]
    return [
        re.sub(r"<[^>]+>|\s", "", cell) for cell in re.findall(r"<th[^>]*>(.*?)</th>", thead, re.S)
    ]


# --- 1. 列: a column choice remembered per user ------------------------------------------------


def test_hidden_columns_are_remembered_for_the_user_only(org, make_customer, client_for):
    make_customer(name="列设置客户")
    client = client_for("sales1")
    assert "整车订单" in header_labels(client.get("/customers/").content.decode())
    shown = ["id", "contact_name", "owner", "receivable_total"]
    response = client.post(f"/list-columns/{TABLE}/", {"shown": shown}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert json.loads(response["HX-Trigger"])["objectSaved"]["message"] == "已保存显示的列"
    labels = header_labels(client.get("/customers/").content.decode())
    # 操作 first, then the kept columns and the name, which cannot be hidden
    assert labels == ["", "操作", "ID", "客户名称", "联系人", "待收款金额", "负责人"]
    assert "整车订单" in header_labels(client_for("sales2").get("/customers/").content.decode())


def test_bad_column_choices_say_why_and_change_nothing(org):
    user = org["sales1"]
    list_columns_save(actor=user, table=TABLE, shown=["id", "owner"])
    before = list(ListColumns.objects.values_list("hidden", flat=True))
    for table, shown, message in (
        ("customers.nosuchtable", ["id"], "没有这个列表"),
        (TABLE, ["id", "password"], "没有这一列：password"),
        (TABLE, [], "请至少保留一列"),
    ):
        with pytest.raises(ApplicationError) as exc:
            list_columns_save(actor=user, table=table, shown=shown)
        assert exc.value.message == message
    assert list(ListColumns.objects.values_list("hidden", flat=True)) == before
    # the name and 操作 are never hidden, whatever is posted
    hidden = list_columns_save(actor=user, table=TABLE, shown=["id"])
    assert "name" not in hidden and "actions" not in hidden
    assert hidden_columns(user=user, table=TABLE) == hidden


def test_column_modal_refuses_in_chinese(org, client_for):
    client = client_for("sales1")
    response = client.post(f"/list-columns/{TABLE}/", {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "请至少保留一列" in response.content.decode()
    assert client.get("/list-columns/nosuch.table/").status_code == 404
    assert not ListColumns.objects.exists()


def test_list_keeps_constant_queries_with_a_column_choice(org, make_customer, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("sales1")
    list_columns_save(actor=org["sales1"], table=TABLE, shown=["id", "owner"])
    make_customer(name="查询一")
    client.get("/customers/")
    with CaptureQueriesContext(connection) as few:
        client.get("/customers/")
    for i in range(25):
        make_customer(name=f"查询客户{i}")
    with CaptureQueriesContext(connection) as many:
        client.get("/customers/?per_page=50")
    assert len(many) == len(few)


# --- 3. empty selects: 请选择 in forms, 全部 in search panels ----------------------------------


def test_empty_selects_read_please_choose_or_all(org, client_for):
    client = client_for("sales1")
    page = client.get("/customers/").content.decode()
    panel = page[page.index('id="search-panel"') :]
    assert "---------" not in page
    assert '<option value="" selected>全部</option>' in panel
    form = client.get("/customers/add/", HTTP_HX_REQUEST="true").content.decode()
    assert "---------" not in form
    assert '<option value="" selected>请选择</option>' in form


# --- 4. who may be given customers --------------------------------------------------------------


def test_owner_candidates_are_sales_roles_within_scope(org):
    everyone = {u.username for u in customer_owner_candidates(actor=org["admin"])}
    assert {"manager1", "sales1", "sales2", "sales3"} <= everyone
    assert not everyone & {"admin", "finance1", "service1"}
    manager = {u.username for u in customer_owner_candidates(actor=org["manager1"])}
    assert manager <= everyone and "manager1" in manager


def test_transfer_form_offers_only_owner_candidates(org, client_for, make_customer):
    customer = make_customer(name="转移候选客户")
    html = client_for("manager1").post("/customers/transfer/", {"pk": [customer.pk]}).content
    html = html.decode()
    assert "张业务" in html
    assert f">{org['finance1'].display_name}</option>" not in html
    assert f">{org['service1'].display_name}</option>" not in html


def test_transfer_to_someone_who_cannot_own_customers_is_refused(org, make_customer):
    customer = make_customer(name="不能负责的目标")
    with pytest.raises(ApplicationError) as exc:
        transfer_customers(actor=org["admin"], ids=[customer.pk], user_ids=[org["finance1"].pk])
    assert "不能负责客户" in exc.value.message
    assert Customer.objects.get(pk=customer.pk).owner == org["sales1"]


# --- 5. results say what happened ----------------------------------------------------------------


def test_transfer_reports_who_received_how_many(org, make_customer, client_for):
    ids = [make_customer(name=f"转移结果{i}").pk for i in range(3)]
    response = client_for("manager1").post(
        "/customers/transfer/",
        {
            "pk": ids,
            "users": [org["sales2"].pk, org["sales3"].pk],
            "allocation": "even",
            "confirm": "1",
        },
    )
    html = response.content.decode()
    notes = re.findall(r"<li>(.*?)</li>", html)
    assert sorted(notes) == sorted(
        [
            f"{org['sales2'].display_name} 接收 2 个客户",
            f"{org['sales3'].display_name} 接收 1 个客户",
        ]
    )


def test_batch_refusals_name_the_customers(org, make_customer, client_for):
    owed = make_customer(name="有欠款的客户有限公司")
    Customer.objects.filter(pk=owed.pk).update(receivable_vehicle=Decimal("10.00"))
    free = make_customer(name="可以删除的客户")
    result = customers_batch_delete(actor=org["sales1"], ids=[owed.pk, free.pk, 999999])
    assert result.done == [free.pk]
    by_id = {r["id"]: r for r in result.refused_rows}
    assert by_id[owed.pk]["name"] == "有欠款的客户有限公司"
    assert by_id[999999]["name"] == ""  # what the actor cannot see stays unnamed
    other = make_customer(name="又一个欠款客户")
    Customer.objects.filter(pk=other.pk).update(receivable_vehicle=Decimal("1.00"))
    html = client_for("sales1").post("/customers/bulk-delete/", {"pk": [other.pk]}).content
    html = html.decode()
    assert "<td>又一个欠款客户</td>" in html and f"<td>{other.pk}</td>" not in html


def test_a_refused_delete_says_so_before_the_confirmation(org, make_customer, client_for):
    owed = make_customer(name="不能删的客户")
    Customer.objects.filter(pk=owed.pk).update(receivable_vehicle=Decimal("5.00"))
    client = client_for("sales1")
    html = client.get(f"/customers/{owed.pk}/delete/", HTTP_HX_REQUEST="true").content.decode()
    assert "不能删除" in html and "该客户有待收款金额，不能删除" in html
    assert re.search(r'data-testid="confirm-delete"\s+disabled', html)
    ok = make_customer(name="能删的客户")
    html = client.get(f"/customers/{ok.pk}/delete/", HTTP_HX_REQUEST="true").content.decode()
    assert "确定删除吗？" in html and "disabled" not in html


def test_batch_delete_asks_in_the_app_not_the_browser(org, client_for):
    html = client_for("sales1").get("/customers/").content.decode()
    button = re.search(r"<button[^>]*customer_bulk_delete|<button[^>]*bulk-delete/[^>]*>", html)
    assert button is not None
    assert 'data-confirm-danger="1"' in button.group(0) or 'data-confirm-danger="1"' in html
    from pathlib import Path

    js = (Path(__file__).resolve().parents[2] / "static/kehu/kehu.js").read_text("utf-8")
    assert "htmx:confirm" in js and "issueRequest(true)" in js


# --- 6. the conflict lists only real differences -------------------------------------------------


def test_conflict_lists_only_fields_that_differ(org, make_customer, client_for):
    later = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    customer = make_customer(name="冲突客户", next_followup_at=later)
    client = client_for("sales1")
    local = timezone.localtime(later).strftime("%Y-%m-%dT%H:%M")
    base = {
        "name": "冲突客户",
        "contact_name": "联系人",
        "contact_phone": customer.contact_phone,
        "next_followup_at": local,
    }
    first = client.post(
        f"/customers/{customer.pk}/edit/",
        {**base, "remark": "一", "version": 1},
        HTTP_HX_REQUEST="true",
    )
    assert first.status_code == 204
    response = client.post(
        f"/customers/{customer.pk}/edit/",
        {**base, "remark": "二", "version": 1},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    html = response.content.decode()
    table = html[html.index('data-testid="conflict-fields"') :]
    table = table[: table.index("</table>")]
    assert "备注" in table
    assert "下次跟进" not in table
    assert "重新加载最新数据" not in html


def test_other_form_errors_carry_no_reload_link(org, make_customer, client_for):
    customer = make_customer(name="文件类型客户")
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_for("sales1").post(
        f"/customers/{customer.pk}/edit/",
        {
            "name": "文件类型客户",
            "contact_name": "联系人",
            "contact_phone": customer.contact_phone,
            "version": customer.version,
            "attachments": SimpleUploadedFile("run.exe", b"MZ\x90\x00", "application/octet-stream"),
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "重新加载最新数据" not in response.content.decode()
