"""日志 in the user's language (issue 14 point 9): field labels, values as the pages show them,
object names instead of ``customers.customer``, one line per change, masking kept."""

from __future__ import annotations

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.audit.display import display_changes, object_label
from kehu.audit.models import ChangeLog
from kehu.audit.selectors import changelog_list
from kehu.basics.models import DictEntry, DictKind
from kehu.customers.models import Contact, Customer
from kehu.customers.services import contact_save, customer_create, customer_update
from kehu.documents.services import document_save
from kehu.documents.types import registry
from kehu.pool.services import release_customers


def level(name: str) -> DictEntry:
    return DictEntry.objects.get(kind=DictKind.LEVEL, name=name)


def make_customer(org, phone="13912345678", **data):
    return customer_create(
        actor=org["sales1"],
        data={"name": "日志测试有限公司", "contact_name": "王五", "contact_phone": phone, **data},
        confirm_duplicates=True,
    )


def update(org, customer, **data):
    customer.refresh_from_db()
    return customer_update(
        actor=org["sales1"], customer=customer, data=data, version=customer.version, partial=True
    )


def latest(user, customer) -> ChangeLog:
    return changelog_list(user=user, object_type="customers.customer", object_id=customer.pk)[0]


def test_customer_changes_read_as_labels_and_display_values(org):
    customer = make_customer(org, level=level("B普通客户").pk)
    update(org, customer, level=level("A重点客户").pk, legal_person="王五")
    lines = latest(org["admin"], customer).lines
    assert "客户等级：B普通客户 → A重点客户" in lines
    assert "法人/经营者：（空） → 王五" in lines
    assert not any("level" in line or "legal_person" in line for line in lines)


def test_users_booleans_and_money_read_as_the_pages_show_them(org):
    customer = make_customer(org)
    update(org, customer, referrer=org["sales2"])
    assert f"推荐人：（空） → {org['sales2'].display_name}" in latest(org["admin"], customer).lines
    contact = customer.contacts.get()  # the primary contact is the decision maker
    contact_save(
        actor=org["sales1"],
        instance=contact,
        data={
            "customer": customer.pk,
            "name": contact.name,
            "mobile": contact.mobile,
            "remark": contact.remark,
            "is_decision_maker": False,
        },
    )
    row = changelog_list(user=org["admin"], object_type="customers.contact", object_id=contact.pk)[
        0
    ]
    assert row.lines == ["决策人：是 → 否"]
    decl = registry["contract"]
    doc = document_save(
        decl,
        actor=org["sales1"],
        instance=None,
        data={"customer": customer.pk, "name": "整车", "kind": "vehicle", "amount": "1000"},
    )
    document_save(
        decl,
        actor=org["sales1"],
        instance=doc,
        data={"customer": customer.pk, "name": "整车", "kind": "parts", "amount": "2500.5"},
    )
    row = changelog_list(user=org["admin"], object_type="sales.contract", object_id=doc.pk)[0]
    assert "合同金额：1,000.00 → 2,500.50" in row.lines
    assert "合同类型：整车销售 → 配件销售" in row.lines
    assert row.object_label == "合同"


def test_audit_page_names_objects_and_shows_readable_lines(org, client_for):
    customer = make_customer(org, level=level("B普通客户").pk)
    update(org, customer, level=level("A重点客户").pk)
    html = client_for("admin").get("/audit/?object_type=customers.customer").content.decode()
    assert "客户等级：B普通客户 → A重点客户" in html
    assert "customers.customer</td>" not in html and "<code>level</code>" not in html
    assert ">客户</td>" in html or "客户</td>" in html
    assert object_label("customers.customer") == "客户"
    assert object_label("sales.contract") == "合同"


def test_one_line_per_change_through_the_helper(org):
    customer = make_customer(org)
    update(org, customer, legal_person="赵六", products="叉车配件")
    entry = ChangeLog.objects.filter(object_id=customer.pk, action="update").latest("id")
    lines = display_changes(entry)
    assert lines == ["法人/经营者：（空） → 赵六", "生产产品：（空） → 叉车配件"]


def test_pool_customer_phone_stays_masked_in_the_readable_lines(org, client_for):
    customer = make_customer(org, phone="13912345678")
    update(org, customer, contact_phone="13987654321")
    release_customers(actor=org["sales1"], ids=[customer.pk])
    html = client_for("admin").get("/audit/?object_type=customers.customer").content.decode()
    assert "139****4321" in html and "139****5678" in html
    assert "13912345678" not in html and "13987654321" not in html
    api = client_for("admin").get(
        f"/api/v1/audit?object_type=customers.customer&object_id={customer.pk}"
    )
    body = json.dumps(api.json(), ensure_ascii=False)
    assert "13987654321" not in body and "联系电话：139****5678 → 139****4321" in body


def test_the_api_carries_the_readable_lines_too(org, client_for):
    customer = make_customer(org)
    update(org, customer, legal_person="王五")
    items = (
        client_for("admin")
        .get(f"/api/v1/audit?object_type=customers.customer&object_id={customer.pk}")
        .json()["items"]
    )
    assert items[0]["object_label"] == "客户"
    assert "法人/经营者：（空） → 王五" in items[0]["lines"]


def test_audit_page_queries_do_not_grow_with_the_rows(org, client_for):
    client = client_for("admin")
    customer = make_customer(org)
    update(org, customer, referrer=org["sales2"], level=level("A重点客户").pk)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/audit/").status_code == 200
        return len(ctx.captured_queries)

    client.get("/audit/")
    before = count()
    for i in range(6):
        other = make_customer(org, phone=f"1380000{i:04d}")
        update(org, other, referrer=org["sales3"], level=level("B普通客户").pk)
    assert count() == before


def test_bad_object_type_filter_changes_nothing_and_says_so(org, client_for):
    make_customer(org)
    before = ChangeLog.objects.count()
    response = client_for("admin").get("/audit/?object_type=no.such")
    assert response.status_code == 200
    assert "总共 0 条记录" in response.content.decode()
    assert ChangeLog.objects.count() == before
    assert Customer.objects.count() == 1 and Contact.objects.count() == 1
    assert "选择一个有效的选项" in response.content.decode()
