"""Masking of contact data (SPEC §3) — the one function every output goes through.

A pool customer (no owner) has its phone and every contact's mobile, phone and email hidden from
everybody; the claimer sees them once the customer is private again.

The mask keeps the familiar 3 + 4 digits of a mobile (``152****8652``): salespeople recognise a
number they know by it, and it leaves 10,000 candidates, which 查重 — the only way to test one —
answers at most 300 times a day per user (``throttle.py``): about 33 days of refused-and-logged
attempts per number, the first burst reported to admins. Hiding more digits would cost the
recognition and buy nothing the limit does not already give.
"""

from __future__ import annotations

import re

MASK = "****"


def mask_phone(value: str | None) -> str:
    """``15263698652`` → ``152****8652``; ``0592-1234567`` → ``0592-***4567``."""
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}{MASK}{digits[-4:]}"
    if "-" in value:
        area, _, rest = value.partition("-")
        rest_digits = re.sub(r"\D", "", rest)
        return f"{area}-***{rest_digits[-4:]}" if len(rest_digits) > 4 else f"{area}-{MASK}"
    return f"{digits[:2]}{MASK}{digits[-2:]}" if len(digits) > 4 else MASK


def mask_email(value: str | None) -> str:
    """``abc@x.com`` → ``a***@x.com``."""
    if not value:
        return ""
    local, at, domain = value.partition("@")
    if not at:
        return MASK
    return f"{local[:1]}***@{domain}"


def is_masked(customer) -> bool:
    """Contact data of this customer is hidden: it is in the pool."""
    return customer.owner_id is None


def customer_phone(customer) -> str:
    return mask_phone(customer.contact_phone) if is_masked(customer) else customer.contact_phone


def contact_fields(customer, contact) -> dict[str, str]:
    """A contact's mobile/phone/email as the viewer may see them."""
    if is_masked(customer):
        return {
            "mobile": mask_phone(contact.mobile),
            "phone": mask_phone(contact.phone),
            "email": mask_email(contact.email),
        }
    return {"mobile": contact.mobile, "phone": contact.phone, "email": contact.email}


def mask_rows(customer, rows) -> list:
    """Rows of a pool customer shown on its portrait (商机, documents …): their contact values
    (``contact_phone``, ``mobile``, ``phone``, ``email``) masked in place, for display only —
    the rows are never saved."""
    if is_masked(customer):
        for row in rows:
            for field in MASKED_LOG_FIELDS:
                value = getattr(row, field, None)
                if isinstance(value, str) and value:
                    setattr(
                        row, field, mask_email(value) if field == "email" else mask_phone(value)
                    )
    return rows


MASKED_LOG_FIELDS = {"contact_phone", "mobile", "phone", "email"}
CUSTOMER_LOG = "customers.customer"
CONTACT_LOG = "customers.contact"


def _mask_log_value(field: str, value):
    fn = mask_email if field == "email" else mask_phone
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):  # a change's [old, new]
        return [fn(v) if isinstance(v, str) else v for v in value]
    return value


def mask_log_values(data):
    """``changes`` (``{field: [old, new]}``) or ``snapshot`` (``{field: value}``) data with the
    contact values masked, nested data included (a copy)."""
    if isinstance(data, dict):
        return {
            k: _mask_log_value(k, v) if k in MASKED_LOG_FIELDS else mask_log_values(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [mask_log_values(v) for v in data]
    return data


def mask_log_changes(changes: dict, masked: bool) -> dict:
    """Change-log diffs of a pool customer keep contact values masked for readers."""
    return mask_log_values(changes) if masked else changes


def _snapshot_customer(entry) -> int | None:
    customer_id = (entry.snapshot or {}).get("customer")
    return customer_id if isinstance(customer_id, int) else None


def mask_log_entries(entries) -> list:
    """The one masking of change-log rows for every reader (SPEC §3, §8), in place.

    Rows about a customer (``customers.customer``) or one of its contacts
    (``customers.contact``) get the contact values (联系电话, 手机, 电话, 邮箱) masked in both
    ``changes`` and ``snapshot`` unless the customer is private now: a customer in the pool
    masks its whole history, the claimer sees it raw again. A contact belongs to its current
    customer; a deleted contact to the customer named in its logged snapshot. When that cannot
    be told — the customer or the contact's customer no longer exists (deleted, merged away) or
    the row names none — the row is masked too, so that the log of a deleted object is never a
    way to learn what a pool customer's contact data was. Other rows are left alone.

    Two queries for any number of rows (the contacts' customers, then which customers are
    private), whatever the page size."""
    from .models import Contact, Customer

    rows = [e for e in entries if e.object_type in (CUSTOMER_LOG, CONTACT_LOG)]
    if not rows:
        return entries
    contact_ids = {e.object_id for e in rows if e.object_type == CONTACT_LOG and e.object_id}
    contact_customer = (
        dict(Contact.objects.filter(pk__in=contact_ids).values_list("pk", "customer_id"))
        if contact_ids
        else {}
    )

    def customer_of(entry) -> int | None:
        if entry.object_type == CUSTOMER_LOG:
            return entry.object_id
        return contact_customer.get(entry.object_id) or _snapshot_customer(entry)

    customer_ids = {c for c in map(customer_of, rows) if c is not None}
    private = set(
        Customer.objects.filter(pk__in=customer_ids, owner__isnull=False).values_list(
            "pk", flat=True
        )
    )
    for entry in rows:
        if customer_of(entry) not in private:
            entry.changes = mask_log_values(entry.changes or {})
            entry.snapshot = mask_log_values(entry.snapshot or {})
    return entries
