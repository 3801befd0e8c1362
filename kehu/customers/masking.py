"""Masking of contact data (SPEC §3) — the one function every output goes through.

A pool customer (no owner) has its phone and every contact's mobile, phone and email hidden from
everybody; the claimer sees them once the customer is private again.
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


MASKED_LOG_FIELDS = {"contact_phone", "mobile", "phone", "email"}


def mask_log_changes(changes: dict, masked: bool) -> dict:
    """Change-log diffs of a pool customer keep contact values masked for readers."""
    if not masked:
        return changes
    out = {}
    for field, pair in changes.items():
        if field in MASKED_LOG_FIELDS:
            fn = mask_email if field == "email" else mask_phone
            out[field] = [fn(v) if isinstance(v, str) else v for v in pair]
        else:
            out[field] = pair
    return out
