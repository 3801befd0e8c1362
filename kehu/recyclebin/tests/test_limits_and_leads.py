"""回收站, issue 10's last points: a restore keeps 拥有上限 like a claim; leads are recyclable;
the bin's bulk inserts and serialisation write exactly what Django's serializer and
``bulk_create`` would."""

from __future__ import annotations

import pytest
from django.core import serializers
from django.urls import reverse

from kehu.audit.models import ChangeLog
from kehu.audit.services import change_entry, record_changes
from kehu.core.bulk import insert_json_rows
from kehu.core.errors import ApplicationError, Conflict
from kehu.core.views import LIST_TARGET
from kehu.customers.models import Customer
from kehu.customers.services import customer_delete, customers_batch_delete
from kehu.followups.models import FollowUp
from kehu.pool.models import Pool
from kehu.pool.services import claim_customers
from kehu.recyclebin.models import RecycleEntry
from kehu.recyclebin.services import restore, serialise_rows
from kehu.sales.models import Lead
from kehu.sales.services import lead_delete, lead_followup_create, lead_save

from .helpers import customer_rows

pytestmark = pytest.mark.django_db


def entry_of(obj_type: str, pk: int) -> RecycleEntry:
    return RecycleEntry.objects.get(object_type=obj_type, object_id=pk)


# --- 拥有上限 on restore -------------------------------------------------------------------------


def test_restore_over_the_owners_limit_is_refused_naming_it_and_changes_nothing(org, make_customer):
    sales1 = org["sales1"]
    deleted = make_customer("sales1", name="回收后再恢复有限公司")
    customer_delete(actor=sales1, customer=deleted)
    make_customer("sales1", name="占位客户一有限公司")
    make_customer("sales1", name="占位客户二有限公司")
    Pool.objects.update(max_owned=2)
    entry = entry_of("customers.customer", deleted.pk)

    with pytest.raises(Conflict) as refused:
        restore(actor=org["admin"], entry=entry)

    assert "超过拥有上限" in refused.value.message
    assert "最多可拥有2个客户" in refused.value.message
    assert not Customer.objects.filter(pk=deleted.pk).exists()
    assert RecycleEntry.objects.filter(pk=entry.pk).exists(), "the entry stays for later"


def test_restore_within_the_limit_brings_the_customer_back_to_its_owner(org, make_customer):
    sales1 = org["sales1"]
    deleted = make_customer("sales1", name="额度内恢复有限公司")
    make_customer("sales1", name="已有客户有限公司")
    customer_delete(actor=sales1, customer=deleted)
    Pool.objects.update(max_owned=2)

    restore(actor=sales1, entry=entry_of("customers.customer", deleted.pk))

    assert Customer.objects.get(pk=deleted.pk).owner_id == sales1.pk
    assert Customer.objects.filter(owner=sales1).count() == 2


def test_a_claim_after_a_restore_counts_the_restored_customer(org, make_customer):
    """The restored customer counts at once: the next claim over the limit is refused."""
    sales1 = org["sales1"]
    deleted = make_customer("sales1", name="恢复后占额度有限公司")
    customer_delete(actor=sales1, customer=deleted)
    in_pool = make_customer("sales1", name="公海里的客户有限公司")
    Customer.objects.filter(pk=in_pool.pk).update(owner=None)
    Pool.objects.update(max_owned=1)

    restore(actor=sales1, entry=entry_of("customers.customer", deleted.pk))
    result = claim_customers(actor=sales1, ids=[in_pool.pk])

    assert result.done == []
    assert "拥有上限" in result.refused[0]["reason"]


def test_the_restore_page_shows_the_limit_in_chinese(org, make_customer, client_for):
    deleted = make_customer("sales1", name="页面恢复超额有限公司")
    customer_delete(actor=org["sales1"], customer=deleted)
    make_customer("sales1", name="页面占位有限公司")
    Pool.objects.update(max_owned=1)
    entry = entry_of("customers.customer", deleted.pk)

    response = client_for("sales1").post(
        reverse("recyclebin_restore", args=[entry.pk]), headers={"HX-Request": "true"}
    )

    assert response.status_code == 409
    assert "超过拥有上限" in response.content.decode()
    assert RecycleEntry.objects.filter(pk=entry.pk).exists()


