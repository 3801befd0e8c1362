"""回收站 services (SPEC §13): delete → bin, exact restore, conflicts, scope, purge after commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import serializers
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kehu.audit.models import ChangeLog
from kehu.basics.models import DictEntry, DictKind
from kehu.core.attachments import delete_attachments_of
from kehu.core.errors import ApplicationError, Forbidden
from kehu.core.models import Attachment
from kehu.customers.models import Contact, Customer, CustomerShare
from kehu.customers.selectors import customer_list
from kehu.customers.services import (
    contact_delete,
    contact_save,
    customer_attach,
    customer_delete,
    customer_share,
    customers_batch_delete,
)
from kehu.followups.models import FollowUp
from kehu.followups.services import followup_create, followup_delete
from kehu.recyclebin.models import RecycleEntry
from kehu.recyclebin.selectors import recycle_entry_list
from kehu.recyclebin.services import purge_entry, purge_expired, recycle_many, restore
from kehu.sales.services import opportunity_delete, opportunity_save

from .helpers import customer_rows, file_exists

pytestmark = pytest.mark.django_db


def entry_of(obj_type: str, pk: int) -> RecycleEntry:
    return RecycleEntry.objects.get(object_type=obj_type, object_id=pk)


@pytest.fixture
def full_customer(org, make_customer, pdf):
    """sales1's customer with a second contact, two follow-ups (one with a file, one naming the
    contact), a tag, a share with sales2 and a file of its own."""
    customer = make_customer("sales1", credit_code="91350100M000100Y43")
    tag = DictEntry.objects.filter(kind=DictKind.TAG).first() or DictEntry.objects.create(
        kind=DictKind.TAG, name="回收站标签"
    )
    customer.tags.add(tag)
    contact = contact_save(
        actor=org["sales1"],
        instance=None,
        data={"customer": customer.pk, "name": "第二联系人", "mobile": "13912345678"},
    )
    followup_create(
        actor=org["sales1"],
        customer=customer,
        data={"content": "带附件的跟进"},
        files=[pdf("跟进.pdf")],
    )
    followup_create(
        actor=org["sales1"], customer=customer, data={"content": "找第二联系人", "contact": contact}
    )
    customer_share(actor=org["sales1"], customer=customer, user_ids=[org["sales2"].pk])
    customer_attach(actor=org["sales1"], customer=customer, files=[pdf("营业执照.pdf")])
    return Customer.objects.get(pk=customer.pk)


def test_customer_goes_to_the_bin_with_everything_and_comes_back_identical(org, full_customer):
    sales1 = org["sales1"]
    pk = full_customer.pk
    before = customer_rows(pk)
    kinds = {row["model"] for row in before}
    assert {
        "customers.customer",
        "customers.customer_tags",
        "customers.contact",
        "customers.customershare",
        "followups.followup",
        "core.attachment",
    } <= kinds
    files = [row["fields"]["file"] for row in before if row["model"] == "core.attachment"]
    assert len(files) == 2 and all(file_exists(f) for f in files)

    customer_delete(actor=sales1, customer=full_customer)

    assert customer_rows(pk) == []
    assert not customer_list(user=sales1).filter(pk=pk).exists()
    assert all(file_exists(f) for f in files), "files stay on disk while in the bin"
    entry = entry_of("customers.customer", pk)
    assert entry.owner_id == sales1.pk and entry.deleted_by_id == sales1.pk
    assert entry.customer_id == pk and entry.customer_name == full_customer.name
    assert entry.row_count == len(before)
    assert sorted(entry.file_paths) == sorted(files)
    assert entry.expires_at - entry.deleted_at == timedelta(days=30)
    assert entry.payload[0]["model"] == "customers.customer"  # parents first
    assert list(recycle_entry_list(user=sales1)) == [entry]

    restored = restore(actor=sales1, entry=entry)

    assert restored.pk == pk
    assert customer_rows(pk) == before
    assert all(file_exists(f) for f in files)
    assert not RecycleEntry.objects.filter(pk=entry.pk).exists()
    assert customer_list(user=sales1).filter(pk=pk).exists()
    log = ChangeLog.objects.filter(object_type="customers.customer", object_id=pk).first()
    assert log.action == "create" and "从回收站恢复" in log.message


def test_the_bin_keeps_microseconds_and_decimals(org, make_customer):
    customer = make_customer("sales1")
    pk = customer.pk
    Customer.objects.filter(pk=pk).update(
        longitude="118.123456",
        latitude="24.654321",
        next_followup_at=timezone.now(),
        created_at=timezone.now().replace(microsecond=123456),
    )
    before = serializers.serialize("python", Customer.objects.filter(pk=pk))
    assert before[0]["fields"]["created_at"].microsecond == 123456
    customer_delete(actor=org["sales1"], customer=customer)
    restore(actor=org["sales1"], entry=entry_of("customers.customer", pk))
    assert serializers.serialize("python", Customer.objects.filter(pk=pk)) == before


def test_purge_after_expiry_deletes_the_entry_then_the_files_after_commit(
    org, full_customer, django_capture_on_commit_callbacks
):
    pk = full_customer.pk
    customer_delete(actor=org["sales1"], customer=full_customer)
    entry = entry_of("customers.customer", pk)
    files = list(entry.file_paths)
    kept = RecycleEntry.objects.create(
        object_type="customers.customer",
        object_id=10**9,
        display_name="未到期",
        deleted_at=timezone.now(),
        expires_at=timezone.now() + timedelta(days=60),
        file_paths=[],
    )

    assert purge_expired(now=entry.expires_at - timedelta(seconds=1)) == 0
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert purge_expired(now=entry.expires_at + timedelta(seconds=1)) == 1
        assert not RecycleEntry.objects.filter(pk=entry.pk).exists()
        assert RecycleEntry.objects.filter(pk=kept.pk).exists()
        assert all(file_exists(f) for f in files), "no file goes before the commit"
    assert callbacks
    for callback in callbacks:
        callback()
    assert not any(file_exists(f) for f in files)
    assert customer_rows(pk) == []


def test_a_purge_that_rolls_back_keeps_entry_and_files(org, full_customer):
    customer_delete(actor=org["sales1"], customer=full_customer)
    entry = entry_of("customers.customer", full_customer.pk)
    with pytest.raises(RuntimeError), transaction.atomic():
        purge_expired(now=entry.expires_at + timedelta(days=1))
        raise RuntimeError("rollback")
    assert RecycleEntry.objects.filter(pk=entry.pk).exists()
    assert all(file_exists(f) for f in entry.file_paths)


def test_the_management_command_purges(org, full_customer, django_capture_on_commit_callbacks):
    customer_delete(actor=org["sales1"], customer=full_customer)
    entry = entry_of("customers.customer", full_customer.pk)
    RecycleEntry.objects.filter(pk=entry.pk).update(expires_at=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_recycle_bin", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert not RecycleEntry.objects.exists()
    assert not any(file_exists(f) for f in entry.file_paths)


def test_the_purge_is_scheduled_in_the_worker():
    """The schedule is made after migrate (a flush by a transactional test may have dropped
    it, so the hook is run here again: it must stay one schedule)."""
    from django.apps import apps
    from django_q.models import Schedule

    from kehu.recyclebin.apps import ensure_schedule

    ensure_schedule(sender=apps.get_app_config("recyclebin"))
    ensure_schedule(sender=apps.get_app_config("recyclebin"))
    (schedule,) = Schedule.objects.filter(func="kehu.recyclebin.tasks.purge_recycle_bin")
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1


def test_a_rollback_after_a_delete_keeps_rows_and_files(org, full_customer):
    pk = full_customer.pk
    before = customer_rows(pk)
    files = [row["fields"]["file"] for row in before if row["model"] == "core.attachment"]
    with pytest.raises(RuntimeError), transaction.atomic():
        customer_delete(actor=org["sales1"], customer=full_customer)
        raise RuntimeError("rollback")
    assert customer_rows(pk) == before
    assert all(file_exists(f) for f in files)
    assert not RecycleEntry.objects.exists()


def test_deleting_attachments_removes_files_only_after_commit(
    org, make_customer, pdf, django_capture_on_commit_callbacks
):
    customer = make_customer("sales1")
    (attachment,) = customer_attach(actor=org["sales1"], customer=customer, files=[pdf()])
    name = attachment.file.name
    with pytest.raises(RuntimeError), transaction.atomic():
        delete_attachments_of(customer)
        raise RuntimeError("rollback")
    assert Attachment.objects.filter(pk=attachment.pk).exists() and file_exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        delete_attachments_of(customer)
        assert file_exists(name)
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not file_exists(name)


def test_a_salesperson_cannot_restore_someone_elses_entry(org, full_customer):
    customer_delete(actor=org["sales1"], customer=full_customer)
    entry = entry_of("customers.customer", full_customer.pk)
    for other in ("sales2", "sales3", "finance1"):
        assert not recycle_entry_list(user=org[other]).filter(pk=entry.pk).exists(), other
        with pytest.raises(Forbidden):
            restore(actor=org[other], entry=entry)
    assert RecycleEntry.objects.filter(pk=entry.pk).exists()
    assert not Customer.objects.filter(pk=full_customer.pk).exists()
    # the leader of 销售部 covers sales1; admins cover everybody
    assert recycle_entry_list(user=org["manager1"]).filter(pk=entry.pk).exists()
    assert recycle_entry_list(user=org["admin"]).filter(pk=entry.pk).exists()
    with pytest.raises(Forbidden):
        purge_entry(actor=org["sales1"], instance=entry)  # 彻底删除: admins only
    restore(actor=org["manager1"], entry=entry)
    assert Customer.objects.filter(pk=full_customer.pk).exists()


def test_restore_refuses_a_credit_code_taken_since(org, full_customer, make_customer):
    customer_delete(actor=org["sales1"], customer=full_customer)
    make_customer("sales2", name="后来的客户有限公司", credit_code=full_customer.credit_code)
    entry = entry_of("customers.customer", full_customer.pk)
    with pytest.raises(ApplicationError) as exc:
        restore(actor=org["sales1"], entry=entry)
    assert exc.value.status == 409
    assert "统一社会信用代码" in exc.value.message and "已被其他记录使用" in exc.value.message
    assert not Customer.objects.filter(pk=full_customer.pk).exists()
    assert not Contact.objects.filter(customer_id=full_customer.pk).exists()
    assert RecycleEntry.objects.filter(pk=entry.pk).exists()


def test_a_contact_needs_its_customer_back_first(org, full_customer):
    sales1 = org["sales1"]
    customer_pk, contact = full_customer.pk, full_customer.contacts.get(name="第二联系人")
    contact_pk = contact.pk
    contact_delete(actor=sales1, instance=contact)
    customer_delete(actor=sales1, customer=full_customer)
    contact_entry = entry_of("customers.contact", contact_pk)
    with pytest.raises(ApplicationError) as exc:
        restore(actor=sales1, entry=contact_entry)
    assert "请先恢复" in exc.value.message and full_customer.name in exc.value.message
    restore(actor=sales1, entry=entry_of("customers.customer", customer_pk))
    restore(actor=sales1, entry=contact_entry)
    assert Contact.objects.filter(pk=contact_pk, customer_id=customer_pk).exists()


def test_a_contact_comes_back_and_is_named_again_by_its_follow_ups(org, full_customer):
    contact = full_customer.contacts.get(name="第二联系人")
    contact_pk, followup = contact.pk, FollowUp.objects.get(contact=contact)
    before = serializers.serialize("python", Contact.objects.filter(pk=contact_pk))
    contact_delete(actor=org["sales1"], instance=contact)
    followup.refresh_from_db()
    assert followup.contact_id is None
    restore(actor=org["sales1"], entry=entry_of("customers.contact", contact_pk))
    assert serializers.serialize("python", Contact.objects.filter(pk=contact_pk)) == before
    followup.refresh_from_db()
    assert followup.contact_id == contact_pk


def test_the_primary_contact_comes_back_as_the_primary(org, full_customer):
    primary = full_customer.contacts.get(is_primary=True)
    primary_pk = primary.pk
    contact_delete(actor=org["sales1"], instance=primary)
    assert full_customer.contacts.get().is_primary
    restore(actor=org["sales1"], entry=entry_of("customers.contact", primary_pk))
    assert list(full_customer.contacts.filter(is_primary=True)) == [
        Contact.objects.get(pk=primary_pk)
    ]
    customer = Customer.objects.get(pk=full_customer.pk)
    assert customer.contact_name == primary.name


def test_a_follow_up_comes_back_with_its_file(org, full_customer):
    followup = FollowUp.objects.get(customer=full_customer, content="带附件的跟进")
    followup_pk = followup.pk
    attachment = Attachment.objects.get(object_id=followup_pk, content_type__model="followup")
    followup_delete(actor=org["sales1"], followup=followup)
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert file_exists(attachment.file.name)
    restore(actor=org["sales1"], entry=entry_of("followups.followup", followup_pk))
    assert FollowUp.objects.filter(pk=followup_pk).exists()
    assert Attachment.objects.get(pk=attachment.pk).file.name == attachment.file.name


def _times(customer) -> tuple:
    customer.refresh_from_db()
    return customer.last_followup_at, customer.next_followup_at


def test_restoring_the_latest_follow_up_brings_its_times_back_to_the_customer(
    org, make_customer, client_for
):
    """最后跟进 / 下次跟进 follow the follow-ups back (SPEC §5.1): deleting the latest one falls
    back to the one before, restoring it from the 回收站 (through the page's 恢复) puts its
    times back."""
    customer = make_customer("sales1")
    now = timezone.now()
    older = followup_create(
        actor=org["sales1"],
        customer=customer,
        data={
            "content": "第一次拜访",
            "followed_at": now - timedelta(days=10),
            "next_followup_at": now - timedelta(days=3),
        },
    )
    latest = followup_create(
        actor=org["sales1"],
        customer=customer,
        data={
            "content": "第二次拜访",
            "followed_at": now - timedelta(days=2),
            "next_followup_at": now + timedelta(days=5),
        },
    )
    assert _times(customer) == (latest.followed_at, latest.next_followup_at)
    latest_pk = latest.pk
    followup_delete(actor=org["sales1"], followup=latest)
    assert _times(customer) == (older.followed_at, older.next_followup_at)

    entry = entry_of("followups.followup", latest_pk)
    response = client_for("sales1").post(
        reverse("recyclebin_restore", args=[entry.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    assert _times(customer) == (latest.followed_at, latest.next_followup_at)
    page = client_for("sales1").get(reverse("customer_detail", args=[customer.pk]))
    shown = timezone.localtime(latest.next_followup_at).strftime("%Y-%m-%d %H:%M")
    assert f'data-testid="next-followup">{shown}<' in page.content.decode()


def test_restoring_an_older_follow_up_keeps_the_newer_times(org, make_customer):
    customer = make_customer("sales1")
    now = timezone.now()
    older = followup_create(
        actor=org["sales1"],
        customer=customer,
        data={"content": "旧的跟进", "followed_at": now - timedelta(days=10)},
    )
    older_pk = older.pk
    followup_delete(actor=org["sales1"], followup=older)
    assert _times(customer) == (None, None)
    latest = followup_create(
        actor=org["sales1"],
        customer=customer,
        data={
            "content": "新的跟进",
            "followed_at": now - timedelta(days=1),
            "next_followup_at": now + timedelta(days=7),
        },
    )
    restore(actor=org["sales1"], entry=entry_of("followups.followup", older_pk))
    assert _times(customer) == (latest.followed_at, latest.next_followup_at)


def test_restoring_the_only_follow_up_of_a_customer_sets_its_times(org, make_customer):
    customer = make_customer("sales1")
    followed = timezone.now() - timedelta(hours=3)
    only = followup_create(
        actor=org["sales1"],
        customer=customer,
        data={"content": "唯一的跟进", "followed_at": followed},
    )
    only_pk = only.pk
    followup_delete(actor=org["sales1"], followup=only)
    assert _times(customer) == (None, None)
    restore(actor=org["sales1"], entry=entry_of("followups.followup", only_pk))
    assert _times(customer) == (followed, None)


def test_an_opportunity_comes_back_and_its_follow_ups_name_it_again(org, make_customer):
    customer = make_customer("sales1")
    opportunity = opportunity_save(
        actor=org["sales1"], instance=None, data={"customer": customer.pk, "name": "回收商机"}
    )
    followup = followup_create(
        actor=org["sales1"],
        customer=customer,
        data={"content": "商机跟进", "opportunity_id": opportunity.pk},
    )
    opportunity_pk = opportunity.pk
    opportunity_delete(actor=org["sales1"], instance=opportunity)
    followup.refresh_from_db()
    assert followup.opportunity_id is None
    entry = entry_of("sales.opportunity", opportunity_pk)
    assert entry.customer_id == customer.pk and entry.owner_id == org["sales1"].pk
    restore(actor=org["sales1"], entry=entry)
    followup.refresh_from_db()
    assert followup.opportunity_id == opportunity_pk


def test_batch_delete_gives_one_entry_per_customer(org, make_customer):
    customers = [make_customer("sales1") for _ in range(3)]
    result = customers_batch_delete(actor=org["sales1"], ids=[c.pk for c in customers])
    assert sorted(result.done) == sorted(c.pk for c in customers)
    for customer in customers:
        entry = entry_of("customers.customer", customer.pk)
        assert {row["fields"].get("customer") for row in entry.payload[1:]} <= {customer.pk}
    restore(actor=org["sales1"], entry=entry_of("customers.customer", customers[1].pk))
    assert Customer.objects.filter(pk=customers[1].pk).exists()
    assert Contact.objects.filter(customer_id=customers[1].pk).count() == 1


def test_recycle_many_splits_the_rows_per_customer(org, make_customer):
    """The set-based helper a batch delete calls: one collection, one entry per object."""
    customers = [make_customer("sales1") for _ in range(3)]
    for customer in customers:
        customer_share(actor=org["sales1"], customer=customer, user_ids=[org["sales2"].pk])
    before = {c.pk: customer_rows(c.pk) for c in customers}
    with transaction.atomic():
        entries = recycle_many(
            actor=org["sales1"], objects=list(Customer.objects.filter(pk__in=before))
        )
    assert len(entries) == 3
    assert not Customer.objects.filter(pk__in=before).exists()
    assert not CustomerShare.objects.filter(customer_id__in=before).exists()
    for entry in RecycleEntry.objects.all():
        assert entry.row_count == len(before[entry.object_id])
        restore(actor=org["sales1"], entry=entry)
    assert {pk: customer_rows(pk) for pk in before} == before


def test_restoring_twice_is_refused(org, make_customer):
    customer = make_customer("sales1")
    customer_delete(actor=org["sales1"], customer=customer)
    entry = entry_of("customers.customer", customer.pk)
    restore(actor=org["sales1"], entry=entry)
    with pytest.raises(ApplicationError) as exc:
        restore(actor=org["sales1"], entry=entry)
    assert exc.value.status == 404


def test_the_days_kept_are_configurable(org, make_customer, settings):
    settings.KEHU_RECYCLE_DAYS = 7
    customer = make_customer("sales1")
    customer_delete(actor=org["sales1"], customer=customer)
    entry = entry_of("customers.customer", customer.pk)
    assert entry.expires_at - entry.deleted_at == timedelta(days=7)
