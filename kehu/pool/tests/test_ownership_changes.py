"""Issue 9.3: an owner change ends what belonged to the old owner — the customer's shares.

Sharing is the owner's choice (SPEC §1). When a customer changes owner — release, automatic
return, claim, transfer, departure handover, merge — the colleagues the old owner shared it with
no longer see it (through the one visibility rule), the new owner inherits no share it cannot see
or revoke, the optimistic-locking ``version`` moves on, and the change log says so per customer.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kehu.audit.models import ChangeLog
from kehu.core import memo
from kehu.core.errors import Forbidden
from kehu.customers.merge import merge_customers
from kehu.customers.models import Contact, Customer, CustomerShare
from kehu.customers.selectors import visible_customers
from kehu.customers.services import customer_share
from kehu.pool import rules
from kehu.pool.handover import handover_user
from kehu.pool.models import Pool
from kehu.pool.services import (
    claim_customers,
    release_customers,
    return_overdue_customers,
    transfer_customers,
)

ENDED = "负责人变更，结束分享"


def shared(org, customer, owner="sales1", with_=("sales3",)):
    """``customer`` shared by its owner with ``with_``, who now see it."""
    customer_share(actor=org[owner], customer=customer, user_ids=[org[name].pk for name in with_])
    assert all(sees(org[name], customer) for name in with_)
    return Customer.objects.get(pk=customer.pk)


def sees(user, customer) -> bool:
    return visible_customers(user).filter(pk=customer.pk).exists()


def version_of(customer) -> int:
    return Customer.objects.values_list("version", flat=True).get(pk=customer.pk)


def share_ended_log(customer):
    return list(
        ChangeLog.objects.filter(
            object_type="customers.customer", object_id=customer.pk, action="share", message=ENDED
        )
    )


def assert_shares_ended(org, customer, *, user_ids, actor=None):
    """No share left, sales3 sees nothing, and exactly one log row says whose shares ended."""
    assert not CustomerShare.objects.filter(customer_id=customer.pk).exists()
    assert not sees(org["sales3"], customer)
    (entry,) = share_ended_log(customer)
    assert entry.changes == {"shared_with": [sorted(user_ids), []]}
    assert entry.snapshot == {"shared_with": []}
    if actor is not None:
        assert entry.actor == actor
    return entry


# --- release, claim ------------------------------------------------------------------------


def test_release_then_claim_by_another_ends_the_old_owners_share(org, make_customer):
    """The finding: shared with sales3, released, claimed by sales2 — sales3 still read it."""
    customer = shared(org, make_customer("sales1"))
    start = version_of(customer)
    assert release_customers(actor=org["sales1"], ids=[customer.pk]).done == [customer.pk]
    assert version_of(customer) == start + 1
    assert_shares_ended(org, customer, user_ids=[org["sales3"].pk], actor=org["sales1"])

    assert claim_customers(actor=org["sales2"], ids=[customer.pk]).done == [customer.pk]
    assert version_of(customer) == start + 2
    assert not sees(org["sales3"], customer)
    assert sees(org["sales2"], customer)
    # The new owner has no share it cannot see or revoke.
    assert not CustomerShare.objects.filter(customer_id=customer.pk).exists()


def test_claim_ends_shares_left_on_a_pool_customer(org, make_pool_customer):
    """Shares written before this rule (or meanwhile) must not come back with the new owner."""
    customer = make_pool_customer("sales1")
    CustomerShare.objects.create(customer=customer, user=org["sales3"], shared_by=org["sales1"])
    start = version_of(customer)
    assert claim_customers(actor=org["sales2"], ids=[customer.pk]).done == [customer.pk]
    assert version_of(customer) == start + 1
    assert_shares_ended(org, customer, user_ids=[org["sales3"].pk], actor=org["sales2"])


def test_a_refused_release_keeps_the_share(org, make_customer):
    customer = shared(org, make_customer("sales1"))
    result = release_customers(actor=org["sales3"], ids=[customer.pk])  # sees it, not its owner
    assert result.refused == [
        {"id": customer.pk, "reason": "只有负责人、其上级或管理员可以将客户放入公海"}
    ]
    assert sees(org["sales3"], customer) and share_ended_log(customer) == []


def test_automatic_return_ends_shares(org, make_customer):
    Pool.objects.filter(is_default=True).update(no_followup_days=30)
    customer = shared(org, make_customer("sales1"))
    start = version_of(customer)
    Customer.objects.filter(pk=customer.pk).update(
        created_at=timezone.now() - timedelta(days=60),
        claimed_at=None,
        last_followup_at=None,
    )
    rules.refresh_return_due([customer.pk])
    assert return_overdue_customers(now=timezone.now())["returned"] == 1
    assert version_of(customer) == start + 1
    entry = assert_shares_ended(org, customer, user_ids=[org["sales3"].pk])
    assert entry.actor is None and entry.actor_name == "系统"


# --- transfer -------------------------------------------------------------------------------


def test_transfer_ends_the_old_owners_shares(org, make_customer):
    customer = shared(org, make_customer("sales1"), with_=("sales3", "manager1"))
    start = version_of(customer)
    result = transfer_customers(
        actor=org["manager1"], ids=[customer.pk], user_ids=[org["sales2"].pk]
    )
    assert result.done == [customer.pk]
    assert version_of(customer) == start + 1
    assert_shares_ended(
        org, customer, user_ids=[org["sales3"].pk, org["manager1"].pk], actor=org["manager1"]
    )
    assert sees(org["sales2"], customer)
    transfer = ChangeLog.objects.get(object_id=customer.pk, action="transfer")
    assert transfer.changes["owner"] == ["李业务", "张业务"]
    assert transfer.id < share_ended_log(customer)[0].id  # the owner change, then its effect


def test_transfer_to_the_colleague_it_was_shared_with(org, make_customer):
    """The new owner does not also keep a share of their own customer."""
    customer = shared(org, make_customer("sales1"))
    transfer_customers(actor=org["manager1"], ids=[customer.pk], user_ids=[org["sales3"].pk])
    assert Customer.objects.get(pk=customer.pk).owner == org["sales3"]
    assert not CustomerShare.objects.filter(customer_id=customer.pk).exists()
    assert len(share_ended_log(customer)) == 1


def test_a_refused_transfer_keeps_the_share(org, make_customer):
    customer = shared(org, make_customer("sales1"))
    with pytest.raises(Forbidden, match="没有转移客户的权限"):
        transfer_customers(actor=org["sales3"], ids=[customer.pk], user_ids=[org["sales2"].pk])
    assert sees(org["sales3"], customer) and share_ended_log(customer) == []
    assert Customer.objects.get(pk=customer.pk).owner == org["sales1"]


def test_shares_end_in_a_constant_number_of_queries(org, make_customer):
    """Batches end their customers' shares in one pass, whatever their size."""

    def batch(n):
        customers = [shared(org, make_customer("sales1")) for _ in range(n)]
        return [c.pk for c in customers]

    counts = {}
    for label, ids in (("warm-up", batch(1)), ("few", batch(2)), ("many", batch(6))):
        with CaptureQueriesContext(connection) as transfer:
            result = transfer_customers(actor=org["manager1"], ids=ids, user_ids=[org["sales2"].pk])
        assert result.done == ids
        with CaptureQueriesContext(connection) as release:
            assert release_customers(actor=org["sales2"], ids=ids).done == ids
        counts[label] = (len(transfer), len(release))

        assert all(len(share_ended_log(Customer(pk=pk))) == 1 for pk in ids)
    assert counts["few"] == counts["many"], counts
    assert counts["few"] <= (20, 12), counts