def test_the_restore_api_refuses_over_the_limit(org, make_customer, api_client):
    deleted = make_customer("sales1", name="接口恢复超额有限公司")
    customer_delete(actor=org["sales1"], customer=deleted)
    make_customer("sales1", name="接口占位有限公司")
    Pool.objects.update(max_owned=1)
    entry = entry_of("customers.customer", deleted.pk)

    response = api_client("sales1").post(f"/api/v1/recycle-bin/{entry.pk}/restore")

    assert response.status_code == 409
    assert "最多可拥有1个客户" in response.json()["detail"]
    assert not Customer.objects.filter(pk=deleted.pk).exists()


def test_a_pool_customer_is_restored_whatever_the_limits(org, make_customer):
    deleted = make_customer("sales1", name="公海客户恢复有限公司")
    Customer.objects.filter(pk=deleted.pk).update(owner=None)
    customer_delete(actor=org["admin"], customer=Customer.objects.get(pk=deleted.pk))
    Pool.objects.update(max_owned=1)

    restore(actor=org["admin"], entry=entry_of("customers.customer", deleted.pk))

    assert Customer.objects.get(pk=deleted.pk).owner_id is None


# --- leads ---------------------------------------------------------------------------------------


def _lead(org, name="展会线索回收有限公司"):
    return lead_save(
        actor=org["sales1"],
        instance=None,
        data={"name": name, "contact_name": "王经理", "contact_phone": "13800001111"},
    )


def _lead_rows(pk: int) -> list[dict]:
    return serializers.serialize("python", Lead.objects.filter(pk=pk)) + serializers.serialize(
        "python", FollowUp.objects.filter(lead_id=pk).order_by("pk")
    )


def test_a_lead_goes_to_the_bin_with_its_follow_ups_and_comes_back_exactly(org):
    lead = _lead(org)
    lead_followup_create(actor=org["sales1"], lead=lead, data={"content": "展会上聊过"})
    lead_followup_create(actor=org["sales1"], lead=lead, data={"content": "电话约了下周拜访"})
    pk = lead.pk
    before = _lead_rows(pk)
    assert len(before) == 3

    lead_delete(actor=org["sales1"], instance=lead)

    assert _lead_rows(pk) == []
    entry = entry_of("sales.lead", pk)
    assert (entry.owner_id, entry.row_count, entry.type_label) == (org["sales1"].pk, 3, "线索")

    restored = restore(actor=org["sales1"], entry=entry)

    assert restored.pk == pk
    assert _lead_rows(pk) == before
    log = ChangeLog.objects.filter(object_type="sales.lead", object_id=pk).first()
    assert "从回收站恢复线索" in log.message


