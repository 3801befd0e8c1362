"""Registrations into the core registries (attachments, change-log visibility, 首页 cards)."""

from kehu.core.registry import (
    attachment_visibility,
    dashboard_cards,
    funnel_stages,
    log_maskers,
    log_visibility,
)

from .masking import mask_log_entries
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


# Log rows of customers and contacts: contact values masked while the customer is in the pool.
log_maskers["customers.customer"] = mask_log_entries
log_maskers["customers.contact"] = mask_log_entries


def _duplicate_check_alerts_card(user):
    """Admins: bursts of 查重 refused by the per-user quota in the last 7 days (SPEC §13), one
    change-log row per user and window; the card opens them in 日志."""
    if not getattr(user, "is_admin", False):
        return None
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from kehu.audit.models import ChangeLog

    from .throttle import REPORT_OBJECT_TYPE

    count = ChangeLog.objects.filter(
        object_type=REPORT_OBJECT_TYPE, created_at__gte=timezone.now() - timedelta(days=7)
    ).count()
    return {
        "label": "查重告警（近7天）",
        "value": count,
        "url": reverse("audit_list") + f"?object_type={REPORT_OBJECT_TYPE}",
        "icon": "ti-alert-triangle",
    }


dashboard_cards.append(_duplicate_check_alerts_card)


# 全部符合条件的记录 → 批量删除 as a background job (kehu/core/jobs.py, issue 10).
def _matching_customers(user, params: dict[str, list[str]]):
    from django.http import QueryDict

    from kehu.core.errors import ApplicationError

    from .filters import CustomerFilterSet
    from .selectors import TABS

    tab = (params.get("tab") or ["all"])[0]
    if tab not in TABS:
        raise ApplicationError("未知的标签页", errors={"tab": [f"可选：{', '.join(TABS)}"]})
    data = QueryDict(mutable=True)
    for key, values in params.items():
        if key != "tab":
            data.setlist(key, values)
    filterset = CustomerFilterSet(data, queryset=customer_list(user=user, tab=tab))
    if not filterset.is_valid():
        errors = {k: [str(m) for m in v] for k, v in filterset.errors.items()}
        raise ApplicationError("筛选条件有误", errors=errors)
    return filterset.qs


def _delete_customers(*, actor, ids):
    from .services import customers_batch_delete

    return customers_batch_delete(actor=actor, ids=ids)


def _register_matching_actions() -> None:
    from kehu.core.jobs import MatchingAction
    from kehu.core.registry import matching_actions

    matching_actions["customers.delete"] = MatchingAction(
        key="customers.delete",
        label="批量删除客户",
        permission="customers.delete_customer",
        matching=_matching_customers,
        run=_delete_customers,
    )


_register_matching_actions()
