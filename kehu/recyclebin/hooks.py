"""What restoring a row of another app needs besides putting the row back.

- A contact that was the primary one comes back as the primary: the contact promoted when it
  was deleted steps down, and the customer's 联系人/联系电话 follow again (SPEC §5.3).
- A restored 商机 counts again for the customer's pool countdown, as deleting it did.
- A customer comes back to its owner only within the owner's 拥有上限 (as a claim would).
- A restored follow-up counts again for its customer's 最后跟进 / 下次跟进 (SPEC §5.1), as
  deleting it did (``followups.services.refresh_followup_times``).
"""

from __future__ import annotations

from kehu.core.registry import recyclable_models

from .services import after_restore, before_restore


def _contact_steps_back_in(contact, entry) -> None:
    from kehu.customers.models import Contact

    # (restored with its customer, the contact's customer has no other contacts yet)
    if contact.is_primary and entry.object_type == "customers.contact":
        Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).update(
            is_primary=False
        )


def _contact_mirrored(contact, entry) -> None:
    from kehu.customers.services import _mirror_primary

    if entry.object_type == "customers.contact":  # a customer comes back exactly as it was
        _mirror_primary(contact)


def _opportunity_counts_again(opportunity, entry) -> None:
    from kehu.pool.rules import refresh_return_due

    refresh_return_due([opportunity.customer_id])


def _followup_times_again(followup, entry) -> None:
    from kehu.followups.services import refresh_followup_times

    # (restored with its customer, the customer's own times come back exactly as they were)
    if entry.object_type == "followups.followup" and followup.customer_id is not None:
        refresh_followup_times(followup.customer_id)


def _owner_within_limit(customer, entry) -> None:
    """拥有上限 holds on restore as on a claim (SPEC §4): a private customer comes back to its
    owner only while the owner has room; otherwise the restore is refused, naming the limit."""
    from kehu.core.errors import ApplicationError, Conflict
    from kehu.org.models import User
    from kehu.pool import rules

    if entry.object_type != "customers.customer" or customer.owner_id is None:
        return
    rules.lock_users([customer.owner_id])  # two restores (or a claim) cannot pass on one count
    owner = User.objects.filter(pk=customer.owner_id).first()
    if owner is None:
        return
    counted = customer.status != "won" or rules.pool_for_user(owner).count_won_in_limit
    try:
        rules.check_ownership_limit(owner, adding=1 if counted else 0)
    except ApplicationError as exc:
        raise Conflict(
            f"不能恢复{entry}：{exc.message}，请先转移或放入公海一些客户后再恢复",
            code="owner_limit",
        ) from exc


before_restore["customers.customer"].append(_owner_within_limit)
before_restore["customers.contact"].append(_contact_steps_back_in)
after_restore["customers.contact"].append(_contact_mirrored)
after_restore["sales.opportunity"].append(_opportunity_counts_again)
after_restore["followups.followup"].append(_followup_times_again)


# The delete services that call ``recycle()`` (customers, contacts, follow-ups, 商机, documents).
recyclable_models.update(
    {
        "customers.customer",
        "customers.contact",
        "sales.lead",
        "followups.followup",
        "sales.opportunity",
        "sales.quote",
        "sales.contract",
        "sales.payment",
        "sales.paymentplan",
    }
)