def test_a_deleted_lead_is_listed_and_restored_through_the_page(org, client_for):
    lead = _lead(org, name="页面恢复的线索有限公司")
    client = client_for("sales1")
    response = client.post(reverse("lead_delete", args=[lead.pk]), headers={"HX-Request": "true"})
    assert response.status_code in (200, 204)
    assert not Lead.objects.filter(pk=lead.pk).exists()

    page = client.get(reverse("recyclebin_list"))
    assert "页面恢复的线索有限公司" in page.content.decode()
    entry = entry_of("sales.lead", lead.pk)
    response = client.post(
        reverse("recyclebin_restore", args=[entry.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    assert Lead.objects.get(pk=lead.pk).name == "页面恢复的线索有限公司"


def test_another_salespersons_deleted_lead_is_not_theirs_to_restore(org):
    lead = _lead(org, name="别人的线索有限公司")
    pk = lead.pk
    lead_delete(actor=org["sales1"], instance=lead)
    entry = entry_of("sales.lead", pk)
    with pytest.raises(ApplicationError) as refused:
        restore(actor=org["sales2"], entry=entry)
    assert refused.value.status in (403, 404)
    assert not Lead.objects.filter(pk=pk).exists()


# --- what the faster batch path writes ----------------------------------------------------------


def test_the_bins_serialisation_is_djangos(org, make_customer):
    customer = make_customer("sales1", credit_code="91350100M000100Y43", remark="多行\n备注")
    lead = _lead(org)
    lead_followup_create(actor=org["sales1"], lead=lead, data={"content": "跟进"})
    rows = [
        Customer.objects.get(pk=customer.pk),
        *customer.contacts.all(),
        Lead.objects.get(pk=lead.pk),
        *FollowUp.objects.filter(lead=lead),
    ]
    recycled = serialise_rows(rows)
    for row, item in zip(rows, recycled, strict=True):
        (django_item,) = serializers.serialize(
            "python", [row], fields=[f.name for f in row._meta.local_fields if not f.primary_key]
        )
        assert item["model"] == django_item["model"] and item["pk"] == django_item["pk"]
        for name, value in django_item["fields"].items():
            expected = value.isoformat() if hasattr(value, "isoformat") else value
            expected = str(expected) if type(expected).__name__ == "Decimal" else expected
            assert item["fields"][name] == expected, name


def test_a_batch_delete_keeps_every_row_for_an_exact_restore(org, make_customer):
    customers = [make_customer("sales1", name=f"批量回收{i}有限公司") for i in range(3)]
    before = {c.pk: customer_rows(c.pk) for c in customers}

    result = customers_batch_delete(actor=org["admin"], ids=[c.pk for c in customers])

    assert sorted(result.done) == sorted(before)
    for pk, rows in before.items():
        entry = entry_of("customers.customer", pk)
        assert entry.payload[0]["model"] == "customers.customer"
        restore(actor=org["admin"], entry=entry)
        assert customer_rows(pk) == rows
    logs = ChangeLog.objects.filter(object_type="customers.customer", action="delete")
    assert sorted(logs.values_list("object_id", flat=True)) == sorted(before)


def test_bulk_inserted_log_rows_read_back_identical_and_without_secrets(org):
    entries = [
        change_entry(
            actor=org["admin"],
            action="update",
            object_type="org.user",
            object_id=i,
            object_repr=f"用户{i}",
            before={"password": "pbkdf2_sha256$1$x$y", "name": "旧", "nested": {"api_key": "k"}},
            after={"password": "pbkdf2_sha256$1$x$z", "name": f"新{i}", "nested": {"n": [1, 2]}},
        )
        for i in range(3)
    ]
    entries[2].snapshot["token"] = "leaked"  # data replaced after it was built: redacted again
    entries[2].snapshot = dict(entries[2].snapshot)
    saved = record_changes(entries)
    for entry in saved:
        stored = ChangeLog.objects.get(pk=entry.pk)
        assert stored.changes["name"] == ["旧", f"新{stored.object_id}"]
        assert "password" not in stored.changes and "api_key" not in str(stored.changes)
        assert "password" not in stored.snapshot and "token" not in stored.snapshot
        assert stored.snapshot["nested"] == {"n": [1, 2]}
        assert stored.created_at is not None and stored.actor_id == org["admin"].pk


def test_insert_json_rows_sets_the_ids_in_order(org):
    from django.utils import timezone

    now = timezone.now()
    entries = [
        RecycleEntry(
            object_type="sales.lead",
            object_id=1000 + i,
            display_name=f"第{i}条",
            deleted_at=now,
            expires_at=now,
            payload=[{"model": "sales.lead", "pk": 1000 + i, "fields": {"name": f'引号"{i}'}}],
        )
        for i in range(5)
    ]
    insert_json_rows(RecycleEntry, entries)
    for entry in entries:
        stored = RecycleEntry.objects.get(pk=entry.pk)
        assert (stored.object_id, stored.display_name) == (entry.object_id, entry.display_name)
        assert stored.payload == entry.payload and stored.deleted_at == now


# --- 全部符合条件的记录 is for delete only -------------------------------------------------------


def test_transfer_and_release_act_on_the_checked_rows_and_the_limit_says_so(
    org, client_for, api_client, settings
):
    """The seed's 转移客户 / 放入公海 work on 勾选的客户 (a page: at most 100 rows, under the 500-id
    limit); only 批量删除 has 全部符合条件的记录. The menu sends the checked rows for them, and
    the limit's message does not promise them a 全部符合条件 path."""
    text = client_for("manager1").get("/customers/").content.decode()
    for url in ("/customers/transfer/", "/customers/release/"):
        assert f'hx-post="{url}" hx-include="#{LIST_TARGET} input[name=pk]:checked"' in text
        assert f'hx-post="{url}" hx-include="#search-panel form"' not in text
    assert max(settings.KEHU_PAGE_SIZES) <= settings.KEHU_BATCH_MAX_IDS

    response = api_client("manager1").post(
        "/api/v1/customers/to-pool",
        {"ids": list(range(1, 502)), "reason": "批量放入"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["detail"] == (
        '一次最多处理500条，请分批操作（"全部符合条件的记录"仅用于删除客户）'
    )
