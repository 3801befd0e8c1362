"""Registrations into the core registries (attachments, change-log visibility)."""

from kehu.core.registry import attachment_visibility, dashboard_cards, log_visibility

from .selectors import visible_customers

attachment_visibility["customers.customer"] = visible_customers
log_visibility["customers.customer"] = visible_customers


def _my_customers_card(user):
    if not user.has_perm("customers.view_customer"):
        return None
    from django.urls import reverse

    count = visible_customers(user).filter(owner_id=user.pk).count()
    return {
        "label": "我的客户",
        "value": count,
        "url": reverse("customer_list") + "?tab=mine",
        "icon": "ti-users",
    }


dashboard_cards.append(_my_customers_card)
