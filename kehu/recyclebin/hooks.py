"""What restoring a row of another app needs besides putting the row back.

- A contact that was the primary one comes back as the primary: the contact promoted when it
  was deleted steps down, and the customer's 联系人/联系电话 follow again (SPEC §5.3).
- A restored 商机 counts again for the customer's pool countdown, as deleting it did.
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


before_restore["customers.contact"].append(_contact_steps_back_in)
after_restore["customers.contact"].append(_contact_mirrored)
after_restore["sales.opportunity"].append(_opportunity_counts_again)


# The delete services that call ``recycle()`` (customers, contacts, follow-ups, 商机, documents).
recyclable_models.update(
    {
        "customers.customer",
        "customers.contact",
        "followups.followup",
        "sales.opportunity",
        "sales.quote",
        "sales.contract",
        "sales.payment",
        "sales.paymentplan",
    }
)