def test_memoised_shares_are_forgotten_when_shares_end(org, make_customer):
    """Inside one request (the memo's scope) sales3's shares were read before the transfer."""
    customer = shared(org, make_customer("sales1"))
    with memo.scope():
        assert sees(org["sales3"], customer)  # memoises sales3's shares
        transfer_customers(actor=org["manager1"], ids=[customer.pk], user_ids=[org["sales2"].pk])
        assert not sees(org["sales3"], customer)


# --- departure handover ---------------------------------------------------------------------


@pytest.mark.parametrize("to_pool", [False, True])
def test_handover_ends_the_leaving_owners_shares(org, make_customer, to_pool):
    customer = shared(org, make_customer("sales1"))
    start = version_of(customer)
    handover_user(
        actor=org["admin"],
        user=org["sales1"],
        successor=None if to_pool else org["sales2"],
        customers_to_pool=to_pool,
    )
    fresh = Customer.objects.get(pk=customer.pk)
    assert fresh.owner == (None if to_pool else org["sales2"])
    assert fresh.version == start + 1
    assert_shares_ended(org, customer, user_ids=[org["sales3"].pk], actor=org["admin"])
    handed = ChangeLog.objects.get(
        object_id=customer.pk, action="to_pool" if to_pool else "transfer"
    )
    assert handed.changes["owner"] == ["李业务", None if to_pool else "张业务"]
    assert handed.message == "离职交接：李业务"


# --- merge ----------------------------------------------------------------------------------


