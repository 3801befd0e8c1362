"""The sidebar (the seed's menus) and the 通知代办 badge, for every page."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

# (label, icon, [(label, url name, permission or None)])
MENU = [
    (
        "客户关系管理",
        "ti-users",
        [
            ("线索列表", "lead_list", "sales.view_lead"),
            ("客户列表", "customer_list", "customers.view_customer"),
            ("客户公海", "pool_list", "customers.view_pool"),
            ("联系人列表", "contact_list", "customers.view_contact"),
            ("商机", "opportunity_list", "sales.view_opportunity"),
            ("报价单", "quote_list", "sales.view_quote"),
            ("合同", "contract_list", "sales.view_contract"),
            ("回款", "payment_list", "sales.view_payment"),
            ("回款计划", "paymentplan_list", "sales.view_paymentplan"),
            ("跟进记录", "followup_list", "followups.view_followup"),
        ],
    ),
    (
        "售后管理",
        "ti-tool",
        [
            ("客户车辆", "vehicle_list", "aftersales.view_vehicle"),
            ("维修订单", "repairorder_list", "aftersales.view_repairorder"),
            ("保养订单", "maintenanceorder_list", "aftersales.view_maintenanceorder"),
            ("挂账订单", "onaccountorder_list", "aftersales.view_onaccountorder"),
        ],
    ),
    (
        "系统设置",
        "ti-settings",
        [
            ("员工", "user_list", "org.view_user"),
            ("部门", "department_list", "org.view_department"),
            ("角色", "role_list", "org.view_role"),
            ("字典", "dictentry_list", "basics.view_dictentry"),
            ("产品", "product_list", "basics.view_product"),
            ("公海规则", "poolrule_list", "pool.view_pool"),
            ("审批流程", "approvalstep_list", "documents.view_approvalstep"),
            ("变更日志", "audit_list", "audit.view_changelog"),
            ("回收站", "recyclebin_list", "recyclebin.view_recycleentry"),
        ],
    ),
]


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def todo_count(user) -> int:
    """The 通知代办 badge's count: the sum of the registered counters (follow-ups due, documents
    waiting, plans due, maintenance due …), each capped at 100 rows on PostgreSQL. Pages do not
    compute it: the badge loads from ``/todo/count/`` once the page is there."""
    from kehu.core.registry import todo_counters

    return sum(counter(user) for counter in todo_counters)


def navigation(request):
    """The sidebar and the badge's URL. Built once per request (django-tables2 renders its table
    with the request too, which runs the context processors again). ``todo_count`` stays
    available, lazily, to a page that shows it in its body (首页); the badges in the sidebar and
    header load from ``todo_count_url`` after the page (kehu.js)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    cached = getattr(request, "_kehu_navigation", None)
    if cached is None:
        cached = request._kehu_navigation = _navigation(request, user)
    return cached


def _navigation(request, user) -> dict:
    path = request.path
    menu = []
    for label, icon, items in MENU:
        entries = []
        for item_label, url_name, perm in items:
            if perm and not user.has_perm(perm):
                continue
            url = _url(url_name)
            entries.append(
                {
                    "label": item_label,
                    "url": url,
                    "active": bool(url and url != "/" and path.startswith(url)),
                }
            )
        if entries:
            menu.append(
                {
                    "label": label,
                    "icon": icon,
                    "items": entries,
                    "open": any(e["active"] for e in entries),
                }
            )
    return {
        "nav_menu": menu,
        "todo_count": SimpleLazyObject(lambda: todo_count(user)),
        "todo_url": _url("todo"),
        "todo_count_url": _url("todo_count"),
    }
