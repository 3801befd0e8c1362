from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kehu.audit.models import ChangeLog
from kehu.core.errors import ApplicationError, Conflict, Forbidden
from kehu.core.models import Attachment
from kehu.core.registry import delete_guards
from kehu.customers.models import Contact, Customer
from kehu.customers.services import (
    customer_create,
    customer_delete,
    customer_share,
    customer_update,
    customers_batch_delete,
)

VALID_USCC = "91350100M000100Y43"


def test_create_sets_owner_creator_primary_contact_location_and_log(org):
    customer = customer_create(
        actor=org["sales1"],
        data={
            "name": "  厦门恒通物流有限公司 ",
            "contact_name": "张三",
            "contact_phone": "152 6369 8652",
            "province": "350000",
            "city": "350200",
            "district": "350203",
        },
    )
    assert customer.name == "厦门恒通物流有限公司"
    assert customer.owner == org["sales1"] and customer.creator == org["sales1"]
    assert customer.status == "open" and customer.receivable_total == Decimal("0.00")
    (contact,) = customer.contacts.all()
    assert (contact.name, contact.mobile, contact.remark, contact.is_primary) == (
        "张三",
        "15263698652",
        "自动添加",
        True,
    )
    assert customer.longitude is not None and abs(customer.longitude - Decimal("118.08")) < 1
    log = ChangeLog.objects.get(object_type="customers.customer", object_id=customer.pk)
    assert log.action == "create" and log.actor == org["sales1"]


def test_free_text_address_is_parsed_into_divisions(org):
    customer = customer_create(
        actor=org["sales1"],
        data={
            "name": "深圳某某科技有限公司",
            "contact_name": "李四",
            "contact_phone": "13912345678",
            "address": "广东省深圳市南山区科技园",
        },
    )
    assert (customer.province_id, customer.city_id, customer.district_id) == (
        "440000",
        "440300",
        "440305",
    )


def test_regions_must_nest(org):
    with pytest.raises(ApplicationError) as exc:
        customer_create(
            actor=org["sales1"],
            data={
                "name": "错位公司",
                "contact_name": "李四",
                "contact_phone": "13912345678",
                "province": "350000",
                "city": "440300",
            },
        )
    assert exc.value.errors["city"] == ["所选城市不属于所选省份"]
    assert not Customer.objects.filter(name="错位公司").exists()


def test_similar_name_needs_confirmation_and_credit_code_blocks(org, make_customer):
    make_customer(name="厦门恒通物流有限公司", credit_code=VALID_USCC)
    data = {
        "name": "厦门恒通物流股份有限公司",
        "contact_name": "王五",
        "contact_phone": "13700000001",
    }
    with pytest.raises(ApplicationError) as exc:
        customer_create(actor=org["sales2"], data=data)
    assert exc.value.code == "possible_duplicates"
    assert exc.value.extra["matches"][0]["name"] == "厦门恒通物流有限公司"
    assert Customer.objects.count() == 1
    customer_create(actor=org["sales2"], data=data, confirm_duplicates=True)
    assert Customer.objects.count() == 2
    with pytest.raises(ApplicationError) as exc:
        customer_create(
            actor=org["sales2"],
            data={**data, "name": "别的公司", "credit_code": VALID_USCC},
            confirm_duplicates=True,
        )
    assert exc.value.code == "duplicate_credit_code"
    assert "已被客户「厦门恒通物流有限公司」使用" in exc.value.errors["credit_code"][0]
    assert Customer.objects.count() == 2


def test_update_with_stale_version_changes_nothing(org, make_customer):
    customer = make_customer(name="甲公司")
    fresh = customer_update(
        actor=org["sales1"], customer=customer, data={"remark": "第一次"}, version=1, partial=True
    )
    assert fresh.version == 2
    with pytest.raises(Conflict) as exc:
        customer_update(
            actor=org["sales1"], customer=customer, data={"remark": "覆盖"}, version=1, partial=True
        )
    assert exc.value.status == 409 and "已被他人修改" in exc.value.message
    customer.refresh_from_db()
    assert (customer.remark, customer.version) == ("第一次", 2)


def test_update_keeps_primary_contact_in_step_and_logs_diff(org, make_customer):
    customer = make_customer(name="甲公司")
    customer_update(
        actor=org["sales1"],
        customer=customer,
        data={"contact_name": "新联系人", "contact_phone": "0592-5551234"},
        version=1,
        partial=True,
        confirm_duplicates=True,
    )
    primary = Contact.objects.get(customer=customer, is_primary=True)
    assert (primary.name, primary.phone) == ("新联系人", "0592-5551234")
    log = ChangeLog.objects.filter(object_id=customer.pk, action="update").get()
    assert log.changes["contact_name"][1] == "新联系人"


def test_only_owner_or_scope_may_update(org, make_customer):
    customer = make_customer("sales1")
    with pytest.raises(Forbidden):
        customer_update(
            actor=org["sales2"], customer=customer, data={"remark": "x"}, version=1, partial=True
        )
    updated = customer_update(
        actor=org["manager1"], customer=customer, data={"remark": "经理改"}, version=1, partial=True
    )
    assert updated.remark == "经理改"