def test_merge_that_changes_the_kept_customers_owner_ends_its_shares(org, make_customer):
    """The kept customer takes the other one's owner: what its old owner shared ends; what the
    new owner shared on the merged-away duplicate carries over (the new owner's own choice)."""
    kept = shared(org, make_customer("sales1", name="恒通叉车有限公司"))
    dup = shared(
        org,
        make_customer("sales2", name="恒通叉车股份有限公司"),
        owner="sales2",
        with_=["service1"],
    )
    start = version_of(kept)
    merged = merge_customers(
        actor=org["manager1"], ids=[kept.pk, dup.pk], keep_id=kept.pk, choices={"owner": dup.pk}
    )
    assert merged.owner == org["sales2"] and merged.version == start + 1
    assert not sees(org["sales3"], merged)
    (entry,) = share_ended_log(kept)
    assert entry.changes == {"shared_with": [[org["sales3"].pk], []]}
    assert entry.actor == org["manager1"]
    assert sees(org["service1"], merged) and share_ended_log(dup) == []
    assert list(CustomerShare.objects.filter(customer=merged).values_list("user", flat=True)) == [
        org["service1"].pk
    ]


def test_merge_across_owners_ends_the_merged_away_customers_shares(org, make_customer):
    kept = make_customer("sales1", name="宏达机械有限公司")
    dup = shared(org, make_customer("sales2", name="宏达机械厂"), owner="sales2")
    merged = merge_customers(actor=org["manager1"], ids=[kept.pk, dup.pk], keep_id=kept.pk)
    assert merged.owner == org["sales1"]
    assert not sees(org["sales3"], merged)
    assert not CustomerShare.objects.filter(customer_id=merged.pk).exists()
    (entry,) = share_ended_log(dup)
    assert entry.changes == {"shared_with": [[org["sales3"].pk], []]}


def test_merge_of_one_owners_duplicates_keeps_that_owners_shares(org, make_customer):
    """Nobody's ownership changes: what sales1 shared stays shared, on the kept customer."""
    kept = make_customer("sales1", name="顺达物流有限公司")
    dup = shared(org, make_customer("sales1", name="顺达物流公司"))
    merged = merge_customers(actor=org["manager1"], ids=[kept.pk, dup.pk], keep_id=kept.pk)
    assert sees(org["sales3"], merged)
    assert share_ended_log(dup) == [] and share_ended_log(kept) == []


def test_merge_keeps_the_primary_contact_in_step_with_the_chosen_contact(org, make_customer):
    """联系人/联系电话 chosen from the merged-away customer: its primary contact becomes the kept
    customer's primary, nothing is overwritten, exactly one primary remains."""
    kept = make_customer(
        "sales1", name="远航叉车有限公司", contact_name="甲", contact_phone="13511110001"
    )
    dup = make_customer(
        "sales1", name="远航叉车公司", contact_name="乙", contact_phone="13511110002"
    )
    dup_primary = Contact.objects.get(customer=dup, is_primary=True)
    merged = merge_customers(
        actor=org["manager1"],
        ids=[kept.pk, dup.pk],
        keep_id=kept.pk,
        choices={"contact_name": dup.pk, "contact_phone": dup.pk},
    )
    assert (merged.contact_name, merged.contact_phone) == ("乙", "13511110002")
    (primary,) = Contact.objects.filter(customer=merged, is_primary=True)
    assert primary.pk == dup_primary.pk
    assert (primary.name, primary.mobile) == ("乙", "13511110002")
    old = Contact.objects.get(customer=merged, name="甲")
    assert old.mobile == "13511110001" and not old.is_primary


def test_merge_with_a_mixed_contact_choice_gets_a_matching_primary(org, make_customer):
    kept = make_customer(
        "sales1", name="飞跃叉车有限公司", contact_name="丙", contact_phone="13511110003"
    )
    dup = make_customer(
        "sales1", name="飞跃叉车公司", contact_name="丁", contact_phone="0592-5551234"
    )
    merged = merge_customers(
        actor=org["manager1"],
        ids=[kept.pk, dup.pk],
        keep_id=kept.pk,
        choices={"contact_phone": dup.pk},
    )
    assert (merged.contact_name, merged.contact_phone) == ("丙", "0592-5551234")
    (primary,) = Contact.objects.filter(customer=merged, is_primary=True)
    assert (primary.name, primary.phone) == ("丙", "0592-5551234")
    # Both original contacts are still there, unchanged.
    assert Contact.objects.filter(customer=merged, name="丙", mobile="13511110003").exists()
    assert Contact.objects.filter(customer=merged, name="丁", phone="0592-5551234").exists()
