"""Registrations into the core registries (attachments, change-log visibility)."""

from kehu.core.registry import (
    attachment_visibility,
    dashboard_cards,
    funnel_stages,
    log_maskers,
    log_visibility,
)

from .selectors import customer_list, visible_customers

attachment_visibility["customers.customer"] = visible_customers
log_visibility["customers.customer"] = visible_customers


def _my_customers_card(user):
    if not user.has_perm("customers.view_customer"):
        return None
    from django.urls import reverse

    count = customer_list(user=user, tab="mine").count()
    return {
        "label": "我的客户",
        "value": count,
        "url": reverse("customer_list") + "?tab=mine",
        "icon": "ti-users",
    }


dashboard_cards.append(_my_customers_card)


def _funnel_customers(user) -> int | None:
    if not user.has_perm("customers.view_customer"):
        return None
    return customer_list(user=user, tab="mine").count()


def _funnel_won(user) -> int | None:
    if not user.has_perm("customers.view_customer"):
        return None
    return customer_list(user=user, tab="mine").filter(status="won").count()


funnel_stages.append((20, "我的客户", _funnel_customers))
funnel_stages.append((40, "已成交客户", _funnel_won))


def _mask_customer_log(entries) -> None:
    """Log rows of customers now in the pool show contact values masked (SPEC §3, §8)."""
    from .masking import mask_log_changes
    from .models import Customer

    ids = {e.object_id for e in entries}
    pooled = set(
        Customer.objects.filter(pk__in=ids, owner__isnull=True).values_list("pk", flat=True)
    )
    for entry in entries:
        if entry.object_id in pooled:
            entry.changes = mask_log_changes(entry.changes, True)


log_maskers["customers.customer"] = _mask_customer_log