def test_delete_refuses_receivables_and_registered_documents(org, make_customer):
    owing = make_customer(name="欠款公司")
    Customer.objects.filter(pk=owing.pk).update(receivable_repair=Decimal("10.00"))
    owing.refresh_from_db()
    with pytest.raises(ApplicationError, match="待收款金额"):
        customer_delete(actor=org["sales1"], customer=owing)

    referenced = make_customer(name="有合同公司")
    guard = lambda c: "该客户已有合同，不能删除" if c.pk == referenced.pk else None  # noqa: E731
    delete_guards["customers.customer"].append(guard)
    try:
        free = make_customer(name="可删公司")
        result = customers_batch_delete(
            actor=org["sales1"], ids=[owing.pk, referenced.pk, free.pk, 999999]
        )
    finally:
        delete_guards["customers.customer"].remove(guard)
    assert result.done == [free.pk]
    reasons = {r["id"]: r["reason"] for r in result.refused}
    assert reasons == {
        owing.pk: "该客户有待收款金额，不能删除",
        referenced.pk: "该客户已有合同，不能删除",
        999999: "客户不存在或无权查看",
    }
    assert set(Customer.objects.values_list("name", flat=True)) == {"欠款公司", "有合同公司"}
    snap = ChangeLog.objects.get(action="delete", object_id=free.pk).snapshot
    assert snap["name"] == "可删公司" and snap["contacts"][0]["remark"] == "自动添加"
    assert not Contact.objects.filter(customer_id=free.pk).exists()


def test_invisible_customer_cannot_be_batch_deleted(org, make_customer):
    other = make_customer("sales2")
    result = customers_batch_delete(actor=org["sales1"], ids=[other.pk])
    assert result.done == [] and Customer.objects.filter(pk=other.pk).exists()


def test_share_rules(org, make_customer):
    customer = make_customer("sales1")
    with pytest.raises(Forbidden):
        customer_share(actor=org["sales2"], customer=customer, user_ids=[org["sales3"].pk])
    with pytest.raises(ApplicationError, match="负责人"):
        customer_share(actor=org["sales1"], customer=customer, user_ids=[org["sales1"].pk])
    org["sales3"].is_active = False
    org["sales3"].save()
    with pytest.raises(ApplicationError, match="停用"):
        customer_share(actor=org["sales1"], customer=customer, user_ids=[org["sales3"].pk])
    customer_share(actor=org["sales1"], customer=customer, user_ids=[org["sales2"].pk])
    assert list(customer.shares.values_list("user__username", flat=True)) == ["sales2"]
    customer_share(actor=org["sales1"], customer=customer, user_ids=[])
    assert not customer.shares.exists()


def test_share_only_with_colleagues_a_share_gives_something(org, make_customer):
    """系统管理员 and 财务 see every customer already: sharing with them is refused (by name),
    and the share list stays as it was; 业务员 and 售后 can be shared with (issue 14.4)."""
    customer = make_customer("sales1")
    customer_share(actor=org["sales1"], customer=customer, user_ids=[org["sales2"].pk])
    for who in ("admin", "finance1"):
        with pytest.raises(ApplicationError, match=org[who].display_name) as refused:
            customer_share(
                actor=org["sales1"], customer=customer, user_ids=[org["sales3"].pk, org[who].pk]
            )
        assert "无需分享" in refused.value.message
        assert list(customer.shares.values_list("user__username", flat=True)) == ["sales2"]
    customer_share(
        actor=org["sales1"], customer=customer, user_ids=[org["sales2"].pk, org["service1"].pk]
    )
    assert sorted(customer.shares.values_list("user__username", flat=True)) == [
        "sales2",
        "service1",
    ]


def test_attachments_checked_and_stored_under_random_names(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ok = SimpleUploadedFile("../../合同 扫描.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    customer = customer_create(
        actor=org["sales1"],
        data={"name": "附件公司", "contact_name": "甲", "contact_phone": "13900000009"},
        files=[ok],
    )
    attachment = Attachment.objects.get(object_id=customer.pk)
    assert attachment.original_name == "合同 扫描.pdf"
    assert ".." not in attachment.file.name and "合同" not in attachment.file.name
    bad = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(ApplicationError, match="不支持的文件类型"):
        customer_create(
            actor=org["sales1"],
            data={"name": "另一家", "contact_name": "乙", "contact_phone": "13900000010"},
            files=[bad],
        )
    assert not Customer.objects.filter(name="另一家").exists()
    settings.KEHU_ATTACHMENT_MAX_BYTES = 10
    big = SimpleUploadedFile("big.pdf", b"x" * 11)
    with pytest.raises(ApplicationError, match="超过"):
        customer_create(
            actor=org["sales1"],
            data={"name": "第三家", "contact_name": "丙", "contact_phone": "13900000011"},
            files=[big],
        )
